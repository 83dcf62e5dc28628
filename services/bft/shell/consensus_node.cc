#include "services/bft/shell/consensus_node.h"

#include "common/assert.h"
#include "common/checkpoint_certificate.h"
#include "common/log.h"
#include "common/proto_bytes.h"
#include "services/bft/core/certificate_checker.h"
#include "services/bft/core/checkpoint_builder.h"
#include "services/bft/shell/checkpoints_service.h"
#include "services/bft/shell/federation_transport.h"
#include "services/bft/shell/interpreter_bridge.h"
#include "services/bft/shell/stream_publisher.h"
#include "services/bft/shell/wire.h"

namespace metronome::bft {
namespace {

using timer_atom = caf::atom_constant<caf::atom("timer")>;
using request_timeout_atom = caf::atom_constant<caf::atom("reqtmo")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;

constexpr uint64_t kTickMs = 250;
constexpr size_t kLedgerCacheMax = 1024;
constexpr size_t kFirstSeenMax = 4096;
constexpr uint64_t kPruneEveryCommits = 64;

// The time the interpreter is told it has: less than ours, since our clock started first
// and its answer must still arrive before our deadline.
uint64_t InterpreterBudgetMs(uint64_t deadline_ms) { return deadline_ms * 4 / 5; }

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// "too_shallow: depth 3 < 6" -> "too_shallow": metric labels stay a small set.
std::string ReasonCode(const std::string& reason) {
  const size_t end = reason.find_first_of(": ");
  std::string code = reason.substr(0, end);
  return code.empty() ? "unspecified" : code.substr(0, 48);
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  // Fine below 100 ms, where loopback commit latencies and fsyncs fall, so that the
  // benchmark's quantiles interpolated from buckets are meaningful.
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015,
      0.02,    0.03,   0.05,    0.075, 0.1,    0.2,   0.5,   1,     2,     5,      10};
  return *buckets;
}

ReplicaConfig WithStateTransfer(ReplicaConfig config, StateTransfer* state_transfer) {
  config.state_transfer = state_transfer;
  return config;
}

}  // namespace

ConsensusNode::ConsensusNode(NodeOptions options, NodeLinks links, RestoredState restored,
                             prometheus::Registry* registry)
    : options_(std::move(options)),
      links_(std::move(links)),
      restored_(std::move(restored)),
      replica_(WithStateTransfer(options_.replica, this)),
      genesis_hash_(GenesisBlock(options_.replica.genesis_post_state_hash).hash()) {
  auto gauge = [registry](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry).Add({});
  };
  auto counter = [registry](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
  };
  auto histogram = [registry](const char* name, const char* help) {
    return &prometheus::BuildHistogram().Name(name).Help(help).Register(*registry).Add(
        {}, LatencyBuckets());
  };
  view_ = gauge("metronome_bft_view", "The replica's current view");
  phase_ = gauge("metronome_bft_phase",
                 "Phase of the replica's last vote (1 prepare, 2 pre-commit, 3 commit)");
  committed_height_ = gauge("metronome_bft_committed_height", "Height of the last decided block");
  commits_ = counter("metronome_bft_commits_total", "Blocks decided");
  decisions_ = counter("metronome_bft_decisions_total", "Commit QCs that decided blocks");
  commit_latency_ = histogram("metronome_bft_commit_latency_seconds",
                              "From first seeing a block (proposal or own) to deciding it");
  timeouts_ = counter("metronome_bft_timeouts_total", "Views this replica timed out");
  view_changes_ = counter("metronome_bft_view_changes_total", "Views entered");
  messages_received_ = &prometheus::BuildCounter()
                            .Name("metronome_bft_messages_received_total")
                            .Help("Consensus messages received from peers, by type")
                            .Register(*registry);
  rejections_ = &prometheus::BuildCounter()
                     .Name("metronome_bft_rejections_total")
                     .Help("Peer input refused, by reason code")
                     .Register(*registry);
  interpreter_round_trip_ = histogram("metronome_bft_interpreter_round_trip_seconds",
                                      "From a request to the interpreter to its answer");
  storage_write_ = histogram("metronome_bft_storage_write_seconds",
                             "Durable (fsync) writes of safety state and own signatures");
  storage_failures_ = &prometheus::BuildCounter()
                           .Name("metronome_bft_storage_failures_total")
                           .Help("Failed storage writes, by what was written")
                           .Register(*registry);
  certificates_issued_ = counter("metronome_bft_certificates_issued_total",
                                 "Checkpoint certificates built from decisions");
  certificates_acknowledged_ = counter("metronome_bft_certificates_acknowledged_total",
                                       "Certificates the interpreter acknowledged as durable");
  validations_ = &prometheus::BuildCounter()
                      .Name("metronome_bft_block_validations_total")
                      .Help("Block validations, by outcome")
                      .Register(*registry);
  signatures_ = counter("metronome_bft_signatures_total",
                        "Artefacts this member signed (proposals, votes, new-views, timeouts)");
  verifications_ = gauge("metronome_bft_signature_verifications",
                         "Signatures this member verified itself (cache hits excluded)");
  fast_forwards_ = counter("metronome_bft_fast_forwards_total",
                           "Jumps past blocks peers had pruned, to their latest decision");
  certificates_left_out_ =
      counter("metronome_bft_certificates_left_out_total",
              "Candidates decided here whose certificate would exceed certificate_headers_max");
  waiting_for_safety_proof_ =
      gauge("metronome_bft_waiting_for_safety_proof",
            "1 while this member, started without its safety state, signs nothing (DESIGN 3)");
}

