#include "services/bft/core/replica.h"

#include <algorithm>

#include "common/assert.h"
#include "common/domain_tags.h"

namespace metronome::bft {
Replica::Replica(const ReplicaConfig& config)
    : config_(config),
      federation_(*config.federation),
      checker_(*config.federation, GenesisBlock(config.genesis_post_state_hash).hash(),
               config.shared_verification_cache),
      genesis_(GenesisBlock(config.genesis_post_state_hash)),
      blocks_(genesis_, config.blocks_max, config.committed_history) {
  METRONOME_ASSERT(config.federation != nullptr);
  METRONOME_ASSERT(config.self < federation_.n());
  METRONOME_ASSERT(federation_.members()[config.self] == config.key.public_key());
  METRONOME_ASSERT(config.timeout_ms_base > 0 && config.timeout_ms_max >= config.timeout_ms_base);
  safety_.high_qc = checker_.genesis_qc();
  safety_.locked_qc = checker_.genesis_qc();
  safety_.commit_qc = checker_.genesis_qc();
}

uint32_t Replica::LeaderOf(uint64_t view) const {
  if (config_.leader_schedule != nullptr && !config_.leader_schedule->empty()) {
    return (*config_.leader_schedule)[view % config_.leader_schedule->size()];
  }
  return federation_.LeaderOf(view);
}

uint64_t Replica::CurrentTimeoutMs() const {
  const uint32_t doublings = std::min<uint32_t>(consecutive_timeouts_, 20);
  const uint64_t backoff = std::min(config_.timeout_ms_base << doublings, config_.timeout_ms_max);
  return config_.idle_interval_ms + backoff;
}

Outputs Replica::Start(const RestoredState& restored) {
  METRONOME_ASSERT(!started_);
  started_ = true;
  if (restored.safety) {
    safety_ = *restored.safety;
    std::vector<Block> stored = restored.blocks;
    std::sort(stored.begin(), stored.end(),
              [](const Block& a, const Block& b) { return a.header.height < b.header.height; });
    // Resume from the last executed block when it is stored, so that decisions made
    // durable but not executed before a crash are delivered now; otherwise from the
    // Commit QC's block.
    const Block* base = nullptr;
    for (const Block& block : stored) {
      if (restored.executed_hash && block.hash() == *restored.executed_hash) base = &block;
    }
    for (const Block& block : stored) {
      if (base == nullptr && block.hash() == safety_.commit_qc.block_hash) base = &block;
    }
    if (base != nullptr) blocks_.ResetTo(*base);
    for (const Block& block : stored) blocks_.Insert(block);
    // Blocks up to the Commit QC's are delivered below, or fetched from peers if lost.
    if (blocks_.committed_hash() != safety_.commit_qc.block_hash)
      pending_commit_ = safety_.commit_qc;
  }
  if (restored.safety_state_lost) {
    signing_gate_ = SigningGate{};
    signing_gate_->proven_views[config_.self] = 0;  // We know of nothing beyond genesis.
  }
  // Resume in the highest view we were in or signed in, never below: the safety state
  // guards every slot we signed there (no second vote, proposal, new-view or timeout),
  // and a timeout signed there is sent again as it was. (Resuming above it, as before,
  // split three live members across two views when the fourth was silent: found by the
  // Byzantine simulator.)
  const uint64_t resume =
      std::max<uint64_t>(1, std::max(safety_.view, safety_.HighestSignedView()));
  EnterView(resume, false);
  Broadcast(StatusRequest{});
  if (pending_commit_) TryCommit(*pending_commit_, kBroadcast);
  return TakeOutputs();
}

Outputs Replica::OnMessage(uint32_t from, const Message& message) {
  METRONOME_ASSERT(started_);
  if (from >= federation_.n() || from == config_.self) {
    Reject(from, message, "sender is not another federation member");
  } else {
    Dispatch(from, message);
  }
  return TakeOutputs();
}

void Replica::Dispatch(uint32_t from, const Message& message) {
  std::visit(
      [&](const auto& typed) {
        using T = std::decay_t<decltype(typed)>;
        if constexpr (std::is_same_v<T, Proposal>) HandleProposal(from, typed);
        if constexpr (std::is_same_v<T, bft::Vote>) HandleVote(from, typed);
        if constexpr (std::is_same_v<T, QuorumMessage>) HandleQuorum(from, typed);
        if constexpr (std::is_same_v<T, NewView>) HandleNewView(from, typed);
        if constexpr (std::is_same_v<T, Timeout>) HandleTimeout(from, typed);
        if constexpr (std::is_same_v<T, StatusRequest>) SendTo(from, Status());
        if constexpr (std::is_same_v<T, SyncStatus>) HandleSyncStatus(from, typed);
        if constexpr (std::is_same_v<T, BlockRequest>) HandleBlockRequest(from, typed);
        if constexpr (std::is_same_v<T, BlockResponse>) HandleBlockResponse(from, typed);
      },
      message);
}

Outputs Replica::OnTimer(TimerKind kind, uint64_t view) {
  METRONOME_ASSERT(started_);
  if (view != view_) return TakeOutputs();  // A timer of a view already left.
  if (kind == TimerKind::kView) {
    TimeOutView();
  } else if (IsLeader(view_)) {
    propose_timer_fired_ = true;
    TryPropose();
  }
  return TakeOutputs();
}

Outputs Replica::OnCandidatePending() {
  candidate_pending_ = true;
  TryPropose();
  return TakeOutputs();
}

// ---------------------------------------------------------------------------------------
// Views and the pacemaker.

void Replica::EnterView(uint64_t view, bool progress) {
  METRONOME_ASSERT(view > view_);
  view_ = view;
  safety_.view = view;
  Persist();
  if (progress) consecutive_timeouts_ = 0;
  timed_out_ = false;
  propose_timer_fired_ = false;
  body_request_.reset();
  own_timeout_.reset();
  proposal_.reset();
  waiting_proposal_.reset();
  votes_.clear();
  voters_.clear();
  formed_phases_.clear();
  status_sent_to_.clear();
  new_views_.erase(new_views_.begin(), new_views_.lower_bound(view));
  timeouts_.erase(timeouts_.begin(), timeouts_.lower_bound(view));
  ScheduleViewTimer();

  // HotStuff: on entering a view, hand its leader our highest Prepare QC.
  const uint32_t leader = LeaderOf(view);
  if (safety_.last_new_view_view < view && signing()) {
    NewView new_view;
    new_view.statement = NewViewStatement{federation_.protocol_id(), view, safety_.high_qc.view,
                                          safety_.high_qc.block_hash};
    const Bytes payload = EncodeNewViewStatement(new_view.statement);
    new_view.signed_by = {config_.self,
                          SignTagged(config_.key, kTagNewView, federation_.id(), payload)};
    new_view.prepare_qc = safety_.high_qc;
    safety_.last_new_view_view = view;
    RecordSigned(StreamRecord::Source::kOwn, view, payload, new_view.signed_by);
    if (leader == config_.self) {
      new_views_[view][config_.self] = safety_.high_qc;
    } else {
      SendTo(leader, new_view);
    }
  }
  if (leader == config_.self) {
    out_.timers.push_back({TimerKind::kPropose, view, config_.idle_interval_ms});
    TryPropose();
  }
  ReplayStash();
}

void Replica::ScheduleViewTimer() {
  out_.timers.push_back({TimerKind::kView, view_, CurrentTimeoutMs()});
}

void Replica::TimeOutView() {
  if (!timed_out_) ++consecutive_timeouts_;
  timed_out_ = true;
  if (!own_timeout_ && safety_.last_timeout_view == view_) {
    own_timeout_ = StoredTimeout();  // Signed before a restart: the same bytes again.
    timeouts_[view_][config_.self] = *own_timeout_;
    highest_timeout_view_[config_.self] = view_;
  }
  if (!own_timeout_ && signing()) {
    own_timeout_ = SignTimeout(view_);
    timeouts_[view_][config_.self] = *own_timeout_;
    highest_timeout_view_[config_.self] = view_;
  }
  // Resent on every expiry: on a lossy network the first copy may be gone.
  if (own_timeout_) Broadcast(*own_timeout_);
  Broadcast(StatusRequest{});
  status_sent_to_.clear();  // Answers lost on the way may be sent again.
  requested_blocks_.clear();
  asked_.clear();
  resent_timeout_view_ = 0;
  if (pending_commit_) TryCommit(*pending_commit_, kBroadcast);
  ScheduleViewTimer();
  MaybeFormTimeoutCertificate(view_);
}

void Replica::MaybeFormTimeoutCertificate(uint64_t view) {
  auto found = timeouts_.find(view);
  if (found == timeouts_.end() || found->second.size() < federation_.q() || view < view_) return;
  TimeoutCertificate tc;
  tc.view = view;
  for (const auto& [signer, timeout] : found->second) {
    tc.timeouts.emplace_back(timeout.statement, timeout.signed_by);
  }
  METRONOME_ASSERT(tc.timeouts.size() <= federation_.n());
  if (!safety_.high_tc || safety_.high_tc->view < view) {
    safety_.high_tc = tc;
    Persist();
  }
  EnterView(view + 1, false);
}

bool Replica::StashIfEarly(uint32_t from, const Message& message, uint64_t view) {
  if (view <= view_) return false;
  if (view > view_ + config_.view_window_max) {
    Reject(from, message, "view " + std::to_string(view) + " too far ahead");
    return true;
  }
  // Each sender has its own share, so a flood from one member (every message validly
  // signed) never evicts another member's proposal or votes; over its share the new
  // message is refused, the sender's older (nearer) messages stay.
  const size_t share = std::max<size_t>(1, config_.stash_max / federation_.n());
  const size_t bytes = ApproxBytes(message);
  StashUsage& usage = stash_usage_[from];
#ifdef METRONOME_MUTATION_NO_STASH_QUOTA
  // Deliberately broken build (the stash as it was on main): one shared bound, the
  // oldest evicted, whoever sent it. The simulator's memory checker must catch it.
  (void)share;
  if (stash_.size() >= config_.stash_max) {
    stash_.pop_front();
    RecountStash();
  }
  StashUsage& own = stash_usage_[from];
  ++own.messages;
  own.bytes += bytes;
  stash_.push_back({from, message, bytes});
  (void)usage;
#else
  if (usage.messages + 1 > share || usage.bytes + bytes > config_.stash_bytes_per_sender_max) {
    Reject(from, message, "stash quota of the sender exceeded");
    return true;
  }
  if (stash_.size() >= config_.stash_max) {  // Only when stash_max < n.
    Reject(from, message, "stash full");
    return true;
  }
  ++usage.messages;
  usage.bytes += bytes;
  stash_.push_back({from, message, bytes});
#endif
  METRONOME_ASSERT(stash_.size() <= config_.stash_max);
  METRONOME_ASSERT(stash_usage_.size() <= federation_.n());
  return true;
}

void Replica::RecountStash() {
  stash_usage_.clear();
  for (const Stashed& entry : stash_) {
    StashUsage& usage = stash_usage_[entry.from];
    ++usage.messages;
    usage.bytes += entry.bytes;
  }
}

void Replica::ReplayStash() {
  if (replaying_) {
    replay_again_ = true;
    return;
  }
  replaying_ = true;
  do {
    replay_again_ = false;
    std::deque<Stashed> ready;
    std::deque<Stashed> later;
    for (Stashed& entry : stash_) {
      const std::optional<uint64_t> view = MessageView(entry.message);
      (view && *view > view_ ? later : ready).push_back(std::move(entry));
    }
    stash_.swap(later);
    RecountStash();
    for (const Stashed& entry : ready) Dispatch(entry.from, entry.message);
  } while (replay_again_);
  replaying_ = false;
}

// ---------------------------------------------------------------------------------------
// QCs and commits.

void Replica::ObserveQc(const QuorumCertificate& qc, uint32_t from) {
  if (qc.view == 0) return;  // Genesis: nothing to learn.
  RecordQc(qc);
  NoteQcForGate(qc);
  if (qc.phase == Phase::kPrepare && qc.view > safety_.high_qc.view) {
    safety_.high_qc = qc;
    Persist();
  } else if (qc.phase == Phase::kPreCommit && qc.view > safety_.locked_qc.view) {
    safety_.locked_qc = qc;  // The lock: only ever raised.
    Persist();
  } else if (qc.phase == Phase::kCommit) {
    TryCommit(qc, from);
  }
  // A QC proves the federation reached its view: follow it (a decision ends the view).
  if (qc.phase == Phase::kCommit && qc.view >= view_) {
    EnterView(qc.view + 1, true);
  } else if (qc.view > view_) {
    EnterView(qc.view, false);
  }
  if (qc.view == view_) AdvanceVotes();
}

void Replica::TryCommit(QuorumCertificate commit_qc, uint32_t from) {
  if (commit_qc.view <= safety_.commit_qc.view &&
      blocks_.committed_hash() == safety_.commit_qc.block_hash) {
    return;  // Decided already.
  }
  std::optional<Hash256> missing;
  std::optional<std::vector<Block>> path =
      blocks_.UncommittedPathTo(commit_qc.block_hash, &missing);
  if (!path) {
    if (missing) {
      if (!pending_commit_ || pending_commit_->view < commit_qc.view) pending_commit_ = commit_qc;
      RequestBlocks(*missing, from);
    } else {
      // Two decisions that do not extend each other: only possible with more than f
      // faulty members. Refuse it and leave the evidence in the stream.
      out_.rejections.push_back({from, "quorum", "commit QC conflicts with a decided block"});
    }
    return;
  }
  if (pending_commit_ && pending_commit_->view <= commit_qc.view) {
    pending_commit_.reset();
    pruned_reports_.clear();  // The history came after all: start over next time.
    fast_forward_offer_.reset();
  }
  if (commit_qc.view > safety_.commit_qc.view) {
    safety_.commit_qc = commit_qc;
    Persist();
  }
  block_commit_qcs_.emplace(commit_qc.block_hash, commit_qc);
  if (path->empty()) return;
  blocks_.Commit(*path);
  for (auto it = validated_.begin(); it != validated_.end();) {
    it = blocks_.Contains(*it) ? std::next(it) : validated_.erase(it);
  }
  // A block on the path that has a Commit QC of its own (learnt live or with synced
  // blocks) closes its own decision: its certificates are then as short as those of
  // the members that saw that QC live, instead of reaching up to this QC's block.
  std::vector<Block> segment;
  for (Block& block : *path) {
    const Hash256 hash = block.hash();
    segment.push_back(std::move(block));
    auto own = block_commit_qcs_.find(hash);
    if (hash != commit_qc.block_hash && own != block_commit_qcs_.end()) {
      out_.commits.push_back(Commit{std::move(segment), own->second});
      segment.clear();
    }
  }
  if (!segment.empty()) out_.commits.push_back(Commit{std::move(segment), commit_qc});
  for (auto it = block_commit_qcs_.begin(); it != block_commit_qcs_.end();) {
    it = blocks_.Contains(it->first) ? std::next(it) : block_commit_qcs_.erase(it);
  }
  METRONOME_ASSERT(block_commit_qcs_.size() <= config_.blocks_max);
}

void Replica::RequestBlocks(const Hash256& hash, uint32_t from) {
  // Kept across view changes (answers to a request made just before a view change must
  // still be accepted) and cleared when a view times out, so requests are retried.
  if (requested_blocks_.size() >= config_.sync_blocks_max) {
    requested_blocks_.clear();
    asked_.clear();
  }
  requested_blocks_.insert(hash);
  // Each peer that shows us a decision we cannot follow is asked once (a silent or
  // lying peer must not be the only one ever asked); everyone once a view times out.
  const bool everyone = from == config_.self || from == kBroadcast;
  if (asked_.count({hash, kBroadcast}) != 0) return;
  if (!asked_.insert({hash, everyone ? kBroadcast : from}).second) return;
  BlockRequest request;
  request.hashes = {hash};
  request.include_ancestors = true;
  request.stop_height = blocks_.committed_height();
  request.blocks_max = config_.sync_blocks_max;
  if (from == config_.self || from == kBroadcast) {
    Broadcast(request);
  } else {
    SendTo(from, request);
  }
}

// ---------------------------------------------------------------------------------------
// Outputs.

void Replica::Persist() { safety_dirty_ = true; }

void Replica::SendTo(uint32_t to, Message message) {
  METRONOME_ASSERT(to != config_.self);
  out_.sends.push_back(Send{to, std::move(message)});
}

void Replica::Broadcast(Message message) {
  out_.sends.push_back(Send{kBroadcast, std::move(message)});
}

void Replica::Reject(uint32_t from, const Message& message, const std::string& reason) {
  out_.rejections.push_back(Rejection{from, MessageName(message), reason});
}

void Replica::RecordSigned(StreamRecord::Source source, uint64_t view, const Bytes& payload,
                           const Signed& signed_by, bool rejected, const std::string& reason) {
  StreamRecord record;
  record.view = view;
  record.source = source;
  record.item = StreamRecord::Item::kArtefact;
  record.rejected = rejected;
  record.rejection_reason = reason;
  record.payload = payload;
  record.signature = signed_by.signature;
  record.signer = signed_by.signer;
  if (source == StreamRecord::Source::kOwn) {
    Persist();  // The own-signature log is made durable with the safety state.
    out_.signed_log.push_back(record);
  }
  out_.stream.push_back(std::move(record));
}

void Replica::RecordQc(const QuorumCertificate& qc) {
  StreamRecord record;
  record.view = qc.view;
  record.item = StreamRecord::Item::kQc;
  record.payload = EncodeQuorumCertificate(qc);
  out_.stream.push_back(std::move(record));
}

void Replica::RecordHeader(const Header& header, StreamRecord::Source source) {
  StreamRecord record;
  record.view = header.view;
  record.source = source;
  record.item = StreamRecord::Item::kHeader;
  record.payload = EncodeHeader(header);
  out_.stream.push_back(std::move(record));
}

SyncStatus Replica::Status() const {
  SyncStatus status;
  status.view = view_;
  status.high_qc = safety_.high_qc;
  status.commit_qc = safety_.commit_qc;
  status.timeout_certificate = safety_.high_tc;
  status.committed_height = blocks_.committed_height();
  return status;
}

Outputs Replica::TakeOutputs() {
#ifdef METRONOME_BYZANTINE_TEST_BUILD
  AddByzantineAttacks();
#endif
  if (safety_dirty_) out_.safety = safety_;
  safety_dirty_ = false;
  Outputs taken = std::move(out_);
  out_ = Outputs{};
  return taken;
}

}  // namespace metronome::bft
