#include "services/pow_adapter/shell/adapter_config.h"

#include "absl/status/status.h"
#include "common/federation_file.h"
#include "common/hash.h"
#include "common/key_file.h"
#include "common/log.h"

namespace metronome::pow_adapter {
namespace {

ConfigKey Key(const std::string& name, ConfigType type, std::optional<ConfigValue> value,
              const std::string& help) {
  return ConfigKey{name, type, std::move(value), help};
}

absl::Status KeyError(const Config& config, const std::string& key, const std::string& problem) {
  return absl::InvalidArgumentError("config key '" + key + "' (from " + config.SourceOf(key) +
                                    "): " + problem);
}

}  // namespace

std::vector<ConfigKey> AdapterConfigSchema() {
  using T = ConfigType;
  return {
      Key("federation_file", T::kString, std::nullopt, "The federation file (TOML or binary)"),
      Key("key_file", T::kString, std::nullopt, "The adapter's key file"),
      Key("data_dir", T::kString, std::nullopt, "Where the devchain database lives"),
      Key("interpreter_address", T::kString, std::string(""), "The interpreter's Chain API"),
      Key("interpreter_key", T::kString, std::string(""),
          "The interpreter's public key (64 hex); empty: any"),
      Key("backend", T::kString, std::string("devchain"), "The PoW backend: devchain"),
      Key("log_level", T::kString, std::string("info"), "debug, info, warn or error"),
      Key("insecure", T::kBool, false, "Allow listeners off loopback without TLS"),
      Key("max_message_bytes", T::kInt, int64_t{4 << 20}, "Largest gRPC message accepted"),
      Key("listen.devchain_p2p", T::kString, std::string("127.0.0.1:0"), "devchain P2P"),
      Key("listen.admin", T::kString, std::string("127.0.0.1:0"), "DevchainAdmin (loopback)"),
      Key("listen.metrics", T::kString, std::string("127.0.0.1:0"), "Prometheus metrics"),
      Key("devchain.peers", T::kStringList, std::vector<std::string>{}, "Peers' P2P addresses"),
      Key("devchain.hash_rate_share", T::kDouble, 0.25, "This miner's share; 0: no mining"),
      Key("devchain.block_interval_ms", T::kInt, int64_t{1000}, "Mean block interval"),
      Key("devchain.checkpointing", T::kBool, true, "false: certificates are not enforced"),
      Key("devchain.target", T::kString, ToHex(devchain::ChainParams::DefaultTarget()),
          "Proof-of-work target, 64 hex digits"),
      Key("devchain.seed", T::kInt, int64_t{0}, "Miner randomness; 0: derived"),
      Key("devchain.miner_id", T::kString, std::string(""), "Name in coinbases"),
      Key("devchain.sync_interval_ms", T::kInt, int64_t{500}, "Peer polling interval"),
      Key("devchain.block_bytes_max", T::kInt, int64_t{64 << 10}, "Largest block accepted"),
      Key("devchain.blocks_max", T::kInt, int64_t{200000}, "Most blocks held"),
      Key("devchain.future_time_ms_max", T::kInt, int64_t{15000}, "Clock skew tolerated"),
      Key("devchain.genesis_time_ms", T::kInt, int64_t{0}, "Genesis block time"),
      Key("devchain.certificate_headers_max", T::kInt, int64_t{16}, "Certificate header chain"),
  };
}

absl::StatusOr<AdapterConfig> LoadAdapterConfig(const std::string& path,
                                                const std::map<std::string, std::string>& env,
                                                const std::vector<std::string>& overrides,
                                                uint64_t start_time_ms) {
  absl::StatusOr<Config> loaded =
      Config::Load(AdapterConfigSchema(), path, "METRONOME_POW_ADAPTER_", env, overrides);
  if (!loaded.ok()) return loaded.status();
  const Config& config = *loaded;
  AdapterConfig out;

  if (config.String("backend") != "devchain") {
    return KeyError(config, "backend",
                    "'" + config.String("backend") + "' is not supported (only devchain)");
  }
  absl::StatusOr<Federation> federation = ReadFederationFile(config.String("federation_file"));
  if (!federation.ok()) {
    return KeyError(config, "federation_file", std::string(federation.status().message()));
  }
  out.federation = *federation;
  absl::StatusOr<SigningKey> key = ReadKeyFile(config.String("key_file"));
  if (!key.ok()) return KeyError(config, "key_file", std::string(key.status().message()));
  out.key = *key;

  out.data_dir = config.String("data_dir");
  if (out.data_dir.empty()) return KeyError(config, "data_dir", "must not be empty");
  out.interpreter_address = config.String("interpreter_address");
  if (!out.interpreter_address.empty() && out.interpreter_address.find(':') == std::string::npos) {
    return KeyError(config, "interpreter_address",
                    "'" + out.interpreter_address + "' is not host:port");
  }
  if (!config.String("interpreter_key").empty()) {
    out.interpreter_key = FixedFromHex<32>(config.String("interpreter_key"));
    if (!out.interpreter_key) {
      return KeyError(config, "interpreter_key", "must be 64 hex digits (a public key)");
    }
  }
  out.listen_p2p = config.String("listen.devchain_p2p");
  out.listen_admin = config.String("listen.admin");
  out.listen_metrics = config.String("listen.metrics");
  out.log_level = config.String("log_level");
  LogLevel level;
  if (!ParseLogLevel(out.log_level, &level)) {
    return KeyError(config, "log_level", "must be debug, info, warn or error");
  }
  // No TLS yet (DESIGN §7): a listener reachable from other machines needs consent.
  for (const char* key : {"listen.devchain_p2p", "listen.admin", "listen.metrics"}) {
    const std::string& address = config.String(key);
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return KeyError(config, key, "'" + address + "' is not host:port");
    }
    const std::string host = address.substr(0, colon);
    const bool loopback = host == "127.0.0.1" || host == "localhost" || host == "[::1]";
    if (!loopback && !config.Bool("insecure")) {
      return KeyError(
          config, key,
          "'" + address + "' is not on loopback; without TLS this needs insecure = true");
    }
  }