caf::behavior ConsensusNode::Behavior(caf::event_based_actor* self) {
  self_ = self;
  Run(replica_.Start(restored_));
  restored_ = RestoredState{};
  self->delayed_send(self, std::chrono::milliseconds(kTickMs), tick_atom::value);
  return {
      [this](const NodeEventPtr& event) { Handle(*event); },
      [this](timer_atom, uint8_t kind, uint64_t view) {
        if (static_cast<TimerKind>(kind) == TimerKind::kView && view == replica_.view()) {
          timeouts_->Increment();
          LogInfo("view timer expired", {{"view", view}});
        }
        Run(replica_.OnTimer(static_cast<TimerKind>(kind), view));
      },
      [this](request_timeout_atom, uint64_t request_id) { OnRequestTimeout(request_id); },
      [this](tick_atom) {
        OnTick();
        self_->delayed_send(self_, std::chrono::milliseconds(kTickMs), tick_atom::value);
      },
  };
}

void ConsensusNode::Run(Outputs outputs) {
  ExecuteInOrder(outputs, this);
  // The outputs were computed before this call, so compare with the last view seen.
  if (replica_.view() != last_view_) {
    last_view_ = replica_.view();
    view_changes_->Increment();
    view_->Set(static_cast<double>(last_view_));
  }
  phase_->Set(replica_.safety().last_vote_phase);
  verifications_->Set(static_cast<double>(replica_.verifications()));
  ReportSigningGate();
}

void ConsensusNode::ReportSigningGate() {
  const bool waiting = !replica_.signing();
  const std::optional<uint64_t> threshold = replica_.waiting_for_qc_above();
  if (waiting == gate_reported_ && threshold == gate_threshold_reported_) return;
  gate_reported_ = waiting;
  gate_threshold_reported_ = threshold;
  waiting_for_safety_proof_->Set(waiting ? 1 : 0);
  if (links_.on_signing && !persist_failed_) links_.on_signing(!waiting);
  if (!waiting) {
    LogInfo("signing: the federation has moved past anything this key may have signed");
  } else if (threshold) {
    LogWarn("no safety state: signing nothing until a QC above view " + std::to_string(*threshold) +
                " not signed by this member",
            {{"waiting_for", "qc_above_view"}, {"view", *threshold}});
  }
  // Waiting for the first q status reports is said by the start-up line (restored
  // state) and health; a log line here would precede a start-up error on stderr.
}

