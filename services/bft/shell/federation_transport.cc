#include "services/bft/shell/federation_transport.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "common/handshake_frames.h"
#include "common/log.h"
#include "common/proto_bytes.h"
#include "common/stream_support.h"

namespace metronome::bft {
namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t UnixMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

struct FederationTransport::Link {
  explicit Link(size_t queue_max) : queue(queue_max) {}
  uint32_t peer = 0;
  uint32_t dialler = 0;       // The member that opened the stream.
  StreamCanceller canceller;  // Ended by the thread that owns the stream.
  OutboundQueue<v1::FederationFrame> queue;
  std::atomic<int64_t> last_received_ms{0};
};

struct FederationTransport::Peer {
  uint32_t index = 0;
  std::shared_ptr<Link> live;  // Guarded by the transport's mutex_.
};

class FederationTransport::Service final : public v1::Federation::Service {
 public:
  explicit Service(FederationTransport* transport) : transport_(transport) {}
  grpc::Status Connect(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::FederationFrame, v1::FederationFrame>* stream) override {
    return transport_->ServeStream(context, stream);
  }

 private:
  FederationTransport* transport_;
};

FederationTransport::FederationTransport(TransportOptions options, const Federation& federation,
                                         uint32_t self, const SigningKey& key,
                                         prometheus::Registry* registry)
    : options_(std::move(options)),
      federation_(federation),
      self_(self),
      key_(key),
      service_(std::make_unique<Service>(this)) {
  for (uint32_t i = 0; i < federation.n(); ++i) {
    auto peer = std::make_unique<Peer>();
    peer->index = i;
    peers_.push_back(std::move(peer));
  }
  peers_connected_ = &prometheus::BuildGauge()
                          .Name("metronome_bft_peers_connected")
                          .Help("Federation members with an authenticated stream")
                          .Register(*registry)
                          .Add({});
  messages_sent_ = &prometheus::BuildCounter()
                        .Name("metronome_bft_messages_sent_total")
                        .Help("Consensus messages queued for peers, by type")
                        .Register(*registry);
  link_failures_ = &prometheus::BuildCounter()
                        .Name("metronome_bft_link_failures_total")
                        .Help("Federation streams that failed or were refused, by reason")
                        .Register(*registry);
  frames_dropped_ = &prometheus::BuildCounter()
                         .Name("metronome_bft_peer_queue_dropped_total")
                         .Help("Frames dropped because a peer's send queue was full")
                         .Register(*registry)
                         .Add({});
  connects_ = &prometheus::BuildCounter()
                   .Name("metronome_bft_peer_connects_total")
                   .Help("Authenticated federation streams established")
                   .Register(*registry)
                   .Add({});
}

FederationTransport::~FederationTransport() { Stop(); }

void FederationTransport::SetHandlers(MessageHandler on_message, ConnectHandler on_connect) {
  on_message_ = std::move(on_message);
  on_connect_ = std::move(on_connect);
}

grpc::Service* FederationTransport::service() { return service_.get(); }

void FederationTransport::Start() {
  for (auto& peer : peers_) {
    if (peer->index == self_) continue;
    Peer* raw = peer.get();
    diallers_.emplace_back([this, raw] { DialLoop(raw); });
  }
}

void FederationTransport::Stop() {
  std::vector<std::shared_ptr<Link>> live;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && diallers_.empty()) return;
    stopping_ = true;
    for (auto& peer : peers_) {
      if (peer->live) live.push_back(peer->live);
    }
  }
  cv_.notify_all();
  for (auto& link : live) link->canceller.Cancel();
  for (std::thread& thread : diallers_) thread.join();
  diallers_.clear();
}

size_t FederationTransport::ConnectedPeers() {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t count = 0;
  for (auto& peer : peers_) count += peer->live != nullptr;
  return count;
}

void FederationTransport::Send(uint32_t peer, const v1::ConsensusMessage& message,
                               const char* type) {
  if (peer >= peers_.size() || peer == self_) return;
  std::shared_ptr<Link> link;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    link = peers_[peer]->live;
  }
  messages_sent_->Add({{"type", type}}).Increment();
  if (!link) return;
  v1::FederationFrame frame;
  *frame.mutable_message() = message;
  bool dropped = false;
  link->queue.Push(std::move(frame), &dropped);
  if (dropped) frames_dropped_->Increment();
}

void FederationTransport::CountFailure(const std::string& reason) {
  link_failures_->Add({{"reason", reason}}).Increment();
}

