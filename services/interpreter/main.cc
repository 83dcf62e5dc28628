// metronome-interpreter: the checkpoint rules of one federation member (DESIGN §2, §5),
// between its bft (client of Interpreter.Attach) and its pow-adapter (server of
// Chain.Attach).
//
//   metronome-interpreter --config FILE [--set key=value]...
//
// Exit codes: 0 after SIGINT/SIGTERM, 2 on a configuration or start-up error (one line
// on stderr naming the key, file or listener).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "common/federation.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/server.h"
#include "services/interpreter/shell/bft_client.h"
#include "services/interpreter/shell/chain_server.h"
#include "services/interpreter/shell/interpreter_config.h"
#include "services/interpreter/shell/interpreter_node.h"
#include "services/interpreter/shell/state_store.h"

namespace metronome::interpreter {
namespace {

// The grpc.health.v1 service name that reports finality: NOT_SERVING while conflicting
// certificates freeze the interpreter (DESIGN §5 "health reports degraded"); the server
// as a whole ("") stays SERVING.
constexpr char kFinalityHealthService[] = "metronome.interpreter.finality";

int StartupError(const std::string& reason) {
  std::cerr << "error: " << reason << "\n";
  return 2;
}

int Run(const std::string& config_path, const std::vector<std::string>& overrides) {
  // Block the stop signals before any thread starts, so only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<InterpreterConfig> config =
      LoadInterpreterConfig(config_path, ProcessEnvironment(), overrides);
  if (!config.ok()) return StartupError(std::string(config.status().message()));
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(config->log_level, &level);
  InitLogging("interpreter", level);

  std::error_code error;
  std::filesystem::create_directories(config->data_dir, error);
  if (error) {
    return StartupError("config key 'data_dir': cannot create " + config->data_dir + ": " +
                        error.message());
  }
  FileTrackerStore store(config->data_dir);
  absl::StatusOr<TrackerState> restored = store.Load();
  if (!restored.ok()) return StartupError(std::string(restored.status().message()));
  if (!config->clear_freeze_evidence.empty()) {
    absl::StatusOr<bool> cleared =
        ClearFreezeWithEvidenceFile(config->clear_freeze_evidence, &*restored, &store);
    if (!cleared.ok()) {
      return StartupError("config key 'clear_freeze_evidence': " +
                          std::string(cleared.status().message()));
    }
    if (*cleared) {
      LogWarn("freeze cleared by the operator", {{"evidence", config->clear_freeze_evidence}});
    } else {
      LogInfo("clear_freeze_evidence set but not frozen; nothing to clear");
    }
  }

  Metrics metrics("interpreter");
  InterpreterNodeOptions node_options;
  node_options.rules = config->rules;
  node_options.query_wait_ms = config->query_wait_ms;
  node_options.create_timeout_ms = config->create_timeout_ms;
  node_options.apply_resend_ms = config->apply_resend_ms;
  InterpreterNode node(node_options, *config->federation, *restored, &store, &metrics.registry());

  ChainServerOptions chain_options;
  chain_options.adapter_key = config->adapter_public_key;
  chain_options.max_message_bytes = config->max_message_bytes;
  chain_options.handshake_timeout_ms = config->handshake_ms;
  ChainServer chain_server(chain_options, *config->federation, *config->key, &node,
                           &metrics.registry());
  node.SetChainSender([&chain_server](v1::InterpreterToAdapter frame) {
    return chain_server.Send(std::move(frame));
  });

  ServerSpec spec;
  spec.service_name = "interpreter";
  spec.listeners = {{"chain", config->listen_chain}};
  spec.services = {chain_server.service()};
  spec.grpc_message_bytes_max = static_cast<int>(config->max_message_bytes + (64 << 10));
  absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServer(spec);
  if (!server.ok()) return StartupError(std::string(server.status().message()));
  absl::StatusOr<int> metrics_port = metrics.Serve(config->listen_metrics);
  if (!metrics_port.ok()) return StartupError(std::string(metrics_port.status().message()));
  const std::map<std::string, int> ports = {{"chain", (*server)->ports().at("chain")},
                                            {"metrics", *metrics_port}};
  absl::Status written = WritePortsFile(config->data_dir, ports);
  if (!written.ok()) return StartupError(std::string(written.message()));

  RunningServer* running = server->get();
  node.SetFrozenListener([running](bool frozen) {
    if (auto* health = running->server().GetHealthCheckService()) {
      health->SetServingStatus(kFinalityHealthService, !frozen);
    }
  });

  BftClientOptions bft_options;
  bft_options.bft_address = config->bft_address;
  bft_options.bft_key = config->bft_public_key;
  bft_options.max_message_bytes = config->max_message_bytes;
  BftClient bft_client(bft_options, *config->key, *config->federation, &node, &metrics.registry());
  node.SetBftSender(
      [&bft_client](v1::InterpreterToBft frame) { return bft_client.Send(std::move(frame)); });
  node.Start();
  bft_client.Start();
  LogInfo("started", {{"version", MetronomeVersion()},
                      {"chain_id", config->rules.chain_id},
                      {"federation", FederationFingerprint(config->federation->id())},
                      {"chain", ports.at("chain")},
                      {"metrics", ports.at("metrics")},
                      {"bft", config->bft_address},
                      {"k", config->rules.k},
                      {"k_min", config->rules.k_min},
                      {"interval", config->rules.interval},
                      {"min_age_ms", config->rules.min_age_ms},
                      {"frozen", restored->frozen}});

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LogInfo("stopping", {{"signal", signal_number}});
  // Frame sources first, then the loop they feed.
  bft_client.Stop();
  chain_server.Stop();
  (*server)->Shutdown();
  node.Stop();
  return 0;
}

}  // namespace
}  // namespace metronome::interpreter

int main(int argc, char** argv) {
  CLI::App app{"metronome-interpreter: the checkpoint rules of a Metronome federation member"};
  app.set_version_flag("--version",
                       std::string("metronome-interpreter ") + metronome::MetronomeVersion());
  std::string config_path;
  std::vector<std::string> overrides;
  app.add_option("--config", config_path, "Configuration file (TOML)")->required();
  app.add_option("--set", overrides, "Override a config key: key=value (repeatable)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  return metronome::interpreter::Run(config_path, overrides);
}
