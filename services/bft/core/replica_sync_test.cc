// Sync in the core: status exchange, fetching missing blocks (checked against their
// content root), jumping on timeout certificates, and fast-forward when peers pruned.
#include <gtest/gtest.h>

#include "services/bft/core/replica_test_harness.h"

namespace metronome::bft {
namespace {

using testing::DescribeRejections;
using testing::FilledHash;
using testing::HasRejection;
using testing::ReplicaHarness;
using testing::SendsOf;

class SyncTest : public ::testing::Test {
 protected:
  void SetUp() override { h.Start(); }

  // A block at `height` whose ancestors the replica never saw.
  Block DistantBlock(uint64_t height, Body body = {}) const {
    Block block;
    block.body = std::move(body);
    block.header.parent_hash = FilledHash(0x77);
    block.header.height = height;
    block.header.view = height;
    block.header.post_state_hash = FilledHash(0x88);
    block.header.content_root = ContentRoot(block.body);
    return block;
  }

  // The state after a DistantBlock (its post-state hash is this state's hash).
  static Bytes StateOf(uint64_t height) { return Bytes(8, static_cast<uint8_t>(height)); }

  // Makes the replica (in view 1) see a Commit QC for `decided`, a block it has no
  // ancestors of, so it asks for the block. Returns the QC.
  QuorumCertificate LearnDecision(const Block& decided, uint32_t from = 2) {
    const QuorumCertificate commit =
        h.MakeQc(Phase::kCommit, decided.header.view, decided.hash(), decided.header.view);
    h.Receive(from, QuorumMessage{commit});
    return commit;
  }

  // A peer that pruned `decided`'s history answers: missing, with its decision and state.
  static BlockResponse PrunedAnswer(const QuorumCertificate& commit, const Block& served,
                                    std::optional<Bytes> state) {
    BlockResponse response;
    response.missing = {commit.block_hash};
    response.retained_from_height = served.header.height - 5;
    response.commit_qc = commit;
    response.commit_block = served;
    response.commit_state = std::move(state);
    return response;
  }

  // Two peers (f + 1 at n = 4) that pruned the history answer the replica's request.
  Outputs FastForwardTo(const Block& decided, const Block& served,
                        std::optional<Bytes> state = std::nullopt) {
    if (!state) state = StateOf(decided.header.height);
    const QuorumCertificate commit = LearnDecision(decided, 2);
    h.Receive(3, QuorumMessage{commit});  // Member 3 is asked too.
    const Outputs first = h.Receive(2, PrunedAnswer(commit, served, state));
    EXPECT_FALSE(first.fast_forward.has_value()) << "one answer is not enough";
    return h.Receive(3, PrunedAnswer(commit, served, state));
  }

  Block DistantBlockWithState(uint64_t height) const {
    Block block = DistantBlock(height);
    block.header.post_state_hash = testing::HashStateTransfer::HashOf(StateOf(height));
    return block;
  }

  ReplicaHarness h{/*self=*/0};
};

TEST_F(SyncTest, AnswersStatusRequestWithSyncStatus) {
  const auto statuses = SendsOf<SyncStatus>(h.Receive(2, StatusRequest{}));
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].first, 2u);
  const SyncStatus& status = statuses[0].second;
  EXPECT_EQ(status.view, 1u);
  EXPECT_EQ(status.high_qc, h.genesis_qc());
  EXPECT_EQ(status.commit_qc, h.genesis_qc());
  EXPECT_FALSE(status.timeout_certificate.has_value());
  EXPECT_EQ(status.committed_height, 0u);
}

