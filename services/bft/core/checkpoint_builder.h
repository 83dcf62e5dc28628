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
// A candidate more than kCertificateHeadersMax headers below the QC's block can never
// be certified by an encodable certificate (every later Commit QC is further away), so
// it gives none either; with the pacemaker deciding every few views this takes a
// decision of hundreds of blocks at once.
//
// REQUIRES: commit.blocks is a parent-linked chain, oldest first, whose last block is
// the one commit.commit_qc certifies (what the core's Commit guarantees).
// Pure: same Commit, same certificates.
std::vector<CheckpointCertificate> CertificatesFor(const Commit& commit);

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_CORE_CHECKPOINT_BUILDER_H_
