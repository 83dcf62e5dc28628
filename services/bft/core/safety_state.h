#ifndef METRONOME_SERVICES_BFT_CORE_SAFETY_STATE_H_
#define METRONOME_SERVICES_BFT_CORE_SAFETY_STATE_H_

#include <optional>

#include "common/quorum_certificate.h"
#include "services/bft/core/messages.h"

namespace metronome::bft {

// What a replica must never forget, because forgetting it could make it sign twice
// or vote against its lock. The shell persists it (fsync) before any message the
// change covers leaves the process. Every field only grows.
//
// Encoding (canonical, no kind byte; internal to the bft): view:u64
// last_vote_view:u64 last_vote_phase:u8 last_timeout_view:u64 last_proposal_view:u64
// last_new_view_view:u64 locked_qc high_qc commit_qc, then (absent in databases written
// before they existed) last_timeout_high_qc last_timeout_signature[64] has_tc:u8, and
// when has_tc is 1: view:u64 count:u32 (statement:bytes signer:u32 signature[64])...
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
  // The last timeout signed (for last_timeout_view): its high QC and signature, so the
  // very same timeout can be sent again after the view was left or the process restarted
  // (members still timing out in that view need it; a new one would be a second
  // signature for the view).
  QuorumCertificate last_timeout_high_qc;
  Signature last_timeout_signature{};
  // The highest timeout certificate seen: the proof that moved the replica past a view
  // without a QC. Kept across restarts so members still in that view can be handed it.
  std::optional<TimeoutCertificate> high_tc;

  // The highest view the replica signed anything in.
  uint64_t HighestSignedView() const;
  bool operator==(const SafetyState& other) const;
};

Bytes EncodeSafetyState(const SafetyState& state);
SafetyState DecodeSafetyState(Reader* reader);

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_CORE_SAFETY_STATE_H_
