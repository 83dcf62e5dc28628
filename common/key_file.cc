#include "common/key_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "common/file_util.h"

namespace metronome {
namespace {

constexpr char kKeyType[] = "metronome-ed25519";

}  // namespace

absl::Status WriteKeyFile(const std::string& path, const SigningKey& key) {
  nlohmann::json json = {
      {"type", kKeyType},
      {"public_key", ToHex(key.public_key())},
      {"seed", ToHex(key.seed())},
  };
  return WriteNewFile(path, json.dump(2) + "\n", 0600);
}

absl::StatusOr<SigningKey> ReadKeyFile(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError("key file " + path + ": " + std::strerror(errno));
  }
  if ((info.st_mode & 077) != 0) {
    return absl::PermissionDeniedError("key file " + path +
                                       " is readable by group or others; run chmod 600 on it");
  }
  absl::StatusOr<std::string> text = ReadSmallFile(path, 64 * 1024);
  if (!text.ok()) return text.status();
  nlohmann::json json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError("key file " + path + " is not a JSON object");
  }
  if (json.value("type", "") != kKeyType) {
    return absl::InvalidArgumentError("key file " + path + ": type is not \"" +
                                      std::string(kKeyType) + "\"");
  }
  const auto seed = FixedFromHex<32>(json.value("seed", ""));
  if (!seed) {
    return absl::InvalidArgumentError("key file " + path + ": seed is not 64 hex digits");
  }
  SigningKey key = SigningKey::FromSeed(*seed);
  if (json.value("public_key", "") != ToHex(key.public_key())) {
    return absl::InvalidArgumentError("key file " + path + ": public_key does not match the seed");
  }
  return key;
}

}  // namespace metronome
