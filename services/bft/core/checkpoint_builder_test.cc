#include "services/bft/core/checkpoint_builder.h"

#include <gtest/gtest.h>

#include "common/test_support.h"
#include "common/verifier/certificate_verifier.h"

namespace metronome::bft {
namespace {

using metronome::testing::MakeTestCandidate;
using metronome::testing::MakeTestFederation;
using metronome::testing::TestFederation;

Transaction Candidate(uint64_t pow_height) {
  return Transaction{MakeTestCandidate("devchain", pow_height)};
}

Transaction Proposer(const std::string& opaque) {
  return Transaction{ProposerBlock{BytesOf(opaque)}};
}

class CheckpointBuilderTest : public ::testing::Test {
 protected:
  // A decision over blocks with these bodies, chained from an arbitrary committed
  // parent, the last certified by a Commit QC the first q members sign.
  Commit Decide(const std::vector<Body>& bodies) {
    Commit commit;
    Hash256 parent_hash;
    parent_hash.fill(0x5a);
    uint64_t height = 10;
    uint64_t view = 20;
    for (const Body& body : bodies) {
      Block block;
      block.header.parent_hash = parent_hash;
      block.header.height = ++height;
      block.header.view = ++view;
      block.header.post_state_hash.fill(static_cast<uint8_t>(height));
      block.header.content_root = ContentRoot(body);
      block.body = body;
      parent_hash = block.hash();
      commit.blocks.push_back(std::move(block));
    }
    commit.commit_qc = metronome::testing::MakeQuorumCommitQc(test_, parent_hash, view);
    return commit;
  }

  CertificateCheck Verify(const CheckpointCertificate& certificate) {
    const Bytes federation = test_.federation.encoded();
    const Bytes encoded = EncodeCheckpointCertificate(certificate);
    return VerifyCertificate(federation.data(), federation.size(), encoded.data(), encoded.size(),
                             kCertificateHeadersMax);
  }

  TestFederation test_ = MakeTestFederation(4);
};

TEST_F(CheckpointBuilderTest, CandidateInQcBlockGivesOneHeaderCertificate) {
  const Commit commit = Decide({Body{{Proposer("pb"), Candidate(100)}}});
  const std::vector<CheckpointCertificate> certificates =
      CertificatesFor(commit, kCertificateHeadersMax);
  ASSERT_EQ(certificates.size(), 1u);
  EXPECT_EQ(certificates[0].headers, std::vector<Header>{commit.blocks[0].header});
  EXPECT_EQ(certificates[0].candidate, Candidate(100));
  EXPECT_EQ(certificates[0].commit_qc, commit.commit_qc);
  const CertificateCheck check = Verify(certificates[0]);
  EXPECT_TRUE(check.ok()) << check.reason;
}

TEST_F(CheckpointBuilderTest, OlderCandidatesGetChainsToQcBlockOldestFirst) {
  const Commit commit = Decide({Body{{Candidate(100)}}, Body{{Proposer("a")}}, Body{},
                                Body{{Candidate(200), Proposer("b")}}, Body{}});
  const std::vector<CheckpointCertificate> certificates =
      CertificatesFor(commit, kCertificateHeadersMax);
  ASSERT_EQ(certificates.size(), 2u);
  EXPECT_EQ(certificates[0].candidate, Candidate(100));
  EXPECT_EQ(certificates[1].candidate, Candidate(200));
  ASSERT_EQ(certificates[0].headers.size(), 5u);
  ASSERT_EQ(certificates[1].headers.size(), 2u);
  EXPECT_EQ(certificates[0].headers.front(), commit.blocks[0].header);
  EXPECT_EQ(certificates[1].headers.front(), commit.blocks[3].header);
  for (const CheckpointCertificate& certificate : certificates) {
    EXPECT_EQ(certificate.headers.back(), commit.blocks.back().header);
    const CertificateCheck check = Verify(certificate);
    EXPECT_TRUE(check.ok()) << check.reason;
  }
}

TEST_F(CheckpointBuilderTest, BlocksWithoutCandidatesGiveNone) {
  EXPECT_TRUE(CertificatesFor(Decide({Body{}, Body{{Proposer("a"), Proposer("b")}}}), 16).empty());
  EXPECT_TRUE(CertificatesFor(Commit{}, 16).empty());
}

TEST_F(CheckpointBuilderTest, ChainWouldExceedHeaderMaximumGivesNone) {
  std::vector<Body> bodies(kCertificateHeadersMax + 1);
  bodies[0] = Body{{Candidate(100)}};
  bodies[1] = Body{{Candidate(200)}};
  size_t left_out = 0;
  const std::vector<CheckpointCertificate> certificates =
      CertificatesFor(Decide(bodies), kCertificateHeadersMax, &left_out);
  ASSERT_EQ(certificates.size(), 1u);
  EXPECT_EQ(left_out, 1u);
  EXPECT_EQ(certificates[0].candidate, Candidate(200));
  EXPECT_EQ(certificates[0].headers.size(), kCertificateHeadersMax);
  const CertificateCheck check = Verify(certificates[0]);
  EXPECT_TRUE(check.ok()) << check.reason;
}

// The bft never emits a certificate above its configured maximum (the consumers'
// default is 16): a member that caught up by a later Commit QC emitted 18 and 25 headers.
TEST_F(CheckpointBuilderTest, ConfiguredHeaderMaximumIsNeverExceeded) {
  std::vector<Body> bodies(20);
  bodies[0] = Body{{Candidate(100)}};   // 20 headers: left out.
  bodies[4] = Body{{Candidate(200)}};   // 16 headers: kept.
  bodies[19] = Body{{Candidate(300)}};  // 1 header.
  size_t left_out = 0;
  const std::vector<CheckpointCertificate> certificates =
      CertificatesFor(Decide(bodies), 16, &left_out);
  ASSERT_EQ(certificates.size(), 2u);
  EXPECT_EQ(left_out, 1u);
  EXPECT_EQ(certificates[0].headers.size(), 16u);
  EXPECT_EQ(certificates[1].headers.size(), 1u);
  for (const CheckpointCertificate& certificate : certificates) {
    EXPECT_LE(certificate.headers.size(), 16u);
    EXPECT_TRUE(Verify(certificate).ok());
  }
}

TEST_F(CheckpointBuilderTest, VerifierRejectsCertificateWhoseQcIsBelowQuorum) {
  // Guards the test itself: Verify must be able to fail.
  Commit commit = Decide({Body{{Candidate(100)}}});
  commit.commit_qc.signatures.pop_back();
  commit.commit_qc.signer_bitmap[0] &= 0x03;
  const std::vector<CheckpointCertificate> certificates =
      CertificatesFor(commit, kCertificateHeadersMax);
  ASSERT_EQ(certificates.size(), 1u);
  EXPECT_EQ(Verify(certificates[0]).verdict, CertificateVerdict::kQcRejected);
}

}  // namespace
}  // namespace metronome::bft
