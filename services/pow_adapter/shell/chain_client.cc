#include "services/pow_adapter/shell/chain_client.h"

#include <algorithm>

#include "common/log.h"
#include "common/proto_bytes.h"

namespace metronome::pow_adapter {
namespace {

constexpr size_t kInboxMax = 1024;          // Frames read but not yet handled.
constexpr size_t kPendingQueriesMax = 256;  // BlockQueries waiting for an unknown block.
constexpr size_t kPowHashBytesMax = 64;

}  // namespace

ChainClient::ChainClient(ChainClientOptions options, const SigningKey& key,
                         const Federation& federation, ChainBackend* backend,
                         prometheus::Registry* registry)
    : options_(std::move(options)), key_(key), federation_id_(federation.id()), backend_(backend) {
  auto counter = [&](const std::string& name, const std::string& help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
  };
  connects_ = counter("metronome_pow_adapter_chain_connects_total",
                      "Chain API streams authenticated (handshake completed)");
  failures_ = &prometheus::BuildCounter()
                   .Name("metronome_pow_adapter_chain_connect_failures_total")
                   .Help("Chain API connection attempts and streams that failed, by reason")
                   .Register(*registry);
  connected_ = &prometheus::BuildGauge()
                    .Name("metronome_pow_adapter_chain_connected")
                    .Help("1 while the Chain API stream is authenticated")
                    .Register(*registry)
                    .Add({});
  tips_sent_ = counter("metronome_pow_adapter_chain_tips_sent_total", "Tip events sent");
  queries_answered_ = counter("metronome_pow_adapter_chain_queries_answered_total",
                              "Block and block-at-depth queries answered");
  checkpoints_acknowledged_ = counter("metronome_pow_adapter_chain_checkpoints_acknowledged_total",
                                      "apply_checkpoint requests acknowledged");
}

ChainClient::~ChainClient() { Stop(); }

void ChainClient::Start() {
  backend_->SetTipListener([this] {
    std::lock_guard<std::mutex> lock(mutex_);
    tip_changed_ = true;
    cv_.notify_all();
  });
  thread_ = std::thread([this] { Run(); });
}

void ChainClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  backend_->SetTipListener(nullptr);
}

void ChainClient::Run() {
  const Nonce seed = NewNonce();
  uint64_t seed_value = 0;
  for (int i = 0; i < 8; ++i) seed_value = (seed_value << 8) | seed[i];
  std::mt19937_64 random(seed_value);
  uint32_t failures = 0;
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes));
  arguments.SetMaxSendMessageSize(static_cast<int>(options_.max_message_bytes));
  // A fresh channel per attempt: each attempt is a new connection, paced by our backoff.
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
        options_.interpreter_address, grpc::InsecureChannelCredentials(), arguments);
    std::unique_ptr<v1::Chain::Stub> stub = v1::Chain::NewStub(channel);
    const std::string reason = Session(stub.get());
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    if (reason == "authenticated") {
      failures = 0;
      failures_->Add({{"reason", "disconnected"}}).Increment();
    } else {
      failures_->Add({{"reason", reason}}).Increment();
    }
    const uint64_t delay =
        ReconnectDelayMs(options_.reconnect_min_ms, options_.reconnect_max_ms, failures, &random);
    if (reason != "authenticated") ++failures;
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(delay), [this] { return stopping_; });
  }
}

std::string ChainClient::Session(v1::Chain::Stub* stub) {
  grpc::ClientContext context;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return "stopping";
    context_ = &context;
    inbox_.clear();
    stream_ended_ = false;
  }
  std::unique_ptr<Stream> stream = stub->Attach(&context);
  // The reader: every frame goes to the inbox; this thread handles them.
  std::thread reader([this, &stream, &context] {
    v1::InterpreterToAdapter frame;
    while (stream->Read(&frame)) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (inbox_.size() >= kInboxMax) {
        LogWarn("chain api: too many unhandled frames; closing the stream");
        context.TryCancel();
        break;
      }
      inbox_.push_back(std::move(frame));
      cv_.notify_all();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    stream_ended_ = true;
    cv_.notify_all();
  });

  std::string reason = Handshake(&context, stream.get());
  const bool authenticated = reason.empty();
  if (authenticated) {
    connects_->Increment();
    connected_->Set(1);
    LogInfo("chain api attached", {{"interpreter", options_.interpreter_address}});
    Serve(stream.get());
    connected_->Set(0);
  }
  context.TryCancel();
  reader.join();
  const grpc::Status status = stream->Finish();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    context_ = nullptr;
    inbox_.clear();
  }
  if (authenticated) {
    LogWarn("chain api stream closed", {{"interpreter", options_.interpreter_address},
                                        {"code", static_cast<int>(status.error_code())},
                                        {"message", status.error_message()}});
    return "authenticated";
  }
  if (reason == "stream_closed" || reason == "write_failed") {
    reason = status.error_code() == grpc::StatusCode::UNAVAILABLE ? "unavailable" : "refused";
  }
  LogWarn("chain api handshake failed", {{"interpreter", options_.interpreter_address},
                                         {"reason", reason},
                                         {"code", static_cast<int>(status.error_code())},
                                         {"message", status.error_message()}});
  return reason;
}

