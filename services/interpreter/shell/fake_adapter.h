#ifndef METRONOME_SERVICES_INTERPRETER_SHELL_FAKE_ADAPTER_H_
#define METRONOME_SERVICES_INTERPRETER_SHELL_FAKE_ADAPTER_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.h"
#include "common/ed25519.h"
#include "common/federation.h"
#include "metronome/v1/chain.grpc.pb.h"

// An in-process pow-adapter for the interpreter's tests (not part of the product): the
// client side of Chain.Attach with the real handshake, over real gRPC, answering from a
// scripted chain. The chain is a tree of made-up blocks: the best chain's block at
// height h has hash BestHash(h), a side branch's SideHash(h). Answers follow chain.proto
// (depth = tip - height; descends_from_checkpoint true without a checkpoint, false when
// the checkpoint is unknown). Thread-safe.
namespace metronome::interpreter::testing {

class FakeAdapter {
 public:
  FakeAdapter(const Federation& federation, const SigningKey& key);
  ~FakeAdapter();
  FakeAdapter(const FakeAdapter&) = delete;
  FakeAdapter& operator=(const FakeAdapter&) = delete;

  static Bytes BestHash(uint64_t height);
  static Bytes SideHash(uint64_t height);

  // ---- The chain.
  // The best chain runs from genesis to `tip_height` (longer or shorter than before).
  void SetBestTip(uint64_t tip_height);
  // A side branch forking off the best chain after `fork_height`, up to `tip_height`.
  void AddSideBranch(uint64_t fork_height, uint64_t tip_height);
  // When blocks were first seen (default: 0, unknown).
  void SetFirstSeen(const Bytes& hash, uint64_t unix_ms);
  // false: block queries and depth requests go unanswered.
  void SetAnswering(bool answering);
  // What apply_checkpoint acknowledgements say about durability (default true).
  void SetAcknowledgeDurably(bool durable);

  // ---- The stream.
  // Connects and runs the handshake; true once accepted. Then sends a status and the
  // tip, and answers from the chain on a reader thread. `failure` gets the gRPC status
  // message or reason on failure.
  bool Connect(const std::string& address, std::string* failure = nullptr);
  // Cancels the stream and joins the reader. Idempotent.
  void Disconnect();
  // Sends the current best tip (as the adapter does when it changes).
  bool SendTip();
  bool SendStatus(bool frozen);
  // True while the stream is open (until the server or Disconnect closes it).
  bool connected();

  // ---- What the interpreter sent.
  std::vector<v1::ApplyCheckpoint> apply_checkpoints();
  std::vector<v1::BlockQuery> block_queries();
  int depth_requests();

 private:
  using Stream = grpc::ClientReaderWriter<v1::AdapterToInterpreter, v1::InterpreterToAdapter>;
  struct Block {
    uint64_t height = 0;
    Bytes parent;
    uint64_t first_seen_unix_ms = 0;
  };

  void Read();
  bool Write(const v1::AdapterToInterpreter& frame);
  // With mutex_ held.
  bool DescendsFrom(const Bytes& block, const Bytes& ancestor) const;
  bool OnBestChain(const Bytes& hash) const;
  v1::AdapterToInterpreter Answer(const v1::InterpreterToAdapter& frame);

  const Hash256 federation_id_;
  const SigningKey key_;
  const std::string chain_id_;

  std::mutex mutex_;
  std::map<Bytes, Block> blocks_;                       // Guarded by mutex_.
  uint64_t tip_height_ = 0;                             // Guarded by mutex_.
  bool answering_ = true;                               // Guarded by mutex_.
  bool durable_ = true;                                 // Guarded by mutex_.
  bool open_ = false;                                   // Guarded by mutex_.
  std::vector<v1::ApplyCheckpoint> apply_checkpoints_;  // Guarded by mutex_.
  std::vector<v1::BlockQuery> block_queries_;           // Guarded by mutex_.
  int depth_requests_ = 0;                              // Guarded by mutex_.

  std::mutex write_mutex_;  // One writer at a time on the stream.
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<v1::Chain::Stub> stub_;
  std::unique_ptr<Stream> stream_;
  std::thread reader_;
};

}  // namespace metronome::interpreter::testing

#endif  // METRONOME_SERVICES_INTERPRETER_SHELL_FAKE_ADAPTER_H_
