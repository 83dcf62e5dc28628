#include "services/pow_adapter/core/chain_facts.h"

#include <gtest/gtest.h>

#include "services/pow_adapter/core/test_chain.h"

namespace metronome::devchain {
namespace {

using testing::Extend;

Bytes B(const Hash256& hash) { return Bytes(hash.begin(), hash.end()); }

TEST(ChainFactsTest, ABlockOnTheBestChainHasADepthAndDescendsFromItsAncestors) {
  Devchain chain{ChainParams{}};
  const BlockEntry& fork = Extend(&chain, chain.genesis(), 3, "a");
  const BlockEntry& block = Extend(&chain, fork, 2, "a");
  Extend(&chain, block, 4, "a");  // Tip at 9.
  const BlockFactsAnswer facts = FactsAbout(chain, B(block.hash), 5, B(fork.hash));
  EXPECT_TRUE(facts.known);
  EXPECT_TRUE(facts.on_best_chain);
  EXPECT_EQ(facts.depth, 4u);
  EXPECT_TRUE(facts.descends_from_checkpoint);
  EXPECT_TRUE(FactsAbout(chain, B(block.hash), 5, std::nullopt).descends_from_checkpoint);
  EXPECT_FALSE(FactsAbout(chain, B(fork.hash), 3, B(block.hash)).descends_from_checkpoint);
}

TEST(ChainFactsTest, SideBranchesAndUnknownsAreReportedAsSuch) {
  Devchain chain{ChainParams{}};
  const BlockEntry& fork = Extend(&chain, chain.genesis(), 2, "a");
  Extend(&chain, fork, 5, "a");
  const BlockEntry& side = Extend(&chain, fork, 1, "b");
  const BlockFactsAnswer facts = FactsAbout(chain, B(side.hash), 3, std::nullopt);
  EXPECT_TRUE(facts.known);
  EXPECT_FALSE(facts.on_best_chain);
  // A wrong height, a short hash, an unknown block, an unknown checkpoint.
  EXPECT_FALSE(FactsAbout(chain, B(side.hash), 4, std::nullopt).known);
  EXPECT_FALSE(FactsAbout(chain, Bytes(20, 1), 3, std::nullopt).known);
  EXPECT_FALSE(FactsAbout(chain, Bytes(32, 1), 3, std::nullopt).known);
  EXPECT_FALSE(FactsAbout(chain, B(side.hash), 3, Bytes(32, 9)).descends_from_checkpoint);
}

TEST(ChainFactsTest, BlockAtDepthCountsFromTheTip) {
  Devchain chain{ChainParams{}};
  const BlockEntry& tip = Extend(&chain, chain.genesis(), 6, "a");
  const BlockAtDepthAnswer zero = BlockAtDepth(chain, 0);
  EXPECT_TRUE(zero.found);
  EXPECT_EQ(zero.hash, tip.hash);
  const BlockAtDepthAnswer two = BlockAtDepth(chain, 2);
  EXPECT_EQ(two.height, 4u);
  EXPECT_EQ(two.tip_height, 6u);
  EXPECT_EQ(two.tip_hash, tip.hash);
  EXPECT_TRUE(BlockAtDepth(chain, 6).found);
  EXPECT_FALSE(BlockAtDepth(chain, 7).found);
}

}  // namespace
}  // namespace metronome::devchain
