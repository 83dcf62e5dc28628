// The replica's voting rules (DESIGN §3): what it votes for, what it refuses, the lock,
// and the monotonicity and durability of its safety state.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/bft/core/effects.h"
#include "services/bft/core/replica_test_harness.h"

namespace metronome::bft {
namespace {

using testing::HasRejection;
using testing::ReceivedArtefacts;
using testing::ReplicaHarness;
using testing::SendsOf;
using testing::VotesIn;

// Member 0 in a federation of 4; view 1 is led by member 1.
class VotingTest : public ::testing::Test {
 protected:
  void SetUp() override { h.Start(); }

  Block B1() const { return h.MakeBlock(h.genesis(), 1); }
  Proposal ProposalOfB1() const { return h.MakeProposal(B1(), h.genesis_qc()); }

  // Delivers `proposal` from its view's leader; expects it rejected for `reason`,
  // with nothing stored, nothing to validate and no vote even if the block were valid.
  void ExpectProposalRejected(const Proposal& proposal, const std::string& reason) {
    const Outputs outputs = h.Receive(h.LeaderOf(proposal.statement.view), proposal);
    EXPECT_TRUE(HasRejection(outputs, reason)) << testing::DescribeRejections(outputs);
    EXPECT_TRUE(outputs.validate.empty());
    EXPECT_TRUE(outputs.blocks.empty());
    const Block block{proposal.statement.header, proposal.body};
    EXPECT_TRUE(VotesIn(h.Validated(block)).empty());
    EXPECT_EQ(h.replica().safety().last_vote_view, 0u);
  }

  // Locks the replica on `block` with a PreCommit QC of the block's view.
  void LockOn(const Block& block) {
    const QuorumCertificate qc = h.MakeQc(Phase::kPreCommit, block.header.view, block.hash(), 0);
    const Outputs outputs = h.Receive(h.Peer(), QuorumMessage{qc});
    ASSERT_TRUE(outputs.rejections.empty()) << testing::DescribeRejections(outputs);
    ASSERT_EQ(h.replica().locked_qc(), qc);
  }

  ReplicaHarness h{/*self=*/0};
};

TEST_F(VotingTest, VotesPrepareOnlyAfterApplicationAcceptsBlock) {
  const Outputs received = h.Receive(1, ProposalOfB1());
  ASSERT_EQ(received.validate.size(), 1u);
  EXPECT_EQ(received.validate[0].block.hash(), B1().hash());
  EXPECT_TRUE(VotesIn(received).empty());
  EXPECT_TRUE(received.signed_log.empty());

  const Outputs validated = h.Validated(B1());
  const auto votes = SendsOf<Vote>(validated);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].first, 1u);  // To the view's leader.
  const VoteStatement& vote = votes[0].second.statement;
  EXPECT_EQ(vote.phase, Phase::kPrepare);
  EXPECT_EQ(vote.view, 1u);
  EXPECT_EQ(vote.block_hash, B1().hash());
  EXPECT_EQ(vote.justify_view, 0u);
}

TEST_F(VotingTest, DoesNotVoteWhenApplicationRejectsBlock) {
  h.Receive(1, ProposalOfB1());
  EXPECT_TRUE(VotesIn(h.Validated(B1(), /*valid=*/false)).empty());
  EXPECT_EQ(h.replica().safety().last_vote_view, 0u);
}

TEST_F(VotingTest, RejectsProposalWhoseHeaderViewDiffersFromStatementView) {
  Proposal proposal = ProposalOfB1();
  proposal.statement.header.view = 2;
  ExpectProposalRejected(h.Resign(proposal, 1), "header view differs");
}

TEST_F(VotingTest, RejectsProposalWhoseParentIsNotJustifyQcBlock) {
  Block block = B1();
  block.header.parent_hash = h.MakeBlock(h.genesis(), 1, ReplicaHarness::CandidateBody(7)).hash();
  ExpectProposalRejected(h.MakeProposal(block, h.genesis_qc()), "parent is not the justify");
}

