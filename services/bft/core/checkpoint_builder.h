#ifndef METRONOME_SERVICES_BFT_CORE_CHECKPOINT_BUILDER_H_
#define METRONOME_SERVICES_BFT_CORE_CHECKPOINT_BUILDER_H_

#include <vector>

#include "common/checkpoint_certificate.h"
#include "services/bft/core/outputs.h"

namespace metronome::bft {

// The checkpoint certificates one decision issues, oldest first: one for every
// committed block whose body holds a checkpoint candidate, carrying the shortest header
// chain from that block to the block commit.commit_qc certifies (the committed blocks
// from it onwards), the candidate, its Merkle proof and the Commit QC. Blocks without a
// candidate give none; an empty decision gives none.
//
// A candidate more than `headers_max` headers below the QC's block gives none either:
// its consumers (whose default limit is the same) would refuse the certificate, and
// every later Commit QC is further away. The replica splits decisions at blocks whose
// own Commit QC it knows, so this happens only to a member that missed those QCs; the
// caller counts what was left out (`*left_out`).
//
// REQUIRES: commit.blocks is a parent-linked chain, oldest first, whose last block is
// the one commit.commit_qc certifies (what the core's Commit guarantees).
// Pure: same Commit, same certificates.
std::vector<CheckpointCertificate> CertificatesFor(const Commit& commit, size_t headers_max,
                                                   size_t* left_out = nullptr);

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_CORE_CHECKPOINT_BUILDER_H_
