#ifndef METRONOME_COMMON_FEDERATION_FILE_H_
#define METRONOME_COMMON_FEDERATION_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/federation.h"

namespace metronome {

// The federation file is TOML; member order is authoritative:
//
//   chain_id = "devchain"
//   epoch = 0
//   n = 4                        # optional; must match the members when present
//   f = 1                        # optional; default floor((n-1)/3)
//   q = 3                        # optional; must equal floor((n+f)/2)+1 when present
//   leader_selection = "round_robin"   # or "hashing"
//   protocol = "basic-hotstuff"
//   members = ["<64 hex public key>", ...]
//
// Parses TOML text; errors name the offending key and, for syntax errors, the line.
absl::StatusOr<Federation> ParseFederationToml(const std::string& text);

// Reads a federation file: TOML, or the canonical binary encoding (which starts with
// the federation kind byte). Errors name the path.
absl::StatusOr<Federation> ReadFederationFile(const std::string& path);

// The TOML text of `federation`, with every field written out.
std::string FederationToToml(const Federation& federation);

}  // namespace metronome

#endif  // METRONOME_COMMON_FEDERATION_FILE_H_
