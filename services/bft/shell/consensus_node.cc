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
#include "services/bft/shell/node_metrics.h"
#include "services/bft/shell/stream_publisher.h"
#include "services/bft/shell/wire.h"

namespace metronome::bft {
namespace {

using timer_atom = caf::atom_constant<caf::atom("timer")>;
using request_timeout_atom = caf::atom_constant<caf::atom("reqtmo")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;

constexpr uint64_t kTickMs = 250;
constexpr size_t kFirstSeenMax = 4096;

// The application core's clock: milliseconds of the steady clock.
uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
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

ApplicationConfig ApplicationConfigOf(const NodeOptions& options) {
  ApplicationConfig config;
  config.genesis_post_state_hash = options.replica.genesis_post_state_hash;
  config.create_timeout_ms = options.create_timeout_ms;
  config.validate_timeout_ms = options.validate_timeout_ms;
  config.certificate_resend_ms = options.certificate_resend_ms;
  config.certificate_headers_max = options.certificate_headers_max;
  config.committed_history = options.committed_history;
  return config;
}

// The ledger stored for `block`, if any (a corrupt one counts as none).
std::optional<Ledger> StoredLedger(BftStore* store, const Block& block) {
  absl::StatusOr<std::optional<Bytes>> stored = store->GetLedger(block.header.post_state_hash);
  if (!stored.ok() || !*stored) return std::nullopt;
  Reader reader(**stored);
  Ledger ledger = DecodeLedger(&reader);
  reader.ExpectEnd();
  if (!reader.ok()) return std::nullopt;
  return ledger;
}

// What the application module had before the restart: the ledgers stored for the
// restored blocks and the certificate outbox. When the executed block's ledger is not
// stored, its ancestors are read (within the retained history) down to one whose ledger
// is, so that the application can recompute it. A ledger left out is recomputed or comes
// with a fast-forward; the outbox is read only here, so failing to read it is an error.
RestoredApplication LoadApplication(BftStore* store, const RestoredState& restored,
                                    uint64_t history_max) {
  RestoredApplication application;
  application.blocks = restored.blocks;
  application.executed_hash = restored.executed_hash;
  bool anchored = false;
  for (const Block& block : restored.blocks) {
    std::optional<Ledger> ledger = StoredLedger(store, block);
    if (!ledger) continue;
    anchored |= restored.executed_hash && block.hash() == *restored.executed_hash;
    application.ledgers.push_back(*std::move(ledger));
  }
  std::optional<Hash256> cursor = restored.executed_hash;
  for (uint64_t step = 0; !anchored && cursor && step < history_max; ++step) {
    absl::StatusOr<std::optional<Block>> block = store->GetBlock(*cursor);
    if (!block.ok() || !*block) break;
    if (std::optional<Ledger> ledger = StoredLedger(store, **block)) {
      application.ledgers.push_back(*std::move(ledger));
      anchored = true;
    }
    cursor = (*block)->header.parent_hash;
    application.blocks.push_back(**std::move(block));
  }
  absl::StatusOr<std::vector<CertificateRecord>> outbox = store->Outbox();
  if (outbox.ok()) {
    application.outbox = *std::move(outbox);
  } else {
    LogError("reading the certificate outbox failed; undelivered certificates wait for a restart",
             {{"error", std::string(outbox.status().message())}});
  }
  absl::StatusOr<std::optional<CertificateRecord>> latest = store->LatestCertificate();
  if (latest.ok() && *latest) application.latest_certificate = (*latest)->identity;
  return application;
}

}  // namespace

ConsensusNode::ConsensusNode(NodeOptions options, NodeLinks links, RestoredState restored,
                             prometheus::Registry* registry)
    : options_(std::move(options)),
      links_(std::move(links)),
      restored_(std::move(restored)),
      app_(ApplicationConfigOf(options_),
           LoadApplication(links_.store, restored_, options_.committed_history)),
      replica_(WithStateTransfer(options_.replica, &app_)) {
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
  certificates_refused_ = counter("metronome_bft_certificates_refused_total",
                                  "Certificates the interpreter refused (not offered again)");
  certificates_refused_outstanding_ =
      gauge("metronome_bft_certificates_refused",
            "Certificates the attached interpreter refused: not delivered, alert on > 0");
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
      [this](request_timeout_atom, uint64_t request_id) {
        asked_.erase(request_id);
        RunApplication(app_.OnRequestTimeout(request_id));
      },
      [this](tick_atom) {
        RunApplication(app_.OnTick(NowMs()));
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
    asked_.clear();
    certificates_refused_outstanding_->Set(0);  // A new attachment is offered everything.
    RunApplication(app_.OnAttached(attach->attached, NowMs()));
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
  app_.OnStored(blocks);
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
    }
    const Block& last = commit.blocks.back();
    committed_height_->Set(static_cast<double>(last.header.height));
    LogInfo("committed", {{"view", commit.commit_qc.view},
                          {"height", last.header.height},
                          {"hash", ToHex(last.hash())},
                          {"blocks", commit.blocks.size()}});
  }
  if (fast_forward) {
    (void)links_.store->StoreBlocks({fast_forward->block});
    committed_height_->Set(static_cast<double>(fast_forward->block.header.height));
  }
  if (!commits.empty() || fast_forward) RunApplication(app_.OnDeliver(commits, fast_forward));
  // Blocks decided long ago are never timed again.
  if (first_seen_.size() >= kFirstSeenMax) first_seen_.clear();
}

