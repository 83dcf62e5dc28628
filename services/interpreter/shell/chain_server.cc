#include "services/interpreter/shell/chain_server.h"

#include <chrono>
#include <optional>
#include <thread>

#include "common/handshake_frames.h"
#include "common/log.h"
#include "common/stream_support.h"

namespace metronome::interpreter {
namespace {}  // namespace

class ChainServer::Service final : public v1::Chain::Service {
 public:
  explicit Service(ChainServer* server) : server_(server) {}
  grpc::Status Attach(grpc::ServerContext* context, Stream* stream) override {
    return server_->Serve(context, stream);
  }

 private:
  ChainServer* server_;
};

// One authenticated stream: its id, how to cancel it, and its bounded outbound queue.
class ChainServer::Attachment {
 public:
  Attachment(uint64_t id, grpc::ServerContext* context, size_t queue_max)
      : id_(id), queue_(queue_max) {
    canceller_.Set([context] { context->TryCancel(); });
  }

  uint64_t id() const { return id_; }
  // Safe from any thread, also after the handler returned (then it does nothing): Stop
  // or a newer stream may hold the attachment while gRPC destroys the context.
  void Cancel() { canceller_.Cancel(); }
  // Called by the handler before it returns.
  void End() { canceller_.End(); }

  OutboundQueue<v1::InterpreterToAdapter>& queue() { return queue_; }

 private:
  const uint64_t id_;
  StreamCanceller canceller_;
  OutboundQueue<v1::InterpreterToAdapter> queue_;
};

ChainServer::ChainServer(ChainServerOptions options, const Federation& federation,
                         const SigningKey& interpreter_key, Handler* handler,
                         prometheus::Registry* registry)
    : options_(std::move(options)),
      federation_id_(federation.id()),
      key_(interpreter_key),
      handler_(handler),
      service_(std::make_unique<Service>(this)) {
  attached_gauge_ = &prometheus::BuildGauge()
                         .Name("metronome_interpreter_adapter_attached")
                         .Help("1 while the member's pow-adapter is attached to the Chain API")
                         .Register(*registry)
                         .Add({});
  attaches_ = &prometheus::BuildCounter()
                   .Name("metronome_interpreter_adapter_attaches_total")
                   .Help("Chain API streams authenticated (handshake completed)")
                   .Register(*registry)
                   .Add({});
  failures_ = &prometheus::BuildCounter()
                   .Name("metronome_interpreter_adapter_stream_failures_total")
                   .Help("Chain API streams refused or broken, by reason")
                   .Register(*registry);
  frames_dropped_ = &prometheus::BuildCounter()
                         .Name("metronome_interpreter_adapter_queue_dropped_total")
                         .Help("Frames for the adapter dropped because its queue was full")
                         .Register(*registry)
                         .Add({});
}

ChainServer::~ChainServer() { Stop(); }

grpc::Service* ChainServer::service() { return service_.get(); }

bool ChainServer::Send(v1::InterpreterToAdapter frame) {
  if (frame.ByteSizeLong() > options_.max_message_bytes) return false;
  std::shared_ptr<Attachment> current;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    current = current_;
  }
  if (!current) return false;
  bool dropped = false;
  const bool queued = current->queue().Push(std::move(frame), &dropped);
  if (dropped) frames_dropped_->Increment();
  return queued;
}

uint64_t ChainServer::attached_stream() {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_ ? current_->id() : 0;
}

void ChainServer::Stop() {
  std::shared_ptr<Attachment> current;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    current = current_;
  }
  if (current) current->Cancel();
}

