#include "services/pow_adapter/shell/block_store.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace metronome::devchain {
namespace {

std::string FreshDir(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

TEST(BlockStoreTest, BlocksComeBackInArrivalOrderAfterReopening) {
  const std::string dir = FreshDir("order");
  {
    absl::StatusOr<std::unique_ptr<BlockStore>> store = BlockStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    for (uint8_t i = 0; i < 3; ++i) ASSERT_TRUE((*store)->AppendBlock(100 + i, Bytes{i, i}).ok());
  }
  absl::StatusOr<std::unique_ptr<BlockStore>> store = BlockStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->AppendBlock(103, Bytes{3, 3}).ok());
  std::vector<std::pair<uint64_t, Bytes>> seen;
  ASSERT_TRUE((*store)
                  ->LoadBlocks([&](uint64_t first_seen, const Bytes& block) {
                    seen.emplace_back(first_seen, block);
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(seen.size(), 4u);
  for (uint8_t i = 0; i < 4; ++i) {
    EXPECT_EQ(seen[i].first, 100u + i);
    EXPECT_EQ(seen[i].second, (Bytes{i, i}));
  }
}

TEST(BlockStoreTest, TheCheckpointStateSurvivesReopening) {
  const std::string dir = FreshDir("state");
  {
    absl::StatusOr<std::unique_ptr<BlockStore>> store = BlockStore::Open(dir);
    ASSERT_TRUE(store.ok());
    absl::StatusOr<std::optional<Bytes>> none = (*store)->ReadCheckpointState();
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    ASSERT_TRUE((*store)->WriteCheckpointState(Bytes{103, 1, 7}).ok());
  }
  absl::StatusOr<std::unique_ptr<BlockStore>> store = BlockStore::Open(dir);
  ASSERT_TRUE(store.ok());
  absl::StatusOr<std::optional<Bytes>> state = (*store)->ReadCheckpointState();
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ(**state, (Bytes{103, 1, 7}));
}

TEST(BlockStoreTest, ASecondOpenOfTheSameDirectoryFailsWithAReason) {
  const std::string dir = FreshDir("locked");
  absl::StatusOr<std::unique_ptr<BlockStore>> first = BlockStore::Open(dir);
  ASSERT_TRUE(first.ok());
  absl::StatusOr<std::unique_ptr<BlockStore>> second = BlockStore::Open(dir);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(dir), std::string::npos) << second.status();
}

}  // namespace
}  // namespace metronome::devchain
