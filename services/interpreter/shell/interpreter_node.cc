#include "services/interpreter/shell/interpreter_node.h"

#include <future>
#include <memory>

#include "common/block.h"
#include "common/canonical.h"
#include "common/ledger.h"
#include "common/log.h"
#include "common/proto_bytes.h"
#include "common/verifier/certificate_verifier.h"
#include "services/interpreter/core/answer_budget.h"

namespace metronome::interpreter {
namespace {

// Extra time over query_wait_ms for requests the bft does not time: the adapter's
// "not known" answer must arrive before we give up on it.
constexpr uint64_t kQuerySlackMs = 1000;

uint64_t SystemUnixMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

CheckpointIdentity IdentityFromProto(const v1::CheckpointIdentity& proto) {
  return CheckpointIdentity{proto.chain_id(), proto.pow_height(), BytesOf(proto.pow_block_hash())};
}

void IdentityToProto(const CheckpointIdentity& identity, v1::CheckpointIdentity* proto) {
  proto->set_chain_id(identity.chain_id);
  proto->set_pow_height(identity.pow_height);
  proto->set_pow_block_hash(StringOf(identity.pow_block_hash));
}

v1::CertificateOutcome ToProto(CertificateOutcome outcome) {
  switch (outcome) {
    case CertificateOutcome::kApplied:
      return v1::CERTIFICATE_OUTCOME_APPLIED;
    case CertificateOutcome::kDuplicate:
      return v1::CERTIFICATE_OUTCOME_DUPLICATE;
    case CertificateOutcome::kIgnored:
    case CertificateOutcome::kIgnoredFrozen:
      return v1::CERTIFICATE_OUTCOME_IGNORED;
    case CertificateOutcome::kPending:
      return v1::CERTIFICATE_OUTCOME_PENDING;
    case CertificateOutcome::kConflict:
      return v1::CERTIFICATE_OUTCOME_CONFLICT;
  }
  return v1::CERTIFICATE_OUTCOME_UNSPECIFIED;
}

v1::ValidateBlockBodyResponse::Verdict ToProto(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::kAccept:
      return v1::ValidateBlockBodyResponse::VERDICT_ACCEPT;
    case VerdictKind::kReject:
      return v1::ValidateBlockBodyResponse::VERDICT_REJECT;
    case VerdictKind::kUnknown:
      return v1::ValidateBlockBodyResponse::VERDICT_UNKNOWN;
  }
  return v1::ValidateBlockBodyResponse::VERDICT_UNKNOWN;
}

ChainFacts FactsFromProto(const v1::BlockFacts& proto) {
  ChainFacts facts;
  facts.known = proto.known();
  facts.on_best_chain = proto.on_best_chain();
  facts.depth = proto.depth();
  facts.descends_from_checkpoint = proto.descends_from_checkpoint();
  facts.first_seen_unix_ms = proto.first_seen_unix_ms();
  if (proto.has_error()) {
    facts.error_code = proto.error().code().empty() ? "error" : proto.error().code();
    facts.error_message = proto.error().message();
  }
  return facts;
}

// Decodes one canonical artefact that must fill `bytes` exactly.
template <typename T, typename Decoder>
std::optional<T> DecodeAll(const std::string& bytes, Decoder decode, std::string* error) {
  const Bytes data = BytesOf(bytes);
  Reader reader(data);
  T value = decode(&reader);
  reader.ExpectEnd();
  if (!reader.ok()) {
    *error = reader.error();
    return std::nullopt;
  }
  return value;
}

CandidateChoice Unavailable(const std::string& details) {
  CandidateChoice choice;
  choice.code = "chain_unavailable";
  choice.reason = "chain_unavailable: " + details;
  return choice;
}

}  // namespace

