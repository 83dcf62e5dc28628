#ifndef METRONOME_SERVICES_BFT_CORE_SAFETY_STATE_H_
#define METRONOME_SERVICES_BFT_CORE_SAFETY_STATE_H_

#include "common/quorum_certificate.h"

namespace metronome::bft {

// What a replica must never forget, because forgetting it could make it sign twice
// or vote against its lock. The shell persists it (fsync) before any message the
// change covers leaves the process. Every field only grows.
//
// Encoding (canonical, no kind byte; internal to the bft): view:u64
// last_vote_view:u64 last_vote_phase:u8 last_timeout_view:u64 last_proposal_view:u64
// last_new_view_view:u64 locked_qc high_qc commit_qc.
struct SafetyState {
  uint64_t view = 0;            // The view the replica is in.
  uint64_t last_vote_view = 0;  // The last vote signed: (view, phase), ordered.
  uint8_t last_vote_phase = 0;
  uint64_t last_timeout_view = 0;   // The last view a timeout was signed for.
  uint64_t last_proposal_view = 0;  // The last view a proposal was signed for.
  uint64_t last_new_view_view = 0;  // The last view a new-view was signed for.
  QuorumCertificate locked_qc;      // Highest PreCommit QC (the lock).
  QuorumCertificate high_qc;        // Highest Prepare QC.
  QuorumCertificate commit_qc;      // Latest decision.

  // The highest view the replica signed anything in.
  uint64_t HighestSignedView() const;
  bool operator==(const SafetyState& other) const;
};

Bytes EncodeSafetyState(const SafetyState& state);
SafetyState DecodeSafetyState(Reader* reader);

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_CORE_SAFETY_STATE_H_