TEST_F(VotingTest, RejectsProposalWhoseHeightIsNotParentPlusOne) {
  Block block = B1();
  block.header.height = 2;
  ExpectProposalRejected(h.MakeProposal(block, h.genesis_qc()), "height is not the parent's");
}

// Defect fixed: the original voted without checking the body against the content root.
TEST_F(VotingTest, RejectsProposalWhoseBodyDoesNotMatchContentRoot) {
  Block block = B1();  // Content root of the empty body.
  block.body = ReplicaHarness::CandidateBody(3);
  ExpectProposalRejected(h.MakeProposal(block, h.genesis_qc()), "does not match content root");
}

TEST_F(VotingTest, RejectsProposalNotSignedByViewLeader) {
  ExpectProposalRejected(h.Resign(ProposalOfB1(), 2), "not signed by the view's leader");
  Proposal forged = h.Resign(ProposalOfB1(), 2);
  forged.signed_by.signer = 1;  // Claims the leader, signed with another key.
  ExpectProposalRejected(forged, "not signed by the view's leader");
}

TEST_F(VotingTest, RejectsProposalWithInvalidJustifyQc) {
  h.EnterView(2);
  const Block b1 = B1();
  const QuorumCertificate too_few = h.PrepareQc(b1, {1, 2});  // q - 1 signers.
  ExpectProposalRejected(h.MakeProposal(h.MakeBlock(b1, 2), too_few), "invalid justify QC");
  QuorumCertificate tampered = h.PrepareQc(b1);
  tampered.signatures[0][0] ^= 1;
  ExpectProposalRejected(h.MakeProposal(h.MakeBlock(b1, 2), tampered), "invalid justify QC");
}

TEST_F(VotingTest, IgnoresProposalForOldView) {
  h.EnterView(2);
  const Outputs outputs = h.Receive(1, ProposalOfB1());
  EXPECT_TRUE(outputs.rejections.empty());
  EXPECT_TRUE(outputs.validate.empty());
  EXPECT_TRUE(outputs.blocks.empty());
  EXPECT_TRUE(VotesIn(h.Validated(B1())).empty());
}

TEST_F(VotingTest, StashesProposalForFutureViewAndVotesOnceInThatView) {
  const Block b2 = h.MakeBlock(h.genesis(), 2);
  const Outputs early = h.Receive(2, h.MakeProposal(b2, h.genesis_qc()));
  EXPECT_TRUE(early.rejections.empty());
  EXPECT_TRUE(early.validate.empty());
  EXPECT_EQ(h.replica().view(), 1u);

  const Outputs entered = h.EnterView(2);
  ASSERT_EQ(entered.validate.size(), 1u);
  EXPECT_EQ(entered.validate[0].block.hash(), b2.hash());
  const auto votes = SendsOf<Vote>(h.Validated(b2));
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].first, 2u);
  EXPECT_EQ(votes[0].second.statement.view, 2u);
  EXPECT_EQ(votes[0].second.statement.block_hash, b2.hash());
}

TEST_F(VotingTest, RejectsSecondProposalInViewAsEquivocationAndRecordsIt) {
  const Outputs first = h.Receive(1, ProposalOfB1());
  ASSERT_EQ(ReceivedArtefacts(first).size(), 1u);
  EXPECT_FALSE(ReceivedArtefacts(first)[0].rejected);

  const Block other = h.MakeBlock(h.genesis(), 1, ReplicaHarness::CandidateBody(5));
  const Outputs second = h.Receive(1, h.MakeProposal(other, h.genesis_qc()));
  EXPECT_TRUE(HasRejection(second, "second proposal")) << testing::DescribeRejections(second);
  EXPECT_TRUE(second.validate.empty());
  const std::vector<StreamRecord> records = ReceivedArtefacts(second);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].rejected);
  EXPECT_EQ(records[0].signer, 1u);
  EXPECT_EQ(records[0].view, 1u);

  EXPECT_TRUE(VotesIn(h.Validated(other)).empty());
  ASSERT_EQ(VotesIn(h.Validated(B1())).size(), 1u);  // The first one still gets its vote.
}

