#ifndef METRONOME_COMMON_KEY_FILE_H_
#define METRONOME_COMMON_KEY_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/ed25519.h"

namespace metronome {

// A key file is JSON: {"type": "metronome-ed25519", "public_key": hex, "seed": hex}.
// It is created with mode 0600, fsynced, and never overwritten: writing to an
// existing path fails with ALREADY_EXISTS and leaves the file untouched.
absl::Status WriteKeyFile(const std::string& path, const SigningKey& key);

// Reads a key file. Fails with a reason naming the path when the file is missing,
// readable by group or others, not valid JSON, or its public key does not match its
// seed.
absl::StatusOr<SigningKey> ReadKeyFile(const std::string& path);

}  // namespace metronome

#endif  // METRONOME_COMMON_KEY_FILE_H_