InterpreterNode::InterpreterNode(InterpreterNodeOptions options, const Federation& federation,
                                 TrackerState restored, TrackerStore* store,
                                 prometheus::Registry* registry)
    : options_(std::move(options)),
      federation_bytes_(federation.encoded()),
      store_(store),
      loop_(options_.event_queue_max),
      tracker_(std::move(restored)) {
  auto counter_family = [&](const std::string& name, const std::string& help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry);
  };
  auto gauge = [&](const std::string& name, const std::string& help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry).Add({});
  };
  candidates_proposed_ = &counter_family("metronome_interpreter_candidates_proposed_total",
                                         "new_checkpoint_candidate notifications sent to the bft")
                              ->Add({});
  bodies_ = counter_family("metronome_interpreter_bodies_created_total",
                           "create_block_body answers, by result (candidate or no_body code)");
  validations_ = counter_family("metronome_interpreter_validations_total",
                                "validate_block_body verdicts, by verdict and reason code");
  certificate_outcomes_ = counter_family("metronome_interpreter_certificates_total",
                                         "Certificates from the bft, by outcome");
  chain_requests_unanswered_ =
      counter_family("metronome_interpreter_chain_requests_unanswered_total",
                     "Requests to the adapter without an answer, by reason");
  frames_ignored_ =
      counter_family("metronome_interpreter_frames_ignored_total",
                     "Frames ignored (stale, unknown request, wrong chain), by reason");
  storage_failures_ = &counter_family("metronome_interpreter_storage_failures_total",
                                      "Failed writes of the checkpoint state or evidence")
                           ->Add({});
  events_dropped_ = &counter_family("metronome_interpreter_events_dropped_total",
                                    "Frames dropped because the event queue was full")
                         ->Add({});
  latest_height_ = gauge("metronome_interpreter_latest_checkpoint_height",
                         "PoW height of the latest applied checkpoint (0: none)");
  frozen_gauge_ = gauge("metronome_interpreter_frozen",
                        "1 while conflicting certificates freeze the interpreter");
  if (!options_.unix_ms) options_.unix_ms = SystemUnixMs;
}

InterpreterNode::~InterpreterNode() { Stop(); }

void InterpreterNode::Start() {
  loop_.Start();
  Post("start", [this] {
    reported_frozen_ = !tracker_.frozen();  // Forces the first report.
    PublishTrackerMetrics();
    ResendTick();
  });
}

void InterpreterNode::Stop() { loop_.Stop(); }

void InterpreterNode::Post(const char* what, EventLoop::Task task) {
  if (!loop_.Post(std::move(task))) {
    events_dropped_->Increment();
    LogWarn("interpreter: event dropped (queue full or stopped)", {{"event", what}});
  }
}

// ---- Entry points (other threads) --------------------------------------------------------

void InterpreterNode::OnAttached() {
  Post("bft_attached", [this] {
    bft_attached_ = true;
    ++bft_generation_;
    bft_status_.reset();
    last_notified_candidate_.reset();  // The new stream's bft has not heard of it.
    MaybeNotifyCandidate();
  });
}

void InterpreterNode::OnDetached() {
  Post("bft_detached", [this] {
    bft_attached_ = false;
    // The bft fails the old stream's requests itself and redelivers certificates.
    certificate_queue_.clear();
  });
}

void InterpreterNode::OnFrame(const v1::BftToInterpreter& frame) {
  Post("bft_frame", [this, frame] { HandleBftFrame(frame); });
}

void InterpreterNode::OnAdapterAttached(uint64_t stream_id) {
  Post("adapter_attached", [this, stream_id] {
    // Requests in flight went to the replaced stream: nobody will answer them.
    FailPendingRequests();
    adapter_stream_ = stream_id;
    tip_.reset();
    adapter_status_.reset();
    // chain.proto: the latest applied certificate is re-sent after every attach.
    SendLatestToAdapter();
  });
}

void InterpreterNode::OnAdapterDetached(uint64_t stream_id) {
  Post("adapter_detached", [this, stream_id] {
    if (stream_id != adapter_stream_) return;
    adapter_stream_ = 0;
    tip_.reset();
    adapter_status_.reset();
    FailPendingRequests();
  });
}

void InterpreterNode::OnAdapterFrame(uint64_t stream_id, v1::AdapterToInterpreter frame) {
  Post("adapter_frame",
       [this, stream_id, frame = std::move(frame)] { HandleAdapterFrame(stream_id, frame); });
}

