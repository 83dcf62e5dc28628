// Seeded simulation runs of real replica cores with faults on (drops, duplicates,
// reordering, partitions and heals, crashes mid-output with unsynced writes lost):
// safety, liveness after the last heal, and durability must hold in every run.
// The run count is one flag away: --runs=100000 (via --test_arg) or METRONOME_SIM_RUNS.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "tests/sim/simulation.h"

namespace metronome::sim {
namespace {

uint64_t runs = 1000;
uint32_t members = 4;
uint64_t first_seed = 1;

TEST(SimulatorTest, SeededRunsWithFaultsAreSafeLiveAndDurable) {
  SimTotals totals;
  for (uint64_t run = 0; run < runs; ++run) {
    SimOptions options;
    options.seed = first_seed + run;
    options.members = members;
    options.lock_attack = options.seed % 4 == 0;  // A Byzantine leader in a quarter of runs.
    const SimResult result = RunSimulation(options);
    ASSERT_TRUE(result.ok()) << result.violation << "\nreplay: " << ReplayCommand(options);
    totals.commits += result.totals.commits;
    totals.crashes += result.totals.crashes;
    totals.partitions += result.totals.partitions;
    totals.view_changes += result.totals.view_changes;
    totals.lock_attacks += result.totals.lock_attacks;
    totals.lock_refusals += result.totals.lock_refusals;
  }
  std::cout << "n=" << members << ": " << runs << " runs, " << totals.commits << " commits, "
            << totals.crashes << " crashes, " << totals.partitions << " partitions, "
            << totals.view_changes << " view changes, " << totals.lock_attacks << " lock attacks, "
            << totals.lock_refusals << " proposals refused for a lock\n";
  if (runs >= 1000) {
    EXPECT_GE(totals.commits, 10000u);
    EXPECT_GE(totals.crashes, 500u);
    EXPECT_GE(totals.partitions, 500u);
    EXPECT_GE(totals.view_changes, 1000u);
    EXPECT_GE(totals.lock_attacks, runs / 4);  // The adversary really attacks.
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
