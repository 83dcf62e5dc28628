#include "services/pow_adapter/shell/adapter_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/federation_file.h"
#include "common/key_file.h"
#include "common/test_support.h"

namespace metronome::pow_adapter {
namespace {

class AdapterConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(std::getenv("TEST_TMPDIR")) + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(system(("mkdir -p " + dir_).c_str()), 0);
    const metronome::testing::TestFederation test = metronome::testing::MakeTestFederation(4);
    std::ofstream(dir_ + "/federation.toml") << FederationToToml(test.federation);
    ASSERT_TRUE(WriteKeyFile(dir_ + "/adapter.key", SigningKey::Generate()).ok());
  }

  absl::StatusOr<AdapterConfig> Load(const std::string& extra,
                                     const std::vector<std::string>& overrides = {}) {
    const std::string path = dir_ + "/pow-adapter.toml";
    std::ofstream(path, std::ios::trunc) << "federation_file = \"" << dir_ << "/federation.toml\"\n"
                                         << "key_file = \"" << dir_ << "/adapter.key\"\n"
                                         << "data_dir = \"" << dir_ << "/data\"\n"
                                         << extra;
    return LoadAdapterConfig(path, {}, overrides, 12345);
  }

  std::string dir_;
};

TEST_F(AdapterConfigTest, AMinimalConfigLoadsWithDefaults) {
  absl::StatusOr<AdapterConfig> config = Load("");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->node.params.chain_id, "devchain");
  EXPECT_TRUE(config->node.params.checkpointing);
  EXPECT_EQ(config->node.params.target, devchain::ChainParams::DefaultTarget());
  EXPECT_DOUBLE_EQ(config->node.hash_rate_share, 0.25);
  EXPECT_EQ(config->node.params.federation, config->federation->encoded());
  EXPECT_NE(config->node.seed, 0u);
  EXPECT_EQ(config->listen_p2p, "127.0.0.1:0");
}

TEST_F(AdapterConfigTest, TheTestnetLayoutIsAccepted) {
  absl::StatusOr<AdapterConfig> config = Load(
      "interpreter_address = \"127.0.0.1:7104\"\nbackend = \"devchain\"\n"
      "[listen]\ndevchain_p2p = \"127.0.0.1:7106\"\nmetrics = \"127.0.0.1:7107\"\n"
      "[devchain]\npeers = [\"127.0.0.1:7116\", \"127.0.0.1:7126\"]\n"
      "hash_rate_share = 0.5\ncheckpointing = false\nseed = 9\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->node.peers.size(), 2u);
  EXPECT_FALSE(config->node.params.checkpointing);
  EXPECT_EQ(config->node.seed, 9u);
  EXPECT_EQ(config->interpreter_address, "127.0.0.1:7104");
  EXPECT_FALSE(config->interpreter_key.has_value());
}

TEST_F(AdapterConfigTest, TheInterpreterKeyIsHex) {
  const SigningKey interpreter = SigningKey::Generate();
  absl::StatusOr<AdapterConfig> config =
      Load("", {"interpreter_key=" + ToHex(interpreter.public_key())});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->interpreter_key, interpreter.public_key());
}

TEST_F(AdapterConfigTest, ErrorsNameTheKeyAndItsSource) {
  struct Case {
    std::string extra;
    std::string key;
  };
  for (const Case& c : {Case{"backend = \"litecoind\"\n", "backend"},
                        Case{"[devchain]\ntarget = \"00ff\"\n", "devchain.target"},
                        Case{"[devchain]\nhash_rate_share = 1.5\n", "devchain.hash_rate_share"},
                        Case{"[devchain]\npeers = [\"nocolon\"]\n", "devchain.peers"},
                        Case{"[listen]\ndevchain_p2p = \"0.0.0.0:7000\"\n", "listen.devchain_p2p"},
                        Case{"log_level = \"loud\"\n", "log_level"},
                        Case{"[devchain]\nblock_interval_ms = 0\n", "devchain.block_interval_ms"},
                        Case{"interpreter_address = \"nocolon\"\n", "interpreter_address"},
                        Case{"interpreter_key = \"abcd\"\n", "interpreter_key"}}) {
    absl::StatusOr<AdapterConfig> config = Load(c.extra);
    ASSERT_FALSE(config.ok()) << c.extra;
    EXPECT_NE(config.status().message().find("'" + c.key + "'"), std::string::npos)
        << config.status();
  }
}

TEST_F(AdapterConfigTest, MissingFilesAreNamed) {
  absl::StatusOr<AdapterConfig> config = Load("", {"key_file=" + dir_ + "/missing.key"});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("missing.key"), std::string::npos) << config.status();
  EXPECT_NE(config.status().message().find("'key_file'"), std::string::npos);
}

TEST_F(AdapterConfigTest, InsecureAllowsListenersOffLoopback) {
  absl::StatusOr<AdapterConfig> config =
      Load("insecure = true\n[listen]\ndevchain_p2p = \"0.0.0.0:7000\"\n");
  EXPECT_TRUE(config.ok()) << config.status();
}

}  // namespace
}  // namespace metronome::pow_adapter