InterpreterNode::Status InterpreterNode::GetStatus() {
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> future = promise->get_future();
  const bool posted = loop_.Post([this, promise] {
    Status status;
    status.bft_attached = bft_attached_;
    status.adapter_stream = adapter_stream_;
    status.tip = tip_;
    status.tracker = tracker_.state();
    status.last_notified_candidate = last_notified_candidate_;
    promise->set_value(std::move(status));
  });
  if (!posted) return Status{};
  // A stopped loop drops the task (and the promise with it): no value then.
  try {
    return future.get();
  } catch (const std::future_error&) {
    return Status{};
  }
}

// ---- The bft side ------------------------------------------------------------------------

bool InterpreterNode::SendToBft(uint64_t generation, v1::InterpreterToBft frame) {
  // An answer to a request of a closed stream is never sent on a newer one.
  if (!bft_attached_ || generation != bft_generation_ || !send_to_bft_) return false;
  return send_to_bft_(std::move(frame));
}

void InterpreterNode::HandleBftFrame(const v1::BftToInterpreter& frame) {
  switch (frame.kind_case()) {
    case v1::BftToInterpreter::kCreateBlockBody:
      CreateBody(frame.create_block_body());
      return;
    case v1::BftToInterpreter::kValidateBlockBody:
      ValidateBody(frame.validate_block_body());
      return;
    case v1::BftToInterpreter::kNewCheckpointCertificate:
      if (certificate_queue_.size() >= options_.certificate_queue_max) {
        // Unacknowledged: the bft keeps it in its outbox and redelivers.
        certificate_outcomes_->Add({{"outcome", "dropped_queue_full"}}).Increment();
        return;
      }
      certificate_queue_.emplace_back(bft_generation_, frame.new_checkpoint_certificate());
      ProcessNextCertificate();
      return;
    case v1::BftToInterpreter::kStatus:
      bft_status_ = frame.status();
      return;
    case v1::BftToInterpreter::kChallenge:
    case v1::BftToInterpreter::kAccepted:
    case v1::BftToInterpreter::KIND_NOT_SET:
      // Handshake frames are the client's; unknown kinds are newer fields: ignored.
      frames_ignored_->Add({{"reason", "bft_unexpected_frame"}}).Increment();
      return;
  }
}

bool InterpreterNode::ProposingFrozen() const {
  // Our own freeze, or the chain side's (it froze on certificates it got elsewhere).
  return tracker_.frozen() || (adapter_status_ && adapter_status_->frozen());
}

std::optional<CheckpointPosition> InterpreterNode::LatestKnownCheckpoint() const {
  std::optional<CheckpointPosition> latest;
  if (tracker_.latest()) {
    latest = CheckpointPosition{tracker_.latest()->identity.pow_height,
                                tracker_.latest()->identity.pow_block_hash};
  }
  // The bft may have issued a newer certificate that has not reached us yet.
  if (bft_status_ && bft_status_->has_latest_checkpoint()) {
    const v1::CheckpointIdentity& issued = bft_status_->latest_checkpoint();
    if (!latest || issued.pow_height() > latest->height) {
      latest = CheckpointPosition{issued.pow_height(), BytesOf(issued.pow_block_hash())};
    }
  }
  return latest;
}

