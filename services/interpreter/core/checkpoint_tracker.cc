#include "services/interpreter/core/checkpoint_tracker.h"

#include "services/interpreter/core/durable_state.h"

namespace metronome::interpreter {
namespace {

std::string Describe(const CheckpointIdentity& identity) {
  return "height " + std::to_string(identity.pow_height) + " hash " +
         ToHex(identity.pow_block_hash).substr(0, 16);
}

}  // namespace

const char* CertificateOutcomeName(CertificateOutcome outcome) {
  switch (outcome) {
    case CertificateOutcome::kApplied:
      return "applied";
    case CertificateOutcome::kDuplicate:
      return "duplicate";
    case CertificateOutcome::kIgnored:
      return "ignored";
    case CertificateOutcome::kIgnoredFrozen:
      return "ignored_frozen";
    case CertificateOutcome::kPending:
      return "pending";
    case CertificateOutcome::kConflict:
      return "conflict";
  }
  return "?";
}

bool CheckpointTracker::NeedsDescent(const CheckpointIdentity& identity) const {
  return !state_.frozen && state_.latest &&
         identity.pow_height > state_.latest->identity.pow_height;
}

CertificateDecision CheckpointTracker::Decide(const CheckpointIdentity& identity,
                                              const Bytes& certificate, Descent descent) {
  CertificateDecision decision;
  auto apply = [&](std::string reason) {
    state_.latest = AppliedCheckpoint{identity, certificate};
    state_.adapter_acknowledged = false;
    decision.outcome = CertificateOutcome::kApplied;
    decision.reason = std::move(reason);
    decision.state_changed = true;
    decision.forward_to_adapter = true;
    return decision;
  };
  auto conflict = [&](std::string reason) {
    state_.evidence = EncodeFreezeEvidence(FreezeEvidence{state_.latest->certificate, certificate});
    state_.frozen = true;
    decision.outcome = CertificateOutcome::kConflict;
    decision.reason = std::move(reason);
    decision.state_changed = true;
    return decision;
  };
  if (state_.latest && identity == state_.latest->identity) {
    decision.outcome = CertificateOutcome::kDuplicate;
    decision.reason = "names the latest checkpoint";
    return decision;
  }
  if (state_.frozen) {
    decision.outcome = CertificateOutcome::kIgnoredFrozen;
    decision.reason = "frozen by conflicting certificates: verified, not applied";
    return decision;
  }
  if (!state_.latest) return apply("the first checkpoint: " + Describe(identity));
  const CheckpointIdentity& latest = state_.latest->identity;
  if (identity.pow_height < latest.pow_height) {
    decision.outcome = CertificateOutcome::kIgnored;
    decision.reason = "below the latest checkpoint (" + Describe(latest) + "): older or replayed";
    return decision;
  }
  if (identity.pow_height == latest.pow_height) {
    return conflict("another block at the latest checkpoint's height (" + Describe(latest) + ")");
  }
  switch (descent) {
    case Descent::kDescends:
      return apply("extends the latest checkpoint: " + Describe(identity));
    case Descent::kDoesNotDescend:
      return conflict("does not descend from the latest checkpoint (" + Describe(latest) + ")");
    case Descent::kUnknown:
      break;
  }
  decision.outcome = CertificateOutcome::kPending;
  decision.reason = "the chain side cannot tell yet whether " + Describe(identity) +
                    " descends from the latest checkpoint";
  return decision;
}

bool CheckpointTracker::OnAdapterAcknowledged(const CheckpointIdentity& identity) {
  if (!state_.latest || !(state_.latest->identity == identity) || state_.adapter_acknowledged) {
    return false;
  }
  state_.adapter_acknowledged = true;
  return true;
}

bool CheckpointTracker::ClearFreeze(const Bytes& evidence, std::string* reason) {
  if (!state_.frozen) {
    *reason = "not frozen";
    return false;
  }
  if (evidence != state_.evidence) {
    *reason = "the evidence is not that of the current freeze";
    return false;
  }
  state_.frozen = false;
  state_.evidence.clear();
  return true;
}

}  // namespace metronome::interpreter
