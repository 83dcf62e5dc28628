#include "common/federation_file.h"

#include <sstream>

#include "absl/status/status.h"
#include "common/file_util.h"
#include "common/toml_util.h"

namespace metronome {
namespace {

constexpr char kProtocolName[] = "basic-hotstuff";
constexpr size_t kFederationFileBytesMax = 1 << 20;

absl::Status KeyError(const std::string& key, const std::string& problem) {
  return absl::InvalidArgumentError("federation key '" + key + "': " + problem);
}

absl::StatusOr<std::optional<uint32_t>> OptionalCount(const toml::table& table,
                                                      const std::string& key) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return std::optional<uint32_t>();
  const std::optional<int64_t> value = node->value<int64_t>();
  if (!node->is_integer() || !value || *value < 0 || *value > UINT32_MAX) {
    return KeyError(key, "must be a non-negative integer");
  }
  return std::optional<uint32_t>(static_cast<uint32_t>(*value));
}

}  // namespace

absl::StatusOr<Federation> ParseFederationToml(const std::string& text) {
  absl::StatusOr<toml::table> parsed = ParseToml(text, "federation file");
  if (!parsed.ok()) return parsed.status();
  const toml::table& table = *parsed;
  static const char* const kKnown[] = {"chain_id",         "epoch",    "n",      "f", "q",
                                       "leader_selection", "protocol", "members"};
  for (const auto& [key, node] : table) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key.str()) == std::end(kKnown)) {
      return KeyError(std::string(key.str()), "unknown key");
    }
  }
  FederationSpec spec;
  const std::optional<std::string> chain_id = table["chain_id"].value<std::string>();
  if (!chain_id) return KeyError("chain_id", "required string");
  spec.chain_id = *chain_id;
  if (const toml::node* epoch = table.get("epoch")) {
    const std::optional<int64_t> value = epoch->value<int64_t>();
    if (!epoch->is_integer() || !value || *value < 0) {
      return KeyError("epoch", "must be a non-negative integer");
    }
    spec.epoch = static_cast<uint64_t>(*value);
  }
  for (const char* key : {"n", "f", "q"}) {
    absl::StatusOr<std::optional<uint32_t>> value = OptionalCount(table, key);
    if (!value.ok()) return value.status();
    (key[0] == 'n' ? spec.n : key[0] == 'f' ? spec.f : spec.q) = *value;
  }
  const std::string selection = table["leader_selection"].value_or(std::string("round_robin"));
  const std::optional<LeaderSelection> leader_selection = LeaderSelectionFromName(selection);
  if (!leader_selection) return KeyError("leader_selection", "must be round_robin or hashing");
  spec.leader_selection = *leader_selection;
  if (table["protocol"].value_or(std::string(kProtocolName)) != kProtocolName) {
    return KeyError("protocol", std::string("only \"") + kProtocolName + "\" is supported");
  }
  const toml::array* members = table["members"].as_array();
  if (members == nullptr) return KeyError("members", "required array of hex public keys");
  for (size_t i = 0; i < members->size(); ++i) {
    const std::optional<std::string> hex = (*members)[i].value<std::string>();
    const std::optional<PublicKey> key = hex ? FixedFromHex<32>(*hex) : std::nullopt;
    if (!key) {
      return KeyError("members[" + std::to_string(i) + "]", "must be 64 hex digits");
    }
    spec.members.push_back(*key);
  }
  std::string error;
  std::optional<Federation> federation = Federation::Make(spec, &error);
  if (!federation) return absl::InvalidArgumentError("federation " + error);
  return *std::move(federation);
}

absl::StatusOr<Federation> ReadFederationFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path, kFederationFileBytesMax);
  if (!text.ok()) return text.status();
  if (!text->empty() &&
      static_cast<uint8_t>((*text)[0]) == static_cast<uint8_t>(ArtefactKind::kFederation)) {
    std::string error;
    std::optional<Federation> federation = Federation::Decode(BytesOf(*text), &error);
    if (!federation) return absl::InvalidArgumentError(path + ": " + error);
    return *std::move(federation);
  }
  absl::StatusOr<Federation> federation = ParseFederationToml(*text);
  if (!federation.ok()) {
    return absl::InvalidArgumentError(path + ": " + std::string(federation.status().message()));
  }
  return federation;
}

std::string FederationToToml(const Federation& federation) {
  std::ostringstream out;
  out << "# Metronome federation " << FederationFingerprint(federation.id()) << "\n"
      << "# Member order is authoritative: it fixes member indices and the federation id.\n"
      << "chain_id = \"" << federation.chain_id() << "\"\n"
      << "epoch = " << federation.epoch() << "\n"
      << "n = " << federation.n() << "\n"
      << "f = " << federation.f() << "\n"
      << "q = " << federation.q() << "\n"
      << "leader_selection = \"" << LeaderSelectionName(federation.leader_selection()) << "\"\n"
      << "protocol = \"" << kProtocolName << "\"\n"
      << "members = [\n";
  for (const PublicKey& member : federation.members()) out << "  \"" << ToHex(member) << "\",\n";
  out << "]\n";
  return out.str();
}

}  // namespace metronome