std::string ChainClient::Handshake(grpc::ClientContext* context, Stream* stream) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.handshake_timeout_ms);
  // The next frame, or "" with the reason.
  auto next = [&](v1::InterpreterToAdapter* frame) -> std::string {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_until(lock, deadline,
                   [this] { return stopping_ || stream_ended_ || !inbox_.empty(); });
    if (stopping_) return "stopping";
    if (!inbox_.empty()) {
      *frame = std::move(inbox_.front());
      inbox_.pop_front();
      return "";
    }
    if (stream_ended_) return "stream_closed";
    context->TryCancel();
    return "handshake_timeout";
  };

  HandshakeTranscript transcript;
  transcript.service = kChainServiceName;
  transcript.federation_id = federation_id_;
  transcript.client_key = key_.public_key();
  transcript.client_nonce = NewNonce();
  v1::AdapterToInterpreter hello;
  hello.mutable_hello()->set_protocol_version(transcript.protocol_version);
  hello.mutable_hello()->set_federation_id(StringOf(transcript.federation_id));
  hello.mutable_hello()->set_public_key(StringOf(transcript.client_key));
  hello.mutable_hello()->set_nonce(StringOf(transcript.client_nonce));
  if (!stream->Write(hello)) return "write_failed";

  v1::InterpreterToAdapter frame;
  std::string reason = next(&frame);
  if (!reason.empty()) return reason;
  if (!frame.has_challenge()) {
    context->TryCancel();
    return "unexpected_frame";
  }
  std::optional<HandshakeTranscript> full =
      CheckChallenge(transcript, frame.challenge(), options_.interpreter_key, &reason);
  if (!full) {
    // Never answer a bad challenge.
    context->TryCancel();
    return reason;
  }
  const Signature signature = SignHandshake(key_, *full, HandshakeRole::kClient);
  v1::AdapterToInterpreter response;
  response.mutable_challenge_response()->set_signature(StringOf(signature));
  if (!stream->Write(response)) return "write_failed";
  reason = next(&frame);
  if (!reason.empty()) return reason;
  if (!frame.has_accepted()) {
    context->TryCancel();
    return "unexpected_frame";
  }
  return "";
}