void InterpreterNode::EvaluateCandidate(std::optional<CheckpointPosition> last, uint64_t within_ms,
                                        std::function<void(CandidateChoice)> done) {
  CandidateInputs inputs;
  inputs.last_checkpoint = std::move(last);
  inputs.now_unix_ms = options_.unix_ms();
  if (ProposingFrozen()) {
    inputs.frozen = true;
    done(ChooseCandidate(options_.rules, inputs));
    return;
  }
  if (adapter_stream_ == 0) {
    done(Unavailable("no adapter attached"));
    return;
  }
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(within_ms);
  v1::InterpreterToAdapter frame;
  frame.mutable_block_at_depth()->set_depth(options_.rules.k);
  AskAdapter(
      std::move(frame), within_ms,
      [this, inputs, deadline, within_ms, done](const v1::AdapterToInterpreter* answer) mutable {
        if (answer == nullptr) {
          done(Unavailable("no block at depth within " + std::to_string(within_ms) + " ms"));
          return;
        }
        const v1::BlockAtDepthResponse& response = answer->block_at_depth();
        if (response.has_error()) {
          done(Unavailable(response.error().code() + " " + response.error().message()));
          return;
        }
        if (response.found()) {
          inputs.block = BlockAtDepth{response.height(), BytesOf(response.block_hash()),
                                      response.first_seen_unix_ms()};
        }
        inputs.frozen = ProposingFrozen();
        CandidateChoice first = ChooseCandidate(options_.rules, inputs);
        const auto remaining =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (!first.candidate || !inputs.last_checkpoint || remaining <= 0) {
          done(std::move(first));
          return;
        }
        // The adapter's best chain contains the checkpoint it applied; the ledger's may be
        // newer, so ask (unknown answers trust the adapter, as when none comes in time).
        QueryBlock(inputs.block->hash, inputs.block->height, inputs.last_checkpoint->hash, 0,
                   static_cast<uint64_t>(remaining),
                   [this, inputs, done](std::optional<ChainFacts> facts) mutable {
                     if (facts && facts->error_code.empty() && facts->known) {
                       inputs.descent = facts->descends_from_checkpoint ? Descent::kDescends
                                                                        : Descent::kDoesNotDescend;
                     }
                     inputs.frozen = ProposingFrozen();
                     inputs.now_unix_ms = options_.unix_ms();
                     done(ChooseCandidate(options_.rules, inputs));
                   });
      });
}

void InterpreterNode::MaybeNotifyCandidate() {
  if (!bft_attached_ || adapter_stream_ == 0 || ProposingFrozen()) return;
  if (candidate_check_running_) {
    candidate_recheck_ = true;  // One more round once this one ends (a newer tip).
    return;
  }
  candidate_check_running_ = true;
  const uint64_t generation = bft_generation_;
  EvaluateCandidate(
      LatestKnownCheckpoint(), options_.query_wait_ms + kQuerySlackMs,
      [this, generation](CandidateChoice choice) {
        candidate_check_running_ = false;
        if (choice.candidate) {
          const CheckpointIdentity identity{choice.candidate->chain_id,
                                            choice.candidate->pow_height,
                                            choice.candidate->pow_block_hash};
          if (!last_notified_candidate_ || !(*last_notified_candidate_ == identity)) {
            v1::InterpreterToBft frame;
            v1::NewCheckpointCandidate* notification = frame.mutable_new_checkpoint_candidate();
            notification->set_request_id(next_notification_id_++);
            notification->set_candidate(
                StringOf(EncodeTransaction(Transaction{*choice.candidate})));
            if (SendToBft(generation, std::move(frame))) {
              last_notified_candidate_ = identity;
              candidates_proposed_->Increment();
              LogInfo("candidate proposed", {{"pow_height", identity.pow_height},
                                             {"pow_hash", ToHex(identity.pow_block_hash)}});
            }
          }
        }
        if (candidate_recheck_) {
          candidate_recheck_ = false;
          MaybeNotifyCandidate();
        }
      });
}

void InterpreterNode::CreateBody(const v1::CreateBlockBodyRequest& request) {
  const uint64_t generation = bft_generation_;
  const uint64_t request_id = request.request_id();
  auto answer = [this, generation, request_id](const CandidateChoice& choice) {
    v1::InterpreterToBft frame;
    v1::CreateBlockBodyResponse* response = frame.mutable_create_block_body();
    response->set_request_id(request_id);
    if (choice.candidate) {
      response->set_body(StringOf(EncodeBody(Body{{Transaction{*choice.candidate}}})));
      bodies_->Add({{"result", "candidate"}}).Increment();
      LogInfo("body created", {{"request_id", request_id},
                               {"pow_height", choice.candidate->pow_height},
                               {"pow_hash", ToHex(choice.candidate->pow_block_hash)}});
    } else {
      response->mutable_no_body()->set_code(choice.code);
      response->mutable_no_body()->set_message(choice.reason);
      bodies_->Add({{"result", choice.code}}).Increment();
      LogInfo("no body", {{"request_id", request_id}, {"reason", choice.reason}});
    }
    SendToBft(generation, std::move(frame));
  };
  std::string error;
  std::optional<Ledger> parent = DecodeAll<Ledger>(request.parent_ledger(), DecodeLedger, &error);
  if (!parent) {
    CandidateChoice malformed;
    malformed.code = "malformed_ledger";
    malformed.reason = "malformed_ledger: " + error;
    answer(malformed);
    return;
  }
  EvaluateCandidate(LastCheckpointOf(*parent),
                    AnswerWithinMs(request.timeout_ms(), options_.create_timeout_ms), answer);
}

