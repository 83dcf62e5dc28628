#include "services/bft/shell/bft_config.h"

#include <set>
#include <utility>

#include "absl/status/status.h"
#include "common/bytes.h"
#include "common/federation_file.h"
#include "common/key_file.h"

namespace metronome::bft {
namespace {

constexpr char kEnvPrefix[] = "METRONOME_BFT_";
constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kCountMax = int64_t{1} << 30;  // Any larger bound is a typo.

ConfigKey Key(const std::string& name, ConfigType type, std::optional<ConfigValue> value,
              const std::string& help) {
  return ConfigKey{name, type, std::move(value), help};
}

ConfigKey Int(const std::string& name, int64_t value, const std::string& help) {
  return Key(name, ConfigType::kInt, value, help);
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

// Reads an integer key that must lie in [min, max] into `out`.
template <typename T>
absl::Status ReadBounded(const Config& config, const std::string& key, int64_t min, int64_t max,
                         T* out) {
  const int64_t value = config.Int(key);
  if (value < min || value > max) {
    return KeyError(config, key,
                    std::to_string(value) + " is outside " + std::to_string(min) + " to " +
                        std::to_string(max));
  }
  *out = static_cast<T>(value);
  return absl::OkStatus();
}

absl::Status ReadTunables(const Config& config, BftConfig* out) {
  ConsensusSettings& consensus = out->consensus;
  TransportSettings& transport = out->transport;
  InterpreterSettings& interpreter = out->interpreter;
  StreamSettings& stream = out->stream;
  absl::Status status;  // The first failure; later reads are skipped.
  const auto read = [&](const char* key, int64_t min, int64_t max, auto* field) {
    if (status.ok()) status = ReadBounded(config, key, min, max, field);
  };
  read("consensus.timeout_ms_base", 1, kHourMs, &consensus.timeout_ms_base);
  read("consensus.timeout_ms_max", 1, kHourMs, &consensus.timeout_ms_max);
  read("consensus.idle_interval_ms", 1, kHourMs, &consensus.idle_interval_ms);
  read("consensus.view_window_max", 1, kCountMax, &consensus.view_window_max);
  read("consensus.stash_max", 1, kCountMax, &consensus.stash_max);
  read("consensus.blocks_max", 1, kCountMax, &consensus.blocks_max);
  read("consensus.committed_history", 1, kCountMax, &consensus.committed_history);
  read("consensus.sync_blocks_max", 1, kCountMax, &consensus.sync_blocks_max);
  read("consensus.certificate_headers_max", 1, 256, &consensus.certificate_headers_max);
  read("transport.max_message_bytes", 64 << 10, 64 << 20, &transport.max_message_bytes);
  read("transport.peer_queue_max", 1, kCountMax, &transport.peer_queue_max);
  read("transport.heartbeat_interval_ms", 1, kHourMs, &transport.heartbeat_interval_ms);
  read("transport.peer_silence_ms", 1, kHourMs, &transport.peer_silence_ms);
  read("transport.reconnect_min_ms", 1, kHourMs, &transport.reconnect_min_ms);
  read("transport.reconnect_max_ms", 1, kHourMs, &transport.reconnect_max_ms);
  read("transport.handshake_timeout_ms", 1, kHourMs, &transport.handshake_timeout_ms);
  read("transport.inbound_bytes_per_peer_max", 1 << 20, int64_t{4} << 30,
       &transport.inbound_bytes_per_peer_max);
  read("interpreter.create_timeout_ms", 1, kHourMs, &interpreter.create_timeout_ms);
  read("interpreter.validate_timeout_ms", 1, kHourMs, &interpreter.validate_timeout_ms);
  read("interpreter.certificate_resend_ms", 1, kHourMs, &interpreter.certificate_resend_ms);
  read("stream.subscribers_max", 1, kCountMax, &stream.subscribers_max);
  read("stream.subscriber_queue_max", 1, kCountMax, &stream.subscriber_queue_max);
  read("stream.history_records_max", 1, kCountMax, &stream.history_records_max);
  if (!status.ok()) return status;
  if (consensus.timeout_ms_base > consensus.timeout_ms_max) {
    return KeyError(config, "consensus.timeout_ms_base",
                    "must not exceed consensus.timeout_ms_max (" +
                        std::to_string(consensus.timeout_ms_max) + ")");
  }
  if (transport.reconnect_min_ms > transport.reconnect_max_ms) {
    return KeyError(config, "transport.reconnect_min_ms",
                    "must not exceed transport.reconnect_max_ms (" +
                        std::to_string(transport.reconnect_max_ms) + ")");
  }
  // A silence limit within one heartbeat would declare live peers dead.
  if (transport.peer_silence_ms <= transport.heartbeat_interval_ms) {
    return KeyError(config, "transport.peer_silence_ms",
                    "must exceed transport.heartbeat_interval_ms (" +
                        std::to_string(transport.heartbeat_interval_ms) + ")");
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<ConfigKey> BftConfigSchema() {
  using T = ConfigType;
  const std::string loopback_any_port = "127.0.0.1:0";
  return {
      Key("federation_file", T::kString, std::nullopt, "The federation file (TOML or binary)"),
      Key("key_file", T::kString, std::nullopt, "This member's bft key file"),
      Key("data_dir", T::kString, std::nullopt, "Where the bft database lives"),
      Key("interpreter_public_key", T::kString, std::nullopt,
          "Our interpreter's public key, 64 hex"),
      Key("peers", T::kStringList, std::nullopt,
          "Federation addresses of every member, in member order, ours included"),
      Key("insecure", T::kBool, false, "Allow listeners off loopback without TLS"),
      Key("listen.federation", T::kString, loopback_any_port, "Federation (other members)"),
      Key("listen.interpreter", T::kString, loopback_any_port, "Interpreter (member-local)"),
      Key("listen.public", T::kString, loopback_any_port, "ConsensusStream and Checkpoints"),
      Key("listen.metrics", T::kString, loopback_any_port, "Prometheus metrics"),
      Int("consensus.timeout_ms_base", 1000, "First view timeout beyond the idle interval"),
      Int("consensus.timeout_ms_max", 8000, "Cap of the view timeout backoff"),
      Int("consensus.idle_interval_ms", 1000, "Heartbeat block interval without a candidate"),
      Int("consensus.view_window_max", 64, "Messages further ahead are dropped"),
      Int("consensus.stash_max", 1024, "Early messages held for later"),
      Int("consensus.blocks_max", 4096, "Blocks held by the block tree"),
      Int("consensus.committed_history", 256, "Committed blocks kept for syncing peers"),
      Int("consensus.sync_blocks_max", 64, "Blocks per sync request"),
      Int("consensus.certificate_headers_max", 16,
          "Most headers in a certificate this member emits (consumers' default limit)"),
      Int("transport.max_message_bytes", 4 << 20, "Largest message accepted"),
      Int("transport.peer_queue_max", 1024, "Outgoing messages queued per peer"),
      Int("transport.heartbeat_interval_ms", 1000, "Link heartbeat interval"),
      Int("transport.peer_silence_ms", 5000, "Silence after which a peer link is down"),
      Int("transport.reconnect_min_ms", 100, "First reconnection delay"),
      Int("transport.reconnect_max_ms", 5000, "Largest reconnection delay"),
      Int("transport.handshake_timeout_ms", 5000, "Time allowed for a link handshake"),
      Int("transport.inbound_bytes_per_peer_max", 64 << 20,
          "Bytes of one peer's messages waiting to be handled; more are dropped"),
      Int("interpreter.create_timeout_ms", 1000, "Time allowed to create a body"),
      Int("interpreter.validate_timeout_ms", 2000, "Time allowed to validate a body"),
      Int("interpreter.certificate_resend_ms", 2000,
          "Resend interval of unacknowledged certificates"),
      Int("stream.subscribers_max", 16, "ConsensusStream subscribers at once"),
      Int("stream.subscriber_queue_max", 8192, "Records queued per subscriber"),
      Int("stream.history_records_max", 200000, "Records kept for subscribers catching up"),
      Key("log.level", T::kString, std::string("info"), "debug, info, warn or error"),
  };
}

absl::StatusOr<BftConfig> LoadBftConfig(const std::string& path,
                                        const std::map<std::string, std::string>& environment,
                                        const std::vector<std::string>& overrides) {
  absl::StatusOr<Config> loaded =
      Config::Load(BftConfigSchema(), path, kEnvPrefix, environment, overrides);
  if (!loaded.ok()) return loaded.status();
  const Config& config = *loaded;

  const std::string& federation_file = config.String("federation_file");
  absl::StatusOr<Federation> federation = ReadFederationFile(federation_file);
  if (!federation.ok()) {
    return KeyError(config, "federation_file", std::string(federation.status().message()));
  }
  const std::string& key_file = config.String("key_file");
  absl::StatusOr<SigningKey> key = ReadKeyFile(key_file);
  if (!key.ok()) return KeyError(config, "key_file", std::string(key.status().message()));
  const std::optional<uint32_t> self = federation->IndexOf(key->public_key());
  if (!self) {
    return KeyError(config, "key_file",
                    key_file + ": public key " + ToHex(key->public_key()) +
                        " is not a member of federation " + federation_file);
  }

  BftConfig out(*std::move(federation), *std::move(key));
  out.federation_file = federation_file;
  out.key_file = key_file;
  out.self = *self;
  out.data_dir = config.String("data_dir");
  if (out.data_dir.empty()) return KeyError(config, "data_dir", "must not be empty");

  const std::optional<PublicKey> interpreter_key =
      FixedFromHex<32>(config.String("interpreter_public_key"));
  if (!interpreter_key) {
    return KeyError(config, "interpreter_public_key", "must be 64 hex digits (a public key)");
  }
  out.interpreter_public_key = *interpreter_key;

  out.peers = config.StringList("peers");
  if (out.peers.size() != out.federation.n()) {
    return KeyError(config, "peers",
                    std::to_string(out.peers.size()) + " addresses for " +
                        std::to_string(out.federation.n()) + " federation members (" +
                        federation_file + "); list every member's, in member order");
  }
  std::set<std::string> distinct_peers;
  for (const std::string& peer : out.peers) {
    if (!IsHostPort(peer)) return KeyError(config, "peers", "'" + peer + "' is not host:port");
    if (!distinct_peers.insert(peer).second) {
      return KeyError(config, "peers", "'" + peer + "' is listed twice");
    }
  }

  out.insecure = config.Bool("insecure");
  struct Listener {
    const char* key;
    std::string* address;
  };
  for (const Listener& listener : {Listener{"listen.federation", &out.listen_federation},
                                   Listener{"listen.interpreter", &out.listen_interpreter},
                                   Listener{"listen.public", &out.listen_public},
                                   Listener{"listen.metrics", &out.listen_metrics}}) {
    *listener.address = config.String(listener.key);
    if (!IsHostPort(*listener.address)) {
      return KeyError(config, listener.key, "'" + *listener.address + "' is not host:port");
    }
    // No TLS yet (DESIGN §7): a listener reachable from other machines needs consent.
    if (!IsLoopback(*listener.address) && !out.insecure) {
      return KeyError(
          config, listener.key,
          "'" + *listener.address + "' is not on loopback; without TLS this needs insecure = true");
    }
  }

  const absl::Status tunables = ReadTunables(config, &out);
  if (!tunables.ok()) return tunables;
  if (!ParseLogLevel(config.String("log.level"), &out.log_level)) {
    return KeyError(config, "log.level", "must be debug, info, warn or error");
  }
  return out;
}

}  // namespace metronome::bft
