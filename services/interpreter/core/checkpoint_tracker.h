#ifndef METRONOME_SERVICES_INTERPRETER_CORE_CHECKPOINT_TRACKER_H_
#define METRONOME_SERVICES_INTERPRETER_CORE_CHECKPOINT_TRACKER_H_

#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/checkpoint_certificate.h"
#include "services/interpreter/core/rules.h"

// The interpreter's view of finality (DESIGN §5): the latest applied checkpoint, whether
// its chain side has it durably, and the freeze that conflicting certificates cause.
// A value type with no I/O: the shell verifies certificates, asks its chain side about
// descent, persists the state after every change and only then acknowledges.
// Thread-compatible.
namespace metronome::interpreter {

// The certificate the interpreter applied last.
struct AppliedCheckpoint {
  CheckpointIdentity identity;
  Bytes certificate;  // Canonical certificate bytes (kind 5), as verified.
  bool operator==(const AppliedCheckpoint& other) const {
    return identity == other.identity && certificate == other.certificate;
  }
};

// Everything the tracker keeps; persisted whole (durable_state.h).
struct TrackerState {
  std::optional<AppliedCheckpoint> latest;
  // The adapter acknowledged `latest` with durable = true: no periodic resending.
  bool adapter_acknowledged = false;
  bool frozen = false;
  Bytes evidence;  // While frozen: EncodeFreezeEvidence(latest, conflicting).

  bool operator==(const TrackerState& other) const {
    return latest == other.latest && adapter_acknowledged == other.adapter_acknowledged &&
           frozen == other.frozen && evidence == other.evidence;
  }
};

enum class CertificateOutcome {
  kApplied,        // Extends the latest: it is the latest now; forward it to the adapter.
  kDuplicate,      // Its identity equals the latest's (a redelivery).
  kIgnored,        // Not above the latest (older, replayed): counted, never forwarded.
  kIgnoredFrozen,  // Verified while frozen: counted, not applied, not forwarded.
  kPending,        // Above the latest, descent unknown yet: retry later, not durable.
  kConflict,       // Neither extends the other: frozen from now on.
};

const char* CertificateOutcomeName(CertificateOutcome outcome);

struct CertificateDecision {
  CertificateOutcome outcome = CertificateOutcome::kPending;
  std::string reason;  // One line, for logs.
  // The state changed: persist it (synced) before acknowledging anything.
  bool state_changed = false;
  // Hand the certificate to the chain side (ApplyCheckpoint).
  bool forward_to_adapter = false;
};

class CheckpointTracker {
 public:
  CheckpointTracker() = default;
  // REQUIRES: `state` passed DecodeTrackerState (or was produced by a tracker).
  explicit CheckpointTracker(TrackerState state) : state_(std::move(state)) {}

  const TrackerState& state() const { return state_; }
  const std::optional<AppliedCheckpoint>& latest() const { return state_.latest; }
  bool frozen() const { return state_.frozen; }

  // Whether Decide on `identity` depends on the chain fact "descends from the latest":
  // only for an identity above the latest, while not frozen.
  bool NeedsDescent(const CheckpointIdentity& identity) const;

  // Decides on a certificate the shell verified against the federation.
  // REQUIRES: `identity` is IdentityOf the decoded `certificate`. `descent` is of the
  // certified block from the latest checkpoint (ignored unless NeedsDescent). In order:
  // DUPLICATE (identity equals the latest), IGNORED_FROZEN (frozen), APPLIED (no latest
  // yet), IGNORED (lower height), CONFLICT (same height, other block), then by descent
  // APPLIED, CONFLICT or PENDING. On CONFLICT the latest stays (the common ancestor is
  // the chain side's business) and the evidence holds both certificates.
  CertificateDecision Decide(const CheckpointIdentity& identity, const Bytes& certificate,
                             Descent descent);

  // The adapter acknowledged a delivery of `identity` durably. True when that is the
  // latest and it was not acknowledged before (persist then).
  bool OnAdapterAcknowledged(const CheckpointIdentity& identity);

  // Ends the freeze whose evidence is exactly `evidence` (the operator has looked).
  // False with a reason when not frozen or the evidence is another's.
  bool ClearFreeze(const Bytes& evidence, std::string* reason);

 private:
  TrackerState state_;
};

}  // namespace metronome::interpreter

#endif  // METRONOME_SERVICES_INTERPRETER_CORE_CHECKPOINT_TRACKER_H_