void ConsensusNode::AskApplication(const std::optional<CreateBodyRequest>& create_body,
                                   const std::vector<ValidateRequest>& validate) {
  if (create_body) RunApplication(app_.OnCreateBody(*create_body));
  for (const ValidateRequest& request : validate) {
    if (first_seen_.size() < kFirstSeenMax) {
      first_seen_.emplace(request.block.hash(), std::chrono::steady_clock::now());
    }
    RunApplication(app_.OnValidate(request));
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

// ---- The application module's outputs ----------------------------------------------

void ConsensusNode::RunApplication(ApplicationOutputs outputs) {
  for (const auto& [post_state_hash, encoded] : outputs.ledgers) {
    if (!links_.store->PutLedger(post_state_hash, encoded).ok()) {
      storage_failures_->Add({{"what", "ledger"}}).Increment();
    }
  }
  // Certificates first (a synced write), then the executed mark: a crash in between
  // makes the restart deliver this decision again, and issuing is idempotent. After a
  // certificate could not be stored, the executed mark stays where it was for the rest
  // of this run: a restart delivers every later decision again and issues them then.
  const std::set<uint64_t> not_stored = StoreCertificates(outputs.certificates);
  if (!not_stored.empty()) executed_mark_held_ = true;
  if (outputs.committed && !executed_mark_held_) {
    const absl::Status status =
        links_.store->SetCommitted(outputs.committed->first, outputs.committed->second);
    if (!status.ok()) {
      storage_failures_->Add({{"what", "committed"}}).Increment();
      LogWarn("recording the decision failed", {{"error", std::string(status.message())}});
    }
  }
  // While the mark is held, the blocks of the decisions a restart delivers again stay.
  if (outputs.prune_below && !executed_mark_held_) {
    (void)links_.store->PruneBlocksBelow(*outputs.prune_below);
  }
  for (const CertificateRecord& record : outputs.retired) {
    if (!links_.store->RetireFromOutbox(record.identity.pow_height).ok()) {
      storage_failures_->Add({{"what", "outbox"}}).Increment();
      app_.OnRetireFailed(record);
    }
  }
  for (const InterpreterAsk& ask : outputs.asks) {
    // A certificate that is not durable here is not handed on either.
    const auto* offer = std::get_if<CertificateOffer>(&ask);
    if (offer != nullptr && not_stored.count(offer->record.identity.pow_height) != 0) continue;
    SendToInterpreter(ask);
  }
  for (const RequestTimer& timer : outputs.timers) {
    self_->delayed_send(self_, std::chrono::milliseconds(timer.delay_ms),
                        request_timeout_atom::value, timer.request_id);
  }
  for (const ApplicationEvent& event : outputs.events) Report(event);
  for (BodyReady& body : outputs.bodies) {
    Run(replica_.OnBodyCreated(body.view, std::move(body.body), body.post_state_hash));
  }
  for (const BlockVerdict& verdict : outputs.verdicts) {
    Run(replica_.OnBlockValidated(verdict.block_hash, verdict.valid));
  }
}

std::set<uint64_t> ConsensusNode::StoreCertificates(
    const std::vector<CertificateRecord>& certificates) {
  std::set<uint64_t> not_stored;
  for (const CertificateRecord& record : certificates) {
    const absl::Status status = links_.store->PutCertificate(record);
    if (!status.ok()) {
      storage_failures_->Add({{"what", "certificate"}}).Increment();
      LogError("storing a certificate failed", {{"error", std::string(status.message())}});
      app_.OnCertificateNotStored(record.identity.pow_height);
      not_stored.insert(record.identity.pow_height);
      continue;
    }
    links_.checkpoints->NotifyNewCertificate();
  }
  return not_stored;
}

}  // namespace metronome::bft
