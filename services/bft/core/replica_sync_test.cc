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

  // Makes the replica (in view 1) decide `decided` by a Commit QC it has no block for,
  // then answers its block request as a peer that pruned those blocks would.
  Outputs FastForwardTo(const Block& decided, const Block& served) {
    const QuorumCertificate commit =
        h.MakeQc(Phase::kCommit, decided.header.view, decided.hash(), decided.header.view);
    h.Receive(2, QuorumMessage{commit});
    BlockResponse response;
    response.missing = {decided.hash()};
    response.retained_from_height = decided.header.height - 5;
    response.commit_qc = commit;
    response.commit_block = served;
    return h.Receive(2, response);
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

  const Block decided = DistantBlock(10);
  const Outputs outputs = FastForwardTo(decided, decided);
  EXPECT_TRUE(outputs.rejections.empty()) << DescribeRejections(outputs);
  ASSERT_TRUE(outputs.fast_forward.has_value());
  EXPECT_EQ(outputs.fast_forward->block.hash(), decided.hash());
  EXPECT_EQ(h.replica().committed_hash(), decided.hash());
  EXPECT_EQ(h.replica().committed_height(), 10u);
  EXPECT_EQ(h.replica().commit_qc().view, 10u);
  EXPECT_EQ(h.replica().locked_qc(), before.locked_qc);
  EXPECT_GE(h.replica().safety().HighestSignedView(), before.HighestSignedView());
  ASSERT_TRUE(outputs.safety.has_value());
  EXPECT_EQ(outputs.safety->locked_qc, before.locked_qc);
}

TEST_F(SyncTest, FastForwardRejectsCommitBlockWhoseBodyDoesNotMatchContentRoot) {
  const Block decided = DistantBlock(10);
  Block forged = decided;  // Same header, so it matches the Commit QC's hash.
  forged.body = ReplicaHarness::CandidateBody(99);
  const Outputs outputs = FastForwardTo(decided, forged);
  EXPECT_FALSE(outputs.fast_forward.has_value());
  EXPECT_EQ(h.replica().committed_height(), 0u);
}

}  // namespace
}  // namespace metronome::bft
