#ifndef METRONOME_COMMON_TEST_SUPPORT_H_
#define METRONOME_COMMON_TEST_SUPPORT_H_

#include <utility>
#include <vector>

#include "common/checkpoint_certificate.h"
#include "common/federation.h"

// Builders for tests and tools that need real federations and real, signed
// certificates. Deterministic: the same arguments give the same bytes.
namespace metronome::testing {

struct TestFederation {
  std::vector<SigningKey> keys;  // keys[i] belongs to member i.
  Federation federation;
};

// n members with seeds {seed_base + i, 0, 0, ...}, in that order.
TestFederation MakeTestFederation(uint32_t n, const std::string& chain_id = "devchain",
                                  uint8_t seed_base = 1, std::optional<uint32_t> f = std::nullopt);

CheckpointCandidate MakeTestCandidate(const std::string& chain_id, uint64_t pow_height);

// A certificate for `candidate`: the candidate sits in a two-transaction body, followed
// by header_count - 1 empty descendants; the last header gets a Commit QC signed by
// `signers` (member index and key).
CheckpointCertificate MakeSignedCertificate(
    const Federation& federation, const std::vector<std::pair<uint32_t, SigningKey>>& signers,
    const CheckpointCandidate& candidate, uint32_t header_count = 1, uint64_t view = 7);

// A Commit QC over `block_hash` at `view` (justify view the same) signed by `signers`.
QuorumCertificate MakeCommitQc(const Federation& federation,
                               const std::vector<std::pair<uint32_t, SigningKey>>& signers,
                               const Hash256& block_hash, uint64_t view);
// The same, signed by the first q members of `test`.
QuorumCertificate MakeQuorumCommitQc(const TestFederation& test, const Hash256& block_hash,
                                     uint64_t view);

// The first q members of `test` sign.
CheckpointCertificate MakeCertificateSignedByQuorum(const TestFederation& test,
                                                    const CheckpointCandidate& candidate,
                                                    uint32_t header_count = 1);

}  // namespace metronome::testing

#endif  // METRONOME_COMMON_TEST_SUPPORT_H_
