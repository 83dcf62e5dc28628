#ifndef METRONOME_SERVICES_INTERPRETER_CORE_RULES_H_
#define METRONOME_SERVICES_INTERPRETER_CORE_RULES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "common/block.h"
#include "common/bytes.h"
#include "common/ledger.h"

// The member's checkpoint rules (DESIGN §5): which PoW block to propose as the next
// checkpoint candidate, and whether a candidate another member proposed is acceptable.
// Pure functions of their arguments: chain facts and the time come in as inputs, so
// the same inputs always give the same answer. Thread-safe.
namespace metronome::interpreter {

// The rules' parameters, from the [rules] table of interpreter.toml plus the
// federation's chain id.
struct RulesConfig {
  std::string chain_id;     // The federation's chain id; candidates must name it.
  uint64_t k = 6;           // A candidate is the block at depth k on the best chain.
  uint64_t k_min = 4;       // A replica accepts a candidate at least this deep.
  uint64_t interval = 5;    // Least PoW heights between two checkpoints.
  uint64_t min_age_ms = 0;  // Δ: a candidate first seen less than this ago is rejected
                            // (0: the rule is off).
};

// What is wrong with a RulesConfig: the key ("rules.k", ...) and the problem.
struct RulesProblem {
  std::string key;
  std::string problem;
};

// nullopt when the parameters are consistent: a non-empty chain id, k ≥ 1,
// k_min ≤ k (a leader's candidate must pass its own replicas' depth rule), interval ≥ 1
// (two checkpoints at one height would conflict).
std::optional<RulesProblem> Validate(const RulesConfig& rules);

// The PoW block a checkpoint names: the parent ledger's last checkpoint, or the latest
// certified one.
struct CheckpointPosition {
  uint64_t height = 0;
  Bytes hash;
  bool operator==(const CheckpointPosition& other) const {
    return height == other.height && hash == other.hash;
  }
};

// The ledger's last checkpoint, nullopt when it has none. REQUIRES: when set,
// ledger.last_checkpoint is a candidate (the ledger decoder guarantees it).
std::optional<CheckpointPosition> LastCheckpointOf(const Ledger& ledger);

// The least PoW height a candidate may have after `last`: last height + interval, or
// interval itself before the first checkpoint. Saturates instead of overflowing.
uint64_t NextDueHeight(const RulesConfig& rules, const std::optional<CheckpointPosition>& last);

// Whether the block in question descends from (or is) the last checkpoint, as the
// chain side reported it; kUnknown when it was not asked or could not answer.
enum class Descent { kUnknown, kDescends, kDoesNotDescend };

// ---- Candidate rule (the leader's side) -----------------------------------------------

// The block at depth k on the adapter's best chain (chain.proto BlockAtDepthResponse).
struct BlockAtDepth {
  uint64_t height = 0;
  Bytes hash;
  uint64_t first_seen_unix_ms = 0;  // 0: unknown.
};

struct CandidateInputs {
  std::optional<BlockAtDepth> block;  // nullopt: the best chain is shorter than k.
  std::optional<CheckpointPosition> last_checkpoint;
  // Of `block` from `last_checkpoint`. kUnknown trusts the adapter's invariant that its
  // best chain contains the checkpoint it applied.
  Descent descent = Descent::kUnknown;
  bool frozen = false;  // Conflicting certificates seen: propose nothing.
  uint64_t now_unix_ms = 0;
};

struct CandidateChoice {
  // Set when a candidate is due: chain id, the block's height and hash, no opaque data.
  std::optional<CheckpointCandidate> candidate;
  // Otherwise why not, as a stable code and a one-line reason starting with it:
  //   "frozen", "chain_too_short", "not_due", "not_descending_from_checkpoint",
  //   "too_recent" (so replicas enforcing min_age_ms would not accept it yet).
  std::string code;
  std::string reason;
};

// The candidate rule (DESIGN §5): the block at depth k is due when its height ≥
// NextDueHeight and it descends from the last checkpoint.
CandidateChoice ChooseCandidate(const RulesConfig& rules, const CandidateInputs& inputs);

// ---- Validation (the replica's side) ---------------------------------------------------

enum class VerdictKind { kAccept, kReject, kUnknown };

struct Verdict {
  VerdictKind kind = VerdictKind::kUnknown;
  // Empty for kAccept; otherwise a stable snake_case code, then ": " and details when
  // there are any ("too_shallow: depth 3 < k_min 4").
  std::string reason;
  // The reason's code (the text before the first ':'), "" for kAccept.
  std::string code() const;
};

const char* VerdictName(VerdictKind kind);

// What the replica must ask its chain side about a proposed body before judging it.
struct BodyCheck {
  // Set when the body is judged without chain facts (accepted when empty, or rejected).
  std::optional<Verdict> verdict;
  // Otherwise the candidate to ask about, and the checkpoint it must descend from (the
  // parent ledger's; nullopt before the first one: every known block descends).
  CheckpointCandidate candidate;
  std::optional<CheckpointPosition> checkpoint;
};

// The checks a body allows without chain facts, in order: an empty body is accepted;
// at most one transaction ("too_many_transactions"); a candidate ("not_a_candidate");
// a non-empty hash and no opaque data ("malformed_candidate"); the federation's chain
// id ("wrong_chain"); pow height ≥ NextDueHeight of the parent ledger's checkpoint
// ("below_interval").
BodyCheck CheckProposedBody(const RulesConfig& rules, const Body& body, const Ledger& parent);

// The chain side's facts about a candidate block (chain.proto BlockFacts).
struct ChainFacts {
  bool known = false;
  bool on_best_chain = false;
  uint64_t depth = 0;
  bool descends_from_checkpoint = false;
  uint64_t first_seen_unix_ms = 0;  // 0: unknown (treated as old enough).
  std::string error_code;           // Non-empty: the adapter could not answer.
  std::string error_message;
};

// Judges `candidate` (which passed CheckProposedBody) on its chain facts, in order:
// an error or an unknown block is kUnknown ("chain_unavailable", "unknown_block": the
// shell has already waited a bounded time for the node); then rejected when
// "not_on_best_chain", "too_shallow" (depth < k_min), "not_descending_from_checkpoint",
// "too_recent" (first seen less than min_age_ms before now; a first_seen in the future
// counts as just seen). Otherwise kAccept.
Verdict JudgeCandidateFacts(const RulesConfig& rules, const CheckpointCandidate& candidate,
                            const ChainFacts& facts, uint64_t now_unix_ms);

}  // namespace metronome::interpreter

#endif  // METRONOME_SERVICES_INTERPRETER_CORE_RULES_H_
