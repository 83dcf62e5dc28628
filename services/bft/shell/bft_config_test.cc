#include "services/bft/shell/bft_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "common/federation_file.h"
#include "common/key_file.h"
#include "common/test_support.h"

namespace metronome::bft {
namespace {

constexpr uint32_t kSelf = 2;

// A member directory laid out as `metronome testnet` writes it: a four-member
// federation file, this member's bft key (member kSelf) and bft.toml.
class BftConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(std::getenv("TEST_TMPDIR")) + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str()), 0);
    std::ofstream(dir_ + "/federation.toml") << FederationToToml(test_.federation);
    ASSERT_TRUE(WriteKeyFile(dir_ + "/bft.key", test_.keys[kSelf]).ok());
  }

  // The testnet's bft.toml with `top` added before the tables and `tables` after.
  std::string TestnetConfig(const std::string& top = "", const std::string& tables = "") {
    return "federation_file = \"" + dir_ + "/federation.toml\"\n" +  //
           "key_file = \"" + dir_ + "/bft.key\"\n" +                 //
           "data_dir = \"" + dir_ + "/data/bft\"\n" +                //
           "interpreter_public_key = \"" + ToHex(interpreter_.public_key()) + "\"\n" +
           "peers = [\n  \"127.0.0.1:7100\",\n  \"127.0.0.1:7110\",\n  \"127.0.0.1:7120\",\n"
           "  \"127.0.0.1:7130\",\n]\n" +
           top +
           "\n[listen]\nfederation = \"127.0.0.1:7120\"\ninterpreter = \"127.0.0.1:7121\"\n"
           "public = \"127.0.0.1:7122\"\nmetrics = \"127.0.0.1:7123\"\n" +
           tables;
  }

  absl::StatusOr<BftConfig> Load(const std::string& text,
                                 const std::map<std::string, std::string>& environment = {},
                                 const std::vector<std::string>& overrides = {}) {
    const std::string path = dir_ + "/bft.toml";
    std::ofstream(path, std::ios::trunc) << text;
    return LoadBftConfig(path, environment, overrides);
  }

  // Expects loading to fail with a message holding every one of `parts`.
  void ExpectError(const absl::StatusOr<BftConfig>& config, const std::vector<std::string>& parts) {
    ASSERT_FALSE(config.ok());
    for (const std::string& part : parts) {
      EXPECT_NE(config.status().message().find(part), std::string::npos)
          << "'" << part << "' not in: " << config.status().message();
    }
  }

  metronome::testing::TestFederation test_ = metronome::testing::MakeTestFederation(4);
  SigningKey interpreter_ = SigningKey::FromSeed(Seed{0x77});
  std::string dir_;
};

TEST_F(BftConfigTest, TestnetLayoutLoadsWithDefaults) {
  absl::StatusOr<BftConfig> config = Load(TestnetConfig());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->federation.id(), test_.federation.id());
  EXPECT_EQ(config->key.public_key(), test_.keys[kSelf].public_key());
  EXPECT_EQ(config->self, kSelf);
  EXPECT_EQ(config->interpreter_public_key, interpreter_.public_key());
  EXPECT_EQ(config->data_dir, dir_ + "/data/bft");
  EXPECT_EQ(config->key_file, dir_ + "/bft.key");
  EXPECT_EQ(config->federation_file, dir_ + "/federation.toml");
  EXPECT_EQ(config->peers, (std::vector<std::string>{"127.0.0.1:7100", "127.0.0.1:7110",
                                                     "127.0.0.1:7120", "127.0.0.1:7130"}));
  EXPECT_EQ(config->listen_federation, "127.0.0.1:7120");
  EXPECT_EQ(config->listen_interpreter, "127.0.0.1:7121");
  EXPECT_EQ(config->listen_public, "127.0.0.1:7122");
  EXPECT_EQ(config->listen_metrics, "127.0.0.1:7123");
  EXPECT_FALSE(config->insecure);
  EXPECT_EQ(config->log_level, LogLevel::kInfo);

  EXPECT_EQ(config->consensus.timeout_ms_base, 1000u);
  EXPECT_EQ(config->consensus.timeout_ms_max, 8000u);
  EXPECT_EQ(config->consensus.idle_interval_ms, 1000u);
  EXPECT_EQ(config->consensus.view_window_max, 64u);
  EXPECT_EQ(config->consensus.stash_max, 1024u);
  EXPECT_EQ(config->consensus.blocks_max, 4096u);
  EXPECT_EQ(config->consensus.committed_history, 256u);
  EXPECT_EQ(config->consensus.sync_blocks_max, 64u);
  EXPECT_EQ(config->transport.max_message_bytes, 4194304u);
  EXPECT_EQ(config->transport.peer_queue_max, 1024u);
  EXPECT_EQ(config->transport.heartbeat_interval_ms, 1000u);
  EXPECT_EQ(config->transport.peer_silence_ms, 5000u);
  EXPECT_EQ(config->transport.reconnect_min_ms, 100u);
  EXPECT_EQ(config->transport.reconnect_max_ms, 5000u);
  EXPECT_EQ(config->transport.handshake_timeout_ms, 5000u);
  EXPECT_EQ(config->interpreter.create_timeout_ms, 1000u);
  EXPECT_EQ(config->interpreter.validate_timeout_ms, 2000u);
  EXPECT_EQ(config->interpreter.certificate_resend_ms, 2000u);
  EXPECT_EQ(config->stream.subscribers_max, 16u);
  EXPECT_EQ(config->stream.subscriber_queue_max, 8192u);
  EXPECT_EQ(config->stream.history_records_max, 200000u);
}

