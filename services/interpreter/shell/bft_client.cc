#include "services/interpreter/shell/bft_client.h"

#include <chrono>
#include <deque>
#include <random>

#include "common/handshake_frames.h"
#include "common/log.h"
#include "common/proto_bytes.h"
#include "common/stream_support.h"

namespace metronome::interpreter {
namespace {

// Room for gRPC framing above our own per-message limit, so that an oversized frame
// reaches our check (and its metric) instead of failing inside gRPC.
constexpr size_t kGrpcSlackBytes = 64 << 10;

uint64_t RandomSeed() {
  const Nonce nonce = NewNonce();
  uint64_t seed = 0;
  for (int i = 0; i < 8; ++i) seed = (seed << 8) | nonce[i];
  return seed;
}

}  // namespace

BftClient::BftClient(BftClientOptions options, const SigningKey& interpreter_key,
                     const Federation& federation, Handler* handler, prometheus::Registry* registry)
    : options_(std::move(options)),
      key_(interpreter_key),
      federation_id_(federation.id()),
      handler_(handler) {
  connects_ = &prometheus::BuildCounter()
                   .Name("metronome_interpreter_bft_connects_total")
                   .Help("Streams to the bft authenticated (handshake completed)")
                   .Register(*registry)
                   .Add({});
  attached_gauge_ = &prometheus::BuildGauge()
                         .Name("metronome_interpreter_bft_attached")
                         .Help("1 while the stream to the bft is authenticated")
                         .Register(*registry)
                         .Add({});
  failures_ = &prometheus::BuildCounter()
                   .Name("metronome_interpreter_bft_failures_total")
                   .Help(
                       "Connection attempts to the bft that failed, and attached streams "
                       "that ended, by reason")
                   .Register(*registry);
  frames_dropped_ = &prometheus::BuildCounter()
                         .Name("metronome_interpreter_bft_queue_dropped_total")
                         .Help("Frames for the bft dropped because its queue was full")
                         .Register(*registry)
                         .Add({});
}

BftClient::~BftClient() { Stop(); }

void BftClient::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void BftClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool BftClient::attached() {
  std::lock_guard<std::mutex> lock(mutex_);
  return outbound_ != nullptr;
}

bool BftClient::Send(v1::InterpreterToBft frame) {
  if (frame.ByteSizeLong() > options_.max_message_bytes) {
    LogWarn("bft client: frame larger than max_message_bytes not sent",
            {{"bytes", frame.ByteSizeLong()}, {"kind", static_cast<int>(frame.kind_case())}});
    return false;
  }
  std::shared_ptr<OutboundQueue<v1::InterpreterToBft>> outbound;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    outbound = outbound_;
  }
  if (!outbound) return false;
  bool dropped = false;
  const bool queued = outbound->Push(std::move(frame), &dropped);
  if (dropped) frames_dropped_->Increment();
  return queued;
}

void BftClient::Run() {
  std::mt19937_64 random(RandomSeed());
  uint32_t failures = 0;
  grpc::ChannelArguments arguments;
  const int message_bytes_max = static_cast<int>(options_.max_message_bytes + kGrpcSlackBytes);
  arguments.SetMaxReceiveMessageSize(message_bytes_max);
  arguments.SetMaxSendMessageSize(message_bytes_max);
  // A fresh channel per attempt: each attempt is a new connection paced by our backoff,
  // not by gRPC's own reconnect timer.
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
        options_.bft_address, grpc::InsecureChannelCredentials(), arguments);
    std::unique_ptr<v1::Interpreter::Stub> stub = v1::Interpreter::NewStub(channel);
    const std::string reason = Session(stub.get());
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    // An authenticated stream that ended resets the backoff: the next attempt is soon.
    if (reason.empty()) failures = 0;
    failures_->Add({{"reason", reason.empty() ? "disconnected" : reason}}).Increment();
    const uint64_t delay_ms =
        ReconnectDelayMs(options_.reconnect_min_ms, options_.reconnect_max_ms, failures, &random);
    if (!reason.empty()) ++failures;
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(delay_ms), [this] { return stopping_; });
  }
}

