#ifndef METRONOME_SERVICES_INTERPRETER_SHELL_INTERPRETER_CONFIG_H_
#define METRONOME_SERVICES_INTERPRETER_SHELL_INTERPRETER_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config.h"
#include "common/ed25519.h"
#include "common/federation.h"
#include "services/interpreter/core/rules.h"

namespace metronome::interpreter {

// metronome-interpreter's configuration: a TOML file (as written by `metronome
// testnet`), overridden by METRONOME_INTERPRETER_<KEY> variables and --set key=value.
//
//   federation_file, key_file, data_dir       required
//   bft_address                               required: the bft's Interpreter API, host:port
//   adapter_public_key                        required: the only key Chain.Attach accepts
//   bft_public_key = ""                       the member key the bft must present
//                                             (64 hex; "": any member's whose signature
//                                             verifies)
//   clear_freeze_evidence = ""                a freeze-evidence file: at start, ends the
//                                             freeze whose evidence it is exactly
//   insecure = false                          true: allow listeners off loopback (no TLS)
//   max_message_bytes = 4194304               our limit per gRPC message
//   [listen] chain, metrics                   "127.0.0.1:0" each by default
//   [rules] k = 6, k_min = 4, interval = 5, min_age_ms = 0
//   [timeouts] query_wait_ms = 3000           how long the adapter may wait for a block
//              create_timeout_ms = 800        the most a body may take
//              apply_resend_ms = 5000         resend an unacknowledged checkpoint
//              handshake_ms = 5000            the Chain API handshake's deadline
//   [log] level = "info"
std::vector<ConfigKey> InterpreterConfigSchema();

struct InterpreterConfig {
  std::string data_dir;
  std::string bft_address;
  std::optional<PublicKey> bft_public_key;
  PublicKey adapter_public_key{};
  std::string clear_freeze_evidence;
  std::string listen_chain;
  std::string listen_metrics;
  size_t max_message_bytes = 4 << 20;
  RulesConfig rules;  // chain_id is the federation's.
  uint64_t query_wait_ms = 3000;
  uint64_t create_timeout_ms = 800;
  uint64_t apply_resend_ms = 5000;
  uint64_t handshake_ms = 5000;
  std::string log_level;
  std::optional<Federation> federation;
  std::optional<SigningKey> key;
};

// Loads and validates everything the service needs before it binds a port: the config,
// the federation file, the key file and the rules (RulesConfig Validate). Errors name
// the key and where its value came from, or the file.
absl::StatusOr<InterpreterConfig> LoadInterpreterConfig(
    const std::string& path, const std::map<std::string, std::string>& env,
    const std::vector<std::string>& overrides);

}  // namespace metronome::interpreter

#endif  // METRONOME_SERVICES_INTERPRETER_SHELL_INTERPRETER_CONFIG_H_
