#include "common/config.h"

#include <cctype>
#include <cstdlib>
#include <sstream>

#include "absl/status/status.h"
#include "common/assert.h"
#include "common/file_util.h"
#include "common/toml_util.h"

extern char** environ;

namespace metronome {
namespace {

constexpr size_t kConfigFileBytesMax = 1 << 20;

const char* TypeName(ConfigType type) {
  switch (type) {
    case ConfigType::kString:
      return "a string";
    case ConfigType::kInt:
      return "an integer";
    case ConfigType::kBool:
      return "a boolean";
    case ConfigType::kDouble:
      return "a number";
    case ConfigType::kStringList:
      return "a list of strings";
  }
  return "?";
}

absl::Status KeyError(const std::string& key, const std::string& source,
                      const std::string& problem) {
  return absl::InvalidArgumentError("config key '" + key + "' (from " + source + "): " + problem);
}

// Converts a TOML node to the schema's type.
std::optional<ConfigValue> FromToml(const toml::node& node, ConfigType type) {
  switch (type) {
    case ConfigType::kString:
      if (auto value = node.value_exact<std::string>()) return ConfigValue(*value);
      return std::nullopt;
    case ConfigType::kInt:
      if (auto value = node.value_exact<int64_t>()) return ConfigValue(*value);
      return std::nullopt;
    case ConfigType::kBool:
      if (auto value = node.value_exact<bool>()) return ConfigValue(*value);
      return std::nullopt;
    case ConfigType::kDouble:
      if (node.is_number()) return ConfigValue(*node.value<double>());
      return std::nullopt;
    case ConfigType::kStringList: {
      const toml::array* array = node.as_array();
      if (array == nullptr) return std::nullopt;
      std::vector<std::string> list;
      for (const toml::node& element : *array) {
        auto value = element.value_exact<std::string>();
        if (!value) return std::nullopt;
        list.push_back(*value);
      }
      return ConfigValue(list);
    }
  }
  return std::nullopt;
}

// Converts an environment or flag string to the schema's type.
std::optional<ConfigValue> FromText(const std::string& text, ConfigType type) {
  switch (type) {
    case ConfigType::kString:
      return ConfigValue(text);
    case ConfigType::kInt: {
      if (text.empty()) return std::nullopt;
      char* end = nullptr;
      errno = 0;
      const long long value = std::strtoll(text.c_str(), &end, 10);
      if (errno != 0 || *end != '\0') return std::nullopt;
      return ConfigValue(static_cast<int64_t>(value));
    }
    case ConfigType::kBool:
      if (text == "true") return ConfigValue(true);
      if (text == "false") return ConfigValue(false);
      return std::nullopt;
    case ConfigType::kDouble: {
      if (text.empty()) return std::nullopt;
      char* end = nullptr;
      const double value = std::strtod(text.c_str(), &end);
      if (*end != '\0') return std::nullopt;
      return ConfigValue(value);
    }
    case ConfigType::kStringList: {
      std::vector<std::string> list;
      std::stringstream stream(text);
      std::string item;
      while (std::getline(stream, item, ',')) {
        if (!item.empty()) list.push_back(item);
      }
      return ConfigValue(list);
    }
  }
  return std::nullopt;
}

void CollectLeafKeys(const toml::table& table, const std::string& prefix,
                     std::vector<std::string>* keys) {
  for (const auto& [key, node] : table) {
    const std::string path =
        prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const toml::table* child = node.as_table()) {
      CollectLeafKeys(*child, path, keys);
    } else {
      keys->push_back(path);
    }
  }
}

std::string EnvName(const std::string& prefix, const std::string& key) {
  std::string name = prefix;
  for (char c : key) name.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(c)));
  return name;
}

}  // namespace

