#ifndef METRONOME_SERVICES_BFT_CORE_REPLICA_H_
#define METRONOME_SERVICES_BFT_CORE_REPLICA_H_

#include <deque>
#include <map>
#include <optional>
#include <set>

#include "common/ed25519.h"
#include "common/federation.h"
#include "services/bft/core/block_tree.h"
#include "services/bft/core/certificate_checker.h"
#include "services/bft/core/outputs.h"
#include "services/bft/core/state_transfer.h"

namespace metronome::bft {

struct ReplicaConfig {
  const Federation* federation = nullptr;  // Borrowed; must outlive the replica.
  uint32_t self = 0;                       // Our member index.
  SigningKey key = SigningKey::FromSeed(Seed{});
  Hash256 genesis_post_state_hash{};
  // View timer: idle_interval_ms + timeout_ms_base * 2^(consecutive timeouts), with the
  // backoff part capped at timeout_ms_max. Progress (a decision) resets the backoff.
  uint64_t timeout_ms_base = 1000;
  uint64_t timeout_ms_max = 8000;
  // With no candidate pending, the leader proposes an empty heartbeat block this long
  // after it could first propose; a pending candidate is proposed at once.
  uint64_t idle_interval_ms = 1000;
  uint64_t view_window_max = 64;  // Messages further ahead than this are dropped.
  size_t stash_max = 1024;        // Early messages held for later, from all senders.
  // Each sender's share of the stash: stash_max / n messages and this many bytes
  // (ApproxBytes), so one member's flood never evicts another's messages.
  size_t stash_bytes_per_sender_max = 4u << 20;
  size_t blocks_max = 4096;
  uint64_t committed_history = 256;  // Committed blocks kept to serve syncing peers.
  uint32_t sync_blocks_max = 64;
  // Optional signature cache shared with other replicas (the simulator's); borrowed.
  VerificationCache* shared_verification_cache = nullptr;
  // Tests only (Twins): leader(v) = leader_schedule[v % size] instead of the
  // federation's rule. Borrowed; every replica must get the same schedule.
  const std::vector<uint32_t>* leader_schedule = nullptr;
  // The application's state transfer (fast-forward past pruned history). Borrowed;
  // null: the replica never fast-forwards, it only fetches blocks.
  StateTransfer* state_transfer = nullptr;
};

// What the shell read back from disk at start-up. An empty RestoredState is a fresh
// member starting from genesis.
struct RestoredState {
  std::optional<SafetyState> safety;
  std::vector<Block> blocks;  // Stored blocks: the executed one and any above it.
  // The last block whose decision the application executed. The safety state (with its
  // Commit QC) is durable before the shell executes a decision, so after a crash in
  // between, the Commit QC's block may lie above it: Start delivers those blocks again.
  // Unset: the Commit QC's block counts as executed.
  std::optional<Hash256> executed_hash;
  // The key may have signed before but its safety state is gone (an empty or restored
  // database; DESIGN §3): the replica signs nothing until it has seen a valid QC, not
  // signed by itself, for a view above the highest view q members prove in their
  // status. If those q members prove nothing beyond genesis, nothing was decided yet
  // and the replica signs at once (a new federation starts this way).
  bool safety_state_lost = false;
};

// Basic HotStuff (Yin et al., PODC'19, Algorithm 2: Prepare, PreCommit, Commit, Decide)
// as a pure state machine, with a pacemaker (timeouts with backoff, idle heartbeats,
// timeout certificates) and block/view synchronisation. It performs no I/O and reads no
// clock: every input is a method call, and everything the replica wants done comes
// back as Outputs, to be executed in the order Outputs documents. Deterministic: the
// same inputs give the same outputs. Not thread-safe; owned by one actor.
//
// Invalid peer input is data: it is rejected and reported in Outputs::rejections,
// never asserted. METRONOME_ASSERT guards our own invariants.
class Replica {
 public:
  explicit Replica(const ReplicaConfig& config);
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Must be called once, first: enters the view after the highest one the replica ever
  // signed in, announces itself and asks peers for their status.
  Outputs Start(const RestoredState& restored);
  Outputs OnMessage(uint32_t from, const Message& message);
  Outputs OnTimer(TimerKind kind, uint64_t view);
  // The application's answer to CreateBodyRequest; nullopt: no block this view.
  Outputs OnBodyCreated(uint64_t view, std::optional<Body> body, const Hash256& post_state_hash);
  // The application's answer to ValidateRequest.
  Outputs OnBlockValidated(const Hash256& block_hash, bool valid);
  // The application has a checkpoint candidate waiting: a leader proposes at once.
  Outputs OnCandidatePending();

