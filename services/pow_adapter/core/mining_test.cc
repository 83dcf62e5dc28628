#include "services/pow_adapter/core/mining.h"

#include <gtest/gtest.h>

#include <cmath>

#include "services/pow_adapter/core/devchain.h"

namespace metronome::devchain {
namespace {

TEST(MiningTest, TheSameSeedGivesTheSameDelays) {
  SplitMix64 a(42), b(42), c(43);
  bool any_different = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t delay_a = NextBlockDelayMs(&a, 0.25, 1000);
    EXPECT_EQ(delay_a, NextBlockDelayMs(&b, 0.25, 1000));
    any_different |= delay_a != NextBlockDelayMs(&c, 0.25, 1000);
  }
  EXPECT_TRUE(any_different);
}

TEST(MiningTest, MeanDelayIsTheIntervalDividedByTheShare) {
  SplitMix64 rng(7);
  for (double share : {1.0, 0.25, 2.0 / 3.0}) {
    double sum = 0;
    const int draws = 20000;
    for (int i = 0; i < draws; ++i) sum += static_cast<double>(NextBlockDelayMs(&rng, share, 1000));
    const double expected = 1000 / share;
    EXPECT_NEAR(sum / draws, expected, expected * 0.03) << "share " << share;
  }
}

TEST(MiningTest, AMinerWithTwoThirdsOfTheRateWinsAboutTwoThirdsOfTheRaces) {
  // Race an attacker (2/3) against the honest rest (1/3): memorylessness means each
  // block goes to whoever draws the shorter delay.
  SplitMix64 attacker(1), honest(2);
  int attacker_wins = 0;
  const int races = 30000;
  for (int i = 0; i < races; ++i) {
    attacker_wins +=
        NextBlockDelayMs(&attacker, 2.0 / 3.0, 1000) < NextBlockDelayMs(&honest, 1.0 / 3.0, 1000);
  }
  EXPECT_NEAR(static_cast<double>(attacker_wins) / races, 2.0 / 3.0, 0.02);
}

TEST(MiningTest, UnitDrawsAreNeverZero) {
  SplitMix64 rng(0);
  for (int i = 0; i < 100000; ++i) {
    const double unit = rng.NextUnit();
    ASSERT_GT(unit, 0.0);
    ASSERT_LE(unit, 1.0);
  }
}

TEST(MiningTest, NonceSearchFindsAHashBelowTheEasyTarget) {
  ChainParams params;
  Devchain chain(params);
  DevchainBlock block = chain.BlockTemplate(5000, "miner");
  const std::optional<uint64_t> attempts = SearchNonce(&block.header, 0, 1 << 20);
  ASSERT_TRUE(attempts.has_value());
  EXPECT_TRUE(MeetsTarget(BlockHash(block.header), params.target));
  EXPECT_TRUE(chain.AddBlock(block, 5000).accepted());
}

TEST(MiningTest, NonceSearchGivesUpAfterItsBudget) {
  DevchainHeader header;
  header.target = Hash256{};  // Only the all-zero hash would do.
  EXPECT_FALSE(SearchNonce(&header, 0, 1000).has_value());
}

}  // namespace
}  // namespace metronome::devchain