TEST_F(BftConfigTest, TunablesAreReadFromTheirTables) {
  absl::StatusOr<BftConfig> config = Load(TestnetConfig(
      "",
      "[consensus]\ntimeout_ms_base = 500\nsync_blocks_max = 8\n"
      "[transport]\nreconnect_max_ms = 9000\n[interpreter]\nvalidate_timeout_ms = 30\n"
      "[stream]\nsubscribers_max = 2\n[log]\nlevel = \"warn\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->consensus.timeout_ms_base, 500u);
  EXPECT_EQ(config->consensus.sync_blocks_max, 8u);
  EXPECT_EQ(config->transport.reconnect_max_ms, 9000u);
  EXPECT_EQ(config->interpreter.validate_timeout_ms, 30u);
  EXPECT_EQ(config->stream.subscribers_max, 2u);
  EXPECT_EQ(config->log_level, LogLevel::kWarn);
}

TEST_F(BftConfigTest, EnvironmentOverridesFileAndSetOverridesEnvironment) {
  const std::string text = TestnetConfig("", "[consensus]\nstash_max = 100\n");
  const std::map<std::string, std::string> environment = {
      {"METRONOME_BFT_CONSENSUS_STASH_MAX", "200"}, {"METRONOME_BFT_LOG_LEVEL", "debug"}};

  absl::StatusOr<BftConfig> from_file = Load(text);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->consensus.stash_max, 100u);

  absl::StatusOr<BftConfig> from_environment = Load(text, environment);
  ASSERT_TRUE(from_environment.ok()) << from_environment.status();
  EXPECT_EQ(from_environment->consensus.stash_max, 200u);
  EXPECT_EQ(from_environment->log_level, LogLevel::kDebug);

  absl::StatusOr<BftConfig> from_set = Load(text, environment, {"consensus.stash_max=300"});
  ASSERT_TRUE(from_set.ok()) << from_set.status();
  EXPECT_EQ(from_set->consensus.stash_max, 300u);
}

TEST_F(BftConfigTest, ErrorNamesTheSourceOfABadValue) {
  ExpectError(Load(TestnetConfig(), {{"METRONOME_BFT_CONSENSUS_STASH_MAX", "0"}}),
              {"'consensus.stash_max'", "METRONOME_BFT_CONSENSUS_STASH_MAX"});
  ExpectError(Load(TestnetConfig(), {}, {"consensus.stash_max=0"}),
              {"'consensus.stash_max'", "--set"});
}

TEST_F(BftConfigTest, MissingKeyFileIsNamed) {
  ExpectError(Load(TestnetConfig(), {}, {"key_file=" + dir_ + "/missing.key"}),
              {"'key_file'", "missing.key"});
}

TEST_F(BftConfigTest, KeyFileReadableByOthersIsRejected) {
  ASSERT_EQ(chmod((dir_ + "/bft.key").c_str(), 0644), 0);
  ExpectError(Load(TestnetConfig()), {"'key_file'", "bft.key"});
}

TEST_F(BftConfigTest, KeyFileThatIsNotJsonIsRejected) {
  ASSERT_TRUE(WriteKeyFile(dir_ + "/garbage.key", SigningKey::FromSeed(Seed{1})).ok());
  std::ofstream(dir_ + "/garbage.key", std::ios::trunc) << "not json";
  ExpectError(Load(TestnetConfig(), {}, {"key_file=" + dir_ + "/garbage.key"}),
              {"'key_file'", "garbage.key"});
}

TEST_F(BftConfigTest, KeyOutsideTheFederationIsRejected) {
  const SigningKey stranger = SigningKey::FromSeed(Seed{0x99});
  ASSERT_TRUE(WriteKeyFile(dir_ + "/stranger.key", stranger).ok());
  ExpectError(Load(TestnetConfig(), {}, {"key_file=" + dir_ + "/stranger.key"}),
              {"'key_file'", dir_ + "/stranger.key: public key " + ToHex(stranger.public_key()) +
                                 " is not a member of federation " + dir_ + "/federation.toml"});
}

TEST_F(BftConfigTest, MissingFederationFileIsNamed) {
  ExpectError(Load(TestnetConfig(), {}, {"federation_file=" + dir_ + "/missing.toml"}),
              {"'federation_file'", "missing.toml"});
}

TEST_F(BftConfigTest, PeersMustListEveryMember) {
  ExpectError(Load(TestnetConfig(), {}, {"peers=127.0.0.1:7100,127.0.0.1:7110,127.0.0.1:7120"}),
              {"'peers'", "3 addresses for 4 federation members"});
  ExpectError(
      Load(TestnetConfig(), {}, {"peers=127.0.0.1:7100,127.0.0.1:7110,127.0.0.1:7120,nocolon"}),
      {"'peers'", "'nocolon' is not host:port"});
  ExpectError(Load(TestnetConfig(), {},
                   {"peers=127.0.0.1:7100,127.0.0.1:7110,127.0.0.1:7120,127.0.0.1:7100"}),
              {"'peers'", "listed twice"});
}

TEST_F(BftConfigTest, InterpreterPublicKeyMustBe64Hex) {
  for (const std::string& bad : {std::string("abcd"), std::string(64, 'g'), std::string(66, 'a')}) {
    ExpectError(Load(TestnetConfig(), {}, {"interpreter_public_key=" + bad}),
                {"'interpreter_public_key'", "64 hex digits"});
  }
}

TEST_F(BftConfigTest, RequiredKeysMustBePresent) {
  for (const std::string key :
       {"federation_file", "key_file", "data_dir", "interpreter_public_key", "peers"}) {
    std::string text = TestnetConfig();
    const size_t line = text.find(key + " = ");
    ASSERT_NE(line, std::string::npos) << key;
    // Drops the key's line (and, for peers, the array's other lines up to "]").
    const size_t end = text.find(key == "peers" ? "]\n" : "\n", line);
    text.erase(line, end - line + (key == "peers" ? 2 : 1));
    ExpectError(Load(text), {"'" + key + "'"});
  }
}

TEST_F(BftConfigTest, TimeoutBaseAboveMaxIsRejected) {
  ExpectError(Load(TestnetConfig(), {}, {"consensus.timeout_ms_base=9000"}),
              {"'consensus.timeout_ms_base'", "consensus.timeout_ms_max (8000)"});
  EXPECT_TRUE(Load(TestnetConfig(), {}, {"consensus.timeout_ms_base=8000"}).ok());
}

TEST_F(BftConfigTest, ReconnectMinAboveMaxIsRejected) {
  ExpectError(Load(TestnetConfig(), {}, {"transport.reconnect_min_ms=6000"}),
              {"'transport.reconnect_min_ms'"});
}

TEST_F(BftConfigTest, PeerSilenceWithinAHeartbeatIsRejected) {
  ExpectError(Load(TestnetConfig(), {}, {"transport.peer_silence_ms=1000"}),
              {"'transport.peer_silence_ms'"});
}

TEST_F(BftConfigTest, EveryIntegerTunableRejectsZero) {
  int checked = 0;
  for (const ConfigKey& key : BftConfigSchema()) {
    if (key.type != ConfigType::kInt) continue;
    ++checked;
    ExpectError(Load(TestnetConfig(), {}, {key.name + "=0"}), {"'" + key.name + "'", "outside"});
  }
  EXPECT_EQ(checked, 23);
}

TEST_F(BftConfigTest, MaxMessageBytesIsBounded) {
  ExpectError(Load(TestnetConfig(), {}, {"transport.max_message_bytes=1024"}),
              {"'transport.max_message_bytes'"});
  ExpectError(Load(TestnetConfig(), {}, {"transport.max_message_bytes=1000000000"}),
              {"'transport.max_message_bytes'"});
}

TEST_F(BftConfigTest, ListenersOffLoopbackNeedInsecure) {
  ExpectError(Load(TestnetConfig(), {}, {"listen.federation=0.0.0.0:7120"}),
              {"'listen.federation'", "insecure = true"});
  absl::StatusOr<BftConfig> config =
      Load(TestnetConfig(), {}, {"listen.federation=0.0.0.0:7120", "insecure=true"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->insecure);
  EXPECT_EQ(config->listen_federation, "0.0.0.0:7120");
  ExpectError(Load(TestnetConfig(), {}, {"listen.metrics=nocolon"}),
              {"'listen.metrics'", "not host:port"});
}

TEST_F(BftConfigTest, UnknownLogLevelIsRejected) {
  ExpectError(Load(TestnetConfig(), {}, {"log.level=loud"}), {"'log.level'"});
}

}  // namespace
}  // namespace metronome::bft
