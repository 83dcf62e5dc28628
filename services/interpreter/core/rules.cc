#include "services/interpreter/core/rules.h"

#include <limits>

namespace metronome::interpreter {
namespace {

Verdict Accept() { return Verdict{VerdictKind::kAccept, ""}; }
Verdict Reject(std::string reason) { return Verdict{VerdictKind::kReject, std::move(reason)}; }
Verdict Unknown(std::string reason) { return Verdict{VerdictKind::kUnknown, std::move(reason)}; }

// How long ago the block was first seen, when min_age_ms applies and the block is
// younger than it. A first_seen of 0 means the chain side does not know (e.g. the block
// predates the adapter): such blocks are old, not new, so the rule does not hold them up.
std::optional<uint64_t> TooRecentAge(const RulesConfig& rules, uint64_t first_seen_unix_ms,
                                     uint64_t now_unix_ms) {
  if (rules.min_age_ms == 0 || first_seen_unix_ms == 0) return std::nullopt;
  const uint64_t age = now_unix_ms > first_seen_unix_ms ? now_unix_ms - first_seen_unix_ms : 0;
  if (age >= rules.min_age_ms) return std::nullopt;
  return age;
}

std::string TooRecentReason(const RulesConfig& rules, uint64_t age_ms) {
  return "too_recent: first seen " + std::to_string(age_ms) + " ms ago < min_age_ms " +
         std::to_string(rules.min_age_ms);
}

}  // namespace

std::optional<RulesProblem> Validate(const RulesConfig& rules) {
  if (rules.chain_id.empty()) return RulesProblem{"chain_id", "must not be empty"};
  if (rules.chain_id.size() > kChainIdBytesMax) {
    return RulesProblem{"chain_id", "longer than " + std::to_string(kChainIdBytesMax) + " bytes"};
  }
  if (rules.k == 0) {
    return RulesProblem{"rules.k", "must be at least 1 (the tip itself is never final)"};
  }
  if (rules.k_min > rules.k) {
    return RulesProblem{"rules.k_min", "k_min " + std::to_string(rules.k_min) + " is above k " +
                                           std::to_string(rules.k) +
                                           ": replicas would reject every leader's candidate"};
  }
  if (rules.interval == 0) {
    return RulesProblem{"rules.interval", "must be at least 1 (one checkpoint per height)"};
  }
  return std::nullopt;
}

std::optional<CheckpointPosition> LastCheckpointOf(const Ledger& ledger) {
  if (!ledger.last_checkpoint) return std::nullopt;
  const CheckpointCandidate& candidate = ledger.last_checkpoint->candidate();
  return CheckpointPosition{candidate.pow_height, candidate.pow_block_hash};
}

uint64_t NextDueHeight(const RulesConfig& rules, const std::optional<CheckpointPosition>& last) {
  const uint64_t base = last ? last->height : 0;
  if (base > std::numeric_limits<uint64_t>::max() - rules.interval) {
    return std::numeric_limits<uint64_t>::max();
  }
  return base + rules.interval;
}

CandidateChoice ChooseCandidate(const RulesConfig& rules, const CandidateInputs& inputs) {
  CandidateChoice choice;
  auto decline = [&choice](std::string code, const std::string& details) {
    choice.reason = details.empty() ? code : code + ": " + details;
    choice.code = std::move(code);
    return choice;
  };
  if (inputs.frozen) return decline("frozen", "conflicting certificates; cleared by an operator");
  if (!inputs.block) {
    return decline("chain_too_short", "no block at depth " + std::to_string(rules.k));
  }
  const BlockAtDepth& block = *inputs.block;
  const uint64_t due = NextDueHeight(rules, inputs.last_checkpoint);
  if (block.height < due) {
    return decline("not_due", "height " + std::to_string(block.height) + " < next due height " +
                                  std::to_string(due));
  }
  if (inputs.descent == Descent::kDoesNotDescend) {
    return decline("not_descending_from_checkpoint", "the block at height " +
                                                         std::to_string(block.height) +
                                                         " is not on the last checkpoint's chain");
  }
  if (std::optional<uint64_t> age =
          TooRecentAge(rules, block.first_seen_unix_ms, inputs.now_unix_ms)) {
    choice.code = "too_recent";
    choice.reason = TooRecentReason(rules, *age);
    return choice;
  }
  choice.candidate = CheckpointCandidate{rules.chain_id, block.height, block.hash, Bytes{}};
  return choice;
}

std::string Verdict::code() const { return reason.substr(0, reason.find(':')); }

const char* VerdictName(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::kAccept:
      return "accept";
    case VerdictKind::kReject:
      return "reject";
    case VerdictKind::kUnknown:
      return "unknown";
  }
  return "?";
}

BodyCheck CheckProposedBody(const RulesConfig& rules, const Body& body, const Ledger& parent) {
  BodyCheck check;
  if (body.transactions.empty()) {
    check.verdict = Accept();
    return check;
  }
  if (body.transactions.size() > 1) {
    check.verdict =
        Reject("too_many_transactions: " + std::to_string(body.transactions.size()) + " > 1");
    return check;
  }
  const Transaction& transaction = body.transactions.front();
  if (!transaction.is_candidate()) {
    check.verdict = Reject("not_a_candidate: checkpointing takes no proposer blocks");
    return check;
  }
  const CheckpointCandidate& candidate = transaction.candidate();
  if (candidate.pow_block_hash.empty()) {
    check.verdict = Reject("malformed_candidate: empty pow block hash");
    return check;
  }
  if (!candidate.opaque.empty()) {
    // Nothing this chain's interpreter would certify; refusing keeps certificates lean.
    check.verdict = Reject("malformed_candidate: unexpected opaque data (" +
                           std::to_string(candidate.opaque.size()) + " bytes)");
    return check;
  }
  if (candidate.chain_id != rules.chain_id) {
    check.verdict =
        Reject("wrong_chain: '" + candidate.chain_id + "' is not '" + rules.chain_id + "'");
    return check;
  }
  check.checkpoint = LastCheckpointOf(parent);
  const uint64_t due = NextDueHeight(rules, check.checkpoint);
  if (candidate.pow_height < due) {
    check.verdict = Reject("below_interval: pow height " + std::to_string(candidate.pow_height) +
                           " < next due height " + std::to_string(due));
    return check;
  }
  check.candidate = candidate;
  return check;
}

Verdict JudgeCandidateFacts(const RulesConfig& rules, const CheckpointCandidate& candidate,
                            const ChainFacts& facts, uint64_t now_unix_ms) {
  if (!facts.error_code.empty()) {
    return Unknown("chain_unavailable: " + facts.error_code +
                   (facts.error_message.empty() ? "" : " (" + facts.error_message + ")"));
  }
  if (!facts.known) {
    return Unknown("unknown_block: height " + std::to_string(candidate.pow_height) +
                   " not known to the chain side");
  }
  if (!facts.on_best_chain) return Reject("not_on_best_chain");
  if (facts.depth < rules.k_min) {
    return Reject("too_shallow: depth " + std::to_string(facts.depth) + " < k_min " +
                  std::to_string(rules.k_min));
  }
  if (!facts.descends_from_checkpoint) return Reject("not_descending_from_checkpoint");
  if (std::optional<uint64_t> age = TooRecentAge(rules, facts.first_seen_unix_ms, now_unix_ms)) {
    return Reject(TooRecentReason(rules, *age));
  }
  return Accept();
}

}  // namespace metronome::interpreter
