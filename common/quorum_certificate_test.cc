#include "common/quorum_certificate.h"

#include <gtest/gtest.h>

#include "common/test_support.h"

namespace metronome {
namespace {

class QuorumCertificateTest : public ::testing::Test {
 protected:
  QuorumCertificate Signed(const std::vector<uint32_t>& signers) const {
    std::vector<std::pair<uint32_t, Signature>> votes;
    for (uint32_t index : signers) {
      votes.emplace_back(index, SignVote(test_.keys[index], test_.federation.id(), statement_));
    }
    return AssembleQuorumCertificate(test_.federation, statement_, votes);
  }

  testing::TestFederation test_ = testing::MakeTestFederation(4);
  VoteStatement statement_{kProtocolBasicHotStuff, Phase::kCommit, 9, Hash256{{7}}, 8};
};

TEST_F(QuorumCertificateTest, AcceptsExactlyQSigners) {
  EXPECT_EQ(VerifyQuorumCertificate(test_.federation, Signed({0, 2, 3})), QcVerdict::kValid);
}

// The original rejected QCs with more than q signatures; any q or more is valid.
TEST_F(QuorumCertificateTest, AcceptsMoreThanQSigners) {
  EXPECT_EQ(VerifyQuorumCertificate(test_.federation, Signed({0, 1, 2, 3})), QcVerdict::kValid);
}

TEST_F(QuorumCertificateTest, RejectsFewerThanQSigners) {
  EXPECT_EQ(VerifyQuorumCertificate(test_.federation, Signed({0, 1})), QcVerdict::kTooFewSigners);
}

TEST_F(QuorumCertificateTest, RejectsSignerPastN) {
  QuorumCertificate qc = Signed({0, 1, 2});
  qc.signer_bitmap[0] |= 0x10;  // Member 4 of 4.
  qc.signatures.push_back(qc.signatures[0]);
  EXPECT_EQ(VerifyQuorumCertificate(test_.federation, qc), QcVerdict::kSignerOutOfRange);
}

TEST_F(QuorumCertificateTest, RejectsWrongBitmapLength) {
  QuorumCertificate qc = Signed({0, 1, 2});
  qc.signer_bitmap.push_back(0);
  EXPECT_EQ(VerifyQuorumCertificate(test_.federation, qc), QcVerdict::kBadBitmapLength);
}

// Votes are keyed by signer: one member's signature repeated cannot make a quorum.
TEST_F(QuorumCertificateTest, RejectsSignatureUnderAnotherMembersBit) {
  QuorumCertificate qc = Signed({0, 1, 2});
  qc.signatures[2] = qc.signatures[0];
  EXPECT_EQ(VerifyQuorumCertificate(test_.federation, qc), QcVerdict::kBadSignature);
}

TEST_F(QuorumCertificateTest, RejectsSignatureCountMismatch) {
  QuorumCertificate qc = Signed({0, 1, 2});
  qc.signatures.pop_back();
  EXPECT_EQ(VerifyQuorumCertificate(test_.federation, qc), QcVerdict::kSignatureCountMismatch);
}

TEST_F(QuorumCertificateTest, RejectsChangedStatement) {
  QuorumCertificate qc = Signed({0, 1, 2});
  qc.justify_view += 1;
  EXPECT_EQ(VerifyQuorumCertificate(test_.federation, qc), QcVerdict::kBadSignature);
}

TEST_F(QuorumCertificateTest, RejectsQcOfAnotherFederation) {
  const testing::TestFederation other = testing::MakeTestFederation(4, "devchain", 1, 0u);
  EXPECT_EQ(VerifyQuorumCertificate(other.federation, Signed({0, 1, 2, 3})),
            QcVerdict::kBadSignature);
}

TEST_F(QuorumCertificateTest, EncodingRoundTrips) {
  const QuorumCertificate qc = Signed({1, 2, 3});
  const Bytes encoded = EncodeQuorumCertificate(qc);
  Reader reader(encoded);
  EXPECT_EQ(DecodeQuorumCertificate(&reader), qc);
  reader.ExpectEnd();
  EXPECT_TRUE(reader.ok());
  EXPECT_EQ(SignerIndices(qc.signer_bitmap), (std::vector<uint32_t>{1, 2, 3}));
}

}  // namespace
}  // namespace metronome