bool ChainClient::Serve(Stream* stream) {
  sent_tip_hash_.clear();
  sent_status_.clear();
  if (!SendTipAndStatus(stream, true)) return false;
  std::deque<PendingQuery> pending;
  while (true) {
    std::deque<v1::InterpreterToAdapter> frames;
    bool tip_changed = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto wake =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(pending.empty() ? 1000 : 20);
      cv_.wait_until(lock, wake, [this] {
        return stopping_ || stream_ended_ || !inbox_.empty() || tip_changed_;
      });
      if (stopping_ || (stream_ended_ && inbox_.empty())) return true;
      frames.swap(inbox_);
      tip_changed = tip_changed_;
      tip_changed_ = false;
    }
    for (const v1::InterpreterToAdapter& frame : frames) {
      v1::AdapterToInterpreter out;
      switch (frame.kind_case()) {
        case v1::InterpreterToAdapter::kBlockQuery: {
          const uint32_t wait_ms =
              std::min(frame.block_query().wait_ms(), options_.query_wait_ms_max);
          const bool may_wait = wait_ms > 0 && pending.size() < kPendingQueriesMax;
          if (!AnswerQuery(stream, frame.block_query(), !may_wait)) {
            pending.push_back({frame.block_query(), std::chrono::steady_clock::now() +
                                                        std::chrono::milliseconds(wait_ms)});
          }
          break;
        }
        case v1::InterpreterToAdapter::kBlockAtDepth:
          *out.mutable_block_at_depth() = AnswerDepth(frame.block_at_depth());
          if (!stream->Write(out)) return false;
          queries_answered_->Increment();
          break;
        case v1::InterpreterToAdapter::kApplyCheckpoint:
          *out.mutable_checkpoint_applied() = Apply(frame.apply_checkpoint());
          if (!stream->Write(out)) return false;
          checkpoints_acknowledged_->Increment();
          tip_changed = true;  // The status (checkpoint, freeze) may have changed.
          break;
        case v1::InterpreterToAdapter::kChallenge:
        case v1::InterpreterToAdapter::kAccepted:
          LogWarn("chain api: handshake frame after the handshake; closing the stream");
          return false;
        case v1::InterpreterToAdapter::KIND_NOT_SET:
          break;  // A kind this version does not know: ignored (fields are only added).
      }
    }
    if (tip_changed && !SendTipAndStatus(stream, false)) return false;
    const auto now = std::chrono::steady_clock::now();
    for (auto it = pending.begin(); it != pending.end();) {
      if (AnswerQuery(stream, it->query, now >= it->deadline)) {
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
  }
}

bool ChainClient::SendTipAndStatus(Stream* stream, bool force) {
  const ChainSnapshot snapshot = backend_->Snapshot();
  v1::AdapterToInterpreter frame;
  v1::AdapterStatus* adapter = frame.mutable_status();
  *adapter = snapshot.status;
  const std::string serialized = adapter->SerializeAsString();
  if (force || serialized != sent_status_) {
    if (!stream->Write(frame)) return false;
    sent_status_ = serialized;
  }
  const std::string tip_hash = StringOf(snapshot.tip_hash);
  if (!force && tip_hash == sent_tip_hash_) return true;
  // Only tips that extend the latest checkpoint (devchain's fork choice never picks
  // another; checked again here because the rule is the Chain API's). In "checkpointing
  // off" mode (enforcing = false in the status) the tip is reported as it is.
  const v1::AdapterStatus& status = snapshot.status;
  if (status.enforcing() && status.has_applied_checkpoint()) {
    const Bytes checkpoint = BytesOf(status.applied_checkpoint().pow_block_hash());
    if (!backend_->Facts(snapshot.tip_hash, snapshot.tip_height, checkpoint)
             .descends_from_checkpoint) {
      return true;
    }
  }
  v1::AdapterToInterpreter tip;
  tip.mutable_tip()->set_chain_id(status.chain_id());
  tip.mutable_tip()->set_height(snapshot.tip_height);
  tip.mutable_tip()->set_block_hash(tip_hash);
  if (!stream->Write(tip)) return false;
  sent_tip_hash_ = tip_hash;
  tips_sent_->Increment();
  return true;
}

bool ChainClient::AnswerQuery(Stream* stream, const v1::BlockQuery& query, bool final_answer) {
  v1::AdapterToInterpreter frame;
  v1::BlockFacts* facts = frame.mutable_block_facts();
  facts->set_request_id(query.request_id());
  if (query.block_hash().size() > kPowHashBytesMax ||
      query.checkpoint_hash().size() > kPowHashBytesMax) {
    facts->mutable_error()->set_code("malformed_query");
    facts->mutable_error()->set_message("hash longer than 64 bytes");
  } else {
    std::optional<Bytes> checkpoint;
    if (!query.checkpoint_hash().empty()) {
      checkpoint = Bytes(query.checkpoint_hash().begin(), query.checkpoint_hash().end());
    }
    const devchain::BlockFactsAnswer answer = backend_->Facts(
        Bytes(query.block_hash().begin(), query.block_hash().end()), query.height(), checkpoint);
    if (!answer.known && !final_answer) return false;
    facts->set_known(answer.known);
    facts->set_on_best_chain(answer.on_best_chain);
    facts->set_depth(answer.depth);
    facts->set_descends_from_checkpoint(answer.descends_from_checkpoint);
    facts->set_first_seen_unix_ms(answer.first_seen_ms);
  }
  // A failed write ends the stream; the reader sees it and Serve returns.
  if (stream->Write(frame)) queries_answered_->Increment();
  return true;
}

v1::BlockAtDepthResponse ChainClient::AnswerDepth(const v1::BlockAtDepthRequest& request) {
  const devchain::BlockAtDepthAnswer answer = backend_->AtDepth(request.depth());
  v1::BlockAtDepthResponse response;
  response.set_request_id(request.request_id());
  response.set_found(answer.found);
  response.set_tip_height(answer.tip_height);
  response.set_tip_hash(StringOf(answer.tip_hash));
  if (answer.found) {
    response.set_height(answer.height);
    response.set_block_hash(StringOf(answer.hash));
    response.set_first_seen_unix_ms(answer.first_seen_ms);
  }
  return response;
}

v1::CheckpointApplied ChainClient::Apply(const v1::ApplyCheckpoint& request) {
  v1::CheckpointApplied applied = backend_->ApplyCheckpoint(request.certificate());
  applied.set_request_id(request.request_id());
  return applied;
}

}  // namespace metronome::pow_adapter
