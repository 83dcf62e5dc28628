#include "services/interpreter/shell/interpreter_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/federation_file.h"
#include "common/key_file.h"
#include "common/test_support.h"

namespace metronome::interpreter {
namespace {

class InterpreterConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(std::getenv("TEST_TMPDIR")) + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str()), 0);
    std::ofstream(dir_ + "/federation.toml") << FederationToToml(test_.federation);
    ASSERT_TRUE(WriteKeyFile(dir_ + "/interpreter.key", SigningKey::Generate()).ok());
  }

  // The layout `metronome testnet` writes, plus `extra`.
  absl::StatusOr<InterpreterConfig> Load(const std::string& extra,
                                         const std::vector<std::string>& overrides = {}) {
    const std::string path = dir_ + "/interpreter.toml";
    std::ofstream(path, std::ios::trunc)
        << "federation_file = \"" << dir_ << "/federation.toml\"\n"
        << "key_file = \"" << dir_ << "/interpreter.key\"\n"
        << "data_dir = \"" << dir_ << "/data/interpreter\"\n"
        << "bft_address = \"127.0.0.1:7103\"\n"
        << "adapter_public_key = \"" << ToHex(adapter_.public_key()) << "\"\n"
        << extra;
    return LoadInterpreterConfig(path, {}, overrides);
  }

  std::string dir_;
  metronome::testing::TestFederation test_ = metronome::testing::MakeTestFederation(4);
  SigningKey adapter_ = SigningKey::Generate();
};

TEST_F(InterpreterConfigTest, TheTestnetLayoutLoadsWithDefaults) {
  absl::StatusOr<InterpreterConfig> config =
      Load("\n[listen]\nchain = \"127.0.0.1:7104\"\nmetrics = \"127.0.0.1:7105\"\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->bft_address, "127.0.0.1:7103");
  EXPECT_EQ(config->adapter_public_key, adapter_.public_key());
  EXPECT_FALSE(config->bft_public_key);
  EXPECT_EQ(config->listen_chain, "127.0.0.1:7104");
  EXPECT_EQ(config->listen_metrics, "127.0.0.1:7105");
  EXPECT_EQ(config->rules.chain_id, "devchain");
  EXPECT_EQ(config->rules.k, 6u);
  EXPECT_EQ(config->rules.k_min, 4u);
  EXPECT_EQ(config->rules.interval, 5u);
  EXPECT_EQ(config->rules.min_age_ms, 0u);
  EXPECT_EQ(config->query_wait_ms, 3000u);
  EXPECT_EQ(config->create_timeout_ms, 800u);
  EXPECT_EQ(config->log_level, "info");
  EXPECT_TRUE(config->clear_freeze_evidence.empty());
}

TEST_F(InterpreterConfigTest, RulesAndTimeoutsComeFromTheirTablesAndOverrides) {
  absl::StatusOr<InterpreterConfig> config = Load(
      "[rules]\nk = 10\nk_min = 8\ninterval = 3\nmin_age_ms = 1000\n"
      "[timeouts]\nquery_wait_ms = 500\n[log]\nlevel = \"debug\"\n",
      {"timeouts.create_timeout_ms=900", "bft_public_key=" + ToHex(test_.federation.members()[2])});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->rules.k, 10u);
  EXPECT_EQ(config->rules.k_min, 8u);
  EXPECT_EQ(config->rules.interval, 3u);
  EXPECT_EQ(config->rules.min_age_ms, 1000u);
  EXPECT_EQ(config->query_wait_ms, 500u);
  EXPECT_EQ(config->create_timeout_ms, 900u);
  EXPECT_EQ(config->log_level, "debug");
  EXPECT_EQ(config->bft_public_key, test_.federation.members()[2]);
}

TEST_F(InterpreterConfigTest, ErrorsNameTheKeyAndItsSource) {
  struct Case {
    std::string extra;
    std::vector<std::string> overrides;
    std::string key;
  };
  for (const Case& c : {
           Case{"[rules]\nk = 0\nk_min = 0\n", {}, "rules.k"},
           Case{"[rules]\nk = 4\nk_min = 5\n", {}, "rules.k_min"},
           Case{"[rules]\ninterval = 0\n", {}, "rules.interval"},
           Case{"", {"rules.k=-1"}, "rules.k"},
           Case{"", {"adapter_public_key=abcd"}, "adapter_public_key"},
           Case{"", {"bft_public_key=" + std::string(64, '0')}, "bft_public_key"},
           Case{"", {"bft_address=nowhere"}, "bft_address"},
           Case{"[listen]\nchain = \"0.0.0.0:7104\"\n", {}, "listen.chain"},
           Case{"[log]\nlevel = \"loud\"\n", {}, "log.level"},
           Case{"", {"key_file=/nonexistent"}, "key_file"},
       }) {
    absl::StatusOr<InterpreterConfig> config = Load(c.extra, c.overrides);
    ASSERT_FALSE(config.ok()) << c.key;
    EXPECT_NE(config.status().message().find("'" + c.key + "'"), std::string::npos)
        << config.status().message();
  }
}

TEST_F(InterpreterConfigTest, AListenerOffLoopbackNeedsInsecure) {
  absl::StatusOr<InterpreterConfig> config =
      Load("insecure = true\n[listen]\nchain = \"0.0.0.0:7104\"\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen_chain, "0.0.0.0:7104");
}

}  // namespace
}  // namespace metronome::interpreter