void ConsensusNode::Handle(const NodeEvent& event) {
  if (const auto* message = std::get_if<PeerMessageEvent>(&event)) {
    messages_received_->Add({{"type", MessageName(message->message)}}).Increment();
    Run(replica_.OnMessage(message->from, message->message));
    if (links_.on_peer_message_handled) {
      links_.on_peer_message_handled(message->from, message->wire_bytes);
    }
  } else if (const auto* malformed = std::get_if<MalformedMessageEvent>(&event)) {
    rejections_->Add({{"reason", ReasonCode(malformed->reason)}}).Increment();
    LogWarn("malformed message from a peer",
            {{"peer", malformed->from}, {"reason", malformed->reason}, {"view", replica_.view()}});
    if (links_.on_peer_message_handled) {
      links_.on_peer_message_handled(malformed->from, malformed->wire_bytes);
    }
  } else if (const auto* connected = std::get_if<PeerConnectedEvent>(&event)) {
    // A (re)connected peer learns where we are, as if it had asked.
    Run(replica_.OnMessage(connected->peer, StatusRequest{}));
  } else if (const auto* frame = std::get_if<InterpreterFrameEvent>(&event)) {
    HandleInterpreterFrame(frame->frame);
  } else if (const auto* attach = std::get_if<InterpreterAttachEvent>(&event)) {
    OnInterpreterAttached(attach->attached);
  }
}

// ---- EffectHandler ---------------------------------------------------------------

void ConsensusNode::Persist(const std::optional<SafetyState>& safety,
                            const std::vector<StreamRecord>& signed_log) {
  if (!safety && signed_log.empty()) return;
  signatures_->Increment(static_cast<double>(signed_log.size()));
  const auto start = std::chrono::steady_clock::now();
  const absl::Status status = links_.store->PersistSafety(safety, signed_log);
  storage_write_->Observe(SecondsSince(start));
  if (!status.ok()) {
    // Nothing this input signed may leave: SendAll checks the flag. The member stops
    // signing and reports it; an operator (or the later disk-pressure work) recovers.
    persist_failed_ = true;
    storage_failures_->Add({{"what", "safety"}}).Increment();
    LogError("safety state not durable; this member stops signing",
             {{"error", std::string(status.message())}, {"view", replica_.view()}});
    if (links_.on_signing) links_.on_signing(false);
  }
}

void ConsensusNode::StoreBlocks(const std::vector<Block>& blocks) {
  if (blocks.empty()) return;
  const absl::Status status = links_.store->StoreBlocks(blocks);
  if (!status.ok()) {
    // Blocks are refetched from peers if lost; the failure is reported, not fatal.
    storage_failures_->Add({{"what", "blocks"}}).Increment();
    LogWarn("storing blocks failed", {{"error", std::string(status.message())}});
  }
  for (const Block& block : blocks) {
    if (first_seen_.size() < kFirstSeenMax) {
      first_seen_.emplace(block.hash(), std::chrono::steady_clock::now());
    }
  }
}

void ConsensusNode::SendAll(const std::vector<Send>& sends) {
  if (persist_failed_) return;
  for (const Send& send : sends) {
    const v1::ConsensusMessage proto = ToProto(send.message);
    const char* type = MessageName(send.message);
    if (send.to == kBroadcast) {
      for (uint32_t peer = 0; peer < options_.replica.federation->n(); ++peer) {
        if (peer != options_.replica.self) links_.transport->Send(peer, proto, type);
      }
    } else {
      links_.transport->Send(send.to, proto, type);
    }
  }
}

