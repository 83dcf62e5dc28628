#include "services/bft/shell/interpreter_bridge.h"

#include "common/handshake_frames.h"
#include "common/log.h"

namespace metronome::bft {

class InterpreterBridge::Service final : public v1::Interpreter::Service {
 public:
  explicit Service(InterpreterBridge* bridge) : bridge_(bridge) {}
  grpc::Status Attach(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::BftToInterpreter, v1::InterpreterToBft>* stream) override {
    return bridge_->Serve(context, stream);
  }

 private:
  InterpreterBridge* bridge_;
};

InterpreterBridge::InterpreterBridge(const Federation& federation, const SigningKey& member_key,
                                     const PublicKey& interpreter_key, size_t max_message_bytes,
                                     size_t queue_max, uint64_t handshake_timeout_ms,
                                     prometheus::Registry* registry)
    : federation_(federation),
      member_key_(member_key),
      interpreter_key_(interpreter_key),
      max_message_bytes_(max_message_bytes),
      queue_max_(queue_max),
      handshake_timeout_ms_(handshake_timeout_ms),
      service_(std::make_unique<Service>(this)) {
  attached_gauge_ = &prometheus::BuildGauge()
                         .Name("metronome_bft_interpreter_attached")
                         .Help("1 while the member's interpreter is attached")
                         .Register(*registry)
                         .Add({});
  failures_ = &prometheus::BuildCounter()
                   .Name("metronome_bft_interpreter_stream_failures_total")
                   .Help("Interpreter streams refused or broken, by reason")
                   .Register(*registry);
  frames_dropped_ = &prometheus::BuildCounter()
                         .Name("metronome_bft_interpreter_queue_dropped_total")
                         .Help("Frames for the interpreter dropped because its queue was full")
                         .Register(*registry)
                         .Add({});
}

InterpreterBridge::~InterpreterBridge() { Stop(); }

void InterpreterBridge::SetHandlers(FrameHandler on_frame, AttachHandler on_attach) {
  on_frame_ = std::move(on_frame);
  on_attach_ = std::move(on_attach);
}

grpc::Service* InterpreterBridge::service() { return service_.get(); }

bool InterpreterBridge::attached() {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_ != nullptr;
}

bool InterpreterBridge::Send(v1::BftToInterpreter frame) {
  std::shared_ptr<Attachment> current;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    current = current_;
  }
  if (!current) return false;
  bool dropped = false;
  const bool queued = current->queue.Push(std::move(frame), &dropped);
  if (dropped) frames_dropped_->Increment();
  return queued;
}

void InterpreterBridge::Stop() {
  std::shared_ptr<Attachment> current;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    current = current_;
  }
  if (current) current->canceller.Cancel();
}

grpc::Status InterpreterBridge::Serve(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::BftToInterpreter, v1::InterpreterToBft>* stream) {
  auto attachment = std::make_shared<Attachment>(queue_max_);
  attachment->canceller.Set([context] { context->TryCancel(); });
  auto refuse = [this](const std::string& reason, grpc::Status status) {
    failures_->Add({{"reason", reason}}).Increment();
    LogWarn("interpreter stream refused", {{"reason", reason}, {"detail", status.error_message()}});
    return status;
  };
  {
    HandshakeWatchdog watchdog([attachment] { attachment->canceller.Cancel(); },
                               handshake_timeout_ms_);
    v1::InterpreterToBft frame;
    if (!stream->Read(&frame)) {
      return refuse("closed_in_handshake",
                    grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no hello"));
    }
    if (!frame.has_hello()) {
      return refuse("handshake_unexpected_frame",
                    grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "expected hello"));
    }
    HandshakeTranscript transcript;
    v1::BftToInterpreter challenge;
    grpc::Status status = AnswerHello(
        frame.hello(), kInterpreterServiceName, federation_.id(), member_key_,
        [this](const PublicKey& key) { return key == interpreter_key_; },
        "the interpreter key named in the bft config", &transcript, challenge.mutable_challenge());
    if (!status.ok()) return refuse("handshake_refused", status);
    if (!stream->Write(challenge) || !stream->Read(&frame)) {
      return refuse("closed_in_handshake",
                    grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "handshake not completed"));
    }
    if (!frame.has_challenge_response()) {
      return refuse("handshake_unexpected_frame",
                    grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "expected challenge_response"));
    }
    status = CheckChallengeResponse(transcript, frame.challenge_response());
    if (!status.ok()) return refuse("handshake_bad_signature", status);
    v1::BftToInterpreter accepted;
    accepted.mutable_accepted();
    if (!stream->Write(accepted) || watchdog.Disarm()) {
      return refuse("closed_in_handshake",
                    grpc::Status(grpc::StatusCode::CANCELLED, "closed during the handshake"));
    }
  }
  std::shared_ptr<Attachment> replaced;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
    replaced = current_;
    current_ = attachment;
    // Under the lock, so the actor sees attach and detach in the order they happened
    // (anon_send does not block).
    if (on_attach_) on_attach_(true);
  }
  if (replaced) {
    replaced->queue.Close();
    replaced->canceller.Cancel();
  } else {
    attached_gauge_->Set(1);
  }
  LogInfo("interpreter attached", {{"replaced_older_stream", replaced != nullptr}});

  std::thread writer([attachment, stream] {
    while (true) {
      bool closed = false;
      std::optional<v1::BftToInterpreter> frame = attachment->queue.Pop(1000, &closed);
      if (closed) return;
      if (frame && !stream->Write(*frame)) {
        attachment->canceller.Cancel();
        return;
      }
    }
  });
  v1::InterpreterToBft frame;
  while (stream->Read(&frame)) {
    if (frame.ByteSizeLong() > max_message_bytes_) {
      failures_->Add({{"reason", "oversized_frame"}}).Increment();
      attachment->canceller.Cancel();
      break;
    }
    on_frame_(std::move(frame));
    frame.Clear();
  }
  attachment->queue.Close();
  writer.join();
  bool was_current = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (current_ == attachment) {
      current_.reset();
      was_current = true;
      if (on_attach_) on_attach_(false);
    }
  }
  // The context dies when this returns: no other thread may cancel it from now on.
  attachment->canceller.End();
  if (was_current) {
    attached_gauge_->Set(0);
    LogInfo("interpreter detached");
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::ABORTED, "replaced by a newer interpreter stream");
}

}  // namespace metronome::bft