void InterpreterNode::ValidateBody(const v1::ValidateBlockBodyRequest& request) {
  const uint64_t generation = bft_generation_;
  const uint64_t request_id = request.request_id();
  std::string error;
  std::optional<Body> body = DecodeAll<Body>(request.body(), DecodeBody, &error);
  if (!body) {
    AnswerValidation(generation, request_id, {VerdictKind::kReject, "malformed_body: " + error});
    return;
  }
  std::optional<Ledger> parent = DecodeAll<Ledger>(request.parent_ledger(), DecodeLedger, &error);
  if (!parent) {
    AnswerValidation(generation, request_id, {VerdictKind::kReject, "malformed_ledger: " + error});
    return;
  }
  const BodyCheck check = CheckProposedBody(options_.rules, *body, *parent);
  if (check.verdict) {
    AnswerValidation(generation, request_id, *check.verdict);
    return;
  }
  if (adapter_stream_ == 0) {
    AnswerValidation(generation, request_id,
                     {VerdictKind::kUnknown, "chain_unavailable: no adapter attached"});
    return;
  }
  const uint64_t within_ms =
      AnswerWithinMs(request.timeout_ms(), options_.query_wait_ms + kQuerySlackMs);
  const CheckpointCandidate candidate = check.candidate;
  QueryBlock(candidate.pow_block_hash, candidate.pow_height,
             check.checkpoint ? check.checkpoint->hash : Bytes{},
             AdapterWaitMs(within_ms, options_.query_wait_ms), within_ms,
             [this, generation, request_id, candidate, within_ms](std::optional<ChainFacts> facts) {
               if (!facts) {
                 AnswerValidation(generation, request_id,
                                  {VerdictKind::kUnknown,
                                   "chain_unavailable: no answer from the chain side within " +
                                       std::to_string(within_ms) + " ms"});
                 return;
               }
               AnswerValidation(
                   generation, request_id,
                   JudgeCandidateFacts(options_.rules, candidate, *facts, options_.unix_ms()));
             });
}

void InterpreterNode::AnswerValidation(uint64_t generation, uint64_t request_id,
                                       const Verdict& verdict) {
  validations_->Add({{"verdict", VerdictName(verdict.kind)}, {"reason", verdict.code()}})
      .Increment();
  if (verdict.kind != VerdictKind::kAccept) {
    LogInfo("body not accepted", {{"request_id", request_id},
                                  {"verdict", VerdictName(verdict.kind)},
                                  {"reason", verdict.reason}});
  }
  v1::InterpreterToBft frame;
  v1::ValidateBlockBodyResponse* response = frame.mutable_validate_block_body();
  response->set_request_id(request_id);
  response->set_verdict(ToProto(verdict.kind));
  response->set_reason(verdict.reason);
  SendToBft(generation, std::move(frame));
}

// ---- Certificates --------------------------------------------------------------------------

