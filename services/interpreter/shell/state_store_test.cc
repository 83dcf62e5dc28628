#include "services/interpreter/shell/state_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/file_util.h"
#include "common/test_support.h"
#include "services/interpreter/core/durable_state.h"

namespace metronome::interpreter {
namespace {

using metronome::testing::MakeCertificateSignedByQuorum;
using metronome::testing::MakeTestCandidate;
using metronome::testing::MakeTestFederation;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(std::getenv("TEST_TMPDIR")) + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str()), 0);
  }

  CheckpointIdentity Offer(CheckpointTracker* tracker, uint64_t height, Descent descent) {
    const Bytes certificate = EncodeCheckpointCertificate(
        MakeCertificateSignedByQuorum(federation_, MakeTestCandidate("devchain", height)));
    Reader reader(certificate);
    const CheckpointIdentity identity = IdentityOf(DecodeCheckpointCertificate(&reader));
    tracker->Decide(identity, certificate, descent);
    return identity;
  }
  TrackerState Frozen() {
    CheckpointTracker tracker;
    Offer(&tracker, 10, Descent::kUnknown);
    Offer(&tracker, 15, Descent::kDoesNotDescend);
    return tracker.state();
  }

  std::string dir_;
  metronome::testing::TestFederation federation_ = MakeTestFederation(4);
};

TEST_F(StateStoreTest, AFreshDirectoryHoldsTheEmptyState) {
  FileTrackerStore store(dir_);
  absl::StatusOr<TrackerState> state = store.Load();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(*state, TrackerState{});
}

TEST_F(StateStoreTest, ASavedStateIsLoadedBackAfterARestart) {
  const TrackerState frozen = Frozen();
  {
    FileTrackerStore store(dir_);
    ASSERT_TRUE(store.Save(frozen).ok());
    ASSERT_TRUE(store.SaveEvidence(frozen.evidence).ok());
  }
  FileTrackerStore reopened(dir_);
  absl::StatusOr<TrackerState> state = reopened.Load();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(*state, frozen);
  absl::StatusOr<std::string> evidence = ReadSmallFile(reopened.evidence_path(), 1 << 20);
  ASSERT_TRUE(evidence.ok());
  EXPECT_EQ(Bytes(evidence->begin(), evidence->end()), frozen.evidence);
}

TEST_F(StateStoreTest, ACorruptedStateFailsToLoadNamingTheFile) {
  FileTrackerStore store(dir_);
  ASSERT_TRUE(store.Save(Frozen()).ok());
  std::ofstream(store.state_path(), std::ios::app) << "x";
  absl::StatusOr<TrackerState> state = store.Load();
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(state.status().message().find(store.state_path()), std::string::npos);
}

TEST_F(StateStoreTest, TheFreezesOwnEvidenceFileClearsItDurably) {
  FileTrackerStore store(dir_);
  TrackerState state = Frozen();
  ASSERT_TRUE(store.Save(state).ok());
  ASSERT_TRUE(store.SaveEvidence(state.evidence).ok());
  absl::StatusOr<bool> cleared = ClearFreezeWithEvidenceFile(store.evidence_path(), &state, &store);
  ASSERT_TRUE(cleared.ok()) << cleared.status();
  EXPECT_TRUE(*cleared);
  EXPECT_FALSE(state.frozen);
  EXPECT_FALSE(store.Load()->frozen);
  // Not frozen any more: the key left in the config changes nothing.
  cleared = ClearFreezeWithEvidenceFile(store.evidence_path(), &state, &store);
  ASSERT_TRUE(cleared.ok());
  EXPECT_FALSE(*cleared);
}

TEST_F(StateStoreTest, AnotherFreezesEvidenceDoesNotClear) {
  FileTrackerStore store(dir_);
  TrackerState state = Frozen();
  ASSERT_TRUE(store.Save(state).ok());
  const std::string other = dir_ + "/other-evidence.bin";
  ASSERT_TRUE(WriteFileAtomically(other, "not this freeze").ok());
  absl::StatusOr<bool> cleared = ClearFreezeWithEvidenceFile(other, &state, &store);
  EXPECT_FALSE(cleared.ok());
  EXPECT_TRUE(state.frozen);
  EXPECT_TRUE(store.Load()->frozen);
  EXPECT_FALSE(ClearFreezeWithEvidenceFile(dir_ + "/missing", &state, &store).ok());
}

}  // namespace
}  // namespace metronome::interpreter
