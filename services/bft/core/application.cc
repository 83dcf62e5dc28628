#include "services/bft/core/application.h"

#include <algorithm>

#include "common/assert.h"
#include "services/bft/core/certificate_checker.h"
#include "services/bft/core/checkpoint_builder.h"

namespace metronome::bft {
namespace {

// Bounds on what the application keeps in memory. Ledgers hold at most
// kLedgerProposerBlocksMax entries each; blocks above the committed one are bounded by
// the replica's own block tree.
constexpr size_t kLedgerCacheMax = 1024;
constexpr size_t kBlocksMax = 8192;
constexpr uint64_t kPruneEveryCommits = 64;

// The time the interpreter is told it has: less than ours, since our clock started first
// and its answer must still arrive before our deadline.
uint64_t InterpreterBudgetMs(uint64_t deadline_ms) { return deadline_ms * 4 / 5; }

ApplicationEvent Event(ApplicationEvent::Kind kind, std::string reason = "", uint64_t view = 0) {
  ApplicationEvent event;
  event.kind = kind;
  event.reason = std::move(reason);
  event.view = view;
  return event;
}

bool HasCandidate(const Body& body) {
  return std::any_of(body.transactions.begin(), body.transactions.end(),
                     [](const Transaction& tx) { return tx.is_candidate(); });
}

}  // namespace

bool CertificateRecord::operator==(const CertificateRecord& other) const {
  return encoded == other.encoded && identity == other.identity && bft_height == other.bft_height &&
         bft_block_hash == other.bft_block_hash && committed_view == other.committed_view;
}

CheckpointApplication::CheckpointApplication(ApplicationConfig config, RestoredApplication restored)
    : config_(std::move(config)),
      genesis_hash_(GenesisBlock(config_.genesis_post_state_hash).hash()),
      latest_certificate_(std::move(restored.latest_certificate)) {
  committed_hash_ = genesis_hash_;
  for (const Ledger& ledger : restored.ledgers) ledgers_.emplace(LedgerHash(ledger), ledger);
  OnStored(restored.blocks);
  // Anchor on the executed block (RestoredState); without it, or without its ledger,
  // on the lowest restored block whose ledger is known. Later ledgers follow from it.
  const Block* anchor = nullptr;
  for (const Block& block : restored.blocks) {
    if (ledgers_.count(block.header.post_state_hash) == 0) continue;
    if (restored.executed_hash && block.hash() == *restored.executed_hash) {
      anchor = &block;
      break;
    }
    if (anchor == nullptr || block.header.height < anchor->header.height) anchor = &block;
  }
  if (anchor != nullptr) {
    committed_ledger_ = ledgers_.at(anchor->header.post_state_hash);
    committed_hash_ = anchor->hash();
    committed_height_ = anchor->header.height;
  }
  for (CertificateRecord& record : restored.outbox) {
    const uint64_t height = record.identity.pow_height;
    outbox_.emplace(height, std::move(record));
  }
}

// ---- Ledgers ----------------------------------------------------------------------

void CheckpointApplication::OnStored(const std::vector<Block>& blocks) {
  for (const Block& block : blocks) {
    if (block.header.height < committed_height_) continue;
    if (blocks_.size() >= kBlocksMax) Prune(committed_height_ + 1);
    if (blocks_.size() >= kBlocksMax) return;  // Far above the committed block: not needed yet.
    blocks_.emplace(block.hash(), block);
  }
}

void CheckpointApplication::Remember(const Hash256& post_state_hash, const Ledger& ledger,
                                     ApplicationOutputs* out) {
  if (ledgers_.count(post_state_hash) != 0) return;
  if (ledgers_.size() >= kLedgerCacheMax) ledgers_.clear();  // Recomputed when needed.
  ledgers_.emplace(post_state_hash, ledger);
  if (out != nullptr) out->ledgers.emplace_back(post_state_hash, EncodeLedger(ledger));
}

std::optional<Ledger> CheckpointApplication::LedgerAfter(const Hash256& block_hash) {
  // Walk down to a block whose ledger is known, then execute the bodies back up.
  std::vector<const Block*> path;
  Hash256 cursor = block_hash;
  Ledger ledger;
  while (true) {
    if (cursor == committed_hash_) {
      ledger = committed_ledger_;
      break;
    }
    if (cursor == genesis_hash_) break;  // The empty ledger.
    auto block = blocks_.find(cursor);
    if (block == blocks_.end() || path.size() > blocks_.size()) return std::nullopt;
    auto known = ledgers_.find(block->second.header.post_state_hash);
    if (known != ledgers_.end()) {
      ledger = known->second;
      break;
    }
    path.push_back(&block->second);
    cursor = block->second.header.parent_hash;
  }
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    std::string reason;
    std::optional<Ledger> after = ApplyBody(ledger, (*it)->body, &reason);
    if (!after || LedgerHash(*after) != (*it)->header.post_state_hash) return std::nullopt;
    ledger = *std::move(after);
    Remember((*it)->header.post_state_hash, ledger, nullptr);
  }
  return ledger;
}

