#ifndef METRONOME_COMMON_TOML_UTIL_H_
#define METRONOME_COMMON_TOML_UTIL_H_

#include <toml++/toml.h>

#include <string>

#include "absl/status/statusor.h"

namespace metronome {

// Parses TOML text. Debian's toml++ reports syntax errors by throwing; this turns them
// into an INVALID_ARGUMENT naming `source` (a path or a description) and the line.
absl::StatusOr<toml::table> ParseToml(const std::string& text, const std::string& source);

}  // namespace metronome

#endif  // METRONOME_COMMON_TOML_UTIL_H_
