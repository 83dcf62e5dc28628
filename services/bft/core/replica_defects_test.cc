// One test per defect of the original implementation that DESIGN §3 lists as fixed
// (metronome-spec.md §11). The Merkle check before voting is in replica_voting_test.cc;
// the fast-forward defects are in replica_sync_test.cc.
#include <gtest/gtest.h>

#include "services/bft/core/replica_test_harness.h"

namespace metronome::bft {
namespace {

using testing::DescribeRejections;
using testing::FilledHash;
using testing::HasRejection;
using testing::ReplicaHarness;
using testing::SendsOf;

TEST(DefectTest, GenesisQcIsAcceptedOnlyAtViewZero) {
  ReplicaHarness h(/*self=*/0);
  h.Start();
  // The real genesis QC is valid (no signatures, view 0).
  const Outputs genuine = h.Receive(2, h.MakeStatus());
  EXPECT_TRUE(genuine.rejections.empty()) << DescribeRejections(genuine);

  QuorumCertificate genesis_like = h.genesis_qc();  // No signatures, but view 5.
  genesis_like.view = 5;
  SyncStatus status = h.MakeStatus();
  status.high_qc = genesis_like;
  EXPECT_TRUE(HasRejection(h.Receive(2, status), "invalid QC in status"));
  EXPECT_TRUE(HasRejection(h.Receive(2, h.MakeNewView(2, 1, genesis_like)), "prepare QC invalid"));
  EXPECT_TRUE(HasRejection(h.Receive(2, h.MakeTimeout(2, 1, genesis_like)), "high QC invalid"));
  EXPECT_TRUE(HasRejection(h.Receive(2, QuorumMessage{genesis_like}), "invalid QC"));
  EXPECT_EQ(h.replica().view(), 1u);
  EXPECT_EQ(h.replica().high_qc(), h.genesis_qc());
}

// The leader (member 1 in view 1) counts each signer once, whoever relays the vote and
// however often: two distinct signers never make a QC when q = 3.
TEST(DefectTest, VotesAreKeyedBySigner) {
  ReplicaHarness h(/*self=*/1);
  h.Start();
  const Hash256 block = h.MakeBlock(h.genesis(), 1).hash();
  const Vote from_2 = h.MakeVote(2, Phase::kPrepare, 1, block, 0);
  Outputs outputs;
  for (uint32_t relay : {2u, 2u, 3u, 0u}) {
    outputs = h.Receive(relay, from_2);
    EXPECT_TRUE(SendsOf<QuorumMessage>(outputs).empty());
  }
  outputs = h.Receive(2, h.MakeVote(2, Phase::kPrepare, 1, block, 0));  // Signed again.
  EXPECT_TRUE(SendsOf<QuorumMessage>(outputs).empty());
  outputs = h.Receive(3, h.MakeVote(3, Phase::kPrepare, 1, block, 0));
  EXPECT_TRUE(SendsOf<QuorumMessage>(outputs).empty());

  outputs = h.Receive(0, h.MakeVote(0, Phase::kPrepare, 1, block, 0));  // Third signer.
  const auto quorums = SendsOf<QuorumMessage>(outputs);
  ASSERT_EQ(quorums.size(), 1u);
  EXPECT_EQ(SignerIndices(quorums[0].second.qc.signer_bitmap), (std::vector<uint32_t>{0, 2, 3}));
  EXPECT_EQ(h.replica().high_qc(), quorums[0].second.qc);
}

// The original treated more than q signatures as invalid.
TEST(DefectTest, QcWithMoreThanQuorumSignersIsAccepted) {
  ReplicaHarness h(/*self=*/0);
  h.Start();
  const Hash256 block = h.MakeBlock(h.genesis(), 2).hash();
  const QuorumCertificate all_four = h.MakeQc(Phase::kPrepare, 2, block, 0, {0, 1, 2, 3});
  const Outputs outputs = h.Receive(2, QuorumMessage{all_four});
  EXPECT_TRUE(outputs.rejections.empty()) << DescribeRejections(outputs);
  EXPECT_EQ(h.replica().high_qc(), all_four);

  const QuorumCertificate too_few = h.MakeQc(Phase::kPrepare, 3, block, 0, {1, 2});
  EXPECT_TRUE(HasRejection(h.Receive(2, QuorumMessage{too_few}), "invalid QC"));
  EXPECT_EQ(h.replica().high_qc(), all_four);
}

// The original proposed on exactly the q-th NewView, with the highest QC among those q.
// The leader must justify with the highest Prepare QC of every NewView received before
// it proposes.
TEST(DefectTest, LeaderJustifiesWithHighestQcOfAllNewViewsReceived) {
  ReplicaHarness h(/*self=*/2);  // Leader of view 2.
  const Block b1 = h.MakeBlock(h.genesis(), 1);
  SafetyState safety = h.FreshSafety();
  safety.view = 2;
  h.Start(RestoredState{safety, {b1}, std::nullopt});  // Resumes in view 2 with the genesis QC.
  ASSERT_EQ(h.replica().view(), 2u);

  h.Receive(0, h.MakeNewView(0, 2, h.genesis_qc()));
  const Outputs quorum = h.Receive(1, h.MakeNewView(1, 2, h.genesis_qc()));  // q with own.
  EXPECT_FALSE(quorum.create_body.has_value());  // Idle: waits for its propose timer.
  const QuorumCertificate higher = h.PrepareQc(b1);
  const Outputs late = h.Receive(3, h.MakeNewView(3, 2, higher));
  EXPECT_TRUE(late.rejections.empty()) << DescribeRejections(late);

  const Outputs timer = h.replica().OnTimer(TimerKind::kPropose, 2);
  ASSERT_TRUE(timer.create_body.has_value());
  EXPECT_EQ(timer.create_body->parent_hash, b1.hash());
  EXPECT_EQ(timer.create_body->height, 2u);
  const Outputs created = h.replica().OnBodyCreated(2, Body{}, FilledHash(2));
  const auto proposals = SendsOf<Proposal>(created);
  ASSERT_EQ(proposals.size(), 1u);
  EXPECT_EQ(proposals[0].second.justify_qc, higher);
  EXPECT_EQ(proposals[0].second.statement.justify_view, 1u);
}

// The original cleared the candidate flag before the application answered, so a
// candidate was lost when no body came back. Now it stays pending and the next chance
// to propose asks for a body at once, without the idle wait.
TEST(DefectTest, CandidateStaysPendingWhenApplicationCreatesNoBody) {
  ReplicaHarness h(/*self=*/1);  // Leads views 1 and 5.
  h.Start();
  const Outputs pending = h.replica().OnCandidatePending();
  ASSERT_TRUE(pending.create_body.has_value());
  const Outputs nothing = h.replica().OnBodyCreated(1, std::nullopt, FilledHash(1));
  EXPECT_TRUE(SendsOf<Proposal>(nothing).empty());

  const Outputs next = h.EnterView(5);
  ASSERT_TRUE(next.create_body.has_value());
  EXPECT_EQ(next.create_body->view, 5u);
}

TEST(DefectTest, IdleLeaderWithoutPendingCandidateWaitsAtNextView) {
  ReplicaHarness h(/*self=*/1);  // Control for the test above.
  h.Start();
  EXPECT_FALSE(h.EnterView(5).create_body.has_value());
}

// The original's first view after a restart always timed out. The replica resumes in
// the view it last signed in (signing nothing twice there), asks for status at once, and
// follows the first certificate a peer shows to the next view, where it votes at once.
TEST(DefectTest, FirstViewAfterRestartNeedNotTimeOut) {
  ReplicaHarness h(/*self=*/1);
  SafetyState safety = h.FreshSafety();
  safety.view = 7;
  safety.last_vote_view = 7;
  safety.last_vote_phase = static_cast<uint8_t>(Phase::kCommit);
  safety.last_new_view_view = 7;
  const Outputs started = h.Start(RestoredState{safety, {}, std::nullopt});
  ASSERT_EQ(h.replica().view(), 7u);
  EXPECT_TRUE(started.signed_log.empty());  // Its new-view for 7 was signed already.
  const auto status_requests = SendsOf<StatusRequest>(started);
  ASSERT_EQ(status_requests.size(), 1u);
  EXPECT_EQ(status_requests[0].first, kBroadcast);

  const Outputs moved = h.Receive(2, h.MakeStatus(h.MakeTc(7)));
  ASSERT_EQ(h.replica().view(), 8u);
  const auto new_views = SendsOf<NewView>(moved);
  ASSERT_EQ(new_views.size(), 1u);
  EXPECT_EQ(new_views[0].first, h.LeaderOf(8));
  EXPECT_EQ(new_views[0].second.statement.view, 8u);

  const Block b8 = h.MakeBlock(h.genesis(), 8);
  h.Receive(h.LeaderOf(8), h.MakeProposal(b8, h.genesis_qc()));
  const auto votes = SendsOf<Vote>(h.Validated(b8));
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].second.statement.view, 8u);
  EXPECT_EQ(h.replica().safety().last_timeout_view, 0u);
}

}  // namespace
}  // namespace metronome::bft
