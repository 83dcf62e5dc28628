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
  // Never re-enter a view we signed anything in: a restart resumes above all of them.
  const uint64_t resume = std::max(safety_.view, safety_.HighestSignedView()) + 1;
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
  body_requested_ = false;
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
  if (safety_.last_new_view_view < view) {
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
  if (!own_timeout_) {
    METRONOME_ASSERT(safety_.last_timeout_view < view_);
    Timeout timeout;
    timeout.statement = TimeoutStatement{federation_.protocol_id(), view_, safety_.high_qc.view,
                                         safety_.high_qc.block_hash};
    const Bytes payload = EncodeTimeoutStatement(timeout.statement);
    timeout.signed_by = {config_.self,
                         SignTagged(config_.key, kTagTimeout, federation_.id(), payload)};
    timeout.high_qc = safety_.high_qc;
    safety_.last_timeout_view = view_;
    Persist();
    RecordSigned(StreamRecord::Source::kOwn, view_, payload, timeout.signed_by);
    own_timeout_ = timeout;
    timeouts_[view_][config_.self] = timeout;
    highest_timeout_view_[config_.self] = view_;
  }
  // Resent on every expiry: on a lossy network the first copy may be gone.
  Broadcast(*own_timeout_);
  Broadcast(StatusRequest{});
  status_sent_to_.clear();  // Answers lost on the way may be sent again.
  requested_blocks_.clear();
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
  if (!latest_tc_ || latest_tc_->view < view) latest_tc_ = tc;
  EnterView(view + 1, false);
}

bool Replica::StashIfEarly(uint32_t from, const Message& message, uint64_t view) {
  if (view <= view_) return false;
  if (view > view_ + config_.view_window_max) {
    Reject(from, message, "view " + std::to_string(view) + " too far ahead");
    return true;
  }
  if (stash_.size() >= config_.stash_max) stash_.pop_front();  // Bounded: oldest goes.
  stash_.emplace_back(from, message);
  METRONOME_ASSERT(stash_.size() <= config_.stash_max);
  return true;
}

void Replica::ReplayStash() {
  if (replaying_) {
    replay_again_ = true;
    return;
  }
  replaying_ = true;
  do {
    replay_again_ = false;
    std::deque<std::pair<uint32_t, Message>> ready;
    std::deque<std::pair<uint32_t, Message>> later;
    for (auto& entry : stash_) {
      const std::optional<uint64_t> view = MessageView(entry.second);
      (view && *view > view_ ? later : ready).push_back(std::move(entry));
    }
    stash_.swap(later);
    for (const auto& [from, message] : ready) Dispatch(from, message);
  } while (replay_again_);
  replaying_ = false;
}

// ---------------------------------------------------------------------------------------
// QCs and commits.

void Replica::ObserveQc(const QuorumCertificate& qc, uint32_t from) {
  if (qc.view == 0) return;  // Genesis: nothing to learn.
  RecordQc(qc);
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
  if (pending_commit_ && pending_commit_->view <= commit_qc.view) pending_commit_.reset();
  if (commit_qc.view > safety_.commit_qc.view) {
    safety_.commit_qc = commit_qc;
    Persist();
  }
  if (path->empty()) return;
  blocks_.Commit(*path);
  for (auto it = validated_.begin(); it != validated_.end();) {
    it = blocks_.Contains(*it) ? std::next(it) : validated_.erase(it);
  }
  out_.commits.push_back(Commit{*std::move(path), commit_qc});
}

void Replica::RequestBlocks(const Hash256& hash, uint32_t from) {
  // Kept across view changes (answers to a request made just before a view change must
  // still be accepted) and cleared when a view times out, so requests are retried.
  if (requested_blocks_.size() >= config_.sync_blocks_max) requested_blocks_.clear();
  if (!requested_blocks_.insert(hash).second) return;
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
  status.timeout_certificate = latest_tc_;
  status.committed_height = blocks_.committed_height();
  return status;
}

Outputs Replica::TakeOutputs() {
  if (safety_dirty_) out_.safety = safety_;
  safety_dirty_ = false;
  Outputs taken = std::move(out_);
  out_ = Outputs{};
  return taken;
}

}  // namespace metronome::bft
