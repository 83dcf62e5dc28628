#include "services/interpreter/shell/interpreter_config.h"

#include "absl/status/status.h"
#include "common/federation_file.h"
#include "common/key_file.h"
#include "common/log.h"

namespace metronome::interpreter {
namespace {

ConfigKey Key(const std::string& name, ConfigType type, std::optional<ConfigValue> value,
              const std::string& help) {
  return ConfigKey{name, type, std::move(value), help};
}

absl::Status KeyError(const Config& config, const std::string& key, const std::string& problem) {
  return absl::InvalidArgumentError("config key '" + key + "' (from " + config.SourceOf(key) +
                                    "): " + problem);
}

bool IsHostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  return colon != std::string::npos && colon != 0 && colon + 1 < address.size();
}

bool IsLoopback(const std::string& address) {
  const std::string host = address.substr(0, address.rfind(':'));
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

}  // namespace

std::vector<ConfigKey> InterpreterConfigSchema() {
  using T = ConfigType;
  return {
      Key("federation_file", T::kString, std::nullopt, "The federation file (TOML or binary)"),
      Key("key_file", T::kString, std::nullopt, "The interpreter's key file"),
      Key("data_dir", T::kString, std::nullopt, "Where the checkpoint state lives"),
      Key("bft_address", T::kString, std::nullopt, "The bft's Interpreter API, host:port"),
      Key("adapter_public_key", T::kString, std::nullopt,
          "The adapter's public key (64 hex): the only key Chain.Attach accepts"),
      Key("bft_public_key", T::kString, std::string(""),
          "The member key the bft must present (64 hex); empty: any member's"),
      Key("clear_freeze_evidence", T::kString, std::string(""),
          "A freeze-evidence file: ends that freeze at start"),
      Key("insecure", T::kBool, false, "Allow listeners off loopback without TLS"),
      Key("max_message_bytes", T::kInt, int64_t{4 << 20}, "Largest gRPC message accepted"),
      Key("listen.chain", T::kString, std::string("127.0.0.1:0"), "The Chain API (loopback)"),
      Key("listen.metrics", T::kString, std::string("127.0.0.1:0"), "Prometheus metrics"),
      Key("rules.k", T::kInt, int64_t{6}, "Candidate depth on the best chain"),
      Key("rules.k_min", T::kInt, int64_t{4}, "Least depth a replica accepts"),
      Key("rules.interval", T::kInt, int64_t{5}, "Least PoW heights between checkpoints"),
      Key("rules.min_age_ms", T::kInt, int64_t{0}, "Least age of a candidate; 0: off"),
      Key("timeouts.query_wait_ms", T::kInt, int64_t{3000}, "Adapter wait for an unknown block"),
      Key("timeouts.create_timeout_ms", T::kInt, int64_t{800}, "The most a body may take"),
      Key("timeouts.apply_resend_ms", T::kInt, int64_t{5000}, "Checkpoint resend period"),
      Key("timeouts.handshake_ms", T::kInt, int64_t{5000}, "Chain API handshake deadline"),
      Key("log.level", T::kString, std::string("info"), "debug, info, warn or error"),
  };
}

absl::StatusOr<InterpreterConfig> LoadInterpreterConfig(
    const std::string& path, const std::map<std::string, std::string>& env,
    const std::vector<std::string>& overrides) {
  absl::StatusOr<Config> loaded =
      Config::Load(InterpreterConfigSchema(), path, "METRONOME_INTERPRETER_", env, overrides);
  if (!loaded.ok()) return loaded.status();
  const Config& config = *loaded;
  InterpreterConfig out;

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
  out.bft_address = config.String("bft_address");
  if (!IsHostPort(out.bft_address)) {
    return KeyError(config, "bft_address", "'" + out.bft_address + "' is not host:port");
  }
  std::optional<PublicKey> adapter_key = FixedFromHex<32>(config.String("adapter_public_key"));
  if (!adapter_key) {
    return KeyError(config, "adapter_public_key", "must be 64 hex digits (a public key)");
  }
  out.adapter_public_key = *adapter_key;
  if (!config.String("bft_public_key").empty()) {
    out.bft_public_key = FixedFromHex<32>(config.String("bft_public_key"));
    if (!out.bft_public_key) {
      return KeyError(config, "bft_public_key", "must be 64 hex digits (a public key)");
    }
    if (!federation->IndexOf(*out.bft_public_key)) {
      return KeyError(config, "bft_public_key", "is not a member of the federation");
    }
  }
  out.clear_freeze_evidence = config.String("clear_freeze_evidence");

  out.listen_chain = config.String("listen.chain");
  out.listen_metrics = config.String("listen.metrics");
  // No TLS yet (DESIGN §7): a listener reachable from other machines needs consent.
  for (const char* listen_key : {"listen.chain", "listen.metrics"}) {
    const std::string& address = config.String(listen_key);
    if (!IsHostPort(address)) {
      return KeyError(config, listen_key, "'" + address + "' is not host:port");
    }
    if (!IsLoopback(address) && !config.Bool("insecure")) {
      return KeyError(
          config, listen_key,
          "'" + address + "' is not on loopback; without TLS this needs insecure = true");
    }
  }
  const int64_t max_message_bytes = config.Int("max_message_bytes");
  if (max_message_bytes < (64 << 10) || max_message_bytes > (64 << 20)) {
    return KeyError(config, "max_message_bytes", "must be 64 KiB to 64 MiB");
  }
  out.max_message_bytes = static_cast<size_t>(max_message_bytes);

  struct Limit {
    const char* key;
    int64_t min, max;
  };
  for (const Limit& limit :
       {Limit{"rules.k", 0, 1000000}, Limit{"rules.k_min", 0, 1000000},
        Limit{"rules.interval", 0, 1000000}, Limit{"rules.min_age_ms", 0, 86400000LL * 365},
        Limit{"timeouts.query_wait_ms", 0, 600000}, Limit{"timeouts.create_timeout_ms", 1, 600000},
        Limit{"timeouts.apply_resend_ms", 10, 3600000},
        Limit{"timeouts.handshake_ms", 10, 600000}}) {
    const int64_t value = config.Int(limit.key);
    if (value < limit.min || value > limit.max) {
      return KeyError(config, limit.key,
                      "must be " + std::to_string(limit.min) + " to " + std::to_string(limit.max));
    }
  }
  out.rules.chain_id = federation->chain_id();
  out.rules.k = static_cast<uint64_t>(config.Int("rules.k"));
  out.rules.k_min = static_cast<uint64_t>(config.Int("rules.k_min"));
  out.rules.interval = static_cast<uint64_t>(config.Int("rules.interval"));
  out.rules.min_age_ms = static_cast<uint64_t>(config.Int("rules.min_age_ms"));
  if (std::optional<RulesProblem> problem = Validate(out.rules)) {
    if (problem->key == "chain_id") {
      return KeyError(config, "federation_file", "chain id " + problem->problem);
    }
    return KeyError(config, problem->key, problem->problem);
  }
  out.query_wait_ms = static_cast<uint64_t>(config.Int("timeouts.query_wait_ms"));
  out.create_timeout_ms = static_cast<uint64_t>(config.Int("timeouts.create_timeout_ms"));
  out.apply_resend_ms = static_cast<uint64_t>(config.Int("timeouts.apply_resend_ms"));
  out.handshake_ms = static_cast<uint64_t>(config.Int("timeouts.handshake_ms"));

  out.log_level = config.String("log.level");
  LogLevel level;
  if (!ParseLogLevel(out.log_level, &level)) {
    return KeyError(config, "log.level", "must be debug, info, warn or error");
  }
  return out;
}

}  // namespace metronome::interpreter
