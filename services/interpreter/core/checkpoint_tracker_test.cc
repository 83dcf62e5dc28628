#include "services/interpreter/core/checkpoint_tracker.h"

#include <gtest/gtest.h>

#include "services/interpreter/core/durable_state.h"

namespace metronome::interpreter {
namespace {

// The tracker takes identities and bytes the shell has verified; distinct bytes per
// identity are enough here (the durable-state test uses real certificates).
CheckpointIdentity Identity(uint64_t height, uint8_t fill) {
  return CheckpointIdentity{"devchain", height, Bytes(32, fill)};
}
Bytes CertificateBytes(uint64_t height, uint8_t fill, uint8_t variant = 0) {
  return Bytes{5, 1, static_cast<uint8_t>(height), fill, variant};
}

CertificateDecision Offer(CheckpointTracker* tracker, uint64_t height, uint8_t fill,
                          Descent descent = Descent::kUnknown, uint8_t variant = 0) {
  return tracker->Decide(Identity(height, fill), CertificateBytes(height, fill, variant), descent);
}

TEST(CheckpointTrackerTest, TheFirstCertificateIsAppliedWithoutAskingTheChain) {
  CheckpointTracker tracker;
  EXPECT_FALSE(tracker.NeedsDescent(Identity(10, 1)));
  const CertificateDecision decision = Offer(&tracker, 10, 1);
  EXPECT_EQ(decision.outcome, CertificateOutcome::kApplied);
  EXPECT_TRUE(decision.state_changed);
  EXPECT_TRUE(decision.forward_to_adapter);
  ASSERT_TRUE(tracker.latest());
  EXPECT_EQ(tracker.latest()->identity, Identity(10, 1));
  EXPECT_EQ(tracker.latest()->certificate, CertificateBytes(10, 1));
  EXPECT_FALSE(tracker.state().adapter_acknowledged);
}

TEST(CheckpointTrackerTest, AHigherDescendingCertificateBecomesTheLatest) {
  CheckpointTracker tracker;
  Offer(&tracker, 10, 1);
  EXPECT_TRUE(tracker.NeedsDescent(Identity(15, 2)));
  const CertificateDecision decision = Offer(&tracker, 15, 2, Descent::kDescends);
  EXPECT_EQ(decision.outcome, CertificateOutcome::kApplied);
  EXPECT_TRUE(decision.forward_to_adapter);
  EXPECT_EQ(tracker.latest()->identity, Identity(15, 2));
}

TEST(CheckpointTrackerTest, ARedeliveryOfTheLatestIsADuplicateEvenWithOtherBytes) {
  CheckpointTracker tracker;
  Offer(&tracker, 10, 1);
  const TrackerState before = tracker.state();
  // Duplicates are recognised by identity, not bytes (another QC, same candidate).
  const CertificateDecision decision = Offer(&tracker, 10, 1, Descent::kUnknown, /*variant=*/7);
  EXPECT_EQ(decision.outcome, CertificateOutcome::kDuplicate);
  EXPECT_FALSE(decision.state_changed);
  EXPECT_FALSE(decision.forward_to_adapter);
  EXPECT_EQ(tracker.state(), before);
}

TEST(CheckpointTrackerTest, AReplayedOlderCertificateIsIgnoredAndNeverForwarded) {
  CheckpointTracker tracker;
  Offer(&tracker, 10, 1);
  Offer(&tracker, 15, 2, Descent::kDescends);
  const TrackerState before = tracker.state();
  EXPECT_FALSE(tracker.NeedsDescent(Identity(10, 1)));
  // The one applied before, and an older one from anywhere: neither asks the chain.
  for (const CertificateDecision& decision :
       {Offer(&tracker, 10, 1), Offer(&tracker, 3, 9, Descent::kDoesNotDescend)}) {
    EXPECT_EQ(decision.outcome, CertificateOutcome::kIgnored);
    EXPECT_FALSE(decision.state_changed);
    EXPECT_FALSE(decision.forward_to_adapter);
  }
  EXPECT_EQ(tracker.state(), before);
}

TEST(CheckpointTrackerTest, AHigherCertificateOfUnknownDescentIsPendingAndChangesNothing) {
  CheckpointTracker tracker;
  Offer(&tracker, 10, 1);
  const TrackerState before = tracker.state();
  const CertificateDecision decision = Offer(&tracker, 15, 2, Descent::kUnknown);
  EXPECT_EQ(decision.outcome, CertificateOutcome::kPending);
  EXPECT_FALSE(decision.state_changed);
  EXPECT_FALSE(decision.forward_to_adapter);
  EXPECT_EQ(tracker.state(), before);
  // Once the chain side knows, the redelivery applies.
  EXPECT_EQ(Offer(&tracker, 15, 2, Descent::kDescends).outcome, CertificateOutcome::kApplied);
}

TEST(CheckpointTrackerTest, AHigherCertificateOffTheLatestsChainFreezesWithBothAsEvidence) {
  CheckpointTracker tracker;
  Offer(&tracker, 10, 1);
  const CertificateDecision decision = Offer(&tracker, 15, 2, Descent::kDoesNotDescend);
  EXPECT_EQ(decision.outcome, CertificateOutcome::kConflict);
  EXPECT_TRUE(decision.state_changed);
  EXPECT_FALSE(decision.forward_to_adapter);
  EXPECT_TRUE(tracker.frozen());
  // The latest stays: the common ancestor is the chain side's business.
  EXPECT_EQ(tracker.latest()->identity, Identity(10, 1));
  std::string error;
  const std::optional<FreezeEvidence> evidence =
      DecodeFreezeEvidence(tracker.state().evidence, &error);
  ASSERT_TRUE(evidence) << error;
  EXPECT_EQ(evidence->applied, CertificateBytes(10, 1));
  EXPECT_EQ(evidence->conflicting, CertificateBytes(15, 2));
}

TEST(CheckpointTrackerTest, AnotherBlockAtTheLatestHeightIsAConflict) {
  CheckpointTracker tracker;
  Offer(&tracker, 10, 1);
  EXPECT_FALSE(tracker.NeedsDescent(Identity(10, 2)));
  const CertificateDecision decision = Offer(&tracker, 10, 2);
  EXPECT_EQ(decision.outcome, CertificateOutcome::kConflict);
  EXPECT_TRUE(tracker.frozen());
  EXPECT_EQ(tracker.latest()->identity, Identity(10, 1));
}

TEST(CheckpointTrackerTest, WhileFrozenCertificatesAreCountedButNotApplied) {
  CheckpointTracker tracker;
  Offer(&tracker, 10, 1);
  Offer(&tracker, 15, 2, Descent::kDoesNotDescend);
  const TrackerState frozen = tracker.state();
  EXPECT_FALSE(tracker.NeedsDescent(Identity(20, 3)));
  for (const CertificateDecision& decision : {Offer(&tracker, 20, 3, Descent::kDescends),
                                              Offer(&tracker, 15, 2), Offer(&tracker, 5, 4)}) {
    EXPECT_EQ(decision.outcome, CertificateOutcome::kIgnoredFrozen);
    EXPECT_FALSE(decision.state_changed);
    EXPECT_FALSE(decision.forward_to_adapter);
  }
  // The latest's redelivery is still recognised as such.
  EXPECT_EQ(Offer(&tracker, 10, 1).outcome, CertificateOutcome::kDuplicate);
  EXPECT_EQ(tracker.state(), frozen);
}

TEST(CheckpointTrackerTest, OnlyTheFreezesOwnEvidenceClearsIt) {
  CheckpointTracker tracker;
  std::string reason;
  EXPECT_FALSE(tracker.ClearFreeze(Bytes{1}, &reason));
  EXPECT_EQ(reason, "not frozen");
  Offer(&tracker, 10, 1);
  Offer(&tracker, 15, 2, Descent::kDoesNotDescend);
  const Bytes evidence = tracker.state().evidence;
  EXPECT_FALSE(tracker.ClearFreeze(Bytes{1, 2, 3}, &reason));
  EXPECT_EQ(reason, "the evidence is not that of the current freeze");
  EXPECT_TRUE(tracker.frozen());
  EXPECT_TRUE(tracker.ClearFreeze(evidence, &reason));
  EXPECT_FALSE(tracker.frozen());
  EXPECT_TRUE(tracker.state().evidence.empty());
  // Certificates extending the latest apply again.
  EXPECT_EQ(Offer(&tracker, 20, 3, Descent::kDescends).outcome, CertificateOutcome::kApplied);
}

TEST(CheckpointTrackerTest, TheAdaptersDurableAcknowledgementIsRecordedForTheLatestOnly) {
  CheckpointTracker tracker;
  EXPECT_FALSE(tracker.OnAdapterAcknowledged(Identity(10, 1)));
  Offer(&tracker, 10, 1);
  EXPECT_FALSE(tracker.OnAdapterAcknowledged(Identity(10, 2)));
  EXPECT_TRUE(tracker.OnAdapterAcknowledged(Identity(10, 1)));
  EXPECT_TRUE(tracker.state().adapter_acknowledged);
  EXPECT_FALSE(tracker.OnAdapterAcknowledged(Identity(10, 1))) << "already recorded";
  // A new latest needs its own acknowledgement.
  Offer(&tracker, 15, 2, Descent::kDescends);
  EXPECT_FALSE(tracker.state().adapter_acknowledged);
  EXPECT_FALSE(tracker.OnAdapterAcknowledged(Identity(10, 1)));
}

TEST(CheckpointTrackerTest, OutcomesHaveStableNames) {
  EXPECT_STREQ(CertificateOutcomeName(CertificateOutcome::kApplied), "applied");
  EXPECT_STREQ(CertificateOutcomeName(CertificateOutcome::kDuplicate), "duplicate");
  EXPECT_STREQ(CertificateOutcomeName(CertificateOutcome::kIgnored), "ignored");
  EXPECT_STREQ(CertificateOutcomeName(CertificateOutcome::kIgnoredFrozen), "ignored_frozen");
  EXPECT_STREQ(CertificateOutcomeName(CertificateOutcome::kPending), "pending");
  EXPECT_STREQ(CertificateOutcomeName(CertificateOutcome::kConflict), "conflict");
}

}  // namespace
}  // namespace metronome::interpreter