void InterpreterNode::ProcessNextCertificate() {
  // One at a time: each decision depends on the latest the previous one left.
  while (!certificate_running_ && !certificate_queue_.empty()) {
    const auto [generation, message] = std::move(certificate_queue_.front());
    certificate_queue_.pop_front();
    const uint64_t request_id = message.request_id();
    std::optional<CheckpointIdentity> claimed;
    if (message.certificate().has_identity()) {
      claimed = IdentityFromProto(message.certificate().identity());
    }
    const Bytes encoded = BytesOf(message.certificate().encoded());
    const CertificateCheck check =
        VerifyCertificate(federation_bytes_.data(), federation_bytes_.size(), encoded.data(),
                          encoded.size(), options_.certificate_headers_max);
    std::string invalid_reason;
    CheckpointIdentity identity;
    if (!check.ok()) {
      invalid_reason = std::string(CertificateVerdictName(check.verdict)) + ": " + check.reason;
    } else {
      Reader reader(encoded);
      identity = IdentityOf(DecodeCheckpointCertificate(&reader));
      // types.proto: a convenience identity that differs from the bytes voids the whole.
      if (claimed && !(*claimed == identity)) {
        invalid_reason = "identity_mismatch: the identity field does not match the certificate";
      }
    }
    if (!invalid_reason.empty()) {
      certificate_outcomes_->Add({{"outcome", "invalid"}}).Increment();
      LogWarn("certificate invalid", {{"request_id", request_id}, {"reason", invalid_reason}});
      // Not durable: a federation file fixed by the operator makes a redelivery count.
      Acknowledge(generation, request_id, claimed, v1::CERTIFICATE_OUTCOME_INVALID, false);
      continue;
    }
    if (!tracker_.NeedsDescent(identity)) {
      FinishCertificate(generation, request_id, identity, encoded, Descent::kUnknown);
      continue;
    }
    // Two facts: the certified block relative to the latest, and that the chain side
    // knows the latest at all (a block "not descending" from an unknown checkpoint would
    // freeze us for nothing).
    certificate_running_ = true;
    const CheckpointIdentity latest = tracker_.latest()->identity;
    struct Join {
      int remaining = 2;
      std::optional<ChainFacts> certified;
      std::optional<ChainFacts> latest;
    };
    auto join = std::make_shared<Join>();
    auto finish = [this, join, generation = generation, request_id, identity, encoded] {
      if (--join->remaining > 0) return;
      auto usable = [](const std::optional<ChainFacts>& facts) {
        return facts && facts->error_code.empty() && facts->known;
      };
      Descent descent = Descent::kUnknown;
      if (usable(join->certified) && usable(join->latest)) {
        descent = join->certified->descends_from_checkpoint ? Descent::kDescends
                                                            : Descent::kDoesNotDescend;
      }
      certificate_running_ = false;
      FinishCertificate(generation, request_id, identity, encoded, descent);
      ProcessNextCertificate();
    };
    const uint64_t timeout_ms = options_.query_wait_ms + kQuerySlackMs;
    QueryBlock(identity.pow_block_hash, identity.pow_height, latest.pow_block_hash,
               static_cast<uint32_t>(options_.query_wait_ms), timeout_ms,
               [join, finish](std::optional<ChainFacts> facts) {
                 join->certified = std::move(facts);
                 finish();
               });
    QueryBlock(latest.pow_block_hash, latest.pow_height, Bytes{}, 0, timeout_ms,
               [join, finish](std::optional<ChainFacts> facts) {
                 join->latest = std::move(facts);
                 finish();
               });
  }
}

void InterpreterNode::FinishCertificate(uint64_t generation, uint64_t request_id,
                                        const CheckpointIdentity& identity,
                                        const Bytes& certificate, Descent descent) {
  const TrackerState before = tracker_.state();
  CertificateDecision decision = tracker_.Decide(identity, certificate, descent);
  std::string outcome_label = CertificateOutcomeName(decision.outcome);
  v1::CertificateOutcome outcome = ToProto(decision.outcome);
  bool durable = decision.outcome != CertificateOutcome::kPending;
  if (decision.state_changed) {
    const absl::Status saved = store_->Save(tracker_.state());
    if (!saved.ok()) {
      // Nothing is acknowledged that is not on disk: forget the decision; the bft
      // redelivers and it is taken again.
      tracker_ = CheckpointTracker(before);
      storage_failures_->Increment();
      LogError("checkpoint state not persisted", {{"error", std::string(saved.message())}});
      decision.forward_to_adapter = false;
      outcome = v1::CERTIFICATE_OUTCOME_PENDING;
      outcome_label = "storage_failed";
      durable = false;
    } else if (decision.outcome == CertificateOutcome::kConflict) {
      const absl::Status exported = store_->SaveEvidence(tracker_.state().evidence);
      if (!exported.ok()) storage_failures_->Increment();
      LogError("finality frozen: conflicting certificates",
               {{"latest_height", tracker_.latest()->identity.pow_height},
                {"conflicting_height", identity.pow_height},
                {"detail", decision.reason},
                {"evidence_exported", exported.ok()}});
    }
  }
  certificate_outcomes_->Add({{"outcome", outcome_label}}).Increment();
  LogInfo("certificate", {{"request_id", request_id},
                          {"pow_height", identity.pow_height},
                          {"outcome", outcome_label},
                          {"durable", durable},
                          {"detail", decision.reason}});
  Acknowledge(generation, request_id, identity, outcome, durable);
  if (decision.forward_to_adapter) SendLatestToAdapter();
  PublishTrackerMetrics();
}

