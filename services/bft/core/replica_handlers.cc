// The Replica's message handlers, leader duties and voting (see replica.h).
#include <algorithm>

#include "common/assert.h"
#include "common/domain_tags.h"
#include "services/bft/core/replica.h"

namespace metronome::bft {
namespace {

bool After(uint64_t view, Phase phase, uint64_t last_view, uint8_t last_phase) {
  return view > last_view || (view == last_view && static_cast<uint8_t>(phase) > last_phase);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Leader.

void Replica::TryPropose() {
  if (!IsLeader(view_) || safety_.last_proposal_view >= view_ || timed_out_ || body_request_ ||
      !signing()) {
    return;
  }
  // The justify QC must be the highest Prepare QC among a quorum, or provably the
  // highest possible (from the view just before). Every NewView and timeout received so
  // far has raised high_qc, also those beyond the first q.
  const bool previous_view_qc = safety_.high_qc.view + 1 == view_;
  auto new_views = new_views_.find(view_);
  const bool quorum_of_new_views =
      new_views != new_views_.end() && new_views->second.size() >= federation_.q();
  bool timeout_certificate = false;
  if (safety_.high_tc && safety_.high_tc->view + 1 == view_) {
    uint64_t highest = 0;
    for (const auto& entry : safety_.high_tc->timeouts)
      highest = std::max(highest, entry.first.high_qc_view);
    timeout_certificate = safety_.high_qc.view >= highest;
  }
  if (!previous_view_qc && !quorum_of_new_views && !timeout_certificate) return;
  if (!candidate_pending_ && !propose_timer_fired_) return;  // Idle: wait for the heartbeat.
  const Block* parent = blocks_.Find(safety_.high_qc.block_hash);
  if (parent == nullptr) {
    RequestBlocks(safety_.high_qc.block_hash, kBroadcast);
    return;
  }
  body_request_ = CreateBodyRequest{view_, safety_.high_qc.block_hash, parent->header.height + 1};
  out_.create_body = body_request_;
}

Outputs Replica::OnBodyCreated(uint64_t view, std::optional<Body> body,
                               const Hash256& post_state_hash) {
  if (view != view_ || !IsLeader(view_) || safety_.last_proposal_view >= view_ || timed_out_ ||
      !body_request_ || !signing()) {
    return TakeOutputs();
  }
  const CreateBodyRequest request = *body_request_;
  body_request_.reset();
  if (request.parent_hash != safety_.high_qc.block_hash) {
    // The high QC rose while the application built the body: the body and its
    // post-state follow the old parent, so honest replicas would refuse it. Ask again.
    TryPropose();
    return TakeOutputs();
  }
  const Block* parent = blocks_.Find(safety_.high_qc.block_hash);
  if (!body || parent == nullptr) return TakeOutputs();
  Proposal proposal;
  proposal.body = *std::move(body);
  Header& header = proposal.statement.header;
  header.parent_hash = safety_.high_qc.block_hash;
  header.height = parent->header.height + 1;
  header.view = view_;
  header.post_state_hash = post_state_hash;
  header.content_root = ContentRoot(proposal.body);
  proposal.statement.protocol_id = federation_.protocol_id();
  proposal.statement.view = view_;
  proposal.statement.justify_view = safety_.high_qc.view;
  proposal.justify_qc = safety_.high_qc;
  const Bytes payload = EncodeProposalStatement(proposal.statement);
  proposal.signed_by = {config_.self,
                        SignTagged(config_.key, kTagProposal, federation_.id(), payload)};
  safety_.last_proposal_view = view_;
  RecordSigned(StreamRecord::Source::kOwn, view_, payload, proposal.signed_by);
  // The flag is cleared only once the application has answered with a body (the
  // original cleared it before asking, losing the candidate when no answer came).
  candidate_pending_ = false;
  validated_.insert(HeaderHash(header));  // The application made it.
  Broadcast(proposal);
  HandleProposal(config_.self, proposal);
  return TakeOutputs();
}

void Replica::CollectVote(const bft::Vote& vote) {
  const VoteStatement& statement = vote.statement;
  const uint8_t phase = static_cast<uint8_t>(statement.phase);
  if (!voters_.insert({vote.signed_by.signer, phase}).second) return;  // Counted already.
  METRONOME_ASSERT(voters_.size() <= 3 * static_cast<size_t>(federation_.n()));
  auto& signatures = votes_[{phase, statement.block_hash, statement.justify_view}];
  signatures[vote.signed_by.signer] = vote.signed_by.signature;
  if (signatures.size() < federation_.q() || formed_phases_.count(phase) != 0) return;
  formed_phases_.insert(phase);
  std::vector<std::pair<uint32_t, Signature>> collected(signatures.begin(), signatures.end());
  QuorumMessage quorum{AssembleQuorumCertificate(federation_, statement, collected)};
  Broadcast(quorum);
  ObserveQc(quorum.qc, config_.self);
}

// ---------------------------------------------------------------------------------------
// Replica voting.

bool Replica::SafeToVote(const QuorumCertificate& justify) const {
#ifdef METRONOME_MUTATION_BREAK_LOCK
  return true;  // Deliberately broken build: the simulator must catch it.
#endif
  // HotStuff safeNode: the proposal extends the locked block (safety) or its justify QC
  // is newer than the lock (liveness).
  return justify.view > safety_.locked_qc.view ||
         blocks_.Extends(justify.block_hash, safety_.locked_qc.block_hash);
}

void Replica::AdvanceVotes() {
  if (!proposal_ || timed_out_ || !signing()) return;
  const Hash256 hash = HeaderHash(proposal_->statement.header);
  if (validated_.count(hash) == 0) return;
  const uint64_t justify_view = proposal_->statement.justify_view;
  const bool prepared = safety_.high_qc.view == view_ && safety_.high_qc.block_hash == hash;
  const bool locked = safety_.locked_qc.view == view_ && safety_.locked_qc.block_hash == hash;
  if (!prepared && After(view_, Phase::kPrepare, safety_.last_vote_view, safety_.last_vote_phase)) {
    CastVote(Phase::kPrepare, hash, justify_view);
  }
  if (prepared && !locked &&
      After(view_, Phase::kPreCommit, safety_.last_vote_view, safety_.last_vote_phase)) {
    CastVote(Phase::kPreCommit, hash, justify_view);
  }
  if (locked && After(view_, Phase::kCommit, safety_.last_vote_view, safety_.last_vote_phase)) {
    CastVote(Phase::kCommit, hash, justify_view);
  }
}

void Replica::CastVote(Phase phase, const Hash256& block_hash, uint64_t justify_view) {
  METRONOME_ASSERT(After(view_, phase, safety_.last_vote_view, safety_.last_vote_phase));
  bft::Vote vote;
  vote.statement = VoteStatement{federation_.protocol_id(), phase, view_, block_hash, justify_view};
  const Bytes payload = EncodeVoteStatement(vote.statement);
  vote.signed_by = {config_.self, SignTagged(config_.key, kTagVote, federation_.id(), payload)};
  safety_.last_vote_view = view_;
  safety_.last_vote_phase = static_cast<uint8_t>(phase);
  RecordSigned(StreamRecord::Source::kOwn, view_, payload, vote.signed_by);
  const uint32_t leader = LeaderOf(view_);
  if (leader == config_.self) {
    CollectVote(vote);
  } else {
    SendTo(leader, vote);
  }
}

Outputs Replica::OnBlockValidated(const Hash256& block_hash, bool valid) {
  if (valid && blocks_.Contains(block_hash)) {
    validated_.insert(block_hash);
    METRONOME_ASSERT(validated_.size() <= config_.blocks_max);
    AdvanceVotes();
  }
  return TakeOutputs();
}

// ---------------------------------------------------------------------------------------
// Message handlers.

std::string Replica::CheckProposal(const Proposal& proposal) {
  const ProposalStatement& statement = proposal.statement;
  const Header& header = statement.header;
  const QuorumCertificate& justify = proposal.justify_qc;
  if (statement.protocol_id != federation_.protocol_id()) return "wrong protocol id";
  if (header.view != statement.view) return "header view differs from the proposal's view";
  if (justify.phase != Phase::kPrepare) return "justify QC is not a Prepare QC";
  if (justify.view != statement.justify_view || justify.view >= statement.view) {
    return "justify QC view does not match";
  }
  if (header.parent_hash != justify.block_hash) return "parent is not the justify QC's block";
  if (header.content_root != ContentRoot(proposal.body)) return "body does not match content root";
  if (!checker_.ValidQc(justify)) return "invalid justify QC";
  return "";
}

void Replica::HandleProposal(uint32_t from, const Proposal& proposal) {
  const ProposalStatement& statement = proposal.statement;
  const Bytes payload = EncodeProposalStatement(statement);
  if (proposal.signed_by.signer != LeaderOf(statement.view) ||
      !checker_.ValidSigned(kTagProposal, payload, proposal.signed_by)) {
    Reject(from, proposal, "not signed by the view's leader");
    return;
  }
  std::string reason = CheckProposal(proposal);
  const Hash256 hash = HeaderHash(statement.header);
  if (reason.empty() && statement.view == view_ && proposal_ &&
      HeaderHash(proposal_->statement.header) != hash) {
    reason = "second proposal in the view";  // Equivocation: evidence for the monitor.
  }
  if (from != config_.self)
    RecordSigned(StreamRecord::Source::kReceived, statement.view, payload, proposal.signed_by,
                 !reason.empty(), reason);
  if (!reason.empty()) {
    Reject(from, proposal, reason);
    return;
  }
  ObserveQc(proposal.justify_qc, from);
  if (statement.view < view_ || StashIfEarly(from, proposal, statement.view)) return;
  if (proposal_) return;  // The same proposal again.
  const Block* parent = blocks_.Find(statement.header.parent_hash);
  if (parent == nullptr) {
    waiting_proposal_ = std::make_pair(from, proposal);
    RequestBlocks(statement.header.parent_hash, from);
    return;
  }
  if (statement.header.height != parent->header.height + 1) {
    Reject(from, proposal, "height is not the parent's plus one");
    return;
  }
  if (!SafeToVote(proposal.justify_qc)) {
    Reject(from, proposal, "neither extends the locked block nor has a newer justify QC");
    return;
  }
  const Block block{statement.header, proposal.body};
  if (statement.header.height <= blocks_.committed_height()) {
    Reject(from, proposal, "at or below the committed height");
    return;
  }
  if (!blocks_.Insert(block)) {
    Reject(from, proposal, "block store full");
    return;
  }
  proposal_ = proposal;
  out_.blocks.push_back(block);
  RecordHeader(statement.header,
               from == config_.self ? StreamRecord::Source::kOwn : StreamRecord::Source::kReceived);
  if (validated_.count(hash) == 0) out_.validate.push_back(ValidateRequest{block});
  AdvanceVotes();
}

void Replica::HandleVote(uint32_t from, const bft::Vote& vote) {
#ifndef METRONOME_MUTATION_NO_PHASE_CHECK  // Broken build: the leader aborts (found on main).
  if (!IsVotingPhase(vote.statement.phase)) {
    // Decoders refuse other phases; checked again because the vote set is sized by it.
    Reject(from, vote, "vote phase out of range");
    return;
  }
#endif
  const Bytes payload = EncodeVoteStatement(vote.statement);
  if (vote.statement.protocol_id != federation_.protocol_id() ||
      !checker_.ValidSigned(kTagVote, payload, vote.signed_by)) {
    Reject(from, vote, "invalid vote signature");
    return;
  }
  const bool to_leader = IsLeader(vote.statement.view);
  RecordSigned(StreamRecord::Source::kReceived, vote.statement.view, payload, vote.signed_by,
               !to_leader, to_leader ? "" : "not the leader of the vote's view");
  if (!to_leader) {
    Reject(from, vote, "not the leader of the vote's view");
    return;
  }
  if (vote.statement.view < view_ || StashIfEarly(from, vote, vote.statement.view)) return;
  CollectVote(vote);
}

void Replica::HandleQuorum(uint32_t from, const QuorumMessage& quorum) {
  if (!checker_.ValidQc(quorum.qc)) {
    Reject(from, quorum, "invalid QC");
    return;
  }
  ObserveQc(quorum.qc, from);
}

void Replica::HandleNewView(uint32_t from, const NewView& new_view) {
  const NewViewStatement& statement = new_view.statement;
  const Bytes payload = EncodeNewViewStatement(statement);
  if (statement.protocol_id != federation_.protocol_id() ||
      !checker_.ValidSigned(kTagNewView, payload, new_view.signed_by)) {
    Reject(from, new_view, "invalid new-view signature");
    return;
  }
  const QuorumCertificate& qc = new_view.prepare_qc;
  const bool matches = qc.phase == Phase::kPrepare && qc.view == statement.prepare_qc_view &&
                       qc.block_hash == statement.prepare_qc_block_hash && checker_.ValidQc(qc);
  RecordSigned(StreamRecord::Source::kReceived, statement.view, payload, new_view.signed_by,
               !matches, matches ? "" : "prepare QC invalid or not the one signed");
  if (!matches) {
    Reject(from, new_view, "prepare QC invalid or not the one signed");
    return;
  }
  ObserveQc(qc, from);
  if (statement.view < view_) {
    SendStatusOnce(from);  // The sender is behind: help it catch up.
    return;
  }
  if (statement.view > view_ + config_.view_window_max || !IsLeader(statement.view)) return;
  new_views_[statement.view][new_view.signed_by.signer] = qc;
  METRONOME_ASSERT(new_views_.size() <= config_.view_window_max + 1);
  if (statement.view == view_) TryPropose();
}

void Replica::HandleTimeout(uint32_t from, const Timeout& timeout) {
  const TimeoutStatement& statement = timeout.statement;
  const Bytes payload = EncodeTimeoutStatement(statement);
  if (statement.protocol_id != federation_.protocol_id() ||
      !checker_.ValidSigned(kTagTimeout, payload, timeout.signed_by)) {
    Reject(from, timeout, "invalid timeout signature");
    return;
  }
  const QuorumCertificate& qc = timeout.high_qc;
  const bool matches = qc.phase == Phase::kPrepare && qc.view == statement.high_qc_view &&
                       qc.block_hash == statement.high_qc_block_hash && checker_.ValidQc(qc);
  RecordSigned(StreamRecord::Source::kReceived, statement.view, payload, timeout.signed_by,
               !matches, matches ? "" : "high QC invalid or not the one signed");
  if (!matches) {
    Reject(from, timeout, "high QC invalid or not the one signed");
    return;
  }
  ObserveQc(qc, from);
  if (statement.view < view_) {
    uint64_t& highest = highest_timeout_view_[timeout.signed_by.signer];
    highest = std::max(highest, statement.view);
    SendStatusOnce(from);
    HelpMembersBehind();
    return;
  }
  if (statement.view > view_ + config_.view_window_max) return;
  auto& received = timeouts_[statement.view];
  received[timeout.signed_by.signer] = timeout;
  METRONOME_ASSERT(received.size() <= federation_.n());
  uint64_t& highest = highest_timeout_view_[timeout.signed_by.signer];
  highest = std::max(highest, statement.view);
  // f+1 members timed out in view w or later: one of them is honest, so views up to w
  // are failing; join w and time out too (members that crashed and resumed in
  // different views meet this way). q timeouts for one view form a certificate.
  const uint64_t joined = ViewTimedOutByFPlusOne();
  if (joined > view_) EnterView(joined, false);
  if (joined == view_ && !timed_out_) TimeOutView();
  MaybeFormTimeoutCertificate(statement.view);
}

Timeout Replica::StoredTimeout() const {
  METRONOME_ASSERT(safety_.last_timeout_view > 0);
  Timeout timeout;
  timeout.statement =
      TimeoutStatement{federation_.protocol_id(), safety_.last_timeout_view,
                       safety_.last_timeout_high_qc.view, safety_.last_timeout_high_qc.block_hash};
  timeout.signed_by = {config_.self, safety_.last_timeout_signature};
  timeout.high_qc = safety_.last_timeout_high_qc;
  return timeout;
}

void Replica::HelpMembersBehind() {
  // Found by the Byzantine simulator: a member that resumed above view w after a crash
  // (it never re-enters a view it signed in) left two honest members timing out in w with
  // the Byzantine one silent: no TC for w could form, and no f+1 timed out above it. Once
  // f+1 members timed out in w (one of them honest) and we hold no TC that moves them,
  // we add our timeout for w. A timeout only gives up a view, so signing one for a view we
  // left is safe; it is still signed once per view (last_timeout_view only grows).
  // Members ahead of us (Byzantine ones among them) do not count here.
  const uint64_t behind = ViewTimedOutByFPlusOne(/*below=*/view_);
  if (behind == 0 || behind >= view_ || behind < safety_.last_timeout_view || !signing() ||
      (safety_.high_tc && safety_.high_tc->view >= behind)) {
    return;
  }
  if (behind == safety_.last_timeout_view) {
    // Signed before (perhaps lost on the way, or before a restart): the same bytes again.
    if (resent_timeout_view_ != behind) Broadcast(StoredTimeout());
    resent_timeout_view_ = behind;  // Once per view we left; a view timeout clears it.
    return;
  }
  Broadcast(SignTimeout(behind));
}

Timeout Replica::SignTimeout(uint64_t view) {
  METRONOME_ASSERT(safety_.last_timeout_view < view && signing());
  Timeout timeout;
  timeout.statement = TimeoutStatement{federation_.protocol_id(), view, safety_.high_qc.view,
                                       safety_.high_qc.block_hash};
  const Bytes payload = EncodeTimeoutStatement(timeout.statement);
  timeout.signed_by = {config_.self,
                       SignTagged(config_.key, kTagTimeout, federation_.id(), payload)};
  timeout.high_qc = safety_.high_qc;
  safety_.last_timeout_view = view;
  safety_.last_timeout_high_qc = timeout.high_qc;
  safety_.last_timeout_signature = timeout.signed_by.signature;
  Persist();
  RecordSigned(StreamRecord::Source::kOwn, view, payload, timeout.signed_by);
  return timeout;
}

uint64_t Replica::ViewTimedOutByFPlusOne(uint64_t below) const {
  std::vector<uint64_t> views;
  for (const auto& [signer, view] : highest_timeout_view_) {
    if (view < below) views.push_back(view);
  }
  if (views.size() < federation_.f() + 1) return 0;
  std::nth_element(views.begin(), views.begin() + federation_.f(), views.end(),
                   std::greater<uint64_t>());
  return views[federation_.f()];
}

void Replica::SendStatusOnce(uint32_t to) {
  if (status_sent_to_.insert(to).second) SendTo(to, Status());
}

void Replica::HandleSyncStatus(uint32_t from, const SyncStatus& status) {
  if (!checker_.ValidQc(status.high_qc) || status.high_qc.phase != Phase::kPrepare ||
      !checker_.ValidQc(status.commit_qc) ||
      (status.commit_qc.view != 0 && status.commit_qc.phase != Phase::kCommit)) {
    Reject(from, status, "invalid QC in status");
    return;
  }
  if (status.timeout_certificate && !checker_.ValidTc(*status.timeout_certificate)) {
    Reject(from, status, "invalid timeout certificate in status");
    return;
  }
  NoteStatusForGate(from, status);
  ObserveQc(status.high_qc, from);
  ObserveQc(status.commit_qc, from);
  const auto& tc = status.timeout_certificate;
  if (tc && tc->view >= view_) {
    if (!safety_.high_tc || safety_.high_tc->view < tc->view) {
      safety_.high_tc = *tc;
      Persist();
    }
    EnterView(tc->view + 1, false);
  }
}

void Replica::HandleBlockRequest(uint32_t from, const BlockRequest& request) {
  BlockResponse response;
  const size_t blocks_max = std::min<size_t>(request.blocks_max, config_.sync_blocks_max);
  for (size_t i = 0; i < request.hashes.size() && i < 16; ++i) {
    const size_t count = request.include_ancestors ? blocks_max - response.blocks.size() : 1;
    std::vector<Block> chain = blocks_.AncestorsOf(request.hashes[i], request.stop_height, count);
    if (chain.empty()) response.missing.push_back(request.hashes[i]);
    for (Block& block : chain) response.blocks.push_back(std::move(block));
    if (response.blocks.size() >= blocks_max) break;
  }
  for (const Block& block : response.blocks) {
    auto own = block_commit_qcs_.find(block.hash());
    if (own != block_commit_qcs_.end()) response.block_commit_qcs.push_back(own->second);
  }
  response.retained_from_height = blocks_.retained_from_height();
  response.commit_qc = safety_.commit_qc;
  if (const Block* committed = blocks_.Find(blocks_.committed_hash())) {
    response.commit_block = *committed;
    if (config_.state_transfer != nullptr && !response.missing.empty()) {
      response.commit_state = config_.state_transfer->StateAfter(committed->header.post_state_hash);
    }
  }
  SendTo(from, std::move(response));
}

void Replica::HandleBlockResponse(uint32_t from, const BlockResponse& response) {
  // Accept only what was asked for: a requested block, then its ancestors in order.
  std::optional<Hash256> expected;
  for (const Block& block : response.blocks) {
    const Hash256 hash = block.hash();
    const bool wanted = requested_blocks_.count(hash) != 0 || (expected && *expected == hash);
    if (!wanted) continue;
    if (block.header.content_root != ContentRoot(block.body)) {
      Reject(from, response, "block body does not match its content root");
      return;
    }
    if (blocks_.Insert(block)) {
      out_.blocks.push_back(block);
      RecordHeader(block.header, StreamRecord::Source::kSynced);
    }
    expected = block.header.parent_hash;
  }
  LearnBlockCommitQcs(response);
  ConsiderFastForward(from, response);
  if (pending_commit_) TryCommit(*pending_commit_, from);
  if (waiting_proposal_ &&
      blocks_.Contains(waiting_proposal_->second.statement.header.parent_hash)) {
    const auto [sender, proposal] = *std::move(waiting_proposal_);
    waiting_proposal_.reset();
    HandleProposal(sender, proposal);
  }
  TryPropose();
}

void Replica::LearnBlockCommitQcs(const BlockResponse& response) {
  for (const QuorumCertificate& qc : response.block_commit_qcs) {
    if (qc.phase != Phase::kCommit || !blocks_.Contains(qc.block_hash) ||
        block_commit_qcs_.count(qc.block_hash) != 0 ||
        block_commit_qcs_.size() >= config_.blocks_max || !checker_.ValidQc(qc)) {
      continue;  // Unverifiable, unknown or already known: ignored (never trusted).
    }
    block_commit_qcs_.emplace(qc.block_hash, qc);
  }
}

void Replica::ConsiderFastForward(uint32_t from, const BlockResponse& response) {
  if (!pending_commit_) return;
  const bool answers_our_request =
      std::any_of(response.missing.begin(), response.missing.end(),
                  [&](const Hash256& hash) { return requested_blocks_.count(hash) != 0; });
  if (!answers_our_request) return;  // Unrequested: never a reason to jump.
  if (response.commit_block && response.commit_state && config_.state_transfer != nullptr) {
    const Block& target = *response.commit_block;
    const QuorumCertificate& qc = response.commit_qc;
    const bool newer = !fast_forward_offer_ || fast_forward_offer_->commit_qc.view < qc.view;
    if (newer && qc.phase == Phase::kCommit && qc.view >= pending_commit_->view &&
        qc.block_hash == target.hash() && target.header.height > blocks_.committed_height() &&
        target.header.content_root == ContentRoot(target.body) && checker_.ValidQc(qc) &&
        config_.state_transfer->StateMatches(*response.commit_state,
                                             target.header.post_state_hash)) {
      fast_forward_offer_ = FastForward{target, qc, *response.commit_state};
    }
  }
  pruned_reports_.insert(from);
  METRONOME_ASSERT(pruned_reports_.size() <= federation_.n());
  // f+1 members said "missing": at least one honest member pruned it, so waiting will
  // not bring it back. Then jump to the best verified decision with its state.
  if (pruned_reports_.size() < federation_.f() + 1 || !fast_forward_offer_) return;
  std::optional<Hash256> missing;
  if (blocks_.UncommittedPathTo(pending_commit_->block_hash, &missing) ||
      fast_forward_offer_->block.header.height <= blocks_.committed_height()) {
    return;
  }
  FastForward jump = *std::move(fast_forward_offer_);
  fast_forward_offer_.reset();
  pruned_reports_.clear();
  // The lock and last signed views are kept: only the committed block moves.
  blocks_.ResetTo(jump.block);
  out_.blocks.push_back(jump.block);
  block_commit_qcs_.clear();
  block_commit_qcs_.emplace(jump.block.hash(), jump.commit_qc);
  validated_.clear();
  if (jump.commit_qc.view > safety_.commit_qc.view) {
    safety_.commit_qc = jump.commit_qc;
    Persist();
  }
  if (pending_commit_->view <= jump.commit_qc.view) pending_commit_.reset();
  const uint64_t decided_view = jump.commit_qc.view;
  out_.fast_forward = std::move(jump);
  if (decided_view >= view_) EnterView(decided_view + 1, true);
}

// ---------------------------------------------------------------------------------------
// The missing-safety-state rule (DESIGN §3).

void Replica::NoteStatusForGate(uint32_t from, const SyncStatus& status) {
  if (!signing_gate_ || signing_gate_->threshold) return;
  // Only what the status proves counts (its QCs and TC were verified by the caller):
  // a Byzantine member can report less than it knows, never more.
  uint64_t proven = std::max(status.high_qc.view, status.commit_qc.view);
  if (status.timeout_certificate) proven = std::max(proven, status.timeout_certificate->view + 1);
  uint64_t& entry = signing_gate_->proven_views[from];
  entry = std::max(entry, proven);
  if (signing_gate_->proven_views.size() < federation_.q()) return;
  uint64_t threshold = 0;
  for (const auto& [member, view] : signing_gate_->proven_views) {
    threshold = std::max(threshold, view);
  }
  if (threshold == 0) {
    signing_gate_.reset();  // q members prove nothing beyond genesis: nothing to protect.
    return;
  }
  signing_gate_->threshold = threshold;
}

void Replica::NoteQcForGate(const QuorumCertificate& qc) {
  if (!signing_gate_ || !signing_gate_->threshold || qc.view <= *signing_gate_->threshold) return;
  const std::vector<uint32_t> signers = SignerIndices(qc.signer_bitmap);
  if (std::find(signers.begin(), signers.end(), config_.self) != signers.end()) return;
  signing_gate_.reset();  // The federation moved past anything we may have signed.
}

}  // namespace metronome::bft
