// metronome-pow-adapter: the chain side of one federation member (DESIGN §2, §5). For now
// with the embedded devchain backend: a small proof-of-work chain that mines on a timer,
// syncs with its peers over gRPC, persists in RocksDB and enforces the checkpoint
// certificates it verifies itself.
//
//   metronome-pow-adapter --config FILE [--set key=value]...
//
// Exit codes: 0 after SIGINT/SIGTERM, 2 on a configuration or start-up error (one line
// on stderr naming the key, file or listener).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "common/log.h"
#include "common/metrics.h"
#include "common/server.h"
#include "services/pow_adapter/shell/adapter_config.h"
#include "services/pow_adapter/shell/chain_client.h"
#include "services/pow_adapter/shell/devchain_node.h"

namespace metronome::pow_adapter {
namespace {

// The grpc.health.v1 service name that reports finality: NOT_SERVING while conflicting
// certificates freeze it (DESIGN §5 "health reports degraded"); the server as a whole
// ("") stays SERVING.
constexpr char kFinalityHealthService[] = "metronome.pow_adapter.finality";

int StartupError(const std::string& reason) {
  std::cerr << "error: " << reason << "\n";
  return 2;
}

uint64_t UnixMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

int Run(const std::string& config_path, const std::vector<std::string>& overrides) {
  // Block the stop signals before any thread starts, so only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<AdapterConfig> config =
      LoadAdapterConfig(config_path, ProcessEnvironment(), overrides, UnixMs());
  if (!config.ok()) return StartupError(std::string(config.status().message()));
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(config->log_level, &level);
  InitLogging("pow_adapter", level);

  std::error_code error;
  std::filesystem::create_directories(config->data_dir, error);
  if (error) {
    return StartupError("config key 'data_dir': cannot create " + config->data_dir + ": " +
                        error.message());
  }
  Metrics metrics("pow_adapter");
  absl::StatusOr<std::unique_ptr<devchain::DevchainNode>> node =
      devchain::DevchainNode::Create(config->node, &metrics.registry());
  if (!node.ok()) return StartupError(std::string(node.status().message()));

  ServerSpec p2p_spec;
  p2p_spec.service_name = "pow_adapter";
  p2p_spec.listeners = {{"devchain_p2p", config->listen_p2p}};
  p2p_spec.services = {(*node)->p2p_service()};
  p2p_spec.grpc_message_bytes_max = static_cast<int>(config->node.max_message_bytes + (64 << 10));
  absl::StatusOr<std::unique_ptr<RunningServer>> p2p = StartServer(p2p_spec);
  if (!p2p.ok()) return StartupError(std::string(p2p.status().message()));
  ServerSpec admin_spec = p2p_spec;
  admin_spec.listeners = {{"admin", config->listen_admin}};
  admin_spec.services = {(*node)->admin_service()};
  absl::StatusOr<std::unique_ptr<RunningServer>> admin = StartServer(admin_spec);
  if (!admin.ok()) return StartupError(std::string(admin.status().message()));
  absl::StatusOr<int> metrics_port = metrics.Serve(config->listen_metrics);
  if (!metrics_port.ok()) return StartupError(std::string(metrics_port.status().message()));

  std::map<std::string, int> ports = {{"devchain_p2p", (*p2p)->ports().at("devchain_p2p")},
                                      {"admin", (*admin)->ports().at("admin")},
                                      {"metrics", *metrics_port}};
  absl::Status written = WritePortsFile(config->data_dir, ports);
  if (!written.ok()) return StartupError(std::string(written.message()));

  RunningServer* servers[] = {p2p->get(), admin->get()};
  (*node)->SetFrozenListener([servers](bool frozen) {
    for (RunningServer* server : servers) {
      if (auto* health = server->server().GetHealthCheckService()) {
        health->SetServingStatus(kFinalityHealthService, !frozen);
      }
    }
  });
  (*node)->Start();
  // The Chain API client, when an interpreter is configured.
  std::unique_ptr<ChainClient> chain_client;
  if (!config->interpreter_address.empty()) {
    ChainClientOptions chain_options;
    chain_options.interpreter_address = config->interpreter_address;
    chain_options.interpreter_key = config->interpreter_key;
    chain_options.max_message_bytes = config->node.max_message_bytes;
    chain_client = std::make_unique<ChainClient>(chain_options, *config->key, *config->federation,
                                                 node->get(), &metrics.registry());
    chain_client->Start();
  }
  LogInfo("started", {{"version", MetronomeVersion()},
                      {"chain_id", config->node.params.chain_id},
                      {"federation", FederationFingerprint(config->federation->id())},
                      {"devchain_p2p", ports["devchain_p2p"]},
                      {"admin", ports["admin"]},
                      {"metrics", ports["metrics"]},
                      {"peers", config->node.peers.size()},
                      {"hash_rate_share", config->node.hash_rate_share},
                      {"checkpointing", config->node.params.checkpointing},
                      {"interpreter", config->interpreter_address}});

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LogInfo("stopping", {{"signal", signal_number}});
  if (chain_client) chain_client->Stop();
  (*node)->Stop();
  (*p2p)->Shutdown();
  (*admin)->Shutdown();
  return 0;
}

}  // namespace
}  // namespace metronome::pow_adapter

int main(int argc, char** argv) {
  CLI::App app{"metronome-pow-adapter: the chain side of a Metronome federation member"};
  app.set_version_flag("--version",
                       std::string("metronome-pow-adapter ") + metronome::MetronomeVersion());
  std::string config_path;
  std::vector<std::string> overrides;
  app.add_option("--config", config_path, "Configuration file (TOML)")->required();
  app.add_option("--set", overrides, "Override a config key: key=value (repeatable)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  return metronome::pow_adapter::Run(config_path, overrides);
}
