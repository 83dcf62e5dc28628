// What a Byzantine member can send the core, each found on main by a test or a real
// process run: validly signed votes with out-of-range phases (the leader aborted),
// a high QC raised while the leader's body was being built (a proposal honest replicas
// refuse), and the missing-safety-state rule of DESIGN §3 (a wiped member signed again
// from view 1). Stash quotas are in replica_pacemaker_test.cc, fast-forward attacks in
// replica_sync_test.cc.
#include <gtest/gtest.h>

#include "services/bft/core/replica_test_harness.h"

namespace metronome::bft {
namespace {

using testing::DescribeRejections;
using testing::HasRejection;
using testing::ReplicaHarness;
using testing::SendsOf;
using testing::VotesIn;

// Found on main: votes signed with phases 4, 5, ... for the current view aborted the
// leader (CollectVote asserted voters_.size() <= 3n). Repeated each view, a crash loop.
TEST(HostileInputTest, VotesWithOutOfRangePhasesAreRejectedAndTheLeaderGoesOn) {
  ReplicaHarness h(/*self=*/1);  // Leader of view 1.
  h.Start();
  const Hash256 block = h.MakeBlock(h.genesis(), 1).hash();
  for (uint32_t signer : {0u, 2u, 3u}) {
    for (int phase = 0; phase <= 255; ++phase) {
      if (phase >= 1 && phase <= 3) continue;
      const Vote vote = h.MakeVote(signer, static_cast<Phase>(phase), 1, block, 0);
      const Outputs outputs = h.Receive(signer, vote);
      ASSERT_TRUE(HasRejection(outputs, "phase out of range")) << DescribeRejections(outputs);
    }
  }
  Outputs outputs;
  for (uint32_t signer : {0u, 2u, 3u}) {
    outputs = h.Receive(signer, h.MakeVote(signer, Phase::kPrepare, 1, block, 0));
  }
  ASSERT_EQ(SendsOf<QuorumMessage>(outputs).size(), 1u);
  EXPECT_EQ(h.replica().high_qc().view, 1u);
}

// The canonical decoders refuse such votes and QCs before the core sees them.
TEST(HostileInputTest, DecodersRefuseNonVotingPhases) {
  for (int phase : {0, 4, 5, 255}) {
    VoteStatement statement{1, static_cast<Phase>(phase), 3, {}, 2};
    const Bytes encoded = EncodeVoteStatement(statement);
    Reader reader(encoded);
    DecodeVoteStatement(&reader);
    EXPECT_FALSE(reader.ok()) << "phase " << phase;
    QuorumCertificate qc;
    qc.phase = static_cast<Phase>(phase);
    const Bytes qc_bytes = EncodeQuorumCertificate(qc);
    Reader qc_reader(qc_bytes);
    DecodeQuorumCertificate(&qc_reader);
    EXPECT_FALSE(qc_reader.ok()) << "phase " << phase;
    EXPECT_NE(qc_reader.error().find("not a voting phase"), std::string::npos);
  }
}

// Found on main: a leader whose high QC rose while the application built its body
// proposed that body (and post-state) on the new parent; honest replicas refused it as
// post_state_mismatch. The body is asked for again, for the new parent.
TEST(HostileInputTest, BodyBuiltForAnOldParentIsNeverProposed) {
  ReplicaHarness h(/*self=*/1);  // Leader of view 5.
  h.Start();
  h.EnterView(5);  // By a timeout certificate naming genesis QCs.
  const Outputs asked = h.replica().OnCandidatePending();
  ASSERT_TRUE(asked.create_body.has_value());
  EXPECT_EQ(asked.create_body->parent_hash, h.genesis().hash());

  const Block b3 = h.MakeBlock(h.genesis(), 3);
  h.Receive(2, h.MakeNewView(2, 5, h.PrepareQc(b3)));  // Raises the high QC to view 3.
  ASSERT_EQ(h.replica().high_qc().view, 3u);

  const Outputs stale = h.replica().OnBodyCreated(5, Body{}, testing::FilledHash(1));
  EXPECT_TRUE(SendsOf<Proposal>(stale).empty()) << "a body built for genesis was proposed";
  // b3 is unknown here: it is fetched, then the body is asked for again on it.
  const auto requests = SendsOf<BlockRequest>(stale);
  ASSERT_FALSE(requests.empty());
  BlockResponse response;
  response.blocks = {b3};
  const Outputs fetched =
      h.Receive(requests[0].first == kBroadcast ? 2 : requests[0].first, response);
  ASSERT_TRUE(fetched.create_body.has_value());
  EXPECT_EQ(fetched.create_body->parent_hash, b3.hash());
  const Outputs proposed = h.replica().OnBodyCreated(5, Body{}, testing::FilledHash(2));
  const auto proposals = SendsOf<Proposal>(proposed);
  ASSERT_EQ(proposals.size(), 1u);
  EXPECT_EQ(proposals[0].second.statement.header.parent_hash, b3.hash());
}

// ---- DESIGN §3: a key without its safety state. ----

RestoredState Lost() {
  RestoredState restored;
  restored.safety_state_lost = true;
  return restored;
}

SyncStatus StatusProving(const ReplicaHarness& h, const QuorumCertificate& high_qc) {
  SyncStatus status = h.MakeStatus();
  status.high_qc = high_qc;
  status.view = high_qc.view + 1;
  return status;
}

// Found on main: a member restarted with an empty database signed again from view 1.
TEST(SafetyStateLostTest, SignsNothingUntilAQcAboveTheReportedViewsWithoutItself) {
  ReplicaHarness h(/*self=*/0);
  const Outputs started = h.Start(Lost());
  EXPECT_TRUE(started.signed_log.empty());
  EXPECT_FALSE(h.replica().signing());
  EXPECT_FALSE(h.replica().waiting_for_qc_above().has_value());

  const Block b6 = h.MakeBlock(h.genesis(), 6);
  const QuorumCertificate qc6 = h.PrepareQc(b6, {1, 2, 3});
  h.Receive(1, StatusProving(h, qc6));
  h.Receive(2, StatusProving(h, h.genesis_qc()));  // Reports less than it knows: harmless.
  ASSERT_EQ(h.replica().waiting_for_qc_above(), std::optional<uint64_t>(6));

  // A proposal of view 7 (led by member 3): validated, but not voted for.
  const Block b7 = h.MakeBlock(b6, 7);
  h.Receive(3, h.MakeProposal(b7, qc6));
  EXPECT_TRUE(h.Validated(b7).signed_log.empty());
  // A QC above 6 that carries our own signature proves nothing about our old self.
  EXPECT_TRUE(h.Receive(3, QuorumMessage{h.MakeQc(Phase::kPrepare, 7, b7.hash(), 6, {0, 1, 2})})
                  .signed_log.empty());
  EXPECT_FALSE(h.replica().signing());
  // Timeouts of the waiting member are not signed either.
  EXPECT_TRUE(h.replica().OnTimer(TimerKind::kView, h.replica().view()).signed_log.empty());

  const Block b8 = h.MakeBlock(b7, 8);
  h.Receive(1, QuorumMessage{h.MakeQc(Phase::kPrepare, 8, b8.hash(), 7, {1, 2, 3})});
  EXPECT_TRUE(h.replica().signing());
  // Signing again: the next view's new-view goes out.
  const Outputs next =
      h.Receive(1, QuorumMessage{h.MakeQc(Phase::kPrepare, 9, b8.hash(), 8, {1, 2, 3})});
  EXPECT_FALSE(next.signed_log.empty());
}

// A new federation: every member starts without safety state; q members proving
// nothing beyond genesis means nothing was signed that could conflict.
TEST(SafetyStateLostTest, GenesisReportsFromAQuorumReleaseAtOnce) {
  ReplicaHarness h(/*self=*/0);
  h.Start(Lost());
  h.Receive(1, h.MakeStatus());
  EXPECT_FALSE(h.replica().signing());
  h.Receive(2, h.MakeStatus());  // With our own: q = 3 reports.
  EXPECT_TRUE(h.replica().signing());
}

// One Byzantine member's report cannot stall the restart: it cannot prove a view it
// did not reach (its QC would not verify), and q honest reports suffice.
TEST(SafetyStateLostTest, AForgedHighReportIsRefusedAndCannotStall) {
  ReplicaHarness h(/*self=*/0);
  h.Start(Lost());
  QuorumCertificate forged = h.PrepareQc(h.MakeBlock(h.genesis(), 1000), {3});  // One signer.
  const Outputs refused = h.Receive(3, StatusProving(h, forged));
  EXPECT_TRUE(HasRejection(refused, "invalid QC")) << DescribeRejections(refused);
  const Block b4 = h.MakeBlock(h.genesis(), 4);
  h.Receive(1, StatusProving(h, h.PrepareQc(b4, {1, 2, 3})));
  h.Receive(2, StatusProving(h, h.PrepareQc(b4, {1, 2, 3})));
  EXPECT_EQ(h.replica().waiting_for_qc_above(), std::optional<uint64_t>(4));
  h.Receive(1, QuorumMessage{h.MakeQc(Phase::kPrepare, 5, b4.hash(), 4, {1, 2, 3})});
  EXPECT_TRUE(h.replica().signing());
}

}  // namespace
}  // namespace metronome::bft