std::optional<Bytes> CheckpointApplication::StateAfter(const Hash256& post_state_hash) {
  if (post_state_hash == LedgerHash(committed_ledger_)) return EncodeLedger(committed_ledger_);
  if (post_state_hash == config_.genesis_post_state_hash) return EncodeLedger(Ledger{});
  auto cached = ledgers_.find(post_state_hash);
  if (cached == ledgers_.end()) return std::nullopt;
  return EncodeLedger(cached->second);
}

bool CheckpointApplication::StateMatches(const Bytes& state, const Hash256& post_state_hash) const {
  Reader reader(state);
  const Ledger ledger = DecodeLedger(&reader);
  reader.ExpectEnd();
  return reader.ok() && LedgerHash(ledger) == post_state_hash;
}

// ---- Bodies and verdicts ---------------------------------------------------------

ApplicationOutputs CheckpointApplication::OnCreateBody(const CreateBodyRequest& request) {
  ApplicationOutputs out;
  std::optional<Ledger> parent = LedgerAfter(request.parent_hash);
  if (!parent) {
    ApplicationEvent event = Event(ApplicationEvent::Kind::kParentLedgerUnknown, "", request.view);
    event.hash = request.parent_hash;
    out.events.push_back(std::move(event));
    out.bodies.push_back(BodyReady{request.view, std::nullopt, Hash256{}});
    return out;
  }
  if (!candidate_hint_ || !attached_) {
    // Nothing due: an empty heartbeat block keeps views advancing by QCs.
    FinishCreate(request.view, *parent, Body{}, &out);
    return out;
  }
  // A newer request replaces an outstanding one: its answer would be for an old view.
  PendingCreate pending{NextRequestId(), request.view, *parent};
  out.asks.push_back(
      CreateBodyAsk{pending.request_id, *parent, InterpreterBudgetMs(config_.create_timeout_ms)});
  out.timers.push_back(RequestTimer{pending.request_id, config_.create_timeout_ms});
  pending_create_ = std::move(pending);
  return out;
}

void CheckpointApplication::FinishCreate(uint64_t view, const Ledger& parent, Body body,
                                         ApplicationOutputs* out) {
  std::string reason;
  std::optional<Ledger> after = ApplyBody(parent, body, &reason);
  if (!after) {
    out->events.push_back(Event(ApplicationEvent::Kind::kBodyDoesNotApply, reason, view));
    body = Body{};
    after = parent;
  }
  const Hash256 post = LedgerHash(*after);
  Remember(post, *after, out);
  out->bodies.push_back(BodyReady{view, std::move(body), post});
}

ApplicationOutputs CheckpointApplication::OnValidate(const ValidateRequest& request) {
  ApplicationOutputs out;
  const Block& block = request.block;
  const Hash256 hash = block.hash();
  OnStored({block});
  std::optional<Ledger> parent = LedgerAfter(block.header.parent_hash);
  if (!parent) {
    FinishValidate(hash, false, "parent_ledger_unknown", &out);
    return out;
  }
  std::string reason;
  std::optional<Ledger> after = ApplyBody(*parent, block.body, &reason);
  if (!after) {
    FinishValidate(hash, false, reason, &out);
    return out;
  }
  if (LedgerHash(*after) != block.header.post_state_hash) {
    FinishValidate(hash, false, "post_state_mismatch", &out);
    return out;
  }
  Remember(block.header.post_state_hash, *after, &out);
  if (block.body.transactions.empty()) {
    FinishValidate(hash, true, "", &out);  // Nothing for the interpreter to judge.
    return out;
  }
  if (!attached_) {
    FinishValidate(hash, false, "interpreter_detached", &out);
    return out;
  }
  const uint64_t request_id = NextRequestId();
  out.asks.push_back(ValidateBodyAsk{request_id, block, *parent,
                                     InterpreterBudgetMs(config_.validate_timeout_ms)});
  out.timers.push_back(RequestTimer{request_id, config_.validate_timeout_ms});
  pending_validates_[request_id] = hash;
  return out;
}