  uint64_t view() const { return view_; }
  const QuorumCertificate& high_qc() const { return safety_.high_qc; }
  const QuorumCertificate& locked_qc() const { return safety_.locked_qc; }
  const QuorumCertificate& commit_qc() const { return safety_.commit_qc; }
  uint64_t committed_height() const { return blocks_.committed_height(); }
  const Hash256& committed_hash() const { return blocks_.committed_hash(); }
  const SafetyState& safety() const { return safety_; }
  uint32_t LeaderOf(uint64_t view) const;
  bool IsLeader(uint64_t view) const { return LeaderOf(view) == config_.self; }
  uint64_t CurrentTimeoutMs() const;
  // Signatures this replica verified itself (not answered from a cache).
  uint64_t verifications() const { return checker_.verifications(); }
  // False while a replica without its safety state waits (RestoredState).
  bool signing() const { return !signing_gate_.has_value(); }
  // While waiting: the view a QC must exceed (nullopt until q members reported).
  std::optional<uint64_t> waiting_for_qc_above() const {
    return signing_gate_ ? signing_gate_->threshold : std::nullopt;
  }
  // What `member`'s messages occupy in the stash: (messages, ApproxBytes). The
  // simulator's memory checker reads it.
  std::pair<size_t, size_t> StashUsageOf(uint32_t member) const {
    auto found = stash_usage_.find(member);
    if (found == stash_usage_.end()) return {0, 0};
    return {found->second.messages, found->second.bytes};
  }

 private:
  using Handler = void (Replica::*)(uint32_t, const Message&);

  // Message handlers.
  void HandleProposal(uint32_t from, const Proposal& proposal);
  void HandleVote(uint32_t from, const Vote& vote);
  void HandleQuorum(uint32_t from, const QuorumMessage& quorum);
  void HandleNewView(uint32_t from, const NewView& new_view);
  void HandleTimeout(uint32_t from, const Timeout& timeout);
  void HandleSyncStatus(uint32_t from, const SyncStatus& status);
  void HandleBlockRequest(uint32_t from, const BlockRequest& request);
  void HandleBlockResponse(uint32_t from, const BlockResponse& response);
  void Dispatch(uint32_t from, const Message& message);

  // Views and the pacemaker.
  void EnterView(uint64_t view, bool progress);
  void ScheduleViewTimer();
  void TimeOutView();
  void MaybeFormTimeoutCertificate(uint64_t view);
  // The highest view w such that f+1 members timed out in w or later (0: none),
  // counting only members whose highest timeout lies below `below`.
  uint64_t ViewTimedOutByFPlusOne(uint64_t below = UINT64_MAX) const;
  // f+1 members time out in a view we left without a TC for it: add our timeout.
  void HelpMembersBehind();
  // Our timeout for safety_.last_timeout_view, rebuilt from the safety state.
  Timeout StoredTimeout() const;
  // Signs our one timeout for `view` (above the last one) and records it durably.
  Timeout SignTimeout(uint64_t view);
  void ReplayStash();
  bool StashIfEarly(uint32_t from, const Message& message, uint64_t view);
  void RecountStash();

  // QCs and commits.
  // Records and acts on any valid QC: raises high/locked/commit QCs, commits, and moves
  // to the QC's view when it is ahead. `from` is asked for missing blocks.
  void ObserveQc(const QuorumCertificate& qc, uint32_t from);
  // Takes the QC by value: callers pass pending_commit_, which this may reset.
  void TryCommit(QuorumCertificate commit_qc, uint32_t from);
  void RequestBlocks(const Hash256& hash, uint32_t from);
  // A sync answer that lists one of our requested blocks as missing: with f+1 such
  // answers (one honest member pruned it) and a verified decision with its state,
  // jump there. Never on an unrequested answer or an unauthenticated hint.
  void ConsiderFastForward(uint32_t from, const BlockResponse& response);
  // Commit QCs in a sync answer that decide blocks we now hold directly.
  void LearnBlockCommitQcs(const BlockResponse& response);
  // The missing-safety-state rule (RestoredState::safety_state_lost).
  void NoteStatusForGate(uint32_t from, const SyncStatus& status);
  void NoteQcForGate(const QuorumCertificate& qc);

  // Leader.
  void TryPropose();
  void CollectVote(const Vote& vote);