void InterpreterNode::Acknowledge(uint64_t generation, uint64_t request_id,
                                  const std::optional<CheckpointIdentity>& identity,
                                  v1::CertificateOutcome outcome, bool durable) {
  v1::InterpreterToBft frame;
  v1::CertificateAck* ack = frame.mutable_certificate_ack();
  ack->set_request_id(request_id);
  if (identity) IdentityToProto(*identity, ack->mutable_identity());
  ack->set_outcome(outcome);
  ack->set_durable(durable);
  SendToBft(generation, std::move(frame));
}

void InterpreterNode::PublishTrackerMetrics() {
  latest_height_->Set(
      tracker_.latest() ? static_cast<double>(tracker_.latest()->identity.pow_height) : 0);
  frozen_gauge_->Set(tracker_.frozen() ? 1 : 0);
  if (tracker_.frozen() != reported_frozen_) {
    reported_frozen_ = tracker_.frozen();
    if (frozen_listener_) frozen_listener_(reported_frozen_);
  }
}

// ---- The chain side ----------------------------------------------------------------------

void InterpreterNode::HandleAdapterFrame(uint64_t stream_id,
                                         const v1::AdapterToInterpreter& frame) {
  if (stream_id != adapter_stream_) {
    frames_ignored_->Add({{"reason", "replaced_adapter_stream"}}).Increment();
    return;
  }
  auto resolve = [this](uint64_t request_id, const v1::AdapterToInterpreter& answer) {
    auto pending = pending_.find(request_id);
    if (pending == pending_.end()) {
      frames_ignored_->Add({{"reason", "unknown_request_id"}}).Increment();
      return;
    }
    AnswerCallback callback = std::move(pending->second.callback);
    loop_.Cancel(pending->second.timer_id);
    pending_.erase(pending);
    callback(&answer);
  };
  switch (frame.kind_case()) {
    case v1::AdapterToInterpreter::kTip:
      if (frame.tip().chain_id() != options_.rules.chain_id) {
        frames_ignored_->Add({{"reason", "wrong_chain"}}).Increment();
        LogWarn("adapter reports another chain",
                {{"chain_id", frame.tip().chain_id()}, {"expected", options_.rules.chain_id}});
        return;
      }
      tip_ = frame.tip();
      MaybeNotifyCandidate();
      return;
    case v1::AdapterToInterpreter::kStatus:
      if (adapter_status_ && adapter_status_->frozen() != frame.status().frozen()) {
        LogWarn("adapter freeze changed", {{"frozen", frame.status().frozen()}});
      }
      adapter_status_ = frame.status();
      return;
    case v1::AdapterToInterpreter::kBlockFacts:
      resolve(frame.block_facts().request_id(), frame);
      return;
    case v1::AdapterToInterpreter::kBlockAtDepth:
      resolve(frame.block_at_depth().request_id(), frame);
      return;
    case v1::AdapterToInterpreter::kCheckpointApplied:
      OnCheckpointApplied(frame.checkpoint_applied());
      return;
    case v1::AdapterToInterpreter::kHello:
    case v1::AdapterToInterpreter::kChallengeResponse:
    case v1::AdapterToInterpreter::KIND_NOT_SET:
      frames_ignored_->Add({{"reason", "adapter_unexpected_frame"}}).Increment();
      return;
  }
}

