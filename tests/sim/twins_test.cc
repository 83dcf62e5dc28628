// Twins with at most f twins (n = 4, one twin): every generated scenario must be safe,
// live on the healed suffix and durable. 5,000 scenarios in 10 chunks (sharded).
#include "tests/sim/twins.h"

#include <gtest/gtest.h>

#include <iostream>

namespace metronome::sim {
namespace {

constexpr uint64_t kSeed = 20261124;
constexpr uint64_t kChunk = 500;

class TwinsTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(TwinsTest, OneTwinNeverBreaksSafetyOrLiveness) {
  const TwinsOptions options{4, 1, 6};
  uint64_t commits = 0;
  for (uint64_t index = GetParam() * kChunk; index < (GetParam() + 1) * kChunk; ++index) {
    const SimResult result = RunSimulation(TwinsSimOptions(options, kSeed, index));
    ASSERT_TRUE(result.ok()) << result.violation
                             << "\nreplay: " << TwinsReplayCommand(options, kSeed, index);
    commits += result.totals.commits;
  }
  std::cout << "scenarios " << GetParam() * kChunk << ".." << (GetParam() + 1) * kChunk - 1
            << ": all safe and live, " << commits << " commits\n";
  EXPECT_GT(commits, kChunk);
}

INSTANTIATE_TEST_SUITE_P(Chunks, TwinsTest, ::testing::Range<uint64_t>(0, 10));

}  // namespace
}  // namespace metronome::sim
