#ifndef METRONOME_SERVICES_BFT_SHELL_BFT_CONFIG_H_
#define METRONOME_SERVICES_BFT_SHELL_BFT_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config.h"
#include "common/ed25519.h"
#include "common/federation.h"
#include "common/log.h"

namespace metronome::bft {

// metronome-bft's configuration: a TOML file (as `metronome testnet` writes it),
// overridden by METRONOME_BFT_<KEY> variables (e.g. METRONOME_BFT_CONSENSUS_STASH_MAX)
// and --set key=value.
//
//   federation_file, key_file, data_dir   required
//   interpreter_public_key                required, 64 hex: the only key our
//                                         interpreter may authenticate with
//   peers                                 required: federation address (host:port) of
//                                         every member, in federation member order,
//                                         ours included
//   insecure = false                      true: allow listeners off loopback without TLS
//   [listen] federation, interpreter, public, metrics   "127.0.0.1:0" each by default
//   [consensus] timeout_ms_base = 1000, timeout_ms_max = 8000, idle_interval_ms = 1000,
//     view_window_max = 64, stash_max = 1024, blocks_max = 4096,
//     committed_history = 256, sync_blocks_max = 64
//   [transport] max_message_bytes = 4194304, peer_queue_max = 1024,
//     heartbeat_interval_ms = 1000, peer_silence_ms = 5000, reconnect_min_ms = 100,
//     reconnect_max_ms = 5000, handshake_timeout_ms = 5000
//   [interpreter] create_timeout_ms = 1000, validate_timeout_ms = 2000,
//     certificate_resend_ms = 2000
//   [stream] subscribers_max = 16, subscriber_queue_max = 8192,
//     history_records_max = 200000
//   [log] level = "info"                  debug, info, warn or error
std::vector<ConfigKey> BftConfigSchema();

// The consensus core's tunables (the same names and meaning as bft::ReplicaConfig).
struct ConsensusSettings {
  uint64_t timeout_ms_base = 1000;
  uint64_t timeout_ms_max = 8000;
  uint64_t idle_interval_ms = 1000;
  uint64_t view_window_max = 64;
  size_t stash_max = 1024;
  size_t blocks_max = 4096;
  uint64_t committed_history = 256;
  uint32_t sync_blocks_max = 64;
  // Headers in a certificate this member emits (the consumers' default limit too).
  uint32_t certificate_headers_max = 16;
};

// The member-to-member links.
struct TransportSettings {
  size_t max_message_bytes = 4 << 20;  // Our limit per message, below gRPC's.
  size_t peer_queue_max = 1024;        // Outgoing messages queued per peer.
  uint64_t heartbeat_interval_ms = 1000;
  uint64_t peer_silence_ms = 5000;  // Longer than the heartbeat interval.
  uint64_t reconnect_min_ms = 100;  // Reconnection backoff bounds.
  uint64_t reconnect_max_ms = 5000;
  uint64_t handshake_timeout_ms = 5000;
  // Bytes of one peer's messages waiting for the consensus actor (DESIGN §3 quotas).
  size_t inbound_bytes_per_peer_max = 64u << 20;
};

// The link to this member's interpreter.
struct InterpreterSettings {
  uint64_t create_timeout_ms = 1000;      // For a body the leader asked for.
  uint64_t validate_timeout_ms = 2000;    // For a verdict on a proposed body.
  uint64_t certificate_resend_ms = 2000;  // For an unacknowledged certificate.
};

// The public ConsensusStream.
struct StreamSettings {
  size_t subscribers_max = 16;
  size_t subscriber_queue_max = 8192;   // Records queued per subscriber.
  size_t history_records_max = 200000;  // Records kept for subscribers catching up.
};

// Everything the service needs before it binds a port, validated: every bound is at
// least 1, timeout_ms_base <= timeout_ms_max, reconnect_min_ms <= reconnect_max_ms,
// heartbeat_interval_ms < peer_silence_ms, the key is a federation member and
// peers[i] is member i's address.
struct BftConfig {
  BftConfig(Federation federation, SigningKey key)
      : federation(std::move(federation)), key(std::move(key)) {}

  std::string federation_file;
  std::string key_file;
  std::string data_dir;
  Federation federation;
  SigningKey key;
  uint32_t self = 0;  // Our member index: federation.members()[self] == key.public_key().
  PublicKey interpreter_public_key{};
  std::vector<std::string> peers;  // peers[i]: member i's federation address.
  bool insecure = false;
  std::string listen_federation;
  std::string listen_interpreter;
  std::string listen_public;
  std::string listen_metrics;
  ConsensusSettings consensus;
  TransportSettings transport;
  InterpreterSettings interpreter;
  StreamSettings stream;
  LogLevel log_level = LogLevel::kInfo;
  // Sign at once even when the database has no safety state (DESIGN §3); set by the
  // --unsafe-start-without-safety-state flag, never by the file.
  bool unsafe_start_without_safety_state = false;
};

// Loads `path` with `environment` (variable name to value) and `overrides` ("key=value"),
// then reads the federation and key files. Errors name the key and where its value came
// from, and the file and cause where one is involved.
absl::StatusOr<BftConfig> LoadBftConfig(const std::string& path,
                                        const std::map<std::string, std::string>& environment,
                                        const std::vector<std::string>& overrides);

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_SHELL_BFT_CONFIG_H_