void CheckpointApplication::FinishValidate(const Hash256& block_hash, bool valid,
                                           const std::string& reason, ApplicationOutputs* out) {
  ApplicationEvent event = Event(ApplicationEvent::Kind::kValidated, valid ? "accept" : reason);
  event.hash = block_hash;
  out->events.push_back(std::move(event));
  out->verdicts.push_back(BlockVerdict{block_hash, valid});
}

ApplicationOutputs CheckpointApplication::OnBodyAnswer(const BodyAnswer& answer) {
  ApplicationOutputs out;
  if (!pending_create_ || pending_create_->request_id != answer.request_id) {
    out.events.push_back(Event(ApplicationEvent::Kind::kStaleAnswer, "body"));
    return out;
  }
  PendingCreate pending = std::move(*pending_create_);
  pending_create_.reset();
  if (answer.malformed) {
    out.events.push_back(Event(ApplicationEvent::Kind::kMalformedBody, "", pending.view));
  } else if (!answer.body) {
    out.events.push_back(Event(ApplicationEvent::Kind::kBodyDeclined, answer.code, pending.view));
  }
  Body body = answer.body.value_or(Body{});
  // The interpreter had nothing due after all: stop asking until it says otherwise.
  if (!HasCandidate(body)) candidate_hint_ = false;
  FinishCreate(pending.view, pending.parent_ledger, std::move(body), &out);
  return out;
}

ApplicationOutputs CheckpointApplication::OnVerdictAnswer(const VerdictAnswer& answer) {
  ApplicationOutputs out;
  auto pending = pending_validates_.find(answer.request_id);
  if (pending == pending_validates_.end()) {
    out.events.push_back(Event(ApplicationEvent::Kind::kStaleAnswer, "verdict"));
    return out;
  }
  const Hash256 hash = pending->second;
  pending_validates_.erase(pending);
  FinishValidate(
      hash, answer.accept,
      answer.accept ? "" : (answer.reason.empty() ? "interpreter_rejected" : answer.reason), &out);
  return out;
}

ApplicationOutputs CheckpointApplication::OnRequestTimeout(uint64_t request_id) {
  ApplicationOutputs out;
  TimeOut(request_id, &out);
  return out;
}

void CheckpointApplication::TimeOut(uint64_t request_id, ApplicationOutputs* out) {
  if (pending_create_ && pending_create_->request_id == request_id) {
    PendingCreate pending = std::move(*pending_create_);
    pending_create_.reset();
    if (attached_) {
      out->events.push_back(
          Event(ApplicationEvent::Kind::kInterpreterTimeout, "body", pending.view));
    }
    FinishCreate(pending.view, pending.parent_ledger, Body{}, out);
    return;
  }
  auto pending = pending_validates_.find(request_id);
  if (pending == pending_validates_.end()) return;  // Answered in time.
  const Hash256 hash = pending->second;
  pending_validates_.erase(pending);
  if (attached_) {
    out->events.push_back(Event(ApplicationEvent::Kind::kInterpreterTimeout, "verdict"));
  }
  FinishValidate(hash, false, attached_ ? "interpreter_timeout" : "interpreter_detached", out);
}

ApplicationOutputs CheckpointApplication::OnCandidatePending() {
  candidate_hint_ = true;
  return {};
}

// ---- Decisions and certificates ----------------------------------------------------

