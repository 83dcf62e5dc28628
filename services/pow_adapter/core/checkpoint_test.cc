// Checkpoint certificates on devchain (DESIGN §5): verified by the chain itself, applied
// only when they extend the latest checkpoint, enforced by fork choice, and frozen when
// two valid ones conflict.
#include <gtest/gtest.h>

#include "services/pow_adapter/core/devchain.h"
#include "services/pow_adapter/core/test_chain.h"

namespace metronome::devchain {
namespace {

using testing::CertifyBlock;
using testing::Extend;
using testing::kFarFutureMs;
using testing::MakeChild;
using testing::ParamsFor;

class CheckpointTest : public ::testing::Test {
 protected:
  CheckpointTest()
      : federation_(metronome::testing::MakeTestFederation(4)),
        chain_(ParamsFor(federation_.federation)) {}

  metronome::testing::TestFederation federation_;
  Devchain chain_;
};

TEST_F(CheckpointTest, AValidCertificateIsAppliedAndRecorded) {
  const BlockEntry& block = Extend(&chain_, chain_.genesis(), 5, "a");
  Extend(&chain_, block, 3, "a");
  const CertificateResult result = chain_.ApplyCertificate(CertifyBlock(federation_, block));
  EXPECT_EQ(result.outcome, CertificateOutcome::kApplied) << result.reason;
  EXPECT_TRUE(result.state_changed);
  EXPECT_FALSE(result.tip.changed);  // Already on the best chain.
  EXPECT_TRUE(chain_.checkpoint_state().has_checkpoint);
  EXPECT_EQ(chain_.checkpoint_state().height, 5u);
  EXPECT_EQ(chain_.checkpoint_state().hash, block.hash);
  EXPECT_TRUE(chain_.enforcing());
}

TEST_F(CheckpointTest, ALongerForkBranchingBelowTheCheckpointIsRefused) {
  const BlockEntry& fork = Extend(&chain_, chain_.genesis(), 3, "honest");
  const BlockEntry& checkpoint = Extend(&chain_, fork, 3, "honest");        // Height 6.
  const BlockEntry& honest_tip = Extend(&chain_, checkpoint, 2, "honest");  // Height 8.
  ASSERT_EQ(chain_.ApplyCertificate(CertifyBlock(federation_, checkpoint)).outcome,
            CertificateOutcome::kApplied);
  // The attacker branches at height 3 and mines 10 blocks: far more work.
  const BlockEntry* attacker = &fork;
  int refused = 0;
  for (int i = 0; i < 10; ++i) {
    const BlockOutcome outcome =
        chain_.AddBlock(MakeChild(chain_, *attacker, "attacker"), kFarFutureMs);
    ASSERT_TRUE(outcome.accepted()) << outcome.reason;
    EXPECT_TRUE(outcome.excluded_by_checkpoint);
    EXPECT_FALSE(outcome.tip.changed);
    refused += outcome.reorg_refused;
    attacker = chain_.Find(outcome.hash);
  }
  EXPECT_EQ(attacker->height, 13u);
  EXPECT_EQ(chain_.tip().hash, honest_tip.hash);
  // Refused from the block that first out-worked the honest chain (height 9) on.
  EXPECT_EQ(refused, 5);
}

TEST_F(CheckpointTest, ALongerForkBranchingAboveTheCheckpointIsAdopted) {
  const BlockEntry& checkpoint = Extend(&chain_, chain_.genesis(), 4, "honest");
  const BlockEntry& fork = Extend(&chain_, checkpoint, 2, "honest");  // Height 6.
  const BlockEntry& honest_tip = Extend(&chain_, fork, 2, "honest");  // Height 8.
  ASSERT_EQ(chain_.ApplyCertificate(CertifyBlock(federation_, checkpoint)).outcome,
            CertificateOutcome::kApplied);
  const BlockEntry& attacker_tip = Extend(&chain_, fork, 5, "attacker");  // Height 11.
  EXPECT_EQ(chain_.tip().hash, attacker_tip.hash);
  EXPECT_FALSE(chain_.OnBestChain(honest_tip));
}

TEST_F(CheckpointTest, ACertificateOnALighterBranchForcesFinality) {
  const BlockEntry& fork = Extend(&chain_, chain_.genesis(), 2, "a");
  const BlockEntry& heavy = Extend(&chain_, fork, 6, "a");
  const BlockEntry& light = Extend(&chain_, fork, 3, "b");
  ASSERT_EQ(chain_.tip().hash, heavy.hash);
  const CertificateResult result = chain_.ApplyCertificate(CertifyBlock(federation_, light));
  EXPECT_EQ(result.outcome, CertificateOutcome::kApplied);
  EXPECT_TRUE(result.tip.changed);
  EXPECT_EQ(result.tip.reorg_depth, 6u);
  EXPECT_EQ(chain_.tip().hash, light.hash);
}

TEST_F(CheckpointTest, ANewerCertificateExtendingTheLatestIsApplied) {
  const BlockEntry& first = Extend(&chain_, chain_.genesis(), 3, "a");
  const BlockEntry& second = Extend(&chain_, first, 3, "a");
  ASSERT_EQ(chain_.ApplyCertificate(CertifyBlock(federation_, first)).outcome,
            CertificateOutcome::kApplied);
  EXPECT_EQ(chain_.ApplyCertificate(CertifyBlock(federation_, second)).outcome,
            CertificateOutcome::kApplied);
  EXPECT_EQ(chain_.checkpoint_state().height, 6u);
}

TEST_F(CheckpointTest, ReplayingAnOlderOrEqualCertificateChangesNothing) {
  const BlockEntry& first = Extend(&chain_, chain_.genesis(), 3, "a");
  const BlockEntry& second = Extend(&chain_, first, 3, "a");
  const Bytes older = CertifyBlock(federation_, first);
  const Bytes newer = CertifyBlock(federation_, second);
  ASSERT_EQ(chain_.ApplyCertificate(older).outcome, CertificateOutcome::kApplied);
  ASSERT_EQ(chain_.ApplyCertificate(newer).outcome, CertificateOutcome::kApplied);
  const CheckpointState before = chain_.checkpoint_state();
  const CertificateResult replay = chain_.ApplyCertificate(older);
  EXPECT_EQ(replay.outcome, CertificateOutcome::kIgnoredOlder);
  EXPECT_FALSE(replay.state_changed);
  const CertificateResult equal = chain_.ApplyCertificate(newer);
  EXPECT_EQ(equal.outcome, CertificateOutcome::kDuplicate);
  EXPECT_EQ(chain_.checkpoint_state(), before);
}

TEST_F(CheckpointTest, DuplicatesAreRecognisedByIdentityNotBytes) {
  const BlockEntry& block = Extend(&chain_, chain_.genesis(), 3, "a");
  ASSERT_EQ(chain_.ApplyCertificate(CertifyBlock(federation_, block)).outcome,
            CertificateOutcome::kApplied);
  // Signed by other members: other bytes, same identity.
  CheckpointCandidate candidate;
  candidate.chain_id = "devchain";
  candidate.pow_height = block.height;
  candidate.pow_block_hash.assign(block.hash.begin(), block.hash.end());
  std::vector<std::pair<uint32_t, SigningKey>> signers;
  for (uint32_t i = 1; i < 4; ++i) signers.emplace_back(i, federation_.keys[i]);
  const Bytes other = EncodeCheckpointCertificate(
      metronome::testing::MakeSignedCertificate(federation_.federation, signers, candidate));
  ASSERT_NE(other, CertifyBlock(federation_, block));
  EXPECT_EQ(chain_.ApplyCertificate(other).outcome, CertificateOutcome::kDuplicate);
}

TEST_F(CheckpointTest, CertificatesOfAnotherFederationOrGarbageAreInvalid) {
  const BlockEntry& block = Extend(&chain_, chain_.genesis(), 3, "a");
  const metronome::testing::TestFederation strangers =
      metronome::testing::MakeTestFederation(4, "devchain", /*seed_base=*/50);
  const CertificateResult foreign = chain_.ApplyCertificate(CertifyBlock(strangers, block));
  EXPECT_EQ(foreign.outcome, CertificateOutcome::kInvalid);
  EXPECT_FALSE(foreign.reason.empty());
  EXPECT_EQ(chain_.ApplyCertificate(Bytes{5, 1, 2}).outcome, CertificateOutcome::kInvalid);
  EXPECT_FALSE(chain_.checkpoint_state().has_checkpoint);
}

TEST_F(CheckpointTest, ACertificateWithAWrongHeightOrHashLengthIsInvalid) {
  const BlockEntry& block = Extend(&chain_, chain_.genesis(), 3, "a");
  CheckpointCandidate candidate;
  candidate.chain_id = "devchain";
  candidate.pow_height = 2;  // The block is at 3.
  candidate.pow_block_hash.assign(block.hash.begin(), block.hash.end());
  const Bytes wrong_height = EncodeCheckpointCertificate(
      metronome::testing::MakeCertificateSignedByQuorum(federation_, candidate));
  EXPECT_EQ(chain_.ApplyCertificate(wrong_height).outcome, CertificateOutcome::kInvalid);
  candidate.pow_height = 3;
  candidate.pow_block_hash.resize(20);
  const Bytes short_hash = EncodeCheckpointCertificate(
      metronome::testing::MakeCertificateSignedByQuorum(federation_, candidate));
  EXPECT_EQ(chain_.ApplyCertificate(short_hash).outcome, CertificateOutcome::kInvalid);
}

TEST_F(CheckpointTest, ACertificateForAnUnknownBlockIsNotAppliedYet) {
  Devchain other(ParamsFor(federation_.federation));
  const BlockEntry& elsewhere = Extend(&other, other.genesis(), 3, "z");
  const Bytes certificate = CertifyBlock(federation_, elsewhere);
  const CertificateResult result = chain_.ApplyCertificate(certificate);
  EXPECT_EQ(result.outcome, CertificateOutcome::kUnknownBlock);
  EXPECT_FALSE(chain_.checkpoint_state().has_checkpoint);
  // Once the block arrives, the same certificate applies.
  for (uint64_t height = 1; height <= 3; ++height) {
    ASSERT_TRUE(chain_.AddBlock(other.BestChainAt(height)->block, kFarFutureMs).accepted());
  }
  EXPECT_EQ(chain_.ApplyCertificate(certificate).outcome, CertificateOutcome::kApplied);
}

TEST_F(CheckpointTest, ConflictingCertificatesFreezeAtTheCommonAncestor) {
  const BlockEntry& fork = Extend(&chain_, chain_.genesis(), 3, "a");
  const BlockEntry& a = Extend(&chain_, fork, 2, "a");
  const BlockEntry& b = Extend(&chain_, fork, 4, "b");
  const Bytes certificate_a = CertifyBlock(federation_, a);
  const Bytes certificate_b = CertifyBlock(federation_, b);
  ASSERT_EQ(chain_.ApplyCertificate(certificate_a).outcome, CertificateOutcome::kApplied);
  EXPECT_EQ(chain_.tip().hash, a.hash);
  const CertificateResult conflict = chain_.ApplyCertificate(certificate_b);
  EXPECT_EQ(conflict.outcome, CertificateOutcome::kConflict);
  EXPECT_TRUE(conflict.state_changed);
  const CheckpointState& state = chain_.checkpoint_state();
  EXPECT_TRUE(state.frozen);
  EXPECT_EQ(state.hash, fork.hash);
  EXPECT_EQ(state.height, 3u);
  // Fork choice now follows the most work above the common ancestor: b's branch.
  EXPECT_EQ(chain_.tip().hash, b.hash);
  std::string error;
  const std::optional<FreezeEvidence> evidence = DecodeFreezeEvidence(state.evidence, &error);
  ASSERT_TRUE(evidence) << error;
  EXPECT_EQ(evidence->applied, certificate_a);
  EXPECT_EQ(evidence->conflicting, certificate_b);
}

TEST_F(CheckpointTest, WhileFrozenCertificatesAreCountedButNotApplied) {
  const BlockEntry& fork = Extend(&chain_, chain_.genesis(), 3, "a");
  const BlockEntry& a = Extend(&chain_, fork, 2, "a");
  const BlockEntry& b = Extend(&chain_, fork, 2, "b");
  ASSERT_EQ(chain_.ApplyCertificate(CertifyBlock(federation_, a)).outcome,
            CertificateOutcome::kApplied);
  ASSERT_EQ(chain_.ApplyCertificate(CertifyBlock(federation_, b)).outcome,
            CertificateOutcome::kConflict);
  const CheckpointState frozen = chain_.checkpoint_state();
  const BlockEntry& later = Extend(&chain_, b, 3, "b");
  EXPECT_EQ(chain_.ApplyCertificate(CertifyBlock(federation_, later)).outcome,
            CertificateOutcome::kIgnoredFrozen);
  EXPECT_EQ(chain_.checkpoint_state(), frozen);
}

TEST_F(CheckpointTest, ClearFreezeNeedsTheFreezesEvidenceAndThenCertificatesApplyAgain) {
  const BlockEntry& fork = Extend(&chain_, chain_.genesis(), 3, "a");
  const BlockEntry& a = Extend(&chain_, fork, 2, "a");
  const BlockEntry& b = Extend(&chain_, fork, 2, "b");
  std::string reason;
  EXPECT_FALSE(chain_.ClearFreeze(Bytes{}, &reason));
  EXPECT_EQ(reason, "finality is not frozen");
  ASSERT_EQ(chain_.ApplyCertificate(CertifyBlock(federation_, a)).outcome,
            CertificateOutcome::kApplied);
  ASSERT_EQ(chain_.ApplyCertificate(CertifyBlock(federation_, b)).outcome,
            CertificateOutcome::kConflict);
  const Bytes evidence = chain_.checkpoint_state().evidence;
  EXPECT_FALSE(chain_.ClearFreeze(Bytes{1, 2, 3}, &reason));
  EXPECT_TRUE(chain_.checkpoint_state().frozen);
  ASSERT_TRUE(chain_.ClearFreeze(evidence, &reason)) << reason;
  EXPECT_FALSE(chain_.checkpoint_state().frozen);
  EXPECT_EQ(chain_.checkpoint_state().hash, fork.hash);
  const BlockEntry& later = Extend(&chain_, b, 2, "b");
  EXPECT_EQ(chain_.ApplyCertificate(CertifyBlock(federation_, later)).outcome,
            CertificateOutcome::kApplied);
}

TEST_F(CheckpointTest, CheckpointingOffRecordsCertificatesButDoesNotEnforceThem) {
  ChainParams params = ParamsFor(federation_.federation);
  params.checkpointing = false;
  Devchain chain(params);
  const BlockEntry& fork = Extend(&chain, chain.genesis(), 2, "honest");
  const BlockEntry& checkpoint = Extend(&chain, fork, 2, "honest");
  ASSERT_EQ(chain.ApplyCertificate(CertifyBlock(federation_, checkpoint)).outcome,
            CertificateOutcome::kApplied);
  EXPECT_FALSE(chain.enforcing());
  const BlockEntry& attacker = Extend(&chain, fork, 5, "attacker");
  EXPECT_EQ(chain.tip().hash, attacker.hash);
}

TEST_F(CheckpointTest, RestoringAStateReappliesItsForkChoice) {
  const BlockEntry& fork = Extend(&chain_, chain_.genesis(), 2, "honest");
  const BlockEntry& checkpoint = Extend(&chain_, fork, 2, "honest");
  Extend(&chain_, fork, 5, "attacker");
  ASSERT_EQ(chain_.ApplyCertificate(CertifyBlock(federation_, checkpoint)).outcome,
            CertificateOutcome::kApplied);
  const Bytes persisted = EncodeCheckpointState(chain_.checkpoint_state());

  Devchain restarted(ParamsFor(federation_.federation));
  for (size_t i = 1; i < chain_.block_count(); ++i) {
    ASSERT_TRUE(restarted.AddBlock(chain_.InArrivalOrder(i).block, kFarFutureMs).accepted());
  }
  EXPECT_NE(restarted.tip().hash, checkpoint.hash);  // Most work, no checkpoint yet.
  std::string error;
  const std::optional<CheckpointState> state = DecodeCheckpointState(persisted, &error);
  ASSERT_TRUE(state) << error;
  ASSERT_TRUE(restarted.RestoreCheckpointState(*state, &error)) << error;
  EXPECT_EQ(restarted.tip().hash, checkpoint.hash);
  EXPECT_EQ(restarted.checkpoint_state(), chain_.checkpoint_state());
}

TEST_F(CheckpointTest, RestoringAStateWhoseBlockIsMissingFailsWithAReason) {
  CheckpointState state;
  state.has_checkpoint = true;
  state.height = 9;
  state.hash.fill(3);
  std::string error;
  EXPECT_FALSE(chain_.RestoreCheckpointState(state, &error));
  EXPECT_NE(error.find("not in the tree"), std::string::npos);
}

TEST(CheckpointStateTest, EncodingsRoundTripAndRejectGarbage) {
  CheckpointState state;
  state.has_checkpoint = true;
  state.height = 12;
  state.hash.fill(9);
  state.certificate = Bytes{5, 1, 2, 3};
  state.frozen = true;
  state.evidence = EncodeFreezeEvidence(FreezeEvidence{Bytes{1}, Bytes{2}});
  std::string error;
  const std::optional<CheckpointState> decoded =
      DecodeCheckpointState(EncodeCheckpointState(state), &error);
  ASSERT_TRUE(decoded) << error;
  EXPECT_EQ(*decoded, state);
  EXPECT_FALSE(DecodeCheckpointState(Bytes{103, 1, 2}, &error));
  EXPECT_FALSE(DecodeFreezeEvidence(Bytes{102, 1}, &error));
}

}  // namespace
}  // namespace metronome::devchain
