#ifndef METRONOME_SERVICES_INTERPRETER_SHELL_BFT_CLIENT_H_
#define METRONOME_SERVICES_INTERPRETER_SHELL_BFT_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/ed25519.h"
#include "common/federation.h"
#include "common/stream_support.h"
#include "metronome/v1/interpreter.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

// The interpreter's end of Interpreter.Attach (proto/metronome/v1/interpreter.proto):
// one long-lived stream to the member's bft, opened with the handshake of types.proto
// (the interpreter key as the client's, the bft's member key as the server's), then
// application frames both ways. Reconnects with bounded exponential backoff and jitter
// for as long as it runs. It knows nothing of checkpoint rules: frames go to a Handler
// and the Handler's answers come back through Send.
//
// Metrics: metronome_interpreter_bft_connects_total (handshakes completed),
// metronome_interpreter_bft_attached (0/1), metronome_interpreter_bft_queue_dropped_total,
// metronome_interpreter_bft_failures_total{reason}: "unavailable" (no connection),
// "refused" (the bft closed the stream during the handshake; its status is logged),
// "handshake_timeout", "unexpected_frame", the CheckChallenge codes of
// common/handshake_frames.h ("unexpected_server_key", "bad_signature", ...), and for an
// attached stream that ended "disconnected" (plus "oversized_frame" when we closed it).
namespace metronome::interpreter {

constexpr char kInterpreterServiceName[] = "metronome.v1.Interpreter";

struct BftClientOptions {
  std::string bft_address;           // host:port of the bft's interpreter listener.
  std::optional<PublicKey> bft_key;  // The member key expected; unset: any that verifies.
  uint64_t reconnect_min_ms = 100;   // Backoff bounds between connection attempts.
  uint64_t reconnect_max_ms = 5000;
  uint64_t handshake_timeout_ms = 5000;  // For the whole handshake of one attempt.
  size_t max_message_bytes = 4 << 20;    // A larger frame from the bft closes the stream.
  size_t queue_max = 1024;               // Frames queued for the bft; beyond, oldest dropped.
};

class BftClient {
 public:
  // What the client reports. Every call comes from the client's reader thread, one at a
  // time, in stream order: OnAttached after a completed handshake, then OnFrame for each
  // application frame of that stream, then OnDetached when it ends. A handler may call
  // Send from these callbacks (Send never blocks) but must not call Stop from them, and
  // should return promptly: the stream is not read while it runs.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void OnAttached() {}
    virtual void OnDetached() {}
    virtual void OnFrame(const v1::BftToInterpreter& frame) = 0;
  };

  // `handler` and `registry` must outlive the client; the key and the federation's id
  // are copied. Registers the metrics above on `registry` (with prometheus-cpp's default
  // Merge behaviour a second client on the same registry shares the same series).
  BftClient(BftClientOptions options, const SigningKey& interpreter_key,
            const Federation& federation, Handler* handler, prometheus::Registry* registry);
  // Stops the client.
  ~BftClient();
  BftClient(const BftClient&) = delete;
  BftClient& operator=(const BftClient&) = delete;

  // Starts the connection thread. Call once.
  void Start();
  // Cancels the stream, joins every thread; the handler is not called after it returns.
  // Idempotent; never call it from a Handler callback.
  void Stop();

  // Queues a frame for the bft. Thread-safe, never blocks. Bounded: when queue_max
  // frames are waiting, the oldest is dropped (and counted). False when no stream is
  // attached (the frame is discarded: requests of a closed stream are failed by their
  // sender, types.proto) or the frame is larger than max_message_bytes.
  bool Send(v1::InterpreterToBft frame);
  // True between OnAttached and OnDetached.
  bool attached();

 private:
  using Stream = grpc::ClientReaderWriter<v1::InterpreterToBft, v1::BftToInterpreter>;

  void Run();
  // One connection: returns "" after an authenticated stream ended, else the failure's
  // reason code (the metric's label).
  std::string Session(v1::Interpreter::Stub* stub);
  std::string Handshake(grpc::ClientContext* context, Stream* stream);

  const BftClientOptions options_;
  const SigningKey key_;
  const Hash256 federation_id_;
  Handler* const handler_;

  std::mutex mutex_;
  std::condition_variable cv_;
  bool started_ = false;                    // Guarded by mutex_.
  bool stopping_ = false;                   // Guarded by mutex_.
  grpc::ClientContext* context_ = nullptr;  // The live attempt's, guarded by mutex_.
  std::shared_ptr<OutboundQueue<v1::InterpreterToBft>>
      outbound_;  // Set while attached, guarded by mutex_.
  std::thread thread_;

  prometheus::Counter* connects_;
  prometheus::Gauge* attached_gauge_;
  prometheus::Family<prometheus::Counter>* failures_;
  prometheus::Counter* frames_dropped_;
};

}  // namespace metronome::interpreter

#endif  // METRONOME_SERVICES_INTERPRETER_SHELL_BFT_CLIENT_H_