ApplicationOutputs CheckpointApplication::OnDeliver(
    const std::vector<Commit>& commits, const std::optional<FastForward>& fast_forward) {
  ApplicationOutputs out;
  const uint64_t jump_height = fast_forward ? fast_forward->block.header.height : UINT64_MAX;
  for (const Commit& commit : commits) {
    if (commit.blocks.back().header.height <= jump_height) ExecuteCommit(commit, &out);
  }
  if (fast_forward) Jump(*fast_forward, &out);
  for (const Commit& commit : commits) {
    if (commit.blocks.back().header.height > jump_height) ExecuteCommit(commit, &out);
  }
  if (!commits.empty() && attached_) {
    out.asks.push_back(StatusReport{latest_certificate_, candidate_hint_});
  }
  return out;
}

void CheckpointApplication::ExecuteCommit(const Commit& commit, ApplicationOutputs* out) {
  OnStored(commit.blocks);
  bool executed = true;
  for (const Block& block : commit.blocks) {
    // A quorum decided it, so its ledger follows from its ancestors' (ours or, after a
    // fast-forward, the transferred one), unless an ancestor's ledger is lost here.
    std::optional<Ledger> ledger = executed ? LedgerAfter(block.hash()) : std::nullopt;
    if (!ledger) {
      if (executed) {
        ApplicationEvent event = Event(ApplicationEvent::Kind::kLedgerUnknown);
        event.hash = block.hash();
        event.count = block.header.height;
        out->events.push_back(std::move(event));
      }
      executed = false;
      continue;
    }
    committed_ledger_ = *std::move(ledger);
    committed_hash_ = block.hash();
    committed_height_ = block.header.height;
  }
  // The executed block's ledger is what a restart resumes from: always written (the
  // cache may hold it already, computed but never stored).
  if (executed) {
    Remember(commit.blocks.back().header.post_state_hash, committed_ledger_, nullptr);
    out->ledgers.emplace_back(commit.blocks.back().header.post_state_hash,
                              EncodeLedger(committed_ledger_));
  }
  size_t left_out = 0;
  for (const CheckpointCertificate& certificate :
       CertificatesFor(commit, config_.certificate_headers_max, &left_out)) {
    CertificateRecord record;
    record.encoded = EncodeCheckpointCertificate(certificate);
    record.identity = IdentityOf(certificate);
    record.bft_height = commit.blocks.back().header.height;
    record.bft_block_hash = commit.commit_qc.block_hash;
    record.committed_view = commit.commit_qc.view;
    ApplicationEvent event =
        Event(ApplicationEvent::Kind::kCertificateIssued, "", commit.commit_qc.view);
    event.certificate = record;
    out->events.push_back(std::move(event));
    out->certificates.push_back(record);
    latest_certificate_ = record.identity;
    outbox_[record.identity.pow_height] = record;
    refused_.erase(record.identity.pow_height);
    Offer(record, out);
  }
  if (left_out != 0) {
    // The ledger moved past these candidates, so none is proposed again as is: a new
    // candidate, whose certificate covers them (it descends from them), is asked for
    // the next time this member leads.
    ApplicationEvent event =
        Event(ApplicationEvent::Kind::kCertificatesLeftOut, "", commit.commit_qc.view);
    event.count = left_out;
    out->events.push_back(std::move(event));
    candidate_hint_ = true;
  }
  if (executed) {
    out->committed =
        std::make_pair(commit.blocks.back().header.height, commit.commit_qc.block_hash);
  }
  if (++commits_since_prune_ >= kPruneEveryCommits &&
      committed_height_ > config_.committed_history) {
    commits_since_prune_ = 0;
    out->prune_below = committed_height_ - config_.committed_history;
  }
  Prune(committed_height_);
}

void CheckpointApplication::Prune(uint64_t height_min) {
  for (auto it = blocks_.begin(); it != blocks_.end();) {
    it = it->second.header.height < height_min && it->first != committed_hash_ ? blocks_.erase(it)
                                                                               : std::next(it);
  }
}

void CheckpointApplication::Jump(const FastForward& fast_forward, ApplicationOutputs* out) {
  Reader reader(fast_forward.state);
  Ledger ledger = DecodeLedger(&reader);
  reader.ExpectEnd();
  METRONOME_ASSERT(reader.ok());  // The replica checked it (StateMatches).
  const Block& block = fast_forward.block;
  ApplicationEvent event =
      Event(ApplicationEvent::Kind::kFastForward, "", fast_forward.commit_qc.view);
  event.count = block.header.height;
  out->events.push_back(std::move(event));
  Remember(block.header.post_state_hash, ledger, nullptr);
  out->ledgers.emplace_back(block.header.post_state_hash, EncodeLedger(ledger));
  committed_ledger_ = std::move(ledger);
  committed_hash_ = block.hash();
  committed_height_ = block.header.height;
  blocks_.emplace(committed_hash_, block);
  Prune(committed_height_);
  out->committed = std::make_pair(committed_height_, committed_hash_);
}

