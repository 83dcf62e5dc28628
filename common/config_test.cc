#include "common/config.h"

#include <gtest/gtest.h>

#include "common/file_util.h"

namespace metronome {
namespace {

const std::vector<ConfigKey> kSchema = {
    {"listen", ConfigType::kString, {}, "address to listen on"},
    {"consensus.timeout_ms", ConfigType::kInt, ConfigValue(int64_t{1000}), "view timeout"},
    {"consensus.backoff", ConfigType::kDouble, ConfigValue(2.0), "timeout multiplier"},
    {"insecure", ConfigType::kBool, ConfigValue(false), "allow plain text"},
    {"peers", ConfigType::kStringList, ConfigValue(std::vector<std::string>{}), "peer addresses"},
};

std::string WriteConfig(const std::string& name, const std::string& text) {
  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/" + name;
  EXPECT_TRUE(WriteFileAtomically(path, text).ok());
  return path;
}

TEST(ConfigTest, FileValuesOverrideDefaults) {
  const std::string path =
      WriteConfig("a.toml",
                  "listen = \"127.0.0.1:1\"\n[consensus]\ntimeout_ms = 250\npeers = []\n"
                  "\n");
  // `peers` under [consensus] is unknown; the file is rejected naming it.
  absl::StatusOr<Config> config = Config::Load(kSchema, path, "METRONOME_TEST_", {}, {});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("consensus.peers"), std::string::npos);

  const std::string good = WriteConfig(
      "b.toml",
      "listen = \"127.0.0.1:1\"\npeers = [\"a\", \"b\"]\n[consensus]\ntimeout_ms = 250\n");
  config = Config::Load(kSchema, good, "METRONOME_TEST_", {}, {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->Int("consensus.timeout_ms"), 250);
  EXPECT_EQ(config->Double("consensus.backoff"), 2.0);
  EXPECT_EQ(config->StringList("peers"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(config->SourceOf("consensus.timeout_ms"), good);
  EXPECT_EQ(config->SourceOf("insecure"), "default");
}

TEST(ConfigTest, EnvironmentOverridesFileAndFlagsOverrideEnvironment) {
  const std::string path = WriteConfig("c.toml", "listen = \"file\"\n");
  const std::map<std::string, std::string> environment = {
      {"METRONOME_TEST_LISTEN", "env"}, {"METRONOME_TEST_CONSENSUS_TIMEOUT_MS", "7"}};
  absl::StatusOr<Config> config =
      Config::Load(kSchema, path, "METRONOME_TEST_", environment, {"listen=flag"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->String("listen"), "flag");
  EXPECT_EQ(config->Int("consensus.timeout_ms"), 7);
  EXPECT_EQ(config->SourceOf("consensus.timeout_ms"), "METRONOME_TEST_CONSENSUS_TIMEOUT_MS");
}

TEST(ConfigTest, ErrorsNameTheKeyAndSource) {
  const std::string path = WriteConfig("d.toml", "listen = 5\n");
  absl::Status status = Config::Load(kSchema, path, "P_", {}, {}).status();
  EXPECT_NE(status.message().find("'listen'"), std::string::npos) << status;
  EXPECT_NE(status.message().find("must be a string"), std::string::npos) << status;

  status = Config::Load(kSchema, "", "P_", {{"P_INSECURE", "yes"}}, {"listen=x"}).status();
  EXPECT_NE(status.message().find("P_INSECURE"), std::string::npos) << status;

  status = Config::Load(kSchema, "", "P_", {}, {"listen=x", "nonsense=1"}).status();
  EXPECT_NE(status.message().find("'nonsense'"), std::string::npos) << status;

  status = Config::Load(kSchema, "", "P_", {}, {}).status();
  EXPECT_NE(status.message().find("'listen': required"), std::string::npos) << status;
  EXPECT_NE(status.message().find("P_LISTEN"), std::string::npos) << status;
}

TEST(ConfigTest, SyntaxErrorNamesFileAndLine) {
  const std::string path = WriteConfig("e.toml", "listen = \"x\"\n[consensus\n");
  const absl::Status status = Config::Load(kSchema, path, "P_", {}, {}).status();
  EXPECT_NE(status.message().find("e.toml"), std::string::npos) << status;
  EXPECT_NE(status.message().find("line 2"), std::string::npos) << status;
}

}  // namespace
}  // namespace metronome
