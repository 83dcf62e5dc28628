#ifndef METRONOME_SERVICES_POW_ADAPTER_SHELL_ADAPTER_CONFIG_H_
#define METRONOME_SERVICES_POW_ADAPTER_SHELL_ADAPTER_CONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config.h"
#include "common/ed25519.h"
#include "common/federation.h"
#include "services/pow_adapter/shell/devchain_node.h"

namespace metronome::pow_adapter {

// metronome-pow-adapter's configuration: a TOML file (as written by `metronome testnet`),
// overridden by METRONOME_POW_ADAPTER_<KEY> variables and --set key=value.
//
//   federation_file, key_file, data_dir      required
//   interpreter_address = ""                 the interpreter's Chain API ("": no client)
//   interpreter_key = ""                     its public key, 64 hex ("": any key whose
//                                            handshake signature verifies)
//   backend = "devchain"                     the only backend so far
//   log_level = "info"
//   insecure = false                         true: allow listeners off loopback (no TLS yet)
//   max_message_bytes = 4194304              our limit per gRPC message
//   [listen] devchain_p2p, admin, metrics    "127.0.0.1:0" each by default
//   [devchain] peers = [], hash_rate_share = 0.25 (0: do not mine), block_interval_ms =
//     1000, checkpointing = true, target = "00ff...ff" (64 hex), seed = 0 (0: derived
//     from the adapter key and the start time), miner_id = "" (the key's first 8 bytes),
//     sync_interval_ms = 500, block_bytes_max = 65536, blocks_max = 200000,
//     future_time_ms_max = 15000, genesis_time_ms = 0, certificate_headers_max = 16
std::vector<ConfigKey> AdapterConfigSchema();

struct AdapterConfig {
  std::string data_dir;
  std::string interpreter_address;
  std::optional<PublicKey> interpreter_key;
  std::string listen_p2p;
  std::string listen_admin;
  std::string listen_metrics;
  std::string log_level;
  std::optional<Federation> federation;
  std::optional<SigningKey> key;
  devchain::NodeOptions node;
};

// Loads and validates everything the service needs before it binds a port: the config,
// the federation file, the key file, and the devchain parameters. Errors name the key
// and its source, or the file.
absl::StatusOr<AdapterConfig> LoadAdapterConfig(const std::string& path,
                                                const std::map<std::string, std::string>& env,
                                                const std::vector<std::string>& overrides,
                                                uint64_t start_time_ms);

}  // namespace metronome::pow_adapter

#endif  // METRONOME_SERVICES_POW_ADAPTER_SHELL_ADAPTER_CONFIG_H_