absl::StatusOr<Config> Config::Load(const std::vector<ConfigKey>& schema, const std::string& path,
                                    const std::string& env_prefix,
                                    const std::map<std::string, std::string>& environment,
                                    const std::vector<std::string>& overrides) {
  std::map<std::string, const ConfigKey*> by_name;
  for (const ConfigKey& key : schema) by_name[key.name] = &key;
  Config config;
  for (const ConfigKey& key : schema) {
    if (key.default_value) {
      config.values_[key.name] = *key.default_value;
      config.sources_[key.name] = "default";
    }
  }

  if (!path.empty()) {
    absl::StatusOr<std::string> text = ReadSmallFile(path, kConfigFileBytesMax);
    if (!text.ok()) return text.status();
    absl::StatusOr<toml::table> parsed = ParseToml(*text, "config file " + path);
    if (!parsed.ok()) return parsed.status();
    std::vector<std::string> keys;
    CollectLeafKeys(*parsed, "", &keys);
    for (const std::string& key : keys) {
      auto known = by_name.find(key);
      if (known == by_name.end()) return KeyError(key, path, "unknown key");
      std::optional<ConfigValue> value =
          FromToml(*parsed->at_path(key).node(), known->second->type);
      if (!value)
        return KeyError(key, path, std::string("must be ") + TypeName(known->second->type));
      config.values_[key] = *value;
      config.sources_[key] = path;
    }
  }

  for (const ConfigKey& key : schema) {
    const std::string name = EnvName(env_prefix, key.name);
    auto variable = environment.find(name);
    if (variable == environment.end()) continue;
    std::optional<ConfigValue> value = FromText(variable->second, key.type);
    if (!value) return KeyError(key.name, name, std::string("must be ") + TypeName(key.type));
    config.values_[key.name] = *value;
    config.sources_[key.name] = name;
  }

  for (const std::string& assignment : overrides) {
    const size_t equals = assignment.find('=');
    if (equals == std::string::npos) {
      return absl::InvalidArgumentError("--set " + assignment + ": expected key=value");
    }
    const std::string key = assignment.substr(0, equals);
    auto known = by_name.find(key);
    if (known == by_name.end()) return KeyError(key, "--set", "unknown key");
    std::optional<ConfigValue> value = FromText(assignment.substr(equals + 1), known->second->type);
    if (!value)
      return KeyError(key, "--set", std::string("must be ") + TypeName(known->second->type));
    config.values_[key] = *value;
    config.sources_[key] = "--set";
  }

  for (const ConfigKey& key : schema) {
    if (config.values_.count(key.name) == 0) {
      return absl::InvalidArgumentError("config key '" + key.name + "': required but not set (" +
                                        key.help + "); set it in the file, in " +
                                        EnvName(env_prefix, key.name) + ", or with --set " +
                                        key.name + "=...");
    }
  }
  return config;
}

const ConfigValue& Config::Get(const std::string& key) const {
  auto found = values_.find(key);
  METRONOME_ASSERT(found != values_.end());
  return found->second;
}

const std::string& Config::String(const std::string& key) const {
  const ConfigValue& value = Get(key);
  METRONOME_ASSERT(std::holds_alternative<std::string>(value));
  return std::get<std::string>(value);
}

int64_t Config::Int(const std::string& key) const {
  const ConfigValue& value = Get(key);
  METRONOME_ASSERT(std::holds_alternative<int64_t>(value));
  return std::get<int64_t>(value);
}

bool Config::Bool(const std::string& key) const {
  const ConfigValue& value = Get(key);
  METRONOME_ASSERT(std::holds_alternative<bool>(value));
  return std::get<bool>(value);
}

double Config::Double(const std::string& key) const {
  const ConfigValue& value = Get(key);
  METRONOME_ASSERT(std::holds_alternative<double>(value));
  return std::get<double>(value);
}

const std::vector<std::string>& Config::StringList(const std::string& key) const {
  const ConfigValue& value = Get(key);
  METRONOME_ASSERT(std::holds_alternative<std::vector<std::string>>(value));
  return std::get<std::vector<std::string>>(value);
}

const std::string& Config::SourceOf(const std::string& key) const {
  auto found = sources_.find(key);
  METRONOME_ASSERT(found != sources_.end());
  return found->second;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const size_t equals = text.find('=');
    if (equals != std::string::npos) environment[text.substr(0, equals)] = text.substr(equals + 1);
  }
  return environment;
}

}  // namespace metronome