  const int64_t max_message_bytes = config.Int("max_message_bytes");
  if (max_message_bytes < (64 << 10) || max_message_bytes > (64 << 20)) {
    return KeyError(config, "max_message_bytes", "must be 64 KiB to 64 MiB");
  }
  devchain::NodeOptions& node = out.node;
  node.max_message_bytes = static_cast<size_t>(max_message_bytes);
  node.data_dir = out.data_dir;
  node.peers = config.StringList("devchain.peers");
  if (node.peers.size() > devchain::kPeersMax) {
    return KeyError(config, "devchain.peers",
                    "at most " + std::to_string(devchain::kPeersMax) + " peers");
  }
  for (const std::string& peer : node.peers) {
    if (peer.empty() || peer.find(':') == std::string::npos) {
      return KeyError(config, "devchain.peers", "'" + peer + "' is not host:port");
    }
  }
  node.hash_rate_share = config.Double("devchain.hash_rate_share");
  if (!(node.hash_rate_share >= 0 && node.hash_rate_share <= 1)) {
    return KeyError(config, "devchain.hash_rate_share", "must be in [0, 1]");
  }
  const int64_t interval = config.Int("devchain.block_interval_ms");
  if (interval < 1 || interval > 3600000) {
    return KeyError(config, "devchain.block_interval_ms", "must be 1 to 3600000");
  }
  node.block_interval_ms = static_cast<uint64_t>(interval);
  const int64_t sync_interval = config.Int("devchain.sync_interval_ms");
  if (sync_interval < 10 || sync_interval > 600000) {
    return KeyError(config, "devchain.sync_interval_ms", "must be 10 to 600000");
  }
  node.sync_interval_ms = static_cast<uint64_t>(sync_interval);
  node.miner_id = config.String("devchain.miner_id");
  if (node.miner_id.empty()) node.miner_id = "adapter-" + ToHex(key->public_key().data(), 8);
  if (node.miner_id.size() > devchain::kMinerIdBytesMax) {
    return KeyError(config, "devchain.miner_id", "at most 64 bytes");
  }
  const int64_t seed = config.Int("devchain.seed");
  if (seed != 0) {
    node.seed = static_cast<uint64_t>(seed);
  } else {
    // Distinct per key and per start, so restarted or cloned miners do not repeat.
    Bytes material(key->public_key().begin(), key->public_key().end());
    for (int shift = 56; shift >= 0; shift -= 8) material.push_back(start_time_ms >> shift);
    const Hash256 digest = Blake2b256(material);
    for (int i = 0; i < 8; ++i) node.seed = (node.seed << 8) | digest[i];
  }

  devchain::ChainParams& params = node.params;
  params.chain_id = federation->chain_id();
  params.federation = federation->encoded();
  params.checkpointing = config.Bool("devchain.checkpointing");
  std::optional<Hash256> target = devchain::ParseTarget(config.String("devchain.target"));
  if (!target) return KeyError(config, "devchain.target", "must be 64 hex digits");
  if (devchain::WorkOf(*target) > (1ULL << 40)) {
    return KeyError(config, "devchain.target",
                    "too hard for devchain (needs more than 2^40 hashes per block)");
  }
  params.target = *target;
  struct Limit {
    const char* key;
    int64_t min, max;
  };
  for (const Limit& limit : {Limit{"devchain.block_bytes_max", 1024, 16 << 20},
                             Limit{"devchain.blocks_max", 16, 100000000},
                             Limit{"devchain.future_time_ms_max", 0, 86400000},
                             Limit{"devchain.genesis_time_ms", 0, INT64_MAX},
                             Limit{"devchain.certificate_headers_max", 1, 256}}) {
    const int64_t value = config.Int(limit.key);
    if (value < limit.min || value > limit.max) {
      return KeyError(config, limit.key,
                      "must be " + std::to_string(limit.min) + " to " + std::to_string(limit.max));
    }
  }
  params.block_bytes_max = static_cast<size_t>(config.Int("devchain.block_bytes_max"));
  if (params.block_bytes_max + 1024 > node.max_message_bytes) {
    return KeyError(config, "devchain.block_bytes_max", "must leave room below max_message_bytes");
  }
  params.blocks_max = static_cast<size_t>(config.Int("devchain.blocks_max"));
  params.future_time_ms_max = static_cast<uint64_t>(config.Int("devchain.future_time_ms_max"));
  params.genesis_time_ms = static_cast<uint64_t>(config.Int("devchain.genesis_time_ms"));
  params.certificate_headers_max =
      static_cast<uint32_t>(config.Int("devchain.certificate_headers_max"));
  return out;
}

}  // namespace metronome::pow_adapter