// --- The lock (HotStuff safeNode) ---

TEST_F(VotingTest, RejectsProposalConflictingWithLockWhoseJustifyIsNotNewer) {
  h.Receive(1, ProposalOfB1());
  LockOn(B1());
  h.EnterView(2);
  const Block conflicting = h.MakeBlock(h.genesis(), 2, ReplicaHarness::CandidateBody(2));
  ExpectProposalRejected(h.MakeProposal(conflicting, h.genesis_qc()),
                         "neither extends the locked block");
}

TEST_F(VotingTest, AcceptsConflictingProposalWhoseJustifyIsNewerThanLock) {
  h.Receive(1, ProposalOfB1());
  h.EnterView(2);
  const Block c2 = h.MakeBlock(h.genesis(), 2, ReplicaHarness::CandidateBody(2));
  h.Receive(2, h.MakeProposal(c2, h.genesis_qc()));  // Stored; not voted for.
  LockOn(B1());                                      // Lock of view 1 on B1.
  h.EnterView(3);

  const Block d3 = h.MakeBlock(c2, 3);  // Conflicts with B1; justified by view 2 > 1.
  const Outputs outputs = h.Receive(3, h.MakeProposal(d3, h.PrepareQc(c2)));
  EXPECT_TRUE(outputs.rejections.empty()) << testing::DescribeRejections(outputs);
  const std::vector<Vote> votes = VotesIn(h.Validated(d3));
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].statement.block_hash, d3.hash());
  EXPECT_EQ(votes[0].statement.justify_view, 2u);
}

TEST_F(VotingTest, AcceptsProposalExtendingLockedBlock) {
  h.Receive(1, ProposalOfB1());
  LockOn(B1());
  h.EnterView(2);
  const Block b2 = h.MakeBlock(B1(), 2);  // Justify view 1 = lock view: not newer.
  const Outputs outputs = h.Receive(2, h.MakeProposal(b2, h.PrepareQc(B1())));
  EXPECT_TRUE(outputs.rejections.empty()) << testing::DescribeRejections(outputs);
  const std::vector<Vote> votes = VotesIn(h.Validated(b2));
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].statement.block_hash, b2.hash());
}

// --- Monotonicity and durability ---

TEST_F(VotingTest, LockedQcViewNeverDecreases) {
  const Hash256 high_block = h.MakeBlock(h.genesis(), 3).hash();
  h.Receive(2, QuorumMessage{h.MakeQc(Phase::kPreCommit, 3, high_block, 0)});
  ASSERT_EQ(h.replica().locked_qc().view, 3u);

  const Hash256 low_block = h.MakeBlock(h.genesis(), 2).hash();
  const Outputs outputs = h.Receive(2, QuorumMessage{h.MakeQc(Phase::kPreCommit, 2, low_block, 0)});
  EXPECT_TRUE(outputs.rejections.empty());
  EXPECT_EQ(h.replica().locked_qc().view, 3u);
  EXPECT_EQ(h.replica().locked_qc().block_hash, high_block);
}

