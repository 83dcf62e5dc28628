// Seeded simulation runs with f Byzantine members (tests/sim/byzantine.h) on top of the
// usual faults: validly signed messages of every kind with mutated fields, replays,
// unsolicited sync answers, floods, equivocations and silence, until the adversary's
// budget (heal_ms) is spent. In every run: no honest replica aborts (the run finishes),
// safety, liveness after the budget (honest members keep deciding), durability, and
// per-sender memory bounded (the stash share of each Byzantine sender). Half the runs
// keep a short committed history with long outages, for sync past pruned history (the
// simulator's restarts keep their blocks, so fast-forwards stay rare: counted, printed).
// The run count is one flag away: --runs=100000 (via --test_arg) or METRONOME_SIM_RUNS.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "tests/sim/simulation.h"

namespace metronome::sim {
namespace {

uint64_t runs = 1000;
uint32_t members = 4;
uint64_t first_seed = 1;

SimOptions ByzantineOptions(uint64_t seed) {
  SimOptions options;
  options.seed = seed;
  options.members = members;
  options.byzantine = (members - 1) / 3;  // f.
  // The adversary's budget: 5 s of attacks, then 17 s in which honest members must
  // decide every candidate (the liveness checker's 10 x timeout_ms_max each).
  options.heal_ms = 5000;
  options.duration_ms = 22000;
  if (seed % 2 == 0) {  // Short history, long outages: peers prune what a member misses.
    options.committed_history = 2;
    options.crash_downtime_ms_max = 7000;
  }
  return options;
}

TEST(ByzantineSimulatorTest, FByzantineMembersCannotAbortSplitStallOrFloodHonestOnes) {
  SimTotals totals;
  for (uint64_t run = 0; run < runs; ++run) {
    const SimOptions options = ByzantineOptions(first_seed + run);
    const SimResult result = RunSimulation(options);
    ASSERT_TRUE(result.ok()) << result.violation << "\nreplay: " << ReplayCommand(options);
    totals.commits += result.totals.commits;
    totals.crashes += result.totals.crashes;
    totals.adversary_messages += result.totals.adversary_messages;
    totals.fast_forwards += result.totals.fast_forwards;
    totals.certificates += result.totals.certificates;
  }
  // The certificate audit (verified as consumers verify, one block per PoW height) ran.
  EXPECT_GT(totals.certificates, runs);
  std::cout << "n=" << members << ", f Byzantine: " << runs << " runs, " << totals.commits
            << " commits, " << totals.crashes << " crashes, " << totals.adversary_messages
            << " adversary messages, " << totals.fast_forwards << " fast-forwards, "
            << totals.certificates << " certificates verified\n";
  if (runs >= 100) {
    EXPECT_GE(totals.commits, 10 * runs);
    EXPECT_GE(totals.adversary_messages, 100 * runs);  // The adversary really attacks.
  }
}

}  // namespace
}  // namespace metronome::sim

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (const char* env = std::getenv("METRONOME_SIM_RUNS")) metronome::sim::runs = std::stoull(env);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--runs=", 0) == 0) metronome::sim::runs = std::stoull(arg.substr(7));
    if (arg.rfind("--members=", 0) == 0) metronome::sim::members = std::stoul(arg.substr(10));
    if (arg.rfind("--seed=", 0) == 0) metronome::sim::first_seed = std::stoull(arg.substr(7));
  }
  return RUN_ALL_TESTS();
}
