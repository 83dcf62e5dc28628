#ifndef METRONOME_SERVICES_BFT_SHELL_INTERPRETER_BRIDGE_H_
#define METRONOME_SERVICES_BFT_SHELL_INTERPRETER_BRIDGE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <mutex>

#include "common/ed25519.h"
#include "common/federation.h"
#include "common/stream_support.h"
#include "metronome/v1/interpreter.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

// The bft's end of Interpreter.Attach (interpreter.proto): the member's interpreter
// connects, proves it holds the interpreter key named in the bft config (handshake of
// types.proto, the bft's member key as the server's), and then exchanges requests and
// answers with the consensus actor. One interpreter at a time: a newer authenticated
// stream replaces the older, which is closed. Frames are handed to `on_frame` from the
// stream's reader thread; sending only queues (bounded). Thread-safe.
namespace metronome::bft {

constexpr char kInterpreterServiceName[] = "metronome.v1.Interpreter";

class InterpreterBridge {
 public:
  using FrameHandler = std::function<void(v1::InterpreterToBft frame)>;
  // attached = true after a handshake, false when that stream ends (not when it is
  // replaced by a newer one: the newer one's true comes first).
  using AttachHandler = std::function<void(bool attached)>;

  InterpreterBridge(const Federation& federation, const SigningKey& member_key,
                    const PublicKey& interpreter_key, size_t max_message_bytes, size_t queue_max,
                    uint64_t handshake_timeout_ms, prometheus::Registry* registry);
  ~InterpreterBridge();

  void SetHandlers(FrameHandler on_frame, AttachHandler on_attach);
  // Queues a frame for the attached interpreter; false when none is attached.
  bool Send(v1::BftToInterpreter frame);
  bool attached();
  // Closes the attached stream (the server's shutdown ends the handler).
  void Stop();

  grpc::Service* service();

 private:
  class Service;
  struct Attachment {
    explicit Attachment(size_t queue_max) : queue(queue_max) {}
    StreamCanceller canceller;  // Ended by the handler that owns the stream.
    OutboundQueue<v1::BftToInterpreter> queue;
  };

  grpc::Status Serve(grpc::ServerContext* context,
                     grpc::ServerReaderWriter<v1::BftToInterpreter, v1::InterpreterToBft>* stream);

  const Federation& federation_;
  SigningKey member_key_;
  PublicKey interpreter_key_;
  size_t max_message_bytes_;
  size_t queue_max_;
  uint64_t handshake_timeout_ms_;
  std::unique_ptr<Service> service_;
  FrameHandler on_frame_;
  AttachHandler on_attach_;

  std::mutex mutex_;
  std::shared_ptr<Attachment> current_;  // Guarded by mutex_.
  bool stopping_ = false;                // Guarded by mutex_.

  prometheus::Gauge* attached_gauge_;
  prometheus::Family<prometheus::Counter>* failures_;
  prometheus::Counter* frames_dropped_;
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_SHELL_INTERPRETER_BRIDGE_H_
