#include "common/checkpoint_certificate.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "common/test_support.h"
#include "common/verifier/certificate_verifier.h"

namespace metronome {
namespace {

CertificateCheck Verify(const Federation& federation, const Bytes& certificate,
                        uint32_t headers_max = kCertificateHeadersDefault) {
  return VerifyCertificate(federation.encoded().data(), federation.encoded().size(),
                           certificate.data(), certificate.size(), headers_max);
}

class CheckpointCertificateTest : public ::testing::Test {
 protected:
  testing::TestFederation test_ = testing::MakeTestFederation(4);
  CheckpointCandidate candidate_ = testing::MakeTestCandidate("devchain", 1200);
};

TEST_F(CheckpointCertificateTest, ValidCertificatePasses) {
  const CheckpointCertificate certificate =
      testing::MakeCertificateSignedByQuorum(test_, candidate_);
  const CertificateCheck check = Verify(test_.federation, EncodeCheckpointCertificate(certificate));
  EXPECT_TRUE(check.ok()) << check.reason;
  EXPECT_EQ(IdentityOf(certificate).pow_height, 1200u);
}

TEST_F(CheckpointCertificateTest, EncodingRoundTrips) {
  const CheckpointCertificate certificate =
      testing::MakeCertificateSignedByQuorum(test_, candidate_, 3);
  const Bytes encoded = EncodeCheckpointCertificate(certificate);
  Reader reader(encoded);
  EXPECT_EQ(DecodeCheckpointCertificate(&reader), certificate);
  reader.ExpectEnd();
  EXPECT_TRUE(reader.ok());
}

TEST_F(CheckpointCertificateTest, HeaderChainLongerThanOneIsAcceptedUpToTheMaximum) {
  const Bytes encoded =
      EncodeCheckpointCertificate(testing::MakeCertificateSignedByQuorum(test_, candidate_, 4));
  EXPECT_TRUE(Verify(test_.federation, encoded, 4).ok());
  EXPECT_EQ(Verify(test_.federation, encoded, 3).verdict, CertificateVerdict::kTooManyHeaders);
}

TEST_F(CheckpointCertificateTest, EachCheckHasItsOwnVerdict) {
  const CheckpointCertificate valid = testing::MakeCertificateSignedByQuorum(test_, candidate_, 2);

  CheckpointCertificate broken_chain = valid;
  broken_chain.headers[1].height += 1;
  EXPECT_EQ(Verify(test_.federation, EncodeCheckpointCertificate(broken_chain)).verdict,
            CertificateVerdict::kBrokenHeaderChain);

  CheckpointCertificate wrong_block = valid;
  wrong_block.headers.pop_back();
  EXPECT_EQ(Verify(test_.federation, EncodeCheckpointCertificate(wrong_block)).verdict,
            CertificateVerdict::kQcNotOverLastHeader);

  CheckpointCertificate not_commit = valid;
  not_commit.commit_qc.phase = Phase::kPreCommit;
  EXPECT_EQ(Verify(test_.federation, EncodeCheckpointCertificate(not_commit)).verdict,
            CertificateVerdict::kQcNotOverLastHeader);

  CheckpointCertificate bad_qc = valid;
  bad_qc.commit_qc.signatures[0][0] ^= 1;
  EXPECT_EQ(Verify(test_.federation, EncodeCheckpointCertificate(bad_qc)).verdict,
            CertificateVerdict::kQcRejected);

  CheckpointCertificate bad_proof = valid;
  bad_proof.candidate = Transaction{testing::MakeTestCandidate("devchain", 1201)};
  EXPECT_EQ(Verify(test_.federation, EncodeCheckpointCertificate(bad_proof)).verdict,
            CertificateVerdict::kBadMerkleProof);
}

TEST_F(CheckpointCertificateTest, CandidateForAnotherChainIsRejected) {
  const testing::TestFederation other_chain = testing::MakeTestFederation(4, "litecoin-regtest");
  const Bytes encoded =
      EncodeCheckpointCertificate(testing::MakeCertificateSignedByQuorum(other_chain, candidate_));
  EXPECT_EQ(Verify(other_chain.federation, encoded).verdict, CertificateVerdict::kWrongChain);
}

TEST_F(CheckpointCertificateTest, RejectsUnderFederationDifferingOnlyInF) {
  const testing::TestFederation f_zero = testing::MakeTestFederation(4, "devchain", 1, 0u);
  const Bytes encoded =
      EncodeCheckpointCertificate(testing::MakeCertificateSignedByQuorum(test_, candidate_));
  EXPECT_EQ(Verify(f_zero.federation, encoded).verdict, CertificateVerdict::kQcRejected);
}

TEST_F(CheckpointCertificateTest, GarbageAndEmptyInputAreMalformedNotFatal) {
  EXPECT_EQ(Verify(test_.federation, Bytes{}).verdict, CertificateVerdict::kMalformedCertificate);
  EXPECT_EQ(Verify(test_.federation, BytesOf("garbage!")).verdict,
            CertificateVerdict::kMalformedCertificate);
  const Bytes certificate =
      EncodeCheckpointCertificate(testing::MakeCertificateSignedByQuorum(test_, candidate_));
  EXPECT_EQ(VerifyCertificate(nullptr, 0, certificate.data(), certificate.size(), 16).verdict,
            CertificateVerdict::kMalformedFederation);
}

TEST_F(CheckpointCertificateTest, EverySingleByteChangeIsRejected) {
  const Bytes encoded =
      EncodeCheckpointCertificate(testing::MakeCertificateSignedByQuorum(test_, candidate_, 2));
  for (size_t i = 0; i < encoded.size(); ++i) {
    for (uint8_t delta : {0x01, 0x80, 0xff}) {
      Bytes mutated = encoded;
      mutated[i] = static_cast<uint8_t>(mutated[i] ^ delta);
      const CertificateCheck check = Verify(test_.federation, mutated);
      ASSERT_FALSE(check.ok()) << "byte " << i << " xor " << int{delta};
      ASSERT_FALSE(check.reason.empty());
    }
  }
}

RC_GTEST_PROP(CheckpointCertificateProperty, RandomByteChangeIsRejected,
              (uint32_t position, uint8_t replacement)) {
  static const testing::TestFederation test = testing::MakeTestFederation(7);
  static const Bytes encoded = EncodeCheckpointCertificate(
      testing::MakeCertificateSignedByQuorum(test, testing::MakeTestCandidate("devchain", 77)));
  Bytes mutated = encoded;
  const size_t index = position % mutated.size();
  RC_PRE(mutated[index] != replacement);
  mutated[index] = replacement;
  RC_ASSERT(!VerifyCertificate(test.federation.encoded().data(), test.federation.encoded().size(),
                               mutated.data(), mutated.size(), kCertificateHeadersDefault)
                 .ok());
}

}  // namespace
}  // namespace metronome