// A crash after the Commit QC was made durable but before the decision was executed
// (certificates built, the executed block recorded) must not lose the decision: the
// restart delivers every block from the executed one up to the Commit QC's.
TEST(RestartTest, DeliversDecisionsThatWereDurableButNotExecuted) {
  ReplicaHarness h(/*self=*/1);
  const Block b1 = h.MakeBlock(h.genesis(), 1);
  const Block b2 = h.MakeBlock(b1, 2, ReplicaHarness::CandidateBody(7));
  const Block b3 = h.MakeBlock(b2, 3);
  SafetyState safety = h.FreshSafety();
  safety.view = 4;
  safety.high_qc = h.PrepareQc(b3);
  safety.locked_qc = h.MakeQc(Phase::kPreCommit, 3, b3.hash(), 2, {0, 1, 2});
  safety.commit_qc = h.MakeQc(Phase::kCommit, 3, b3.hash(), 2, {0, 1, 2});
  RestoredState restored{safety, {b1, b2, b3}, std::nullopt};
  restored.executed_hash = b1.hash();
  const Outputs started = h.Start(restored);
  ASSERT_EQ(started.commits.size(), 1u);
  const std::vector<Block>& delivered = started.commits[0].blocks;
  ASSERT_EQ(delivered.size(), 2u);
  EXPECT_EQ(delivered[0].hash(), b2.hash());
  EXPECT_EQ(delivered[1].hash(), b3.hash());
  EXPECT_EQ(started.commits[0].commit_qc, safety.commit_qc);
  EXPECT_EQ(h.replica().committed_hash(), b3.hash());
}

TEST(RestartTest, ExecutedUpToTheCommitQcDeliversNothingAgain) {
  ReplicaHarness h(/*self=*/1);
  const Block b1 = h.MakeBlock(h.genesis(), 1);
  SafetyState safety = h.FreshSafety();
  safety.view = 2;
  safety.high_qc = h.PrepareQc(b1);
  safety.commit_qc = h.MakeQc(Phase::kCommit, 1, b1.hash(), 0, {0, 1, 2});
  RestoredState restored{safety, {b1}, std::nullopt};
  restored.executed_hash = b1.hash();
  EXPECT_TRUE(h.Start(restored).commits.empty());
  EXPECT_EQ(h.replica().committed_hash(), b1.hash());
}

// A restart resumes in the last view it signed in (found by the Byzantine simulator:
// resuming above it split three live members across two views when the fourth was
// silent). Every slot signed there stays signed once; a timeout signed there goes out
// again as the same bytes.
TEST(RestartTest, ResumesInLastSignedViewAndNeverSignsASlotTwice) {
  ReplicaHarness h(/*self=*/0);
  SafetyState safety = h.FreshSafety();
  safety.view = 3;
  safety.last_vote_view = 5;
  safety.last_vote_phase = static_cast<uint8_t>(Phase::kCommit);
  safety.last_new_view_view = 5;
  std::vector<Outputs> all;
  all.push_back(h.Start(RestoredState{safety, {}, std::nullopt}));
  EXPECT_EQ(h.replica().view(), 5u);

  // Inputs of view 5 (a proposal, its validation) make it vote nothing again.
  const Block b5 = h.MakeBlock(h.genesis(), 5);
  all.push_back(h.Receive(h.LeaderOf(5), h.MakeProposal(b5, h.genesis_qc())));
  all.push_back(h.Validated(b5));
  for (const Outputs& outputs : all) {
    EXPECT_TRUE(VotesIn(outputs).empty());
    EXPECT_TRUE(outputs.signed_log.empty());
  }
  // Its first timeout for 5 is signed once; after another restart it is resent as is.
  const Outputs timed_out = h.replica().OnTimer(TimerKind::kView, 5);
  ASSERT_EQ(timed_out.signed_log.size(), 1u);
  const auto first = SendsOf<Timeout>(timed_out);
  ASSERT_FALSE(first.empty());
  ReplicaHarness again(/*self=*/0);
  again.Start(RestoredState{h.replica().safety(), {}, std::nullopt});
  ASSERT_EQ(again.replica().view(), 5u);
  const Outputs resent = again.replica().OnTimer(TimerKind::kView, 5);
  EXPECT_TRUE(resent.signed_log.empty());
  const auto second = SendsOf<Timeout>(resent);
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(second[0].second.signed_by.signature, first[0].second.signed_by.signature);
  EXPECT_EQ(second[0].second.high_qc, first[0].second.high_qc);

  // View 6 is business as usual.
  h.Receive(2, h.MakeStatus(h.MakeTc(5)));
  const Block b6 = h.MakeBlock(h.genesis(), 6);
  h.Receive(h.LeaderOf(6), h.MakeProposal(b6, h.genesis_qc()));
  const std::vector<Vote> votes = VotesIn(h.Validated(b6));
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].statement.view, 6u);
  EXPECT_EQ(h.replica().safety().last_vote_view, 6u);
}

