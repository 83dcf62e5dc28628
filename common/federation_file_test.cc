#include "common/federation_file.h"

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/test_support.h"

namespace metronome {
namespace {

TEST(FederationFileTest, TomlRoundTripKeepsTheId) {
  const testing::TestFederation test = testing::MakeTestFederation(7);
  absl::StatusOr<Federation> parsed = ParseFederationToml(FederationToToml(test.federation));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->id(), test.federation.id());
}

TEST(FederationFileTest, MinimalFileDerivesFAndQ) {
  const testing::TestFederation test = testing::MakeTestFederation(4);
  std::string toml = "chain_id = \"devchain\"\nmembers = [";
  for (const PublicKey& key : test.federation.members()) toml += "\"" + ToHex(key) + "\",";
  toml += "]\n";
  absl::StatusOr<Federation> parsed = ParseFederationToml(toml);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->f(), 1u);
  EXPECT_EQ(parsed->q(), 3u);
  EXPECT_EQ(parsed->id(), test.federation.id());
}

TEST(FederationFileTest, ErrorsNameTheKey) {
  const std::string base = FederationToToml(testing::MakeTestFederation(4).federation);
  struct Case {
    std::string from;
    std::string to;
    std::string expected;
  };
  const Case cases[] = {
      {"f = 1", "f = 2", "f:"},
      {"q = 3", "q = 4", "q:"},
      {"n = 4", "n = 5", "n:"},
      {"leader_selection = \"round_robin\"", "leader_selection = \"random\"", "leader_selection"},
      {"epoch = 0", "epoch = 0\nbogus = 1", "bogus"},
      {"chain_id = \"devchain\"", "chain_id = 5", "chain_id"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.to);
    std::string text = base;
    text.replace(text.find(c.from), c.from.size(), c.to);
    const absl::Status status = ParseFederationToml(text).status();
    EXPECT_FALSE(status.ok());
    EXPECT_NE(status.message().find(c.expected), std::string::npos) << status;
  }
}

TEST(FederationFileTest, BadHexMemberIsNamedByIndex) {
  const absl::Status status =
      ParseFederationToml("chain_id = \"x\"\nmembers = [\"abcd\"]\n").status();
  EXPECT_NE(status.message().find("members[0]"), std::string::npos) << status;
}

TEST(FederationFileTest, SyntaxErrorNamesTheLine) {
  const absl::Status status = ParseFederationToml("chain_id = \"x\"\nmembers = [\n").status();
  EXPECT_NE(status.message().find("line"), std::string::npos) << status;
}

TEST(FederationFileTest, ReadsTomlAndBinaryFiles) {
  const testing::TestFederation test = testing::MakeTestFederation(4);
  const std::string directory = getenv("TEST_TMPDIR");
  ASSERT_TRUE(WriteNewFile(directory + "/fed.toml", FederationToToml(test.federation), 0644).ok());
  const Bytes& encoded = test.federation.encoded();
  ASSERT_TRUE(
      WriteNewFile(directory + "/fed.bin", std::string(encoded.begin(), encoded.end()), 0644).ok());
  EXPECT_EQ(ReadFederationFile(directory + "/fed.toml")->id(), test.federation.id());
  EXPECT_EQ(ReadFederationFile(directory + "/fed.bin")->id(), test.federation.id());
  EXPECT_FALSE(ReadFederationFile(directory + "/missing.toml").ok());
}

}  // namespace
}  // namespace metronome