void ConsensusNode::Deliver(const std::vector<Commit>& commits,
                            const std::optional<FastForward>& fast_forward) {
  for (const Commit& commit : commits) {
    decisions_->Increment();
    for (const Block& block : commit.blocks) {
      commits_->Increment();
      auto seen = first_seen_.find(block.hash());
      if (seen != first_seen_.end()) {
        commit_latency_->Observe(SecondsSince(seen->second));
        first_seen_.erase(seen);
      }
      // Ledgers of decided blocks are needed by every later block.
      LedgerAfter(block.hash());
    }
    const Block& last = commit.blocks.back();
    committed_height_->Set(static_cast<double>(last.header.height));
    LogInfo("committed", {{"view", commit.commit_qc.view},
                          {"height", last.header.height},
                          {"hash", ToHex(last.hash())},
                          {"blocks", commit.blocks.size()}});
    // Certificates first (a synced write), then the executed mark: a crash in between
    // makes the restart deliver this decision again, and issuing is idempotent.
    // After a certificate could not be stored, the executed mark stays where it was for
    // the rest of this run: a restart delivers every later decision again and issues
    // their certificates then.
    if (!IssueCertificates(commit)) executed_mark_held_ = true;
    const absl::Status status = executed_mark_held_
                                    ? absl::OkStatus()
                                    : links_.store->SetCommitted(last.header.height, last.hash());
    if (!status.ok()) {
      storage_failures_->Add({{"what", "committed"}}).Increment();
      LogWarn("recording the decision failed", {{"error", std::string(status.message())}});
    }
    if (++commits_since_prune_ >= kPruneEveryCommits &&
        last.header.height > options_.committed_history) {
      commits_since_prune_ = 0;
      (void)links_.store->PruneBlocksBelow(last.header.height - options_.committed_history);
      // Blocks decided long ago are never timed again.
      first_seen_.clear();
    }
  }
  if (fast_forward) {
    fast_forwards_->Increment();
    LogWarn("fast-forward past pruned blocks", {{"height", fast_forward->block.header.height},
                                                {"view", fast_forward->commit_qc.view}});
    // The replica checked the state against the block's post-state hash
    // (StateMatches): install it before the block counts as committed.
    Reader reader(fast_forward->state);
    const Ledger ledger = DecodeLedger(&reader);
    reader.ExpectEnd();
    METRONOME_ASSERT(reader.ok());
    RememberLedger(fast_forward->block.header.post_state_hash, ledger);
    (void)links_.store->StoreBlocks({fast_forward->block});
    (void)links_.store->SetCommitted(fast_forward->block.header.height, fast_forward->block.hash());
    committed_height_->Set(static_cast<double>(fast_forward->block.header.height));
  }
  if (!commits.empty()) SendStatus();
}

void ConsensusNode::AskApplication(const std::optional<CreateBodyRequest>& create_body,
                                   const std::vector<ValidateRequest>& validate) {
  if (create_body) {
    std::optional<Ledger> parent = LedgerAfter(create_body->parent_hash);
    if (!parent) {
      LogWarn("cannot build a block: parent ledger unknown",
              {{"view", create_body->view}, {"parent", ToHex(create_body->parent_hash)}});
      Run(replica_.OnBodyCreated(create_body->view, std::nullopt, Hash256{}));
    } else if (candidate_hint_ && interpreter_attached_) {
      PendingCreate pending;
      pending.request_id = NextRequestId();
      pending.view = create_body->view;
      pending.parent_ledger = *parent;
      pending.sent = std::chrono::steady_clock::now();
      v1::BftToInterpreter frame;
      v1::CreateBlockBodyRequest* request = frame.mutable_create_block_body();
      request->set_request_id(pending.request_id);
      request->set_parent_ledger(StringOf(EncodeLedger(*parent)));
      request->set_timeout_ms(
          static_cast<uint32_t>(InterpreterBudgetMs(options_.create_timeout_ms)));
      pending_create_ = std::move(pending);
      links_.interpreter->Send(std::move(frame));
      self_->delayed_send(self_, std::chrono::milliseconds(options_.create_timeout_ms),
                          request_timeout_atom::value, pending_create_->request_id);
    } else {
      // Nothing due: an empty heartbeat block keeps views advancing by QCs.
      FinishCreate(create_body->view, *parent, Body{});
    }
  }
  for (const ValidateRequest& request : validate) {
    const Block& block = request.block;
    const Hash256 hash = block.hash();
    if (first_seen_.size() < kFirstSeenMax) {
      first_seen_.emplace(hash, std::chrono::steady_clock::now());
    }
    std::optional<Ledger> parent = LedgerAfter(block.header.parent_hash);
    if (!parent) {
      FinishValidate(hash, false, "parent_ledger_unknown");
      continue;
    }
    std::string reason;
    std::optional<Ledger> after = ApplyBody(*parent, block.body, &reason);
    if (!after) {
      FinishValidate(hash, false, reason);
      continue;
    }
    if (LedgerHash(*after) != block.header.post_state_hash) {
      FinishValidate(hash, false, "post_state_mismatch");
      continue;
    }
    RememberLedger(block.header.post_state_hash, *after);
    if (block.body.transactions.empty()) {
      // Nothing for the interpreter to judge in a heartbeat block.
      FinishValidate(hash, true, "");
      continue;
    }
    if (!interpreter_attached_) {
      FinishValidate(hash, false, "interpreter_detached");
      continue;
    }
    const uint64_t request_id = NextRequestId();
    v1::BftToInterpreter frame;
    v1::ValidateBlockBodyRequest* proto = frame.mutable_validate_block_body();
    proto->set_request_id(request_id);
    proto->set_body(StringOf(EncodeBody(block.body)));
    proto->set_parent_ledger(StringOf(EncodeLedger(*parent)));
    proto->set_header(StringOf(EncodeHeader(block.header)));
    proto->set_timeout_ms(static_cast<uint32_t>(InterpreterBudgetMs(options_.validate_timeout_ms)));
    pending_validates_[request_id] = PendingValidate{hash, std::chrono::steady_clock::now()};
    links_.interpreter->Send(std::move(frame));
    self_->delayed_send(self_, std::chrono::milliseconds(options_.validate_timeout_ms),
                        request_timeout_atom::value, request_id);
  }
}

