#include "common/toml_util.h"

#include <sstream>

#include "absl/status/status.h"

namespace metronome {

absl::StatusOr<toml::table> ParseToml(const std::string& text, const std::string& source) {
  try {
    return toml::parse(text);
  } catch (const toml::parse_error& error) {
    std::ostringstream reason;
    reason << source << " is not valid TOML: " << error.description() << " (line "
           << error.source().begin.line << ")";
    return absl::InvalidArgumentError(reason.str());
  }
}

}  // namespace metronome
