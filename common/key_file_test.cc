#include "common/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "common/file_util.h"

namespace metronome {
namespace {

std::string TempPath(const std::string& name) {
  return std::string(getenv("TEST_TMPDIR")) + "/" + name;
}

TEST(KeyFileTest, WrittenKeyReadsBackWithMode0600) {
  const std::string path = TempPath("roundtrip.key");
  const SigningKey key = SigningKey::Generate();
  ASSERT_TRUE(WriteKeyFile(path, key).ok());
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  absl::StatusOr<SigningKey> read = ReadKeyFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->public_key(), key.public_key());
}

TEST(KeyFileTest, NeverOverwritesAnExistingFile) {
  const std::string path = TempPath("existing.key");
  const SigningKey first = SigningKey::Generate();
  ASSERT_TRUE(WriteKeyFile(path, first).ok());
  const absl::Status second = WriteKeyFile(path, SigningKey::Generate());
  EXPECT_EQ(second.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadKeyFile(path)->public_key(), first.public_key());
}

TEST(KeyFileTest, RejectsGroupReadableFile) {
  const std::string path = TempPath("open.key");
  ASSERT_TRUE(WriteKeyFile(path, SigningKey::Generate()).ok());
  chmod(path.c_str(), 0644);
  const absl::Status status = ReadKeyFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(status.message().find("chmod 600"), std::string::npos);
}

TEST(KeyFileTest, RejectsGarbageAndMismatchedPublicKey) {
  const std::string garbage = TempPath("garbage.key");
  ASSERT_TRUE(WriteNewFile(garbage, "not json", 0600).ok());
  EXPECT_EQ(ReadKeyFile(garbage).status().code(), absl::StatusCode::kInvalidArgument);

  const std::string mismatched = TempPath("mismatched.key");
  const std::string json = "{\"type\":\"metronome-ed25519\",\"seed\":\"" +
                           ToHex(SigningKey::Generate().seed()) + "\",\"public_key\":\"" +
                           ToHex(SigningKey::Generate().public_key()) + "\"}";
  ASSERT_TRUE(WriteNewFile(mismatched, json, 0600).ok());
  const absl::Status status = ReadKeyFile(mismatched).status();
  EXPECT_NE(status.message().find("does not match"), std::string::npos) << status;
}

TEST(KeyFileTest, MissingFileNamesThePath) {
  const absl::Status status = ReadKeyFile(TempPath("absent.key")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("absent.key"), std::string::npos);
}

}  // namespace
}  // namespace metronome