void InterpreterNode::AskAdapter(v1::InterpreterToAdapter frame, uint64_t timeout_ms,
                                 AnswerCallback callback) {
  if (adapter_stream_ == 0 || !send_to_adapter_) {
    chain_requests_unanswered_->Add({{"reason", "no_adapter"}}).Increment();
    callback(nullptr);
    return;
  }
  const uint64_t request_id = next_adapter_request_id_++;
  if (frame.has_block_query()) frame.mutable_block_query()->set_request_id(request_id);
  if (frame.has_block_at_depth()) frame.mutable_block_at_depth()->set_request_id(request_id);
  if (!send_to_adapter_(std::move(frame))) {
    chain_requests_unanswered_->Add({{"reason", "not_sent"}}).Increment();
    callback(nullptr);
    return;
  }
  const uint64_t timer_id = loop_.PostAfter(timeout_ms, [this, request_id] {
    auto pending = pending_.find(request_id);
    if (pending == pending_.end()) return;
    AnswerCallback expired = std::move(pending->second.callback);
    pending_.erase(pending);
    chain_requests_unanswered_->Add({{"reason", "timeout"}}).Increment();
    expired(nullptr);
  });
  pending_[request_id] = PendingRequest{std::move(callback), timer_id};
}

void InterpreterNode::FailPendingRequests() {
  std::map<uint64_t, PendingRequest> failed;
  failed.swap(pending_);
  for (auto& [request_id, pending] : failed) {
    loop_.Cancel(pending.timer_id);
    chain_requests_unanswered_->Add({{"reason", "adapter_detached"}}).Increment();
    pending.callback(nullptr);
  }
}

void InterpreterNode::QueryBlock(const Bytes& hash, uint64_t height, const Bytes& checkpoint_hash,
                                 uint32_t wait_ms, uint64_t timeout_ms,
                                 std::function<void(std::optional<ChainFacts>)> done) {
  v1::InterpreterToAdapter frame;
  v1::BlockQuery* query = frame.mutable_block_query();
  query->set_block_hash(StringOf(hash));
  query->set_height(height);
  query->set_checkpoint_hash(StringOf(checkpoint_hash));
  query->set_wait_ms(wait_ms);
  AskAdapter(std::move(frame), timeout_ms,
             [done = std::move(done)](const v1::AdapterToInterpreter* answer) {
               if (answer == nullptr) {
                 done(std::nullopt);
               } else {
                 done(FactsFromProto(answer->block_facts()));
               }
             });
}

void InterpreterNode::SendLatestToAdapter() {
  if (!tracker_.latest() || adapter_stream_ == 0 || !send_to_adapter_) return;
  v1::InterpreterToAdapter frame;
  v1::ApplyCheckpoint* apply = frame.mutable_apply_checkpoint();
  apply->set_request_id(next_adapter_request_id_++);
  apply->mutable_certificate()->set_encoded(StringOf(tracker_.latest()->certificate));
  IdentityToProto(tracker_.latest()->identity, apply->mutable_certificate()->mutable_identity());
  send_to_adapter_(std::move(frame));
}

void InterpreterNode::ResendTick() {
  if (!tracker_.state().adapter_acknowledged) SendLatestToAdapter();
  loop_.PostAfter(options_.apply_resend_ms, [this] { ResendTick(); });
}

void InterpreterNode::OnCheckpointApplied(const v1::CheckpointApplied& applied) {
  const CheckpointIdentity identity = IdentityFromProto(applied.identity());
  LogInfo("adapter acknowledged a checkpoint",
          {{"pow_height", identity.pow_height},
           {"outcome", v1::CertificateOutcome_Name(applied.outcome())},
           {"durable", applied.durable()}});
  if (applied.outcome() == v1::CERTIFICATE_OUTCOME_CONFLICT ||
      applied.outcome() == v1::CERTIFICATE_OUTCOME_INVALID) {
    LogError("adapter refused a checkpoint",
             {{"pow_height", identity.pow_height},
              {"outcome", v1::CertificateOutcome_Name(applied.outcome())}});
  }
  if (!applied.durable()) return;  // Resent periodically until it is.
  const TrackerState before = tracker_.state();
  if (!tracker_.OnAdapterAcknowledged(identity)) return;
  const absl::Status saved = store_->Save(tracker_.state());
  if (!saved.ok()) {
    tracker_ = CheckpointTracker(before);  // Keep resending; the disk says unacknowledged.
    storage_failures_->Increment();
    LogError("checkpoint state not persisted", {{"error", std::string(saved.message())}});
  }
}

}  // namespace metronome::interpreter
