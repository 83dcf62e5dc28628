#ifndef METRONOME_COMMON_CONFIG_H_
#define METRONOME_COMMON_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace metronome {

using ConfigValue = std::variant<std::string, int64_t, bool, double, std::vector<std::string>>;

enum class ConfigType { kString, kInt, kBool, kDouble, kStringList };

// One key a service accepts: a dotted path into the TOML file ("consensus.timeout_ms").
struct ConfigKey {
  std::string name;
  ConfigType type = ConfigType::kString;
  std::optional<ConfigValue> default_value;  // nullopt: the key is required.
  std::string help;
};

// A service's validated configuration. Values come, lowest precedence first, from the
// schema's defaults, the TOML file, environment variables (prefix + the key upper-cased
// with '.' as '_', e.g. METRONOME_BFT_CONSENSUS_TIMEOUT_MS) and --set key=value flags.
// Every error names the key and where its value came from. Immutable after Load;
// thread-safe to read.
class Config {
 public:
  // `path` may be empty (no file). `environment` maps variable names to values.
  static absl::StatusOr<Config> Load(const std::vector<ConfigKey>& schema, const std::string& path,
                                     const std::string& env_prefix,
                                     const std::map<std::string, std::string>& environment,
                                     const std::vector<std::string>& overrides);

  // REQUIRES: `key` is in the schema with the matching type (a programmer error
  // otherwise, which aborts).
  const std::string& String(const std::string& key) const;
  int64_t Int(const std::string& key) const;
  bool Bool(const std::string& key) const;
  double Double(const std::string& key) const;
  const std::vector<std::string>& StringList(const std::string& key) const;

  // Where the value of `key` came from: "default", the file path, the variable name or
  // "--set".
  const std::string& SourceOf(const std::string& key) const;

 private:
  const ConfigValue& Get(const std::string& key) const;

  std::map<std::string, ConfigValue> values_;
  std::map<std::string, std::string> sources_;
};

// The process environment as a map, for Config::Load.
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace metronome

#endif  // METRONOME_COMMON_CONFIG_H_