grpc::Status ChainServer::Handshake(grpc::ServerContext* context, Stream* stream,
                                    std::string* reason) {
  HandshakeWatchdog watchdog([context] { context->TryCancel(); }, options_.handshake_timeout_ms);
  v1::AdapterToInterpreter frame;
  if (!stream->Read(&frame)) {
    *reason = "closed_in_handshake";
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no hello");
  }
  if (!frame.has_hello()) {
    *reason = "handshake_unexpected_frame";
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "expected hello");
  }
  HandshakeTranscript transcript;
  v1::InterpreterToAdapter challenge;
  grpc::Status status = AnswerHello(
      frame.hello(), kChainServiceName, federation_id_, key_,
      [this](const PublicKey& key) { return key == options_.adapter_key; },
      "the adapter key named in the interpreter config", &transcript,
      challenge.mutable_challenge());
  if (!status.ok()) {
    *reason = "handshake_refused";
    return status;
  }
  if (!stream->Write(challenge) || !stream->Read(&frame)) {
    *reason = "closed_in_handshake";
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "handshake not completed");
  }
  if (!frame.has_challenge_response()) {
    *reason = "handshake_unexpected_frame";
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "expected challenge_response");
  }
  status = CheckChallengeResponse(transcript, frame.challenge_response());
  if (!status.ok()) {
    *reason = "handshake_bad_signature";
    return status;
  }
  v1::InterpreterToAdapter accepted;
  accepted.mutable_accepted();
  if (!stream->Write(accepted) || watchdog.Disarm()) {
    *reason = "closed_in_handshake";
    return grpc::Status(grpc::StatusCode::CANCELLED, "closed during the handshake");
  }
  return grpc::Status::OK;
}

grpc::Status ChainServer::Serve(grpc::ServerContext* context, Stream* stream) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
  }
  std::string reason;
  grpc::Status status = Handshake(context, stream, &reason);
  if (!status.ok()) {
    failures_->Add({{"reason", reason}}).Increment();
    LogWarn("chain api stream refused", {{"reason", reason}, {"detail", status.error_message()}});
    return status;
  }
  std::shared_ptr<Attachment> attachment;
  std::shared_ptr<Attachment> replaced;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
    attachment = std::make_shared<Attachment>(next_stream_id_++, context, options_.queue_max);
    replaced = current_;
    current_ = attachment;
  }
  if (replaced) {
    replaced->queue().Close();
    replaced->Cancel();
  }
  attached_gauge_->Set(1);
  attaches_->Increment();
  LogInfo("adapter attached",
          {{"stream", attachment->id()}, {"replaced_older_stream", replaced != nullptr}});
  handler_->OnAdapterAttached(attachment->id());

  std::thread writer([attachment, stream] {
    while (std::optional<v1::InterpreterToAdapter> frame = attachment->queue().PopBlocking()) {
      if (!stream->Write(*frame)) {
        attachment->Cancel();
        return;
      }
    }
  });
  v1::AdapterToInterpreter frame;
  grpc::Status ended = grpc::Status::OK;
  while (stream->Read(&frame)) {
    if (frame.ByteSizeLong() > options_.max_message_bytes) {
      failures_->Add({{"reason", "oversized_frame"}}).Increment();
      ended = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "frame above max_message_bytes");
      break;
    }
    if (frame.has_hello() || frame.has_challenge_response()) {
      failures_->Add({{"reason", "handshake_frame_after_handshake"}}).Increment();
      ended = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "handshake frame after handshake");
      break;
    }
    handler_->OnAdapterFrame(attachment->id(), std::move(frame));
    frame.Clear();
  }
  attachment->queue().Close();
  // A writer blocked on a peer that stopped reading would never notice the close.
  if (!ended.ok()) attachment->Cancel();
  writer.join();
  attachment->End();  // The context dies with this handler.
  bool was_current = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (current_ == attachment) {
      current_.reset();
      was_current = true;
    }
  }
  if (!was_current) {
    return grpc::Status(grpc::StatusCode::ABORTED, "replaced by a newer adapter stream");
  }
  attached_gauge_->Set(0);
  LogInfo("adapter detached", {{"stream", attachment->id()}});
  handler_->OnAdapterDetached(attachment->id());
  return ended;
}

}  // namespace metronome::interpreter
