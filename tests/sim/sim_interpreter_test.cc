#include "tests/sim/sim_interpreter.h"

#include <gtest/gtest.h>

#include "common/test_support.h"
#include "services/bft/core/checkpoint_builder.h"

namespace metronome::sim {
namespace {

using testing::MakeTestFederation;
using testing::TestFederation;

// A decision over `count` blocks, the first holding candidate `pow_height`, and its
// certificate built with the format's limit (as a member without the bound would).
bft::CertificateRecord CertificateOver(const TestFederation& test, size_t count,
                                       uint64_t pow_height, bool other_block = false) {
  CheckpointCandidate candidate = SimInterpreter::Candidate(pow_height);
  if (other_block) candidate.pow_block_hash[0] ^= 1;
  bft::Commit commit;
  Hash256 parent_hash;
  parent_hash.fill(0x5a);
  for (size_t i = 0; i < count; ++i) {
    bft::Block block;
    if (i == 0) block.body.transactions.push_back(Transaction{candidate});
    block.header.parent_hash = parent_hash;
    block.header.height = 10 + i;
    block.header.view = 20 + i;
    block.header.content_root = ContentRoot(block.body);
    parent_hash = block.hash();
    commit.blocks.push_back(std::move(block));
  }
  commit.commit_qc =
      metronome::testing::MakeQuorumCommitQc(test, parent_hash, commit.blocks.back().header.view);
  const std::vector<CheckpointCertificate> certificates =
      bft::CertificatesFor(commit, kCertificateHeadersMax);
  EXPECT_EQ(certificates.size(), 1u);
  bft::CertificateRecord record;
  record.encoded = EncodeCheckpointCertificate(certificates.at(0));
  record.identity = IdentityOf(certificates.at(0));
  return record;
}

TEST(CertificateAuditTest, ACertificateLongerThanConsumersTakeIsAViolation) {
  const TestFederation test = MakeTestFederation(4, "sim");
  CertificateAudit audit(&test.federation);
  EXPECT_EQ(audit.Check(0, CertificateOver(test, kCertificateHeadersDefault, 5)), "");
  const std::string problem =
      audit.Check(1, CertificateOver(test, kCertificateHeadersDefault + 1, 5));
  EXPECT_NE(problem.find("does not verify"), std::string::npos) << problem;
  EXPECT_EQ(audit.headers_max_seen(), kCertificateHeadersDefault + 1);
}

TEST(CertificateAuditTest, TwoCertificatesAtOneHeightNamingDifferentBlocksAreAViolation) {
  const TestFederation test = MakeTestFederation(4, "sim");
  CertificateAudit audit(&test.federation);
  EXPECT_EQ(audit.Check(0, CertificateOver(test, 1, 5)), "");
  const std::string problem = audit.Check(1, CertificateOver(test, 1, 5, true));
  EXPECT_NE(problem.find("names another block"), std::string::npos) << problem;
}

TEST(CertificateAuditTest, ARecordWhoseIdentityIsNotItsCertificatesIsAViolation) {
  const TestFederation test = MakeTestFederation(4, "sim");
  CertificateAudit audit(&test.federation);
  bft::CertificateRecord record = CertificateOver(test, 1, 5);
  record.identity.pow_height = 6;
  EXPECT_NE(audit.Check(0, record).find("identity"), std::string::npos);
}

}  // namespace
}  // namespace metronome::sim