// A proposal whose parent is missing: the parent is fetched, its body checked against
// its content root, then the proposal is processed.
TEST_F(SyncTest, FetchesMissingParentAndRejectsBodyNotMatchingContentRoot) {
  h.EnterView(2);
  const Block b1 = h.MakeBlock(h.genesis(), 1);
  const Block b2 = h.MakeBlock(b1, 2);
  const Outputs proposed = h.Receive(2, h.MakeProposal(b2, h.PrepareQc(b1)));
  const auto requests = SendsOf<BlockRequest>(proposed);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].first, 2u);
  EXPECT_EQ(requests[0].second.hashes, std::vector<Hash256>{b1.hash()});
  EXPECT_TRUE(proposed.validate.empty());

  Block forged = b1;  // Same header (and hash), another body.
  forged.body = ReplicaHarness::CandidateBody(4);
  BlockResponse bad;
  bad.blocks = {forged};
  const Outputs rejected = h.Receive(2, bad);
  EXPECT_TRUE(HasRejection(rejected, "does not match its content root"))
      << DescribeRejections(rejected);
  EXPECT_TRUE(rejected.blocks.empty());
  EXPECT_TRUE(rejected.validate.empty());

  BlockResponse good;
  good.blocks = {b1};
  const Outputs fetched = h.Receive(2, good);
  EXPECT_TRUE(fetched.rejections.empty()) << DescribeRejections(fetched);
  ASSERT_FALSE(fetched.blocks.empty());
  EXPECT_EQ(fetched.blocks[0].hash(), b1.hash());
  ASSERT_EQ(fetched.validate.size(), 1u);
  EXPECT_EQ(fetched.validate[0].block.hash(), b2.hash());
}

TEST_F(SyncTest, IgnoresUnrequestedBlocksInBlockResponse) {
  const Block unrequested = h.MakeBlock(h.genesis(), 1);
  Block bad_unrequested = h.MakeBlock(h.genesis(), 1);
  bad_unrequested.body = ReplicaHarness::CandidateBody(1);
  BlockResponse response;
  response.blocks = {unrequested, bad_unrequested};
  const Outputs outputs = h.Receive(2, response);
  EXPECT_TRUE(outputs.rejections.empty()) << DescribeRejections(outputs);
  EXPECT_TRUE(outputs.blocks.empty());

  BlockRequest request;
  request.hashes = {unrequested.hash()};
  const auto answers = SendsOf<BlockResponse>(h.Receive(3, request));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].second.blocks.empty());  // Not stored.
  EXPECT_EQ(answers[0].second.missing, std::vector<Hash256>{unrequested.hash()});
}

// A Commit QC for a block the replica lacks: it asks the QC's sender for the block and
// commits when the block arrives.
TEST_F(SyncTest, FetchesBlockOfCommitQcAndCommitsIt) {
  const Block b1 = h.MakeBlock(h.genesis(), 1);
  const Outputs decided = h.Receive(2, QuorumMessage{h.MakeQc(Phase::kCommit, 1, b1.hash(), 1)});
  const auto requests = SendsOf<BlockRequest>(decided);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].second.hashes, std::vector<Hash256>{b1.hash()});
  EXPECT_EQ(h.replica().view(), 2u);

  BlockResponse response;
  response.blocks = {b1};
  const Outputs fetched = h.Receive(2, response);
  ASSERT_EQ(fetched.commits.size(), 1u);
  EXPECT_EQ(fetched.commits[0].blocks.back().hash(), b1.hash());
  EXPECT_EQ(h.replica().committed_hash(), b1.hash());
  // Regression: the pending Commit QC was once copied into the safety state through a
  // reference that TryCommit had just reset, leaving a corrupt QC to be persisted.
  EXPECT_EQ(h.replica().commit_qc(), h.MakeQc(Phase::kCommit, 1, b1.hash(), 1));
  ASSERT_TRUE(fetched.safety.has_value());
  EXPECT_EQ(fetched.safety->commit_qc, h.MakeQc(Phase::kCommit, 1, b1.hash(), 1));
}

TEST_F(SyncTest, SyncStatusWithValidTimeoutCertificateMovesToNextView) {
  const Outputs moved = h.Receive(2, h.MakeStatus(h.MakeTc(3)));
  EXPECT_TRUE(moved.rejections.empty()) << DescribeRejections(moved);
  EXPECT_EQ(h.replica().view(), 4u);

  EXPECT_TRUE(HasRejection(h.Receive(2, h.MakeStatus(h.MakeTc(6, h.q() - 1))),
                           "invalid timeout certificate"));
  TimeoutCertificate forged = h.MakeTc(6);
  forged.timeouts[0].first.view = 7;  // One timeout of another view.
  EXPECT_TRUE(HasRejection(h.Receive(2, h.MakeStatus(forged)), "invalid timeout certificate"));
  EXPECT_EQ(h.replica().view(), 4u);

  const Outputs stale = h.Receive(2, h.MakeStatus(h.MakeTc(2)));  // Below the current view.
  EXPECT_TRUE(stale.rejections.empty());
  EXPECT_EQ(h.replica().view(), 4u);
}