void ConsensusNode::ScheduleTimers(const std::vector<TimerRequest>& timers) {
  for (const TimerRequest& timer : timers) {
    self_->delayed_send(self_, std::chrono::milliseconds(timer.delay_ms), timer_atom::value,
                        static_cast<uint8_t>(timer.kind), timer.view);
  }
}

void ConsensusNode::Publish(const std::vector<StreamRecord>& stream,
                            const std::vector<Rejection>& rejections) {
  if (persist_failed_) {
    // Signatures that are not durable must not leave the process, on any channel.
    std::vector<StreamRecord> durable_only;
    for (const StreamRecord& record : stream) {
      if (record.source != StreamRecord::Source::kOwn) durable_only.push_back(record);
    }
    links_.publisher->Publish(durable_only);
  } else {
    links_.publisher->Publish(stream);
  }
  for (const Rejection& rejection : rejections) {
    rejections_->Add({{"reason", ReasonCode(rejection.reason)}}).Increment();
  }
}

// ---- Application module ------------------------------------------------------------

std::optional<Bytes> ConsensusNode::StateAfter(const Hash256& post_state_hash) {
  if (post_state_hash == LedgerHash(Ledger{})) return EncodeLedger(Ledger{});
  auto cached = ledgers_.find(post_state_hash);
  if (cached != ledgers_.end()) return EncodeLedger(cached->second);
  absl::StatusOr<std::optional<Bytes>> stored = links_.store->GetLedger(post_state_hash);
  if (!stored.ok() || !*stored) return std::nullopt;
  return **stored;
}

bool ConsensusNode::StateMatches(const Bytes& state, const Hash256& post_state_hash) const {
  Reader reader(state);
  const Ledger ledger = DecodeLedger(&reader);
  reader.ExpectEnd();
  return reader.ok() && LedgerHash(ledger) == post_state_hash;
}

void ConsensusNode::RememberLedger(const Hash256& post_state_hash, const Ledger& ledger) {
  if (ledgers_.count(post_state_hash) != 0) return;
  if (ledgers_.size() >= kLedgerCacheMax) ledgers_.clear();
  ledgers_.emplace(post_state_hash, ledger);
  const absl::Status status = links_.store->PutLedger(post_state_hash, EncodeLedger(ledger));
  if (!status.ok()) storage_failures_->Add({{"what", "ledger"}}).Increment();
}