bool FederationTransport::Adopt(const std::shared_ptr<Link>& link) {
  std::shared_ptr<Link> replaced;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
    std::shared_ptr<Link>& live = peers_[link->peer]->live;
    const uint32_t preferred = std::min(self_, link->peer);
    if (live) {
      // Both sides apply the same rule, so they keep the same stream: the one dialled by
      // the lower member index; between two from the same dialler, the newer.
      const bool wins = link->dialler == live->dialler || link->dialler == preferred;
      if (!wins) return false;
      replaced = live;
    } else {
      peers_connected_->Increment();
      connects_->Increment();
    }
    live = link;
  }
  if (replaced) {
    replaced->queue.Close();
    replaced->canceller.Cancel();
  }
  link->last_received_ms = SteadyMs();
  if (on_connect_) on_connect_(link->peer);
  return true;
}

void FederationTransport::Retire(Link* link) {
  link->queue.Close();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::shared_ptr<Link>& live = peers_[link->peer]->live;
    if (live.get() == link) {
      live.reset();
      peers_connected_->Decrement();
    }
  }
  cv_.notify_all();
}

void FederationTransport::ReadLoop(Link* link,
                                   const std::function<bool(v1::FederationFrame*)>& read) {
  v1::FederationFrame frame;
  while (read(&frame)) {
    link->last_received_ms = SteadyMs();
    if (frame.ByteSizeLong() > options_.max_message_bytes) {
      CountFailure("oversized_frame");
      LogWarn("peer sent an oversized frame; closing the stream",
              {{"peer", link->peer}, {"bytes", frame.ByteSizeLong()}});
      link->canceller.Cancel();
      return;
    }
    switch (frame.kind_case()) {
      case v1::FederationFrame::kMessage:
        on_message_(link->peer, std::move(*frame.mutable_message()));
        break;
      case v1::FederationFrame::kHeartbeat:
        break;
      default:
        CountFailure("unexpected_frame");
        LogWarn("peer sent a handshake frame after the handshake; closing the stream",
                {{"peer", link->peer}});
        link->canceller.Cancel();
        return;
    }
  }
}

void FederationTransport::WriteLoop(Link* link,
                                    const std::function<bool(const v1::FederationFrame&)>& write) {
  while (true) {
    bool closed = false;
    std::optional<v1::FederationFrame> frame =
        link->queue.Pop(options_.heartbeat_interval_ms, &closed);
    if (closed) return;
    if (SteadyMs() - link->last_received_ms > static_cast<int64_t>(options_.peer_silence_ms)) {
      CountFailure("peer_silent");
      LogWarn("peer silent; closing the stream to redial", {{"peer", link->peer}});
      link->canceller.Cancel();
      return;
    }
    if (!frame) {
      frame.emplace();
      frame->mutable_heartbeat()->set_sent_unix_ms(UnixMs());
    }
    if (!write(*frame)) {
      link->canceller.Cancel();
      return;
    }
  }
}

grpc::Status FederationTransport::ServeStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::FederationFrame, v1::FederationFrame>* stream) {
  auto link = std::make_shared<Link>(options_.peer_queue_max);
  link->canceller.Set([context] { context->TryCancel(); });
  {
    HandshakeWatchdog watchdog([link] { link->canceller.Cancel(); }, options_.handshake_timeout_ms);
    v1::FederationFrame frame;
    if (!stream->Read(&frame)) {
      CountFailure(watchdog.Disarm() ? "handshake_timeout" : "closed_in_handshake");
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no hello");
    }
    if (!frame.has_hello()) {
      CountFailure("handshake_unexpected_frame");
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "expected hello");
    }
    HandshakeTranscript transcript;
    v1::FederationFrame challenge;
    grpc::Status status = AnswerHello(
        frame.hello(), kFederationServiceName, federation_.id(), key_,
        [this](const PublicKey& key) { return federation_.IndexOf(key).has_value(); },
        "a member of this federation", &transcript, challenge.mutable_challenge());
    if (!status.ok()) {
      CountFailure("handshake_refused");
      LogWarn("federation handshake refused", {{"reason", status.error_message()}});
      return status;
    }
    if (!stream->Write(challenge) || !stream->Read(&frame)) {
      CountFailure(watchdog.Disarm() ? "handshake_timeout" : "closed_in_handshake");
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "handshake not completed");
    }
    if (!frame.has_challenge_response()) {
      CountFailure("handshake_unexpected_frame");
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "expected challenge_response");
    }
    status = CheckChallengeResponse(transcript, frame.challenge_response());
    if (!status.ok()) {
      CountFailure("handshake_bad_signature");
      LogWarn("federation handshake refused", {{"reason", status.error_message()}});
      return status;
    }
    if (watchdog.Disarm()) {
      CountFailure("handshake_timeout");
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "handshake not completed");
    }
    link->peer = *federation_.IndexOf(transcript.client_key);
    link->dialler = link->peer;
  }
  // Decided before `accepted` goes out, so a refused client never takes the stream for
  // an established one.
  if (!Adopt(link)) {
    CountFailure("duplicate_stream");
    return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                        "duplicate stream: keeping the one dialled by member " +
                            std::to_string(std::min(self_, link->peer)));
  }
  grpc::Status status = grpc::Status::OK;
  v1::FederationFrame accepted;
  accepted.mutable_accepted();
  if (stream->Write(accepted)) {
    std::thread writer([this, link, stream] {
      WriteLoop(link.get(), [stream](const v1::FederationFrame& f) { return stream->Write(f); });
    });
    ReadLoop(link.get(), [stream](v1::FederationFrame* f) { return stream->Read(f); });
    Retire(link.get());
    writer.join();
  } else {
    CountFailure("closed_in_handshake");
    Retire(link.get());
    status = grpc::Status(grpc::StatusCode::CANCELLED, "closed during the handshake");
  }
  // The context dies when this returns: no other thread may cancel it from now on.
  link->canceller.End();
  return status;
}