// Defect fixed: the original's lock went stale (lowered) after a fast-forward.
TEST_F(SyncTest, FastForwardKeepsLockAndLastSignedView) {
  const Hash256 locked_block = h.MakeBlock(h.genesis(), 3).hash();
  h.Receive(1, QuorumMessage{h.MakeQc(Phase::kPreCommit, 3, locked_block, 0)});
  const SafetyState before = h.replica().safety();
  ASSERT_EQ(before.locked_qc.view, 3u);

  const Block decided = DistantBlockWithState(10);
  const Outputs outputs = FastForwardTo(decided, decided);
  EXPECT_TRUE(outputs.rejections.empty()) << DescribeRejections(outputs);
  ASSERT_TRUE(outputs.fast_forward.has_value());
  EXPECT_EQ(outputs.fast_forward->block.hash(), decided.hash());
  EXPECT_EQ(outputs.fast_forward->state, StateOf(10));  // The application installs it.
  EXPECT_EQ(h.replica().committed_hash(), decided.hash());
  EXPECT_EQ(h.replica().committed_height(), 10u);
  EXPECT_EQ(h.replica().commit_qc().view, 10u);
  EXPECT_EQ(h.replica().locked_qc(), before.locked_qc);
  EXPECT_GE(h.replica().safety().HighestSignedView(), before.HighestSignedView());
  ASSERT_TRUE(outputs.safety.has_value());
  EXPECT_EQ(outputs.safety->locked_qc, before.locked_qc);
}

TEST_F(SyncTest, FastForwardRejectsCommitBlockWhoseBodyDoesNotMatchContentRoot) {
  const Block decided = DistantBlockWithState(10);
  Block forged = decided;  // Same header, so it matches the Commit QC's hash.
  forged.body = ReplicaHarness::CandidateBody(99);
  const Outputs outputs = FastForwardTo(decided, forged);
  EXPECT_FALSE(outputs.fast_forward.has_value());
  EXPECT_EQ(h.replica().committed_height(), 0u);
}

// Found on main: while a commit was pending, one unsolicited BlockResponse with a large,
// unauthenticated retained_from_height made the replica jump, leaving it without the
// ledger its next block needed, forever.
TEST_F(SyncTest, UnsolicitedResponseOrPrunedHintNeverFastForwards) {
  const Block decided = DistantBlockWithState(10);
  const QuorumCertificate commit = LearnDecision(decided);
  for (uint32_t peer : {1u, 2u, 3u}) {
    BlockResponse unsolicited = PrunedAnswer(commit, decided, StateOf(10));
    unsolicited.missing = {FilledHash(0x42)};  // Not a hash we asked for.
    unsolicited.retained_from_height = 1'000'000;
    const Outputs outputs = h.Receive(peer, unsolicited);
    EXPECT_FALSE(outputs.fast_forward.has_value());
  }
  EXPECT_EQ(h.replica().committed_height(), 0u);
}

TEST_F(SyncTest, OnePeerSayingMissingIsNotEnoughToJump) {
  const Block decided = DistantBlockWithState(10);
  const QuorumCertificate commit = LearnDecision(decided);
  for (int i = 0; i < 3; ++i) {  // The same (possibly Byzantine) peer, again and again.
    EXPECT_FALSE(h.Receive(2, PrunedAnswer(commit, decided, StateOf(10))).fast_forward);
  }
  EXPECT_EQ(h.replica().committed_height(), 0u);
}

// The state travels with the decision and must hash to its post-state hash; without a
// matching state there is no jump (the member would have nothing to build on).
TEST_F(SyncTest, FastForwardNeedsStateMatchingThePostStateHash) {
  const Block decided = DistantBlockWithState(10);
  EXPECT_FALSE(FastForwardTo(decided, decided, Bytes{1, 2, 3}).fast_forward.has_value());
  EXPECT_EQ(h.replica().committed_height(), 0u);
}

