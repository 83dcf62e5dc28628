#ifndef METRONOME_SERVICES_POW_ADAPTER_SHELL_CHAIN_CLIENT_H_
#define METRONOME_SERVICES_POW_ADAPTER_SHELL_CHAIN_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "common/ed25519.h"
#include "common/federation.h"
#include "common/handshake.h"
#include "common/handshake_frames.h"
#include "metronome/v1/chain.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/pow_adapter/shell/chain_backend.h"

// The adapter's Chain API client (proto/metronome/v1/chain.proto): one long-lived
// `Chain.Attach` stream to the interpreter, opened with the handshake of types.proto
// (common/handshake.h, the adapter as client), then tip events and status, answers to
// block and depth queries from the devchain's facts, and certificates applied through
// the same path as the admin ApplyCertificate (acknowledged with the outcome and
// durable flag once the checkpoint state is on disk). Reconnects with bounded
// exponential backoff and jitter.
namespace metronome::pow_adapter {

constexpr char kChainServiceName[] = "metronome.v1.Chain";

struct ChainClientOptions {
  std::string interpreter_address;           // host:port
  std::optional<PublicKey> interpreter_key;  // Unset: any key whose signature verifies.
  uint64_t reconnect_min_ms = 100;
  uint64_t reconnect_max_ms = 5000;
  uint64_t handshake_timeout_ms = 5000;
  uint32_t query_wait_ms_max = 10000;  // Caps BlockQuery.wait_ms.
  size_t max_message_bytes = 4 << 20;
};

class ChainClient {
 public:
  ChainClient(ChainClientOptions options, const SigningKey& key, const Federation& federation,
              ChainBackend* backend, prometheus::Registry* registry);
  ~ChainClient();
  ChainClient(const ChainClient&) = delete;
  ChainClient& operator=(const ChainClient&) = delete;

  void Start();
  // Cancels the stream and joins the thread. Idempotent.
  void Stop();

 private:
  struct PendingQuery {
    v1::BlockQuery query;
    std::chrono::steady_clock::time_point deadline;
  };
  using Stream = grpc::ClientReaderWriter<v1::AdapterToInterpreter, v1::InterpreterToAdapter>;

  void Run();
  // One connection: handshake, then serve until the stream ends. Returns a failure
  // reason ("" after a clean end following a completed handshake).
  std::string Session(v1::Chain::Stub* stub);
  std::string Handshake(grpc::ClientContext* context, Stream* stream);
  bool Serve(Stream* stream);
  bool SendTipAndStatus(Stream* stream, bool force);
  bool AnswerQuery(Stream* stream, const v1::BlockQuery& query, bool final_answer);
  v1::BlockAtDepthResponse AnswerDepth(const v1::BlockAtDepthRequest& request);
  v1::CheckpointApplied Apply(const v1::ApplyCheckpoint& request);

  ChainClientOptions options_;
  SigningKey key_;
  Hash256 federation_id_;
  ChainBackend* backend_;  // Borrowed.

  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;                       // Guarded by mutex_.
  bool tip_changed_ = false;                    // Guarded by mutex_.
  grpc::ClientContext* context_ = nullptr;      // The live stream's, guarded by mutex_.
  std::deque<v1::InterpreterToAdapter> inbox_;  // Guarded by mutex_.
  bool stream_ended_ = false;                   // Guarded by mutex_.
  std::thread thread_;

  // What was last sent on the current stream.
  std::string sent_tip_hash_;
  std::string sent_status_;

  prometheus::Counter* connects_;
  prometheus::Family<prometheus::Counter>* failures_;
  prometheus::Gauge* connected_;
  prometheus::Counter* tips_sent_;
  prometheus::Counter* queries_answered_;
  prometheus::Counter* checkpoints_acknowledged_;
};

}  // namespace metronome::pow_adapter

#endif  // METRONOME_SERVICES_POW_ADAPTER_SHELL_CHAIN_CLIENT_H_
