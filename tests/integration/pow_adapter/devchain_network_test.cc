// Real metronome-pow-adapter processes peered on loopback: four miners converge on one
// chain, a fifth started late syncs from genesis, and a restart resumes from disk.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/federation_file.h"
#include "common/test_support.h"
#include "tests/integration/pow_adapter/adapter_harness.h"

namespace metronome::pow_adapter::testing {
namespace {

class DevchainNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::string(std::getenv("TEST_TMPDIR")) + "/" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(root_);
    federation_file_ = root_ + "/federation.toml";
    std::ofstream(federation_file_)
        << FederationToToml(metronome::testing::MakeTestFederation(4).federation);
  }

  AdapterProcess* Add(const std::string& name) {
    processes_.push_back(
        std::make_unique<AdapterProcess>(name, root_ + "/" + name, federation_file_, FreePort()));
    return processes_.back().get();
  }

  std::string root_;
  std::string federation_file_;
  std::vector<std::unique_ptr<AdapterProcess>> processes_;
};

TEST_F(DevchainNetworkTest, FourMinersConvergeALateFifthSyncsAndRestartsResumeFromDisk) {
  std::vector<AdapterProcess*> miners;
  for (int i = 0; i < 4; ++i) miners.push_back(Add("miner-" + std::to_string(i)));
  for (int i = 0; i < 4; ++i) {
    std::vector<int> peers;
    for (int j = 0; j < 4; ++j) {
      if (j != i) peers.push_back(miners[j]->p2p_port());
    }
    // 4 x 0.25 of a 200 ms interval: 5 blocks a second in all.
    miners[i]->WriteConfig(peers,
                           "hash_rate_share = 0.25\nblock_interval_ms = 200\n"
                           "sync_interval_ms = 200\nseed = " +
                               std::to_string(i + 1) + "\n");
  }
  for (AdapterProcess* miner : miners) ASSERT_TRUE(miner->Start());

  // Converged: every miner reports the same tip, well past genesis, and each has mined.
  auto converged = [&](uint64_t height_min) {
    std::set<std::string> tips;
    for (AdapterProcess* miner : miners) {
      const v1::DevchainStatusResponse status = miner->Status();
      if (status.height() < height_min) return false;
      tips.insert(status.tip_hash());
    }
    return tips.size() == 1;
  };
  ASSERT_TRUE(WaitFor([&] { return converged(20); }, 60000)) << "miner-0 log:\n"
                                                             << miners[0]->log();
  int miners_with_blocks = 0;
  for (AdapterProcess* miner : miners) miners_with_blocks += miner->Status().blocks_mined() > 0;
  EXPECT_GE(miners_with_blocks, 3);

  // A fifth instance, not mining, started late: syncs from genesis.
  AdapterProcess* late = Add("late");
  late->WriteConfig({miners[0]->p2p_port(), miners[1]->p2p_port()},
                    "hash_rate_share = 0\n"
                    "sync_interval_ms = 100\n");
  ASSERT_TRUE(late->Start());
  const uint64_t target_height = miners[0]->Status().height();
  ASSERT_TRUE(WaitFor([&] { return late->Status().height() >= target_height; }, 30000))
      << late->log();
  EXPECT_TRUE(
      WaitFor([&] { return late->Status().tip_hash() == miners[0]->Status().tip_hash(); }, 30000));

  // Restart the late instance with no peers: whatever it reports came from its disk.
  const v1::DevchainStatusResponse before = late->Status();
  EXPECT_EQ(late->Stop(), 0);
  ASSERT_TRUE(late->Start({"devchain.peers="}));
  const v1::DevchainStatusResponse after = late->Status();
  EXPECT_GE(after.height(), before.height());
  EXPECT_GE(after.block_count(), before.block_count());

  // A restarted miner resumes and rejoins the network's chain.
  EXPECT_EQ(miners[3]->Stop(), 0);
  ASSERT_TRUE(miners[3]->Start());
  EXPECT_GE(miners[3]->Status().height(), target_height);
  EXPECT_TRUE(WaitFor([&] { return converged(target_height + 5); }, 60000));

  for (AdapterProcess* miner : miners) EXPECT_EQ(miner->Stop(), 0) << miner->name();
  EXPECT_EQ(late->Stop(), 0);
}

}  // namespace
}  // namespace metronome::pow_adapter::testing