TEST_F(SyncTest, ResponderAttachesStateOfItsDecisionWhenSomethingIsMissing) {
  const Block b1 = h.MakeBlock(h.genesis(), 1);
  h.state_transfer().states[b1.header.post_state_hash] = Bytes{9, 9};
  h.Receive(2, QuorumMessage{h.MakeQc(Phase::kCommit, 1, b1.hash(), 1)});
  BlockResponse served;
  served.blocks = {b1};
  ASSERT_EQ(h.Receive(2, served).commits.size(), 1u);

  BlockRequest request;
  request.hashes = {FilledHash(0x55)};  // Pruned or unknown here.
  const auto answers = SendsOf<BlockResponse>(h.Receive(3, request));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].second.missing, std::vector<Hash256>{FilledHash(0x55)});
  ASSERT_TRUE(answers[0].second.commit_block.has_value());
  EXPECT_EQ(answers[0].second.commit_block->hash(), b1.hash());
  EXPECT_EQ(answers[0].second.commit_state, std::optional<Bytes>(Bytes{9, 9}));
  // The block's own Commit QC travels with it, for shortest certificates.
  request.hashes = {b1.hash()};
  const auto with_qc = SendsOf<BlockResponse>(h.Receive(3, request));
  ASSERT_EQ(with_qc.size(), 1u);
  ASSERT_EQ(with_qc[0].second.block_commit_qcs.size(), 1u);
  EXPECT_EQ(with_qc[0].second.block_commit_qcs[0].block_hash, b1.hash());
}

// Found on main: a member back from an outage committed many blocks under one later
// Commit QC and built certificates of 18 and 25 headers. Blocks fetched with their own
// Commit QCs close their own decisions, so certificates match the other members'.
TEST_F(SyncTest, SyncedBlocksWithOwnCommitQcsCloseTheirOwnDecisions) {
  const Block b1 = h.MakeBlock(h.genesis(), 1, ReplicaHarness::CandidateBody(10));
  const Block b2 = h.MakeBlock(b1, 2);
  const Block b3 = h.MakeBlock(b2, 3);
  const QuorumCertificate qc1 = h.MakeQc(Phase::kCommit, 1, b1.hash(), 1);
  const QuorumCertificate qc3 = h.MakeQc(Phase::kCommit, 3, b3.hash(), 3);
  h.Receive(2, QuorumMessage{qc3});
  BlockResponse response;
  response.blocks = {b3, b2, b1};
  response.block_commit_qcs = {qc1, h.MakeQc(Phase::kCommit, 9, b2.hash(), 9, {0, 1})};
  const Outputs outputs = h.Receive(2, response);
  ASSERT_EQ(outputs.commits.size(), 2u) << "an invalid QC must not split a decision";
  EXPECT_EQ(outputs.commits[0].commit_qc, qc1);
  ASSERT_EQ(outputs.commits[0].blocks.size(), 1u);
  EXPECT_EQ(outputs.commits[0].blocks[0].hash(), b1.hash());
  EXPECT_EQ(outputs.commits[1].commit_qc, qc3);
  ASSERT_EQ(outputs.commits[1].blocks.size(), 2u);
  EXPECT_EQ(h.replica().commit_qc(), qc3);
}

// A commit pending on a block only a silent peer was asked for: every other peer that
// shows the decision is asked too (found while fixing fast-forward: views advancing by
// QCs never time out, so the first peer stayed the only one ever asked).
TEST_F(SyncTest, EachPeerShowingADecisionIsAskedOnce) {
  const Block decided = DistantBlockWithState(10);
  const QuorumCertificate commit =
      h.MakeQc(Phase::kCommit, decided.header.view, decided.hash(), decided.header.view);
  EXPECT_EQ(SendsOf<BlockRequest>(h.Receive(2, QuorumMessage{commit})).size(), 1u);
  EXPECT_TRUE(SendsOf<BlockRequest>(h.Receive(2, QuorumMessage{commit})).empty());
  const auto asked_3 = SendsOf<BlockRequest>(h.Receive(3, QuorumMessage{commit}));
  ASSERT_EQ(asked_3.size(), 1u);
  EXPECT_EQ(asked_3[0].first, 3u);
}

}  // namespace
}  // namespace metronome::bft
