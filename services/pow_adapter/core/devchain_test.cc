#include "services/pow_adapter/core/devchain.h"

#include <gtest/gtest.h>

#include "services/pow_adapter/core/test_chain.h"

namespace metronome::devchain {
namespace {

using testing::Extend;
using testing::kFarFutureMs;
using testing::MakeChild;

// Re-seals a block whose header or transactions a test changed, so only the intended
// defect remains.
void Reseal(DevchainBlock* block) { ASSERT_TRUE(SearchNonce(&block->header, 0, 1 << 24)); }

TEST(DevchainTest, GenesisIsTheSameForTheSameParameters) {
  ChainParams params;
  Devchain a(params), b(params);
  EXPECT_EQ(a.genesis().hash, b.genesis().hash);
  params.chain_id = "other";
  Devchain c(params);
  EXPECT_NE(a.genesis().hash, c.genesis().hash);
  EXPECT_EQ(a.tip().height, 0u);
}

TEST(DevchainTest, AValidChildExtendsTheTip) {
  Devchain chain{ChainParams{}};
  const BlockOutcome outcome = chain.AddBlock(MakeChild(chain, chain.tip(), "m"), kFarFutureMs);
  ASSERT_TRUE(outcome.accepted()) << outcome.reason;
  EXPECT_TRUE(outcome.tip.changed);
  EXPECT_EQ(outcome.tip.reorg_depth, 0u);
  EXPECT_EQ(chain.tip().height, 1u);
  EXPECT_EQ(chain.tip().hash, outcome.hash);
  EXPECT_EQ(chain.AddBlock(MakeChild(chain, chain.genesis(), "m"), kFarFutureMs).tip.changed,
            false);
}

TEST(DevchainTest, TheSameBlockTwiceIsADuplicate) {
  Devchain chain{ChainParams{}};
  const DevchainBlock block = MakeChild(chain, chain.tip(), "m");
  ASSERT_TRUE(chain.AddBlock(block, kFarFutureMs).accepted());
  EXPECT_EQ(chain.AddBlock(block, kFarFutureMs).verdict, BlockVerdict::kDuplicate);
  EXPECT_EQ(chain.block_count(), 2u);
}

TEST(DevchainTest, BadProofOfWorkIsRejectedWithAReason) {
  Devchain chain{ChainParams{}};
  DevchainBlock block = MakeChild(chain, chain.tip(), "m");
  // Find a nonce whose hash misses the target.
  while (MeetsTarget(BlockHash(block.header), block.header.target)) ++block.header.nonce;
  const BlockOutcome outcome = chain.AddBlock(block, kFarFutureMs);
  EXPECT_EQ(outcome.verdict, BlockVerdict::kBadPow);
  EXPECT_NE(outcome.reason.find("exceeds the target"), std::string::npos);
  EXPECT_EQ(chain.tip().height, 0u);
}

TEST(DevchainTest, AnotherTargetIsRejectedEvenWithValidWork) {
  Devchain chain{ChainParams{}};
  DevchainBlock block = MakeChild(chain, chain.tip(), "m");
  block.header.target.fill(0xff);  // Easier than the chain's.
  EXPECT_EQ(chain.AddBlock(block, kFarFutureMs).verdict, BlockVerdict::kBadTarget);
}

TEST(DevchainTest, AnUnknownParentIsReportedSoTheCallerCanSync) {
  Devchain chain{ChainParams{}};
  DevchainBlock block = MakeChild(chain, chain.tip(), "m");
  block.header.parent.fill(0x42);
  Reseal(&block);
  EXPECT_EQ(chain.AddBlock(block, kFarFutureMs).verdict, BlockVerdict::kUnknownParent);
}

TEST(DevchainTest, AWrongHeightIsRejected) {
  Devchain chain{ChainParams{}};
  DevchainBlock block = MakeChild(chain, chain.tip(), "m");
  block.header.height = 5;
  block.transactions = {EncodeCoinbase(Coinbase{5, "m"})};
  block.header.tx_root = TransactionRoot(block.transactions);
  Reseal(&block);
  EXPECT_EQ(chain.AddBlock(block, kFarFutureMs).verdict, BlockVerdict::kBadHeight);
}

TEST(DevchainTest, AWrongMerkleRootIsRejected) {
  Devchain chain{ChainParams{}};
  DevchainBlock block = MakeChild(chain, chain.tip(), "m");
  block.transactions.push_back(Bytes{9, 9, 9});  // Not covered by tx_root.
  EXPECT_EQ(chain.AddBlock(block, kFarFutureMs).verdict, BlockVerdict::kBadMerkleRoot);
}

TEST(DevchainTest, AMissingOrWrongCoinbaseIsRejected) {
  Devchain chain{ChainParams{}};
  DevchainBlock block = MakeChild(chain, chain.tip(), "m");
  block.transactions = {EncodeCoinbase(Coinbase{2, "m"})};  // Height 1 block.
  block.header.tx_root = TransactionRoot(block.transactions);
  Reseal(&block);
  EXPECT_EQ(chain.AddBlock(block, kFarFutureMs).verdict, BlockVerdict::kBadCoinbase);
  block.transactions.clear();
  block.header.tx_root = TransactionRoot(block.transactions);
  Reseal(&block);
  EXPECT_EQ(chain.AddBlock(block, kFarFutureMs).verdict, BlockVerdict::kBadCoinbase);
}

TEST(DevchainTest, OversizedBlocksAreRejected) {
  ChainParams params;
  params.block_bytes_max = 1000;
  Devchain chain(params);
  DevchainBlock block = MakeChild(chain, chain.tip(), "m");
  block.transactions.push_back(Bytes(2000, 7));
  block.header.tx_root = TransactionRoot(block.transactions);
  Reseal(&block);
  EXPECT_EQ(chain.AddBlock(block, kFarFutureMs).verdict, BlockVerdict::kOversized);
  EXPECT_EQ(chain.AddEncodedBlock(EncodeBlock(block), kFarFutureMs).verdict,
            BlockVerdict::kOversized);
}

TEST(DevchainTest, GarbageBytesAreMalformedNotACrash) {
  Devchain chain{ChainParams{}};
  EXPECT_EQ(chain.AddEncodedBlock(Bytes{101, 1, 0, 0}, kFarFutureMs).verdict,
            BlockVerdict::kMalformed);
  EXPECT_EQ(chain.AddEncodedBlock(Bytes{}, kFarFutureMs).verdict, BlockVerdict::kMalformed);
  Bytes huge_count = EncodeBlock(MakeChild(chain, chain.tip(), "m"));
  huge_count[2 + kHeaderEncodedBytes] = 0xff;  // Transaction count's top byte.
  EXPECT_EQ(chain.AddEncodedBlock(huge_count, kFarFutureMs).verdict, BlockVerdict::kMalformed);
}

TEST(DevchainTest, TimestampsBelowTheMedianOrTooFarAheadAreRejected) {
  Devchain chain{ChainParams{}};
  const BlockEntry& tip = Extend(&chain, chain.genesis(), 12, "m");
  DevchainBlock old = MakeChild(chain, tip, "m");
  old.header.time_ms = chain.MinimumChildTime(tip) - 1;
  Reseal(&old);
  EXPECT_EQ(chain.AddBlock(old, kFarFutureMs).verdict, BlockVerdict::kTimeTooOld);

  DevchainBlock future = MakeChild(chain, tip, "m");
  const uint64_t now = future.header.time_ms - chain.params().future_time_ms_max - 1;
  EXPECT_EQ(chain.AddBlock(future, now).verdict, BlockVerdict::kTimeTooNew);
  EXPECT_TRUE(chain.AddBlock(future, now + 1).accepted());
}

TEST(DevchainTest, TheTreeRefusesBlocksBeyondItsMaximum) {
  ChainParams params;
  params.blocks_max = 3;
  Devchain chain(params);
  Extend(&chain, chain.genesis(), 2, "m");
  EXPECT_EQ(chain.AddBlock(MakeChild(chain, chain.tip(), "m"), kFarFutureMs).verdict,
            BlockVerdict::kTreeFull);
}

TEST(DevchainTest, MostWorkWinsAndTheReorgDepthIsReported) {
  Devchain chain{ChainParams{}};
  const BlockEntry& fork = Extend(&chain, chain.genesis(), 2, "a");
  const BlockEntry& a_tip = Extend(&chain, fork, 3, "a");
  EXPECT_EQ(chain.tip().hash, a_tip.hash);
  // A competing branch of equal length does not replace the first seen.
  const BlockEntry& b_equal = Extend(&chain, fork, 3, "b");
  EXPECT_EQ(chain.tip().hash, a_tip.hash);
  // One more block makes it the most work: a reorganisation of depth 3.
  const BlockOutcome outcome = chain.AddBlock(MakeChild(chain, b_equal, "b"), kFarFutureMs);
  ASSERT_TRUE(outcome.accepted());
  EXPECT_TRUE(outcome.tip.changed);
  EXPECT_EQ(outcome.tip.reorg_depth, 3u);
  EXPECT_EQ(outcome.tip.old_tip, a_tip.hash);
  EXPECT_EQ(chain.tip().height, 6u);
  EXPECT_FALSE(chain.OnBestChain(a_tip));
  EXPECT_TRUE(chain.OnBestChain(b_equal));
  EXPECT_EQ(chain.Depth(b_equal.hash), 1u);
  EXPECT_EQ(chain.Depth(fork.hash), 4u);
  EXPECT_FALSE(chain.Depth(a_tip.hash).has_value());
}

TEST(DevchainTest, AncestryQueriesWorkOnSideBranches) {
  Devchain chain{ChainParams{}};
  const BlockEntry& fork = Extend(&chain, chain.genesis(), 3, "a");
  const BlockEntry& main_tip = Extend(&chain, fork, 4, "a");
  const BlockEntry& side_tip = Extend(&chain, fork, 2, "b");
  EXPECT_TRUE(chain.DescendsFrom(side_tip, fork));
  EXPECT_TRUE(chain.DescendsFrom(main_tip, fork));
  EXPECT_FALSE(chain.DescendsFrom(side_tip, main_tip));
  EXPECT_FALSE(chain.DescendsFrom(fork, side_tip));
  EXPECT_TRUE(chain.DescendsFrom(fork, fork));
  EXPECT_EQ(&chain.CommonAncestor(main_tip, side_tip), &fork);
  EXPECT_EQ(chain.Ancestor(side_tip, 0), &chain.genesis());
  EXPECT_EQ(chain.Ancestor(side_tip, 10), nullptr);
}

TEST(DevchainTest, ALocatorLetsAPeerFindTheForkAndSendWhatFollows) {
  Devchain ours{ChainParams{}};
  Devchain theirs{ChainParams{}};
  // Both share 5 blocks; then ours has 30 more, theirs 2 others.
  for (int i = 0; i < 5; ++i) {
    const DevchainBlock block = MakeChild(ours, ours.tip(), "a");
    ASSERT_TRUE(ours.AddBlock(block, kFarFutureMs).accepted());
    ASSERT_TRUE(theirs.AddBlock(block, kFarFutureMs).accepted());
  }
  Extend(&ours, ours.tip(), 30, "a");
  Extend(&theirs, theirs.tip(), 2, "b");
  const std::vector<Hash256> locator = theirs.Locator();
  EXPECT_EQ(locator.front(), theirs.tip().hash);
  EXPECT_EQ(locator.back(), theirs.genesis().hash);
  const std::vector<const BlockEntry*> after = ours.BestChainAfter(locator, 100);
  ASSERT_EQ(after.size(), 30u);
  EXPECT_EQ(after.front()->height, 6u);
  // Adding what they were sent makes theirs converge on ours.
  for (const BlockEntry* entry : after) {
    ASSERT_TRUE(theirs.AddBlock(entry->block, kFarFutureMs).accepted());
  }
  EXPECT_EQ(theirs.tip().hash, ours.tip().hash);
  EXPECT_EQ(ours.BestChainAfter(locator, 7).size(), 7u);
}

TEST(DevchainTest, LocatorsOfLongChainsStayShort) {
  Devchain chain{ChainParams{}};
  Extend(&chain, chain.genesis(), 1000, "a");
  EXPECT_LE(chain.Locator().size(), 25u);
}

TEST(DevchainTest, ReAddingBlocksInArrivalOrderRebuildsTheSameTree) {
  Devchain chain{ChainParams{}};
  const BlockEntry& fork = Extend(&chain, chain.genesis(), 3, "a");
  Extend(&chain, fork, 4, "a");
  Extend(&chain, fork, 5, "b");
  Devchain rebuilt{ChainParams{}};
  for (size_t i = 1; i < chain.block_count(); ++i) {
    ASSERT_TRUE(rebuilt.AddBlock(chain.InArrivalOrder(i).block, kFarFutureMs).accepted());
  }
  EXPECT_EQ(rebuilt.tip().hash, chain.tip().hash);
  EXPECT_EQ(rebuilt.block_count(), chain.block_count());
}

}  // namespace
}  // namespace metronome::devchain
