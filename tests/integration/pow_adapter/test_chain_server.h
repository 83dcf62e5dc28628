#ifndef METRONOME_TESTS_INTEGRATION_POW_ADAPTER_TEST_CHAIN_SERVER_H_
#define METRONOME_TESTS_INTEGRATION_POW_ADAPTER_TEST_CHAIN_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/ed25519.h"
#include "common/federation.h"
#include "metronome/v1/chain.grpc.pb.h"

// An in-process Chain API server (proto/metronome/v1/chain.proto) standing in for the
// interpreter in tests: runs the server side of the handshake with its own key, records
// what the adapter sends (tips, statuses), and sends block queries, block-at-depth
// requests and certificates, waiting (condition variable, deadline) for the answers.
// Not part of the product. Thread-safe.
namespace metronome::pow_adapter::testing {

class TestChainServer {
 public:
  TestChainServer(const Federation& federation, const SigningKey& key);
  ~TestChainServer();
  TestChainServer(const TestChainServer&) = delete;
  TestChainServer& operator=(const TestChainServer&) = delete;

  // Listens on 127.0.0.1:port (0 picks one). To restart on the same port, Stop() and
  // then Start(port()). False when the port cannot be bound.
  bool Start(int port = 0);
  // Closes the live stream and shuts the server down. Idempotent.
  void Stop();
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const PublicKey& public_key() const { return key_.public_key(); }

  // Only this client key is accepted when set (PERMISSION_DENIED otherwise).
  void ExpectClientKey(const PublicKey& key);
  // Sends challenges with a corrupted signature (a client must refuse them).
  void CorruptChallengeSignature(bool corrupt);
  // Reads the hello and never answers it (a client must time the handshake out).
  void StaySilent(bool silent);

  // Counters and records since construction.
  int hellos();               // Hello frames received.
  int challenge_responses();  // challenge_response frames received.
  int handshakes();           // Handshakes completed (accepted sent).
  uint64_t requests_sent();   // Requests written (queries, depths, certificates).
  std::optional<PublicKey> last_client_key();
  std::vector<v1::TipEvent> tips();
  std::vector<v1::AdapterStatus> statuses();
  // Tips received on the current (latest) stream.
  std::vector<v1::TipEvent> tips_this_stream();

  // Each waits until its condition holds (checked after every frame) or `timeout_ms`
  // passes; false on timeout.
  bool WaitForHandshakes(int count, int timeout_ms);
  // The latest tip on the current stream has this height and hash.
  bool WaitForTip(uint64_t height, const std::string& hash, int timeout_ms);
  // The latest status satisfies `condition`.
  bool WaitForStatus(const std::function<bool(const v1::AdapterStatus&)>& condition,
                     int timeout_ms);

  // Sends a request on the live stream and waits for its answer; nullopt when there is
  // no authenticated stream or no answer in time.
  std::optional<v1::BlockFacts> Query(const std::string& block_hash, uint64_t height,
                                      const std::string& checkpoint_hash = "", uint32_t wait_ms = 0,
                                      int timeout_ms = 10000);
  std::optional<v1::BlockAtDepthResponse> AtDepth(uint64_t depth, int timeout_ms = 10000);
  std::optional<v1::CheckpointApplied> ApplyCheckpoint(const Bytes& certificate,
                                                       int timeout_ms = 30000);

 private:
  class Service;
  using Stream = grpc::ServerReaderWriter<v1::InterpreterToAdapter, v1::AdapterToInterpreter>;

  // `condition` runs with mutex_ held.
  bool WaitUntil(const std::function<bool()>& condition, int timeout_ms);
  grpc::Status Attach(grpc::ServerContext* context, Stream* stream);
  // Writes `frame` on the live stream with a new request id; 0 when there is none.
  uint64_t Send(v1::InterpreterToAdapter frame,
                const std::function<void(v1::InterpreterToAdapter*, uint64_t)>& set_id);
  template <typename Answer>
  std::optional<Answer> Await(std::map<uint64_t, Answer>* answers, uint64_t id, int timeout_ms);

  const Hash256 federation_id_;
  const SigningKey key_;
  int port_ = 0;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<PublicKey> expected_client_key_;
  bool corrupt_signature_ = false;
  bool silent_ = false;
  int hellos_ = 0;
  int challenge_responses_ = 0;
  int handshakes_ = 0;
  std::optional<PublicKey> last_client_key_;
  std::vector<v1::TipEvent> tips_;
  std::vector<v1::TipEvent> tips_this_stream_;
  std::vector<v1::AdapterStatus> statuses_;
  // The authenticated stream requests go to (the newest; an older one is cancelled).
  grpc::ServerContext* live_context_ = nullptr;
  Stream* live_stream_ = nullptr;
  uint64_t next_request_id_ = 1;
  std::map<uint64_t, v1::BlockFacts> facts_;
  std::map<uint64_t, v1::BlockAtDepthResponse> depths_;
  std::map<uint64_t, v1::CheckpointApplied> applied_;
};

}  // namespace metronome::pow_adapter::testing

#endif  // METRONOME_TESTS_INTEGRATION_POW_ADAPTER_TEST_CHAIN_SERVER_H_
