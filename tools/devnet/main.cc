// devnet: a local Metronome federation on the embedded devchain, on loopback (DESIGN §2).
// Generates a testnet, starts N members (metronome-bft + metronome-interpreter +
// metronome-pow-adapter each), prints live progress and one line per certificate
// (`certificate height=H hash=X`), and on Ctrl-C (SIGINT/SIGTERM) or after --for
// SECONDS stops every process it started and exits 0. Logs go to a run directory it
// names. `./dev up` builds the binaries and runs this.
//
// --attack runs the majority-hash-rate attack instead (attack.h), --runs times with
// checkpointing off and on, and exits 0 only when every scenario held.
//
//   devnet [--members N] [--for SECONDS] [--run-dir DIR] [--base-port P]
//          [--block-interval-ms MS] [--checkpointing on|off] [--bin-dir DIR]
//          [--attack [--runs N]]
#include <signal.h>

#include <CLI/CLI.hpp>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "common/metrics.h"
#include "tools/devnet/attack.h"
#include "tools/devnet/devnet.h"

namespace metronome::devnet {
namespace {

// A short interval keeps an attack scenario well under a minute; certificates still
// need k = 6 honest blocks on top of their block.
constexpr int kAttackBlockIntervalMs = 150;

struct Options {
  int members = 4;
  int for_seconds = 0;  // 0: until Ctrl-C.
  std::string run_dir;
  int base_port = 7100;
  int block_interval_ms = 0;  // 0: 1000, or kAttackBlockIntervalMs with --attack.
  std::string checkpointing = "on";
  std::string bin_dir;
  bool attack = false;
  int runs = 1;
};

std::string Timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm local;
  localtime_r(&now, &local);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y%m%d-%H%M%S", &local);
  return buffer;
}

int Main(const Options& options) {
  // Stop signals are taken synchronously (sigtimedwait); children get them unblocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (options.members < 4) {
    std::cerr << "error: --members must be at least 4 (n = 3f+1 with f >= 1)\n";
    return 2;
  }
  std::string error;
  std::optional<Binaries> binaries = FindBinaries(options.bin_dir, &error);
  if (!binaries) {
    std::cerr << "error: " << error << "\n";
    return 2;
  }
  DevnetOptions devnet_options;
  devnet_options.members = options.members;
  devnet_options.base_port = options.base_port;
  devnet_options.checkpointing = options.checkpointing == "on";
  devnet_options.block_interval_ms = options.block_interval_ms > 0
                                         ? options.block_interval_ms
                                         : (options.attack ? kAttackBlockIntervalMs : 1000);
  devnet_options.run_dir =
      std::filesystem::absolute(options.run_dir.empty() ? "devnet-runs/" + Timestamp()
                                                        : options.run_dir)
          .string();
  if (options.attack) {
    AttackOptions attack;
    attack.devnet = devnet_options;
    attack.runs = options.runs;
    return RunAttack(attack, *binaries, signals);
  }

  Devnet devnet(devnet_options, *binaries);
  std::cout << "devnet: run directory " << devnet_options.run_dir << " (logs: net/member-*/*.log)"
            << std::endl;
  if (!devnet.Start(&error)) {
    std::cerr << "error: " << error << "\n";
    devnet.Stop();
    return 2;
  }
  std::cout << "devnet: " << options.members
            << " members up (bft + interpreter + pow-adapter each), checkpointing "
            << options.checkpointing << "; "
            << (options.for_seconds > 0
                    ? "running for " + std::to_string(options.for_seconds) + " s, "
                    : "")
            << "Ctrl-C stops" << std::endl;
  devnet.Run(signals, options.for_seconds);
  const int stopped = devnet.Stop();
  std::cout << "devnet: stopped " << stopped << " processes" << std::endl;
  return 0;
}

}  // namespace
}  // namespace metronome::devnet

int main(int argc, char** argv) {
  metronome::devnet::Options options;
  CLI::App app{"devnet: a local Metronome federation on the embedded devchain"};
  app.add_option("--members", options.members, "Federation members (n >= 4)");
  app.add_option("--for", options.for_seconds, "Stop after this many seconds (0: until Ctrl-C)");
  app.add_option("--run-dir", options.run_dir, "Directory for configs, data and logs");
  app.add_option("--base-port", options.base_port, "First port (10 per member)");
  app.add_option("--block-interval-ms", options.block_interval_ms,
                 "The devchain's mean block interval (default 1000; 150 with --attack)");
  app.add_option("--checkpointing", options.checkpointing,
                 "off: the chain does not apply certificates (demo)")
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--bin-dir", options.bin_dir, "Where the metronome binaries are");
  CLI::Option* attack =
      app.add_flag("--attack", options.attack,
                   "Run the majority-hash-rate attack with checkpointing off, then on; exit 0 "
                   "only when the expected outcome held every time");
  app.add_option("--runs", options.runs, "With --attack: how many times (off + on each)")
      ->check(CLI::Range(1, 1000))
      ->needs(attack);
  app.set_version_flag("--version", std::string("devnet ") + metronome::MetronomeVersion());
  CLI11_PARSE(app, argc, argv);
  return metronome::devnet::Main(options);
}