std::optional<Ledger> ConsensusNode::LedgerAfter(const Hash256& block_hash, int depth_max) {
  if (block_hash == genesis_hash_) return Ledger{};
  absl::StatusOr<std::optional<Block>> block = links_.store->GetBlock(block_hash);
  if (!block.ok()) {
    storage_failures_->Add({{"what", "read"}}).Increment();
    return std::nullopt;
  }
  if (!*block) return std::nullopt;
  const Hash256& post = (*block)->header.post_state_hash;
  auto cached = ledgers_.find(post);
  if (cached != ledgers_.end()) return cached->second;
  absl::StatusOr<std::optional<Bytes>> stored = links_.store->GetLedger(post);
  if (stored.ok() && *stored) {
    Reader reader(**stored);
    Ledger ledger = DecodeLedger(&reader);
    reader.ExpectEnd();
    if (reader.ok() && LedgerHash(ledger) == post) {
      ledgers_.emplace(post, ledger);
      return ledger;
    }
  }
  if (depth_max <= 0) return std::nullopt;
  std::optional<Ledger> parent = LedgerAfter((*block)->header.parent_hash, depth_max - 1);
  if (!parent) return std::nullopt;
  std::string reason;
  std::optional<Ledger> after = ApplyBody(*parent, (*block)->body, &reason);
  if (!after || LedgerHash(*after) != post) return std::nullopt;
  RememberLedger(post, *after);
  return after;
}

void ConsensusNode::FinishCreate(uint64_t view, const Ledger& parent, Body body) {
  std::string reason;
  std::optional<Ledger> after = ApplyBody(parent, body, &reason);
  if (!after) {
    LogWarn("interpreter body does not apply; proposing an empty block",
            {{"view", view}, {"reason", reason}});
    body = Body{};
    after = parent;
  }
  const Hash256 post = LedgerHash(*after);
  RememberLedger(post, *after);
  Run(replica_.OnBodyCreated(view, std::move(body), post));
}

void ConsensusNode::FinishValidate(const Hash256& block_hash, bool valid,
                                   const std::string& reason) {
  validations_->Add({{"outcome", valid ? "accept" : ReasonCode(reason)}}).Increment();
  if (!valid) {
    LogInfo("block not accepted; abstaining",
            {{"view", replica_.view()}, {"block", ToHex(block_hash)}, {"reason", reason}});
  }
  Run(replica_.OnBlockValidated(block_hash, valid));
}

bool ConsensusNode::IssueCertificates(const Commit& commit) {
  bool all_stored = true;
  size_t left_out = 0;
  const std::vector<CheckpointCertificate> certificates =
      CertificatesFor(commit, options_.certificate_headers_max, &left_out);
  if (left_out != 0) {
    certificates_left_out_->Increment(static_cast<double>(left_out));
    LogWarn("candidates decided without a certificate within certificate_headers_max",
            {{"count", left_out},
             {"headers_max", options_.certificate_headers_max},
             {"view", commit.commit_qc.view}});
  }
  for (const CheckpointCertificate& certificate : certificates) {
    CertificateRecord record;
    record.encoded = EncodeCheckpointCertificate(certificate);
    record.identity = IdentityOf(certificate);
    record.bft_height = commit.blocks.back().header.height;
    record.bft_block_hash = commit.commit_qc.block_hash;
    record.committed_view = commit.commit_qc.view;
    const absl::Status status = links_.store->PutCertificate(record);
    if (!status.ok()) {
      storage_failures_->Add({{"what", "certificate"}}).Increment();
      LogError("storing a certificate failed", {{"error", std::string(status.message())}});
      all_stored = false;
      continue;
    }
    certificates_issued_->Increment();
    LogInfo("certificate", {{"pow_height", record.identity.pow_height},
                            {"pow_hash", ToHex(record.identity.pow_block_hash)},
                            {"bft_height", record.bft_height},
                            {"view", record.committed_view}});
    links_.checkpoints->NotifyNewCertificate();
    SendCertificate(record);
  }
  return all_stored;
}