void CheckpointApplication::Offer(const CertificateRecord& record, ApplicationOutputs* out) {
  if (!attached_) return;
  const uint64_t pow_height = record.identity.pow_height;
  if (refused_.count(pow_height) != 0) return;
  // One outstanding request per certificate: a new offer replaces the previous id.
  for (auto it = certificate_requests_.begin(); it != certificate_requests_.end();) {
    it = it->second == pow_height ? certificate_requests_.erase(it) : std::next(it);
  }
  const uint64_t request_id = NextRequestId();
  certificate_requests_[request_id] = pow_height;
  offered_ms_[pow_height] = now_ms_;
  out->asks.push_back(CertificateOffer{request_id, record});
}

void CheckpointApplication::OnRetireFailed(const CertificateRecord& record) {
  outbox_.emplace(record.identity.pow_height, record);
}

void CheckpointApplication::OnCertificateNotStored(uint64_t pow_height) {
  outbox_.erase(pow_height);
  offered_ms_.erase(pow_height);
}

ApplicationOutputs CheckpointApplication::OnCertificateAnswer(const CertificateAnswer& answer) {
  ApplicationOutputs out;
  auto request = certificate_requests_.find(answer.request_id);
  if (request == certificate_requests_.end()) {
    out.events.push_back(Event(ApplicationEvent::Kind::kStaleAnswer, "certificate"));
    return out;
  }
  const uint64_t pow_height = request->second;
  certificate_requests_.erase(request);
  auto record = outbox_.find(pow_height);
  switch (answer.outcome) {
    case CertificateAnswer::Outcome::kProgress:
      return out;  // Offered again after the resend interval.
    case CertificateAnswer::Outcome::kRefused: {
      refused_.insert(pow_height);
      offered_ms_.erase(pow_height);
      ApplicationEvent event = Event(ApplicationEvent::Kind::kCertificateRefused);
      if (record != outbox_.end()) event.certificate = record->second;
      event.count = refused_.size();
      out.events.push_back(std::move(event));
      return out;
    }
    case CertificateAnswer::Outcome::kDurable:
      if (record == outbox_.end()) return out;
      out.retired.push_back(record->second);
      outbox_.erase(record);
      offered_ms_.erase(pow_height);
      out.events.push_back(Event(ApplicationEvent::Kind::kCertificateAcknowledged));
      return out;
  }
  return out;
}

// ---- The interpreter's link ----------------------------------------------------------

void CheckpointApplication::ForgetRequests() {
  certificate_requests_.clear();
  offered_ms_.clear();
  refused_.clear();  // A re-attached consumer (perhaps fixed or upgraded) is asked again.
}

ApplicationOutputs CheckpointApplication::OnAttached(bool attached, uint64_t now_ms) {
  ApplicationOutputs out;
  now_ms_ = now_ms;
  attached_ = attached;
  ForgetRequests();
  if (!attached) {
    // Everything outstanding fails now rather than at its deadline.
    if (pending_create_) TimeOut(pending_create_->request_id, &out);
    while (!pending_validates_.empty()) TimeOut(pending_validates_.begin()->first, &out);
    return out;
  }
  out.asks.push_back(StatusReport{latest_certificate_, candidate_hint_});
  for (const auto& [pow_height, record] : outbox_) Offer(record, &out);
  return out;
}

ApplicationOutputs CheckpointApplication::OnTick(uint64_t now_ms) {
  ApplicationOutputs out;
  now_ms_ = now_ms;
  if (!attached_) return out;
  for (const auto& [pow_height, record] : outbox_) {
    auto offered = offered_ms_.find(pow_height);
    if (refused_.count(pow_height) != 0) continue;
    if (offered == offered_ms_.end() || now_ms - offered->second >= config_.certificate_resend_ms) {
      Offer(record, &out);
    }
  }
  return out;
}

}  // namespace metronome::bft
