#ifndef METRONOME_COMMON_CHECKPOINT_CERTIFICATE_H_
#define METRONOME_COMMON_CHECKPOINT_CERTIFICATE_H_

#include <optional>
#include <vector>

#include "common/block.h"
#include "common/merkle.h"
#include "common/quorum_certificate.h"

namespace metronome {

// The hard maximum of headers a certificate may carry; verifiers take a smaller
// configured maximum (normally the chain is one header long).
constexpr uint32_t kCertificateHeadersMax = 256;
constexpr uint32_t kCertificateHeadersDefault = 16;

// Proof that the federation decided a checkpoint candidate: the header chain from the
// block holding the candidate to the block the Commit QC certifies, the candidate, its
// Merkle proof against the first header's content root, and the Commit QC.
//
// Encoding (kind 5): count:u32 header... transaction merkle_proof quorum_certificate.
struct CheckpointCertificate {
  std::vector<Header> headers;
  Transaction candidate;
  MerkleProof proof;
  QuorumCertificate commit_qc;

  bool operator==(const CheckpointCertificate& other) const;
};

void EncodeCheckpointCertificate(const CheckpointCertificate& certificate, Writer* writer);
Bytes EncodeCheckpointCertificate(const CheckpointCertificate& certificate);
CheckpointCertificate DecodeCheckpointCertificate(Reader* reader);

// The identity a certificate is recognised by: duplicates are equal identities.
struct CheckpointIdentity {
  std::string chain_id;
  uint64_t pow_height = 0;
  Bytes pow_block_hash;
  bool operator==(const CheckpointIdentity& other) const {
    return chain_id == other.chain_id && pow_height == other.pow_height &&
           pow_block_hash == other.pow_block_hash;
  }
};
// REQUIRES: certificate.candidate.is_candidate().
CheckpointIdentity IdentityOf(const CheckpointCertificate& certificate);

// Builds a certificate for the last checkpoint candidate in `body`.
// REQUIRES: headers non-empty; headers.front() is the header of `body`;
// commit_qc certifies headers.back(). Returns nullopt when `body` has no candidate.
std::optional<CheckpointCertificate> MakeCheckpointCertificate(const std::vector<Header>& headers,
                                                               const Body& body,
                                                               const QuorumCertificate& commit_qc);

}  // namespace metronome

#endif  // METRONOME_COMMON_CHECKPOINT_CERTIFICATE_H_
