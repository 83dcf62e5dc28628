// The pacemaker (backoff, idle heartbeats, timeouts and timeout certificates, moving on
// higher QCs) and the bounds on early and stale messages.
#include <gtest/gtest.h>

#include "services/bft/core/replica_test_harness.h"

namespace metronome::bft {
namespace {

using testing::DescribeRejections;
using testing::FilledHash;
using testing::HasRejection;
using testing::ReplicaHarness;
using testing::SendsOf;
using testing::TimerOf;

// The replica (not the leader) times out in `view`, then two peers do: with its own,
// q timeouts form a certificate and it enters view + 1.
Outputs TimeOutWithPeers(ReplicaHarness& h, uint64_t view) {
  h.replica().OnTimer(TimerKind::kView, view);
  h.Receive(1, h.MakeTimeout(1, view, h.genesis_qc()));
  return h.Receive(2, h.MakeTimeout(2, view, h.genesis_qc()));
}

TEST(PacemakerTest, ViewTimerIsIdlePlusBackoffDoublingUpToCapAndResetOnDecision) {
  ReplicaHarness h(/*self=*/0);
  h.config().idle_interval_ms = 1000;
  h.config().timeout_ms_base = 1000;
  h.config().timeout_ms_max = 8000;
  EXPECT_EQ(TimerOf(h.Start(), TimerKind::kView)->delay_ms, 2000u);

  const Outputs expired = h.replica().OnTimer(TimerKind::kView, 1);
  EXPECT_EQ(TimerOf(expired, TimerKind::kView)->delay_ms, 3000u);  // Rescheduled, backed off.
  const Outputs again = h.replica().OnTimer(TimerKind::kView, 1);
  EXPECT_EQ(TimerOf(again, TimerKind::kView)->delay_ms, 3000u);  // Same view: no escalation.

  h.Receive(1, h.MakeTimeout(1, 1, h.genesis_qc()));
  const Outputs view2 = h.Receive(2, h.MakeTimeout(2, 1, h.genesis_qc()));
  ASSERT_EQ(h.replica().view(), 2u);
  EXPECT_EQ(TimerOf(view2, TimerKind::kView)->delay_ms, 3000u);
  EXPECT_EQ(TimerOf(TimeOutWithPeers(h, 2), TimerKind::kView)->delay_ms, 5000u);
  EXPECT_EQ(TimerOf(TimeOutWithPeers(h, 3), TimerKind::kView)->delay_ms, 9000u);  // Capped.
  const Outputs view5 = TimeOutWithPeers(h, 4);
  ASSERT_EQ(h.replica().view(), 5u);
  EXPECT_EQ(TimerOf(view5, TimerKind::kView)->delay_ms, 9000u);
  EXPECT_EQ(h.replica().CurrentTimeoutMs(), 9000u);

  // A decision resets the backoff.
  const Block b5 = h.MakeBlock(h.genesis(), 5);
  h.Receive(h.LeaderOf(5), h.MakeProposal(b5, h.genesis_qc()));
  const Outputs decided = h.Receive(2, QuorumMessage{h.MakeQc(Phase::kCommit, 5, b5.hash(), 0)});
  ASSERT_EQ(decided.commits.size(), 1u);
  EXPECT_EQ(h.replica().view(), 6u);
  EXPECT_EQ(TimerOf(decided, TimerKind::kView)->delay_ms, 2000u);
}

TEST(PacemakerTest, IdleLeaderWaitsForProposeTimerBeforeAskingForBody) {
  ReplicaHarness h(/*self=*/1);  // Leader of view 1.
  const Outputs started = h.Start();
  EXPECT_FALSE(started.create_body.has_value());
  ASSERT_TRUE(TimerOf(started, TimerKind::kPropose).has_value());
  EXPECT_EQ(TimerOf(started, TimerKind::kPropose)->delay_ms, h.config().idle_interval_ms);
  EXPECT_FALSE(h.Receive(0, h.MakeNewView(0, 1, h.genesis_qc())).create_body.has_value());

  const Outputs fired = h.replica().OnTimer(TimerKind::kPropose, 1);
  ASSERT_TRUE(fired.create_body.has_value());
  EXPECT_EQ(fired.create_body->view, 1u);
  EXPECT_EQ(fired.create_body->parent_hash, h.genesis().hash());
  EXPECT_EQ(fired.create_body->height, 1u);
}

TEST(PacemakerTest, LeaderProposesAtOnceWhenCandidatePending) {
  ReplicaHarness h(/*self=*/1);
  h.Start();
  const Outputs pending = h.replica().OnCandidatePending();
  ASSERT_TRUE(pending.create_body.has_value());
  EXPECT_EQ(pending.create_body->view, 1u);

  const Body body = ReplicaHarness::CandidateBody(10);
  const Outputs created = h.replica().OnBodyCreated(1, body, FilledHash(9));
  const auto proposals = SendsOf<Proposal>(created);
  ASSERT_EQ(proposals.size(), 1u);
  EXPECT_EQ(proposals[0].first, kBroadcast);
  EXPECT_EQ(proposals[0].second.body, body);
  EXPECT_EQ(proposals[0].second.statement.header.content_root, ContentRoot(body));
  EXPECT_EQ(proposals[0].second.statement.header.parent_hash, h.genesis().hash());
}

TEST(PacemakerTest, FPlusOneTimeoutsForHigherViewMoveReplicaThereAndTimeItOut) {
  ReplicaHarness h(/*self=*/0, /*n=*/7);  // f = 2, q = 5: f + 1 = 3 do not form a TC.
  h.Start();
  h.Receive(1, h.MakeTimeout(1, 3, h.genesis_qc()));
  h.Receive(2, h.MakeTimeout(2, 3, h.genesis_qc()));
  EXPECT_EQ(h.replica().view(), 1u);  // f timeouts prove nothing.

  const Outputs joined = h.Receive(3, h.MakeTimeout(3, 3, h.genesis_qc()));
  EXPECT_EQ(h.replica().view(), 3u);
  const auto timeouts = SendsOf<Timeout>(joined);
  ASSERT_FALSE(timeouts.empty());
  EXPECT_EQ(timeouts[0].first, kBroadcast);
  EXPECT_EQ(timeouts[0].second.signed_by.signer, 0u);
  EXPECT_EQ(timeouts[0].second.statement.view, 3u);
  EXPECT_EQ(h.replica().safety().last_timeout_view, 3u);
}

TEST(PacemakerTest, QuorumOfTimeoutsFormsCertificateAndEntersNextView) {
  ReplicaHarness h(/*self=*/0);
  h.Start();
  h.replica().OnTimer(TimerKind::kView, 1);
  h.Receive(1, h.MakeTimeout(1, 1, h.genesis_qc()));
  EXPECT_EQ(h.replica().view(), 1u);  // Two of q = 3.

  h.Receive(2, h.MakeTimeout(2, 1, h.genesis_qc()));
  EXPECT_EQ(h.replica().view(), 2u);
  const auto statuses = SendsOf<SyncStatus>(h.Receive(3, StatusRequest{}));
  ASSERT_EQ(statuses.size(), 1u);
  const std::optional<TimeoutCertificate>& tc = statuses[0].second.timeout_certificate;
  ASSERT_TRUE(tc.has_value());
  EXPECT_EQ(tc->view, 1u);
  EXPECT_EQ(tc->timeouts.size(), 3u);
}

TEST(PacemakerTest, HigherQcMovesReplicaForward) {
  ReplicaHarness h(/*self=*/0);
  h.Start();
  const Hash256 block = h.MakeBlock(h.genesis(), 3).hash();
  h.Receive(2, QuorumMessage{h.MakeQc(Phase::kPrepare, 3, block, 0)});
  EXPECT_EQ(h.replica().view(), 3u);  // A Prepare QC of view 3: the federation is in 3.

  const Hash256 decided = h.MakeBlock(h.genesis(), 6).hash();
  h.Receive(2, QuorumMessage{h.MakeQc(Phase::kCommit, 6, decided, 6)});
  EXPECT_EQ(h.replica().view(), 7u);  // A decision of view 6 ends it.
}

// --- Early and stale messages ---

TEST(StashTest, MessageTooFarAheadIsRejectedAndOneWithinWindowIsKept) {
  ReplicaHarness h(/*self=*/0);
  h.config().view_window_max = 64;
  h.Start();
  const Block far = h.MakeBlock(h.genesis(), 66);  // 66 > 1 + 64.
  EXPECT_TRUE(HasRejection(h.Receive(2, h.MakeProposal(far, h.genesis_qc())), "too far ahead"));

  const Block edge = h.MakeBlock(h.genesis(), 65);
  const Outputs kept = h.Receive(1, h.MakeProposal(edge, h.genesis_qc()));
  EXPECT_TRUE(kept.rejections.empty()) << DescribeRejections(kept);
  EXPECT_EQ(h.EnterView(65).validate.size(), 1u);
}

// A full stash refuses the newcomer and keeps what it holds (nearer views first).
TEST(StashTest, StashKeepsAtMostStashMaxRefusingTheNewest) {
  ReplicaHarness h(/*self=*/0);
  h.config().stash_max = 2;
  h.Start();
  std::vector<Block> blocks;
  Outputs last;
  for (uint64_t view : {5, 6, 7}) {  // Led by members 1, 2, 3.
    blocks.push_back(h.MakeBlock(h.genesis(), view));
    last = h.Receive(h.LeaderOf(view), h.MakeProposal(blocks.back(), h.genesis_qc()));
  }
  EXPECT_TRUE(HasRejection(last, "stash full")) << DescribeRejections(last);
  const Outputs view5 = h.EnterView(5);
  ASSERT_EQ(view5.validate.size(), 1u);
  EXPECT_EQ(view5.validate[0].block.hash(), blocks[0].hash());
  const Outputs view6 = h.EnterView(6);
  ASSERT_EQ(view6.validate.size(), 1u);
  EXPECT_EQ(view6.validate[0].block.hash(), blocks[1].hash());
  EXPECT_TRUE(h.EnterView(7).validate.empty());
}

// Found on main: 1,100 validly signed future votes from one member evicted an honest
// leader's proposal from the stash. Each sender now has its own share.
TEST(StashTest, OneSendersFloodNeverEvictsAnotherSendersMessage) {
  ReplicaHarness h(/*self=*/0);  // Leader of views 4, 8, ...: votes for them are kept.
  h.Start();
  const Block block = h.MakeBlock(h.genesis(), 5);  // View 5 is led by member 1.
  h.Receive(1, h.MakeProposal(block, h.genesis_qc()));
  size_t refused = 0;
  for (uint32_t i = 0; i < 1100; ++i) {
    const Vote vote = h.MakeVote(2, Phase::kPrepare, 4 + 4 * (i % 8), FilledHash(i % 251), i);
    refused += HasRejection(h.Receive(2, vote), "stash quota") ? 1 : 0;
  }
  EXPECT_GE(refused, 1100u - h.config().stash_max / h.n());
  const Outputs view5 = h.EnterView(5);
  ASSERT_EQ(view5.validate.size(), 1u) << "the honest proposal was evicted";
  EXPECT_EQ(view5.validate[0].block.hash(), block.hash());
}

// The share is in bytes too: few large messages fill it.
TEST(StashTest, SenderShareIsBoundedInBytes) {
  ReplicaHarness h(/*self=*/0);
  h.config().stash_bytes_per_sender_max = 64 << 10;
  h.Start();
  Body big;
  big.transactions.push_back(Transaction{ProposerBlock{Bytes(40 << 10, 7)}});
  const Block first_block = h.MakeBlock(h.genesis(), 5, big);  // Views 5 and 9: member 1.
  const Outputs first = h.Receive(1, h.MakeProposal(first_block, h.genesis_qc()));
  EXPECT_TRUE(first.rejections.empty()) << DescribeRejections(first);
  const Block second_block = h.MakeBlock(h.genesis(), 9, big);
  const Outputs second = h.Receive(1, h.MakeProposal(second_block, h.genesis_qc()));
  EXPECT_TRUE(HasRejection(second, "stash quota")) << DescribeRejections(second);
}

TEST(StashTest, StaleVotesAreDroppedWithoutRejection) {
  ReplicaHarness h(/*self=*/1);  // Leader of view 1.
  h.Start();
  h.EnterView(2);
  const Hash256 block = h.MakeBlock(h.genesis(), 1).hash();
  for (uint32_t voter : {0u, 2u, 3u}) {
    const Outputs outputs = h.Receive(voter, h.MakeVote(voter, Phase::kPrepare, 1, block, 0));
    EXPECT_TRUE(outputs.rejections.empty()) << DescribeRejections(outputs);
    EXPECT_TRUE(SendsOf<QuorumMessage>(outputs).empty());
  }
  EXPECT_EQ(h.replica().high_qc(), h.genesis_qc());
}

}  // namespace
}  // namespace metronome::bft
