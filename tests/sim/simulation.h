#ifndef METRONOME_TESTS_SIM_SIMULATION_H_
#define METRONOME_TESTS_SIM_SIMULATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/bft/core/outputs.h"

namespace metronome::sim {

// A Twins scenario (Bano et al., OPODIS 2021): for each of the first views, who leads
// and how the nodes (members, then twins) are partitioned. Afterwards the network heals.
struct TwinsScenario {
  std::vector<uint32_t> twin_of;  // Node members+i is a twin of member twin_of[i].
  std::vector<uint32_t> leaders;  // leaders[v - 1] leads view v; then round-robin.
  // partitions[v - 1][node] = the group of `node` during view v.
  std::vector<std::vector<uint8_t>> partitions;
};

struct SimOptions {
  uint64_t seed = 1;
  uint32_t members = 4;
  // Simulated time. Candidates appearing between heal_ms and duration_ms - 10 *
  // timeout_ms_max are checked for liveness.
  uint64_t duration_ms = 26000;
  uint64_t heal_ms = 8000;  // No faults (nor Twins partitions) after this: the last heal.
  bool faults = true;
  double drop_probability = 0.05;
  double duplicate_probability = 0.02;
  uint64_t delay_ms_min = 1;
  uint64_t delay_ms_max = 30;
  double crashes_per_second = 0.15;  // Per node, while faults are on.
  uint64_t crash_downtime_ms_max = 2000;
  double partitions_per_second = 0.25;  // For the whole network.
  uint64_t partition_ms_max = 2000;
  uint64_t candidate_interval_ms_mean = 2000;
  uint64_t timeout_ms_base = 300;
  uint64_t timeout_ms_max = 1500;
  uint64_t idle_interval_ms = 1000;
  std::optional<TwinsScenario> twins;
  // Member 0 is Byzantine and attacks the lock (needs members >= 4; not with twins). It
  // leads two views in a row (leaders 0, 0, 1, .., n-1, ...). In the first, v, its replica
  // runs normally until the Commit QC for its block B forms; that QC is withheld, so the
  // others lock on B, time out and enter v+1. In v+1 it proposes B', a sibling of B
  // justified by the older QC over B's parent, to members 2..n-1 and, if they vote, forms
  // the QCs for B' with its own votes; then it hands member 1 the Commit QC for B. Only
  // the lock stops members 2..n-1 voting for B' (see mutation_test.cc).
  bool lock_attack = false;
  // Members 0..byzantine-1 are Byzantine (at most f; not with twins or lock_attack),
  // driven by tests/sim/byzantine.h until heal_ms, silent after: the adversary's budget.
  uint32_t byzantine = 0;
  uint64_t adversary_interval_ms = 40;  // Between the adversary's injections.
  uint64_t committed_history = 256;     // Replicas' committed history (small: pruning).
  bool record_streams = false;          // Keep every honest node's ConsensusStream records.
  // Replicas share one signature cache (each signature verified once in the whole run,
  // for speed). Off: every replica verifies for itself, as deployed (benchmarks).
  bool share_verification_cache = true;
  uint64_t stop_after_decisions = 0;  // Ends the run at this many decisions (0: never).
};

struct SimTotals {
  uint64_t commits = 0;    // Blocks committed, summed over honest nodes.
  uint64_t decisions = 0;  // Highest committed height among honest nodes.
  uint64_t crashes = 0;
  uint64_t partitions = 0;
  uint64_t view_changes = 0;  // Views entered, summed over honest nodes.
  uint64_t messages = 0;
  uint64_t signatures = 0;               // Artefacts signed.
  uint64_t verifications = 0;            // Ed25519 verifications actually run.
  uint64_t lock_attacks = 0;             // Lock attack attempts (B' proposed).
  uint64_t lock_refusals = 0;            // Proposals honest members refused for their lock.
  uint64_t adversary_messages = 0;       // Sent by Byzantine members (mutated, injected).
  uint64_t fast_forwards = 0;            // Honest nodes' jumps past pruned history.
  uint64_t certificates = 0;             // Honest nodes' certificates, each verified.
  uint64_t certificate_headers_max = 0;  // The longest of them, in headers.
};

struct SimResult {
  // No two honest nodes committed conflicting blocks; every certificate an honest node
  // issued verifies as its consumers verify it, and names the block the others name.
  bool safe = true;
  bool live = true;     // After the last heal, every candidate was committed in time.
  bool durable = true;  // No node signed twice for one slot; its log holds all it sent.
  // Every honest replica's stash share per Byzantine sender stayed within its quota.
  bool bounded = true;
  std::string violation;  // The first violation found, one line.
  // Conflicting decisions seen (Twins beyond f): the two commit QC views.
  std::optional<std::pair<uint64_t, uint64_t>> conflict_views;
  SimTotals totals;
  std::vector<std::vector<bft::StreamRecord>> streams;  // Per honest node, if recorded.
  bool ok() const { return safe && live && durable && bounded; }
};

SimResult RunSimulation(const SimOptions& options);

// A one-line command that replays `options` exactly.
std::string ReplayCommand(const SimOptions& options);

}  // namespace metronome::sim

#endif  // METRONOME_TESTS_SIM_SIMULATION_H_