void ConsensusNode::SendCertificate(const CertificateRecord& record) {
  if (!interpreter_attached_) return;
  const uint64_t request_id = NextRequestId();
  v1::BftToInterpreter frame;
  v1::NewCheckpointCertificate* proto = frame.mutable_new_checkpoint_certificate();
  proto->set_request_id(request_id);
  proto->mutable_certificate()->set_encoded(StringOf(record.encoded));
  v1::CheckpointIdentity* identity = proto->mutable_certificate()->mutable_identity();
  identity->set_chain_id(record.identity.chain_id);
  identity->set_pow_height(record.identity.pow_height);
  identity->set_pow_block_hash(StringOf(record.identity.pow_block_hash));
  // One outstanding request per certificate: a resend replaces the previous id.
  auto previous = certificate_request_by_height_.find(record.identity.pow_height);
  if (previous != certificate_request_by_height_.end()) {
    certificate_requests_.erase(previous->second);
  }
  certificate_request_by_height_[record.identity.pow_height] = request_id;
  certificate_requests_[request_id] = record.identity.pow_height;
  certificate_sent_[record.identity.pow_height] = std::chrono::steady_clock::now();
  links_.interpreter->Send(std::move(frame));
}

void ConsensusNode::SendStatus() {
  if (!interpreter_attached_) return;
  v1::BftToInterpreter frame;
  v1::BftStatus* status = frame.mutable_status();
  status->set_view(replica_.view());
  status->set_committed_height(replica_.committed_height());
  absl::StatusOr<std::optional<CertificateRecord>> latest = links_.store->LatestCertificate();
  if (latest.ok() && *latest) {
    v1::CheckpointIdentity* identity = status->mutable_latest_checkpoint();
    identity->set_chain_id((*latest)->identity.chain_id);
    identity->set_pow_height((*latest)->identity.pow_height);
    identity->set_pow_block_hash(StringOf((*latest)->identity.pow_block_hash));
  }
  status->set_candidate_pending(candidate_hint_);
  status->set_signing(!persist_failed_);
  links_.interpreter->Send(std::move(frame));
}

// ---- Interpreter ------------------------------------------------------------------

void ConsensusNode::HandleInterpreterFrame(const v1::InterpreterToBft& frame) {
  switch (frame.kind_case()) {
    case v1::InterpreterToBft::kCreateBlockBody: {
      const v1::CreateBlockBodyResponse& response = frame.create_block_body();
      if (!pending_create_ || pending_create_->request_id != response.request_id()) {
        rejections_->Add({{"reason", "interpreter_stale_answer"}}).Increment();
        return;
      }
      PendingCreate pending = std::move(*pending_create_);
      pending_create_.reset();
      interpreter_round_trip_->Observe(SecondsSince(pending.sent));
      Body body;
      if (response.has_body()) {
        const Bytes encoded = BytesOf(response.body());
        Reader reader(encoded);
        body = DecodeBody(&reader);
        reader.ExpectEnd();
        if (!reader.ok()) {
          rejections_->Add({{"reason", "interpreter_malformed_body"}}).Increment();
          LogWarn("interpreter sent a malformed body", {{"error", reader.error()}});
          body = Body{};
        }
      } else {
        LogInfo("interpreter declined to build a body",
                {{"view", pending.view}, {"code", response.no_body().code()}});
      }
      const bool has_candidate =
          std::any_of(body.transactions.begin(), body.transactions.end(),
                      [](const Transaction& tx) { return tx.is_candidate(); });
      if (!has_candidate) candidate_hint_ = false;
      FinishCreate(pending.view, pending.parent_ledger, std::move(body));
      return;
    }
    case v1::InterpreterToBft::kValidateBlockBody: {
      const v1::ValidateBlockBodyResponse& response = frame.validate_block_body();
      auto pending = pending_validates_.find(response.request_id());
      if (pending == pending_validates_.end()) {
        rejections_->Add({{"reason", "interpreter_stale_answer"}}).Increment();
        return;
      }
      const Hash256 hash = pending->second.block_hash;
      interpreter_round_trip_->Observe(SecondsSince(pending->second.sent));
      pending_validates_.erase(pending);
      const bool accept = response.verdict() == v1::ValidateBlockBodyResponse::VERDICT_ACCEPT;
      FinishValidate(
          hash, accept,
          accept ? "" : (response.reason().empty() ? "interpreter_rejected" : response.reason()));
      return;
    }
    case v1::InterpreterToBft::kNewCheckpointCandidate:
      candidate_hint_ = true;
      Run(replica_.OnCandidatePending());
      return;
    case v1::InterpreterToBft::kCertificateAck: {
      const v1::CertificateAck& ack = frame.certificate_ack();
      auto request = certificate_requests_.find(ack.request_id());
      if (request == certificate_requests_.end()) {
        rejections_->Add({{"reason", "interpreter_stale_answer"}}).Increment();
        return;
      }
      const uint64_t pow_height = request->second;
      certificate_requests_.erase(request);
      certificate_request_by_height_.erase(pow_height);
      if (!ack.durable()) return;  // Progress only; redelivered later.
      const absl::Status status = links_.store->RetireFromOutbox(pow_height);
      if (!status.ok()) {
        storage_failures_->Add({{"what", "outbox"}}).Increment();
        return;
      }
      certificate_sent_.erase(pow_height);
      certificates_acknowledged_->Increment();
      return;
    }
    case v1::InterpreterToBft::kNewProposerBlock:
      return;  // No mempool for checkpointing (Advocate, later).
    default:
      rejections_->Add({{"reason", "interpreter_unexpected_frame"}}).Increment();
      return;
  }
}