std::string BftClient::Session(v1::Interpreter::Stub* stub) {
  grpc::ClientContext context;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return "stopping";
    context_ = &context;
  }
  std::unique_ptr<Stream> stream = stub->Attach(&context);
  std::string reason = Handshake(&context, stream.get());
  std::shared_ptr<OutboundQueue<v1::InterpreterToBft>> outbound;
  if (reason.empty()) {
    outbound = std::make_shared<OutboundQueue<v1::InterpreterToBft>>(options_.queue_max);
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      reason = "stopping";
    } else {
      outbound_ = outbound;
    }
  }
  if (reason.empty()) {
    connects_->Increment();
    attached_gauge_->Set(1);
    LogInfo("bft attached", {{"bft", options_.bft_address}});
    handler_->OnAttached();
    // The writer: sync gRPC allows one Write concurrent with one Read, so answers the
    // handler queues go out while this thread keeps reading.
    std::thread writer([&context, &stream, outbound] {
      while (std::optional<v1::InterpreterToBft> frame = outbound->PopBlocking()) {
        if (!stream->Write(*frame)) {
          context.TryCancel();
          return;
        }
      }
    });
    v1::BftToInterpreter frame;
    while (stream->Read(&frame)) {
      if (frame.ByteSizeLong() > options_.max_message_bytes) {
        failures_->Add({{"reason", "oversized_frame"}}).Increment();
        LogWarn("bft sent a frame larger than max_message_bytes; closing the stream",
                {{"bytes", frame.ByteSizeLong()}});
        break;
      }
      if (frame.has_challenge() || frame.has_accepted()) {
        failures_->Add({{"reason", "unexpected_frame"}}).Increment();
        LogWarn("bft sent a handshake frame after the handshake; closing the stream");
        break;
      }
      handler_->OnFrame(frame);
      frame.Clear();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      outbound_.reset();
    }
    outbound->Close();
    // Ends a Write blocked on flow control, and the stream if we left the loop early.
    context.TryCancel();
    writer.join();
    attached_gauge_->Set(0);
    handler_->OnDetached();
  }
  const grpc::Status status = stream->Finish();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    context_ = nullptr;
  }
  if (reason.empty()) {
    LogWarn("bft stream closed", {{"bft", options_.bft_address},
                                  {"code", static_cast<int>(status.error_code())},
                                  {"message", status.error_message()}});
    return "";
  }
  if (reason == "stream_closed") {
    reason = status.error_code() == grpc::StatusCode::UNAVAILABLE ? "unavailable" : "refused";
  }
  if (reason != "stopping") {
    LogWarn("bft handshake failed", {{"bft", options_.bft_address},
                                     {"reason", reason},
                                     {"code", static_cast<int>(status.error_code())},
                                     {"message", status.error_message()}});
  }
  return reason;
}

std::string BftClient::Handshake(grpc::ClientContext* context, Stream* stream) {
  HandshakeWatchdog watchdog([context] { context->TryCancel(); }, options_.handshake_timeout_ms);
  // Read failures are classified once the watchdog is disarmed: a cancelled read after
  // the watchdog fired is a timeout, anything else a closed stream (refused or
  // unreachable, told apart by the final status).
  auto failed = [&](const std::string& reason) -> std::string {
    if (watchdog.Disarm()) return "handshake_timeout";
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return "stopping";
    }
    return reason;
  };
  ClientHello hello =
      StartClientHandshake(kInterpreterServiceName, federation_id_, key_.public_key());
  v1::InterpreterToBft out;
  *out.mutable_hello() = hello.hello;
  v1::BftToInterpreter in;
  if (!stream->Write(out) || !stream->Read(&in)) return failed("stream_closed");
  if (!in.has_challenge()) {
    context->TryCancel();
    return failed("unexpected_frame");
  }
  std::string reason;
  std::optional<HandshakeTranscript> transcript =
      CheckChallenge(hello.started, in.challenge(), options_.bft_key, &reason);
  if (!transcript) {
    // Never answer a bad challenge: the signature would be an oracle for whoever sent it.
    context->TryCancel();
    return failed(reason);
  }
  out.Clear();
  out.mutable_challenge_response()->set_signature(
      StringOf(SignHandshake(key_, *transcript, HandshakeRole::kClient)));
  if (!stream->Write(out) || !stream->Read(&in)) return failed("stream_closed");
  if (!in.has_accepted()) {
    context->TryCancel();
    return failed("unexpected_frame");
  }
  if (watchdog.Disarm()) return "handshake_timeout";
  return "";
}

}  // namespace metronome::interpreter
