// Pins the canonical encodings the foundation fixes (header, transaction, body, QC,
// certificate, federation, Merkle proof, ledger) to reviewed golden files, so no change to
// them goes unnoticed. After an intended change, regenerate and review the diff:
//   bazel run //common:canonical_golden_test -- --rewrite
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/checkpoint_certificate.h"
#include "common/ledger.h"
#include "common/test_support.h"

namespace metronome {
namespace {

bool rewrite = false;

std::string Wrapped(const Bytes& bytes) {
  const std::string hex = ToHex(bytes);
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 64) out += hex.substr(i, 64) + "\n";
  return out;
}

void ExpectGolden(const std::string& name, const Bytes& bytes) {
  const std::string relative = "common/testdata/golden/" + name + ".hex";
  if (rewrite) {
    const char* root = getenv("BUILD_WORKSPACE_DIRECTORY");
    ASSERT_NE(root, nullptr) << "--rewrite needs `bazel run`";
    std::ofstream(std::string(root) + "/" + relative) << Wrapped(bytes);
    return;
  }
  std::ifstream file(relative);
  ASSERT_TRUE(file.good()) << "missing golden file " << relative << "; run with --rewrite";
  std::stringstream expected;
  expected << file.rdbuf();
  EXPECT_EQ(expected.str(), Wrapped(bytes))
      << name << " encoding changed; if intended, rerun with --rewrite and review the diff";
}

class CanonicalGoldenTest : public ::testing::Test {
 protected:
  testing::TestFederation test_ = testing::MakeTestFederation(4);
  CheckpointCertificate certificate_ = testing::MakeCertificateSignedByQuorum(
      test_, testing::MakeTestCandidate("devchain", 1000), 2);
};

TEST_F(CanonicalGoldenTest, Header) {
  ExpectGolden("header", EncodeHeader(certificate_.headers[0]));
}

TEST_F(CanonicalGoldenTest, Transaction) {
  ExpectGolden("candidate_transaction", EncodeTransaction(certificate_.candidate));
}

TEST_F(CanonicalGoldenTest, Body) {
  Body body;
  body.transactions = {Transaction{ProposerBlock{BytesOf("pb")}}, certificate_.candidate};
  ExpectGolden("body", EncodeBody(body));
}

TEST_F(CanonicalGoldenTest, QuorumCertificate) {
  ExpectGolden("quorum_certificate", EncodeQuorumCertificate(certificate_.commit_qc));
}

TEST_F(CanonicalGoldenTest, CheckpointCertificate) {
  ExpectGolden("checkpoint_certificate", EncodeCheckpointCertificate(certificate_));
}

TEST_F(CanonicalGoldenTest, Federation) { ExpectGolden("federation", test_.federation.encoded()); }

TEST_F(CanonicalGoldenTest, FederationId) {
  ExpectGolden("federation_id", Bytes(test_.federation.id().begin(), test_.federation.id().end()));
}

TEST_F(CanonicalGoldenTest, MerkleProof) {
  Writer writer;
  EncodeMerkleProof(certificate_.proof, &writer);
  ExpectGolden("merkle_proof", writer.Take());
}

TEST_F(CanonicalGoldenTest, Ledger) {
  Ledger ledger;
  ledger.last_checkpoint = certificate_.candidate;
  ledger.proposer_blocks = {Transaction{ProposerBlock{BytesOf("pb1")}},
                            Transaction{ProposerBlock{BytesOf("pb2")}}};
  ExpectGolden("ledger", EncodeLedger(ledger));
  const Hash256 hash = LedgerHash(ledger);
  ExpectGolden("ledger_hash", Bytes(hash.begin(), hash.end()));
}

}  // namespace
}  // namespace metronome

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--rewrite") metronome::rewrite = true;
  }
  return RUN_ALL_TESTS();
}
