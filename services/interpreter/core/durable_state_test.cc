#include "services/interpreter/core/durable_state.h"

#include <gtest/gtest.h>

#include "common/test_support.h"

namespace metronome::interpreter {
namespace {

using metronome::testing::MakeCertificateSignedByQuorum;
using metronome::testing::MakeTestCandidate;
using metronome::testing::MakeTestFederation;

class DurableStateTest : public ::testing::Test {
 protected:
  Bytes Certificate(uint64_t height) {
    return EncodeCheckpointCertificate(
        MakeCertificateSignedByQuorum(federation_, MakeTestCandidate("devchain", height)));
  }
  TrackerState Applied(uint64_t height) {
    CheckpointTracker tracker;
    const Bytes certificate = Certificate(height);
    Reader reader(certificate);
    tracker.Decide(IdentityOf(DecodeCheckpointCertificate(&reader)), certificate,
                   Descent::kUnknown);
    return tracker.state();
  }
  TrackerState Frozen() {
    CheckpointTracker tracker(Applied(10));
    const Bytes certificate = Certificate(15);
    Reader reader(certificate);
    tracker.Decide(IdentityOf(DecodeCheckpointCertificate(&reader)), certificate,
                   Descent::kDoesNotDescend);
    return tracker.state();
  }
  std::optional<TrackerState> Decode(const Bytes& bytes) {
    error_.clear();
    return DecodeTrackerState(bytes, &error_);
  }

  metronome::testing::TestFederation federation_ = MakeTestFederation(4);
  std::string error_;
};

TEST_F(DurableStateTest, EveryTrackerStateRoundTrips) {
  TrackerState acknowledged = Applied(10);
  acknowledged.adapter_acknowledged = true;
  for (const TrackerState& state : {TrackerState{}, Applied(10), acknowledged, Frozen()}) {
    const std::optional<TrackerState> decoded = Decode(EncodeTrackerState(state));
    ASSERT_TRUE(decoded) << error_;
    EXPECT_EQ(*decoded, state);
  }
}

TEST_F(DurableStateTest, TheIdentityIsRecomputedFromTheCertificateBytes) {
  const std::optional<TrackerState> decoded = Decode(EncodeTrackerState(Applied(42)));
  ASSERT_TRUE(decoded && decoded->latest) << error_;
  EXPECT_EQ(decoded->latest->identity.pow_height, 42u);
  EXPECT_EQ(decoded->latest->identity.chain_id, "devchain");
  EXPECT_EQ(decoded->latest->identity.pow_block_hash,
            MakeTestCandidate("devchain", 42).pow_block_hash);
}

TEST_F(DurableStateTest, TheEmptyStateHasAFixedEncoding) {
  EXPECT_EQ(EncodeTrackerState(TrackerState{}), (Bytes{110, 1, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_F(DurableStateTest, TruncationTrailingBytesAndWrongKindsAreRejected) {
  const Bytes good = EncodeTrackerState(Applied(10));
  for (size_t size = 0; size < good.size(); ++size) {
    EXPECT_FALSE(Decode(Bytes(good.begin(), good.begin() + size))) << "truncated at " << size;
  }
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_FALSE(Decode(trailing));
  Bytes wrong_kind = good;
  wrong_kind[0] = kFreezeEvidenceKind;
  EXPECT_FALSE(Decode(wrong_kind));
  Bytes wrong_version = good;
  wrong_version[1] = 2;
  EXPECT_FALSE(Decode(wrong_version));
  EXPECT_NE(error_.find("kind/version"), std::string::npos) << error_;
}

TEST_F(DurableStateTest, FlagsOtherThanZeroOrOneAreRejected) {
  Bytes bytes = EncodeTrackerState(TrackerState{});
  bytes[2] = 2;  // has_latest
  EXPECT_FALSE(Decode(bytes));
  EXPECT_NE(error_.find("has_latest"), std::string::npos) << error_;
}

TEST_F(DurableStateTest, AnUndecodableCertificateIsRejected) {
  TrackerState state = Applied(10);
  state.latest->certificate.back() ^= 0xff;  // Breaks the QC's bitmap or a length.
  state.latest->certificate.push_back(0);    // And a trailing byte, for certain.
  EXPECT_FALSE(Decode(EncodeTrackerState(state)));
  EXPECT_NE(error_.find("latest certificate"), std::string::npos) << error_;
}

TEST_F(DurableStateTest, InconsistentFlagsAreRejected) {
  // Frozen or acknowledged without a latest checkpoint.
  EXPECT_FALSE(Decode(Bytes{110, 1, 0, 1, 0, 0, 0, 0, 0}));
  EXPECT_FALSE(Decode(Bytes{110, 1, 0, 0, 1, 0, 0, 0, 0}));
  // Frozen without decodable evidence; evidence without a freeze.
  TrackerState state = Frozen();
  state.evidence = Bytes{1, 2, 3};
  EXPECT_FALSE(Decode(EncodeTrackerState(state)));
  EXPECT_NE(error_.find("evidence"), std::string::npos) << error_;
  state = Applied(10);
  state.evidence = Frozen().evidence;
  EXPECT_FALSE(Decode(EncodeTrackerState(state)));
}

TEST_F(DurableStateTest, FreezeEvidenceRoundTripsAndHasTheAdaptersLayout) {
  const FreezeEvidence evidence{Certificate(10), Certificate(15)};
  const Bytes encoded = EncodeFreezeEvidence(evidence);
  EXPECT_EQ(encoded[0], 102);
  EXPECT_EQ(encoded[1], 1);
  std::string error;
  const std::optional<FreezeEvidence> decoded = DecodeFreezeEvidence(encoded, &error);
  ASSERT_TRUE(decoded) << error;
  EXPECT_EQ(*decoded, evidence);
  Bytes trailing = encoded;
  trailing.push_back(0);
  EXPECT_FALSE(DecodeFreezeEvidence(trailing, &error));
  EXPECT_FALSE(DecodeFreezeEvidence(Bytes(encoded.begin(), encoded.end() - 1), &error));
}

}  // namespace
}  // namespace metronome::interpreter