// Outputs with own signatures carry the safety state that records them, so the shell
// persists both before anything leaves.
::testing::AssertionResult SignsWithSafetyState(const Outputs& outputs) {
  if (outputs.signed_log.empty()) return ::testing::AssertionFailure() << "nothing signed";
  if (!outputs.safety) return ::testing::AssertionFailure() << "signed without safety state";
  for (const StreamRecord& record : outputs.signed_log) {
    if (outputs.safety->HighestSignedView() < record.view) {
      return ::testing::AssertionFailure() << "safety state misses view " << record.view;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(DurabilityTest, SafetyStateIsInTheSameOutputsAsEveryOwnSignature) {
  ReplicaHarness h(/*self=*/0);
  const Outputs started = h.Start();  // Signs a NewView.
  ASSERT_TRUE(SignsWithSafetyState(started));
  EXPECT_EQ(started.safety->last_new_view_view, 1u);

  const Block b1 = h.MakeBlock(h.genesis(), 1);
  h.Receive(1, h.MakeProposal(b1, h.genesis_qc()));
  const Outputs voted = h.Validated(b1);
  ASSERT_TRUE(SignsWithSafetyState(voted));
  EXPECT_EQ(voted.safety->last_vote_view, 1u);
  EXPECT_EQ(voted.safety->last_vote_phase, static_cast<uint8_t>(Phase::kPrepare));

  const Outputs timed_out = h.replica().OnTimer(TimerKind::kView, 1);
  ASSERT_TRUE(SignsWithSafetyState(timed_out));
  EXPECT_EQ(timed_out.safety->last_timeout_view, 1u);

  ReplicaHarness leader(/*self=*/1);
  leader.Start();
  leader.replica().OnCandidatePending();
  const Outputs proposed =
      leader.replica().OnBodyCreated(1, ReplicaHarness::CandidateBody(1), testing::FilledHash(1));
  ASSERT_TRUE(SignsWithSafetyState(proposed));
  EXPECT_EQ(proposed.safety->last_proposal_view, 1u);
}

class RecordingEffects : public EffectHandler {
 public:
  void Persist(const std::optional<SafetyState>&, const std::vector<StreamRecord>&) override {
    calls.push_back("persist");
  }
  void StoreBlocks(const std::vector<Block>&) override { calls.push_back("store"); }
  void SendAll(const std::vector<Send>&) override { calls.push_back("send"); }
  void Deliver(const std::vector<Commit>&, const std::optional<FastForward>&) override {
    calls.push_back("deliver");
  }
  void AskApplication(const std::optional<CreateBodyRequest>&,
                      const std::vector<ValidateRequest>&) override {
    calls.push_back("ask");
  }
  void ScheduleTimers(const std::vector<TimerRequest>&) override { calls.push_back("timers"); }
  void Publish(const std::vector<StreamRecord>&, const std::vector<Rejection>&) override {
    calls.push_back("publish");
  }
  std::vector<std::string> calls;
};

TEST(DurabilityTest, ExecuteInOrderPersistsBeforeSending) {
  ReplicaHarness h(/*self=*/0);
  h.Start();
  const Block b1 = h.MakeBlock(h.genesis(), 1);
  h.Receive(1, h.MakeProposal(b1, h.genesis_qc()));
  const Outputs voted = h.Validated(b1);
  ASSERT_FALSE(voted.sends.empty());
  ASSERT_FALSE(voted.signed_log.empty());

  RecordingEffects effects;
  ExecuteInOrder(voted, &effects);
  EXPECT_EQ(effects.calls, (std::vector<std::string>{"persist", "store", "send", "deliver", "ask",
                                                     "timers", "publish"}));
}

}  // namespace
}  // namespace metronome::bft