  // Replica voting.
  // Casts every vote the current view's proposal is due, in phase order: Prepare once
  // the application accepted the block, PreCommit once its Prepare QC is known, Commit
  // once the replica is locked on it.
  void AdvanceVotes();
  void CastVote(Phase phase, const Hash256& block_hash, uint64_t justify_view);
  bool SafeToVote(const QuorumCertificate& justify) const;
  // Structural checks of a proposal for the current view; empty when it passes.
  std::string CheckProposal(const Proposal& proposal);
  void SendStatusOnce(uint32_t to);

  // Outputs.
  void Persist();
  void SendTo(uint32_t to, Message message);
  void Broadcast(Message message);
  void Reject(uint32_t from, const Message& message, const std::string& reason);
  void RecordSigned(StreamRecord::Source source, uint64_t view, const Bytes& payload,
                    const Signed& signed_by, bool rejected = false, const std::string& reason = "");
  void RecordQc(const QuorumCertificate& qc);
  void RecordHeader(const Header& header, StreamRecord::Source source);
  SyncStatus Status() const;
  Outputs TakeOutputs();
#ifdef METRONOME_BYZANTINE_TEST_BUILD
  // Test-only build (byzantine_attacks.cc): hostile messages added to the outputs.
  void AddByzantineAttacks();
  uint64_t attack_round_ = 0;
#endif

  ReplicaConfig config_;
  const Federation& federation_;
  CertificateChecker checker_;
  Block genesis_;
  BlockTree blocks_;
  SafetyState safety_;
  bool started_ = false;
  bool safety_dirty_ = false;
  Outputs out_;

  uint64_t view_ = 0;
  uint32_t consecutive_timeouts_ = 0;
  bool candidate_pending_ = false;
  bool timed_out_ = false;
  bool propose_timer_fired_ = false;
  // The body request this view's leader is waiting for (its parent: a proposal is made
  // only on the parent the body was built for).
  std::optional<CreateBodyRequest> body_request_;
  std::optional<Timeout> own_timeout_;
  uint64_t resent_timeout_view_ = 0;  // HelpMembersBehind resent our timeout for it.

  // This view's proposal, once received and structurally valid.
  std::optional<Proposal> proposal_;
  // A proposal for this view whose parent block is being fetched.
  std::optional<std::pair<uint32_t, Proposal>> waiting_proposal_;
  std::set<Hash256> validated_;  // Blocks the application accepted (bounded by blocks_max).

  // Leader state for the current view.
  // Votes keyed by statement (phase, block, justify view), then by signer: one signer
  // counts once, whatever bytes it sends.
  std::map<std::tuple<uint8_t, Hash256, uint64_t>, std::map<uint32_t, Signature>> votes_;
  std::set<std::pair<uint32_t, uint8_t>> voters_;  // (signer, phase) already counted.
  std::set<uint8_t> formed_phases_;
  std::map<uint64_t, std::map<uint32_t, QuorumCertificate>> new_views_;

  std::map<uint64_t, std::map<uint32_t, Timeout>> timeouts_;
  std::map<uint32_t, uint64_t> highest_timeout_view_;  // Per member, at most n entries.
  // Early messages with their ApproxBytes, computed once when stashed.
  struct Stashed {
    uint32_t from = 0;
    Message message;
    size_t bytes = 0;
  };
  std::deque<Stashed> stash_;
  struct StashUsage {
    size_t messages = 0;
    size_t bytes = 0;
  };
  std::map<uint32_t, StashUsage> stash_usage_;  // Per sender; at most n entries.
  bool replaying_ = false;
  bool replay_again_ = false;
  std::set<uint32_t> status_sent_to_;  // Peers sent our status in this view.
  std::optional<QuorumCertificate> pending_commit_;
  std::set<Hash256> requested_blocks_;
  // (hash, peer) pairs asked already; kBroadcast for "everyone". Cleared with
  // requested_blocks_.
  std::set<std::pair<Hash256, uint32_t>> asked_;
  // Fast-forward: peers that answered our request with "missing", and the best verified
  // offer (the highest decision with its state) seen since.
  std::set<uint32_t> pruned_reports_;
  std::optional<FastForward> fast_forward_offer_;
  // Commit QCs that decided a block we hold directly (bounded by the block tree).
  std::map<Hash256, QuorumCertificate> block_commit_qcs_;

  // DESIGN §3 signing gate; set while a replica without its safety state waits.
  struct SigningGate {
    std::map<uint32_t, uint64_t> proven_views;  // Per reporting member (self included).
    std::optional<uint64_t> threshold;          // Set once q members reported.
  };
  std::optional<SigningGate> signing_gate_;
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_CORE_REPLICA_H_
