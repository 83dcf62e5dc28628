// Runs simulations from the command line: one seed to replay a failure, or a batch.
//   bazel run //tests/sim:sim_runner -- --seed=7 --members=4 --faults=1
//   bazel run //tests/sim:sim_runner -- --runs=100000 --members=7   (the long soak)
// --lock_attack=0|1: member 0 attacks the lock in no run or in every run; by default in
// a quarter of them (seed % 4 == 0), as in sim_test. --byzantine=K: members 0..K-1 are
// driven by the Byzantine adversary (K <= f; lock_attack is then off); with
// --committed_history=H replicas keep H committed blocks (small: fast-forwards happen).
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "tests/sim/simulation.h"

namespace {

bool Flag(const char* arg, const char* name, uint64_t* value) {
  const size_t length = std::strlen(name);
  if (std::strncmp(arg, name, length) != 0 || arg[length] != '=') return false;
  *value = std::strtoull(arg + length + 1, nullptr, 10);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  metronome::sim::SimOptions options;
  uint64_t runs = 1;
  uint64_t members = options.members, faults = 1, verbose = 0, lock_attack = 2, byzantine = 0;
  for (int i = 1; i < argc; ++i) {
    if (Flag(argv[i], "--seed", &options.seed) || Flag(argv[i], "--runs", &runs) ||
        Flag(argv[i], "--members", &members) || Flag(argv[i], "--faults", &faults) ||
        Flag(argv[i], "--duration_ms", &options.duration_ms) ||
        Flag(argv[i], "--heal_ms", &options.heal_ms) || Flag(argv[i], "--verbose", &verbose) ||
        Flag(argv[i], "--lock_attack", &lock_attack) || Flag(argv[i], "--byzantine", &byzantine) ||
        Flag(argv[i], "--committed_history", &options.committed_history) ||
        Flag(argv[i], "--crash_downtime_ms_max", &options.crash_downtime_ms_max)) {
      continue;
    }
    std::cerr << "unknown flag " << argv[i] << "\n";
    return 2;
  }
  options.members = static_cast<uint32_t>(members);
  options.faults = faults != 0;
  metronome::sim::SimTotals totals;
  const uint64_t first_seed = options.seed;
  for (uint64_t run = 0; run < runs; ++run) {
    options.seed = first_seed + run;
    options.byzantine = static_cast<uint32_t>(byzantine);
    options.lock_attack =
        byzantine == 0 && (lock_attack == 2 ? options.seed % 4 == 0 : lock_attack != 0);
    const metronome::sim::SimResult result = metronome::sim::RunSimulation(options);
    totals.commits += result.totals.commits;
    totals.crashes += result.totals.crashes;
    totals.partitions += result.totals.partitions;
    totals.view_changes += result.totals.view_changes;
    totals.lock_attacks += result.totals.lock_attacks;
    totals.lock_refusals += result.totals.lock_refusals;
    if (verbose != 0 || !result.ok()) {
      std::cout << "seed=" << options.seed << " commits=" << result.totals.commits
                << " decisions=" << result.totals.decisions
                << " views=" << result.totals.view_changes << " crashes=" << result.totals.crashes
                << " partitions=" << result.totals.partitions
                << " messages=" << result.totals.messages
                << " verifications=" << result.totals.verifications
                << " adversary_messages=" << result.totals.adversary_messages
                << " fast_forwards=" << result.totals.fast_forwards
                << " certificates=" << result.totals.certificates
                << (result.ok() ? " ok" : " VIOLATION: " + result.violation) << "\n";
    }
    if (!result.ok()) {
      std::cout << "replay: " << metronome::sim::ReplayCommand(options) << "\n";
      return 1;
    }
  }
  std::cout << runs << " runs ok: commits=" << totals.commits << " crashes=" << totals.crashes
            << " partitions=" << totals.partitions << " view_changes=" << totals.view_changes
            << " lock_attacks=" << totals.lock_attacks << " lock_refusals=" << totals.lock_refusals
            << "\n";
  return 0;
}