void ConsensusNode::OnInterpreterAttached(bool attached) {
  interpreter_attached_ = attached;
  if (!attached) {
    // Everything outstanding fails now rather than at its deadline.
    if (pending_create_) OnRequestTimeout(pending_create_->request_id);
    while (!pending_validates_.empty()) OnRequestTimeout(pending_validates_.begin()->first);
    certificate_requests_.clear();
    certificate_request_by_height_.clear();
    certificate_sent_.clear();
    return;
  }
  // A newer stream may have replaced the old one without a detach in between.
  certificate_requests_.clear();
  certificate_request_by_height_.clear();
  certificate_sent_.clear();
  SendStatus();
  for (const CertificateRecord& record : Outbox()) SendCertificate(record);
}

void ConsensusNode::OnRequestTimeout(uint64_t request_id) {
  if (pending_create_ && pending_create_->request_id == request_id) {
    PendingCreate pending = std::move(*pending_create_);
    pending_create_.reset();
    rejections_->Add({{"reason", "interpreter_timeout"}}).Increment();
    FinishCreate(pending.view, pending.parent_ledger, Body{});
    return;
  }
  auto pending = pending_validates_.find(request_id);
  if (pending != pending_validates_.end()) {
    const Hash256 hash = pending->second.block_hash;
    pending_validates_.erase(pending);
    FinishValidate(hash, false,
                   interpreter_attached_ ? "interpreter_timeout" : "interpreter_detached");
  }
}

std::vector<CertificateRecord> ConsensusNode::Outbox() {
  absl::StatusOr<std::vector<CertificateRecord>> outbox = links_.store->Outbox();
  if (!outbox.ok()) {
    storage_failures_->Add({{"what", "read"}}).Increment();
    LogWarn("reading the certificate outbox failed",
            {{"error", std::string(outbox.status().message())}});
    return {};
  }
  return *std::move(outbox);
}

void ConsensusNode::OnTick() {
  if (!interpreter_attached_) return;
  const auto now = std::chrono::steady_clock::now();
  const auto resend = std::chrono::milliseconds(options_.certificate_resend_ms);
  for (const CertificateRecord& record : Outbox()) {
    auto sent = certificate_sent_.find(record.identity.pow_height);
    if (sent == certificate_sent_.end() || now - sent->second >= resend) SendCertificate(record);
  }
}

}  // namespace metronome::bft