void FederationTransport::DialLoop(Peer* peer) {
  std::mt19937_64 random(std::random_device{}());
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes + (64 << 10)));
  args.SetMaxSendMessageSize(static_cast<int>(options_.max_message_bytes + (64 << 10)));
  // Reconnect promptly after a peer restarts instead of gRPC's own long backoff.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options_.reconnect_max_ms));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, static_cast<int>(options_.reconnect_min_ms));
  auto channel = grpc::CreateCustomChannel(options_.peer_addresses.at(peer->index),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = v1::Federation::NewStub(channel);
  uint32_t failures = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || peer->live == nullptr; });
      if (stopping_) return;
    }
    std::string failure;
    {
      grpc::ClientContext context;
      auto link = std::make_shared<Link>(options_.peer_queue_max);
      link->peer = peer->index;
      link->dialler = self_;
      link->canceller.Set([&context] { context.TryCancel(); });
      auto stream = stub->Connect(&context);
      bool handshake_ok = false;
      {
        HandshakeWatchdog watchdog([link] { link->canceller.Cancel(); },
                                   options_.handshake_timeout_ms);
        ClientHello hello =
            StartClientHandshake(kFederationServiceName, federation_.id(), key_.public_key());
        v1::FederationFrame frame;
        *frame.mutable_hello() = hello.hello;
        if (!stream->Write(frame) || !stream->Read(&frame)) {
          failure = "unreachable";
        } else if (!frame.has_challenge()) {
          failure = "handshake_unexpected_frame";
        } else {
          std::optional<HandshakeTranscript> full = CheckChallenge(
              hello.started, frame.challenge(), federation_.members()[peer->index], &failure);
          if (full) {
            v1::FederationFrame response;
            response.mutable_challenge_response()->set_signature(
                StringOf(SignHandshake(key_, *full, HandshakeRole::kClient)));
            if (!stream->Write(response) || !stream->Read(&frame) || !frame.has_accepted()) {
              failure = "handshake_refused";
            } else {
              handshake_ok = true;
            }
          }
        }
        if (watchdog.Disarm()) {
          handshake_ok = false;
          failure = "handshake_timeout";
        }
      }
      if (handshake_ok && !Adopt(link)) {
        // The peer's own stream to us wins the tie-break; wait until it is gone.
        handshake_ok = false;
        context.TryCancel();
      } else if (handshake_ok) {
        failures = 0;
        std::thread writer([this, link, &stream] {
          WriteLoop(link.get(),
                    [&stream](const v1::FederationFrame& f) { return stream->Write(f); });
        });
        ReadLoop(link.get(), [&stream](v1::FederationFrame* f) { return stream->Read(f); });
        Retire(link.get());
        writer.join();
        context.TryCancel();
      } else {
        context.TryCancel();
      }
      const grpc::Status status = stream->Finish();
      // `context` dies with this scope: no other thread may cancel it from now on.
      link->canceller.End();
      if (!handshake_ok && failure.empty() && !status.ok()) failure = "refused";
      if (!failure.empty()) {
        CountFailure(failure);
        LogInfo("federation dial failed",
                {{"peer", peer->index}, {"reason", failure}, {"status", status.error_message()}});
        ++failures;
      }
    }
    const uint64_t delay_ms =
        ReconnectDelayMs(options_.reconnect_min_ms, options_.reconnect_max_ms, failures, &random);
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(delay_ms), [this] { return stopping_; });
    if (stopping_) return;
  }
}

}  // namespace metronome::bft
