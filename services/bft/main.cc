// metronome-bft: one federation member's consensus service (DESIGN §2, §3): HotStuff
// over the federation's links, the ledger and certificates, the member's interpreter
// link, and the public ConsensusStream and Checkpoints services.
//
//   metronome-bft --config FILE [--set key=value]... [--unsafe-start-without-safety-state]
//
// Exit codes: 0 after SIGINT/SIGTERM, 2 on a configuration or start-up error (one line
// on stderr naming the key, file, database or listener).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/log.h"
#include "common/metrics.h"
#include "services/bft/shell/bft_config.h"
#include "services/bft/shell/bft_service.h"

namespace metronome::bft {
namespace {

int StartupError(const std::string& reason) {
  std::cerr << "error: " << reason << "\n";
  return 2;
}

int Run(const std::string& config_path, const std::vector<std::string>& overrides,
        bool unsafe_start) {
  // Block the stop signals before any thread starts, so only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<BftConfig> config = LoadBftConfig(config_path, ProcessEnvironment(), overrides);
  if (!config.ok()) return StartupError(std::string(config.status().message()));
  config->unsafe_start_without_safety_state = unsafe_start;
  InitLogging("bft", config->log_level);
  absl::StatusOr<std::unique_ptr<BftService>> service = BftService::Start(*std::move(config));
  if (!service.ok()) return StartupError(std::string(service.status().message()));
  int signal = 0;
  sigwait(&signals, &signal);
  LogInfo("stopping", {{"signal", signal}});
  (*service)->Stop();
  return 0;
}

}  // namespace
}  // namespace metronome::bft

int main(int argc, char** argv) {
  CLI::App app{"metronome-bft: HotStuff consensus for one federation member"};
  std::string config_path;
  std::vector<std::string> overrides;
  app.add_option("--config", config_path, "The service's TOML configuration file")->required();
  app.add_option("--set", overrides, "Override a configuration key: --set key=value");
  bool unsafe_start = false;
  app.add_flag("--unsafe-start-without-safety-state", unsafe_start,
               "Sign at once although the database has no safety state (DESIGN 3): only for a "
               "key that has certainly never signed");
  app.set_version_flag("--version", std::string("metronome-bft ") + metronome::MetronomeVersion());
  CLI11_PARSE(app, argc, argv);
  return metronome::bft::Run(config_path, overrides, unsafe_start);
}
