// devnet: a local Metronome federation on the embedded devchain, on loopback (DESIGN §2).
// Generates a testnet, starts N members (metronome-bft + metronome-interpreter +
// metronome-pow-adapter each), prints live progress and one line per certificate
// (`certificate height=H hash=X`), and on Ctrl-C (SIGINT/SIGTERM) or after --for
// SECONDS stops every process it started and exits 0. Logs go to a run directory it
// names. `./dev up` builds the binaries and runs this.
//
//   devnet [--members N] [--for SECONDS] [--run-dir DIR] [--base-port P]
//          [--block-interval-ms MS] [--checkpointing on|off] [--bin-dir DIR]
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <climits>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/bytes.h"
#include "common/child_process.h"
#include "common/metrics.h"
#include "metronome/v1/checkpoints.grpc.pb.h"
#include "metronome/v1/devchain.grpc.pb.h"

namespace metronome::devnet {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  int members = 4;
  int for_seconds = 0;  // 0: until Ctrl-C.
  std::string run_dir;
  int base_port = 7100;
  int block_interval_ms = 1000;
  std::string checkpointing = "on";
  std::string bin_dir;
};

// Where our binaries are: --bin-dir, or beside this one in Bazel's runfiles or bin tree.
struct Binaries {
  std::string cli, bft, interpreter, adapter;
};

std::string SelfPath() {
  char self[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (length <= 0) return "";
  self[length] = '\0';
  return self;
}

std::optional<Binaries> FindBinaries(const std::string& bin_dir, std::string* error) {
  std::vector<std::string> roots;
  if (!bin_dir.empty()) roots.push_back(bin_dir);
  const std::string self = SelfPath();
  roots.push_back(self + ".runfiles/metronome");
  // bazel-bin/tools/devnet/devnet -> bazel-bin
  roots.push_back(fs::path(self).parent_path().parent_path().parent_path().string());
  for (const std::string& root : roots) {
    Binaries found{root + "/tools/metronome/metronome", root + "/services/bft/metronome-bft",
                   root + "/services/interpreter/metronome-interpreter",
                   root + "/services/pow_adapter/metronome-pow-adapter"};
    if (fs::exists(found.cli) && fs::exists(found.bft) && fs::exists(found.interpreter) &&
        fs::exists(found.adapter)) {
      return found;
    }
  }
  *error = "cannot find the metronome binaries (looked in --bin-dir, runfiles and " + roots.back() +
           "); build them first: ./dev up does";
  return std::nullopt;
}

std::string Timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm local;
  localtime_r(&now, &local);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y%m%d-%H%M%S", &local);
  return buffer;
}

struct Member {
  int index = 0;
  std::string dir;
  ChildProcess bft, interpreter, adapter;
  std::unique_ptr<v1::DevchainAdmin::Stub> admin;  // Once its ports.json names the port.
};

std::string Loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

// The port a service wrote to <data_dir>/ports.json for `listener`; 0 if not yet.
int PortFromFile(const std::string& data_dir, const std::string& listener) {
  std::ifstream in(data_dir + "/ports.json");
  if (!in) return 0;
  try {
    const nlohmann::json ports = nlohmann::json::parse(in);
    return ports.value(listener, 0);
  } catch (const std::exception&) {
    return 0;  // Being written.
  }
}

class Devnet {
 public:
  Devnet(Options options, Binaries binaries)
      : options_(std::move(options)), binaries_(std::move(binaries)) {}

  // Generates the testnet and starts every process. False with a reason on failure.
  bool Start(std::string* error);
  // Prints progress until a stop signal or the deadline; returns when it is time to stop.
  void Run(const sigset_t& signals);
  // Stops every child: SIGTERM, then SIGKILL after a grace period. Returns how many.
  int Stop();

 private:
  int Port(int member, int offset) const { return options_.base_port + 10 * member + offset; }
  void WatchCertificates();
  void PrintProgress(double elapsed_s);

  Options options_;
  Binaries binaries_;
  std::vector<std::unique_ptr<Member>> members_;
  std::thread watcher_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  uint64_t certificates_ = 0;                           // Guarded by mutex_.
  uint64_t latest_height_ = 0;                          // Guarded by mutex_.
  std::string latest_hash_;                             // Guarded by mutex_.
  std::shared_ptr<grpc::ClientContext> watch_context_;  // Guarded by mutex_.
};

bool Devnet::Start(std::string* error) {
  std::error_code ec;
  fs::create_directories(options_.run_dir, ec);
  if (ec) {
    *error = "cannot create the run directory " + options_.run_dir + ": " + ec.message();
    return false;
  }
  const std::string net = options_.run_dir + "/net";
  ChildProcess cli;
  std::string spawn_error;
  if (!cli.Spawn({binaries_.cli, "testnet", "--members", std::to_string(options_.members), "--out",
                  net, "--base-port", std::to_string(options_.base_port)},
                 options_.run_dir + "/testnet.log", options_.run_dir + "/testnet.log",
                 &spawn_error)) {
    *error = spawn_error;
    return false;
  }
  while (cli.Running()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (cli.exit_status() != 0) {
    *error = "metronome testnet failed; see " + options_.run_dir + "/testnet.log";
    return false;
  }
  // Each member mines an equal share; together one block per block interval.
  const double share = 1.0 / options_.members;
  for (int i = 0; i < options_.members; ++i) {
    auto member = std::make_unique<Member>();
    member->index = i;
    member->dir = net + "/member-" + std::to_string(i);
    const std::string logs = member->dir + "/";
    bool ok = member->bft.Spawn({binaries_.bft, "--config", member->dir + "/bft.toml"},
                                logs + "bft.log", logs + "bft.log", &spawn_error) &&
              member->interpreter.Spawn(
                  {binaries_.interpreter, "--config", member->dir + "/interpreter.toml"},
                  logs + "interpreter.log", logs + "interpreter.log", &spawn_error) &&
              member->adapter.Spawn(
                  {binaries_.adapter, "--config", member->dir + "/pow-adapter.toml", "--set",
                   "devchain.hash_rate_share=" + std::to_string(share), "--set",
                   "devchain.block_interval_ms=" + std::to_string(options_.block_interval_ms),
                   "--set", "devchain.seed=" + std::to_string(i + 1), "--set",
                   "devchain.miner_id=member-" + std::to_string(i), "--set",
                   std::string("devchain.checkpointing=") +
                       (options_.checkpointing == "off" ? "false" : "true")},
                  logs + "pow-adapter.log", logs + "pow-adapter.log", &spawn_error);
    members_.push_back(std::move(member));
    if (!ok) {
      *error = spawn_error;
      return false;
    }
  }
  watcher_ = std::thread([this] { WatchCertificates(); });
  return true;
}

// Member 0's Checkpoints.Watch: one line per certificate, as it is issued.
void Devnet::WatchCertificates() {
  auto channel = grpc::CreateChannel(Loopback(Port(0, 2)), grpc::InsecureChannelCredentials());
  auto stub = v1::Checkpoints::NewStub(channel);
  uint64_t after = 0;
  while (!stopping_) {
    auto context = std::make_shared<grpc::ClientContext>();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      watch_context_ = context;
    }
    v1::WatchRequest request;
    request.set_after_pow_height(after);
    auto reader = stub->Watch(context.get(), request);
    v1::CheckpointReply reply;
    while (reader->Read(&reply)) {
      const v1::CheckpointIdentity& identity = reply.certificate().identity();
      after = identity.pow_height();
      const std::string hash = ToHex(BytesOf(identity.pow_block_hash()));
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ++certificates_;
        latest_height_ = identity.pow_height();
        latest_hash_ = hash;
      }
      std::cout << "certificate height=" << identity.pow_height() << " hash=" << hash
                << " bft_height=" << reply.bft_height() << std::endl;
    }
    reader->Finish();
    // The bft is not up yet, or restarting: try again shortly.
    for (int i = 0; i < 10 && !stopping_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

void Devnet::PrintProgress(double elapsed_s) {
  std::ostringstream heights;
  for (auto& member : members_) {
    if (!member->admin) {
      const int port = PortFromFile(member->dir + "/data/pow-adapter", "admin");
      if (port != 0) {
        member->admin = v1::DevchainAdmin::NewStub(
            grpc::CreateChannel(Loopback(port), grpc::InsecureChannelCredentials()));
      }
    }
    std::string height = "-";
    if (member->admin) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      v1::DevchainStatusResponse status;
      if (member->admin->Status(&context, v1::DevchainStatusRequest(), &status).ok()) {
        height = std::to_string(status.height());
      }
    }
    heights << " " << height;
    for (auto [process, name] : {std::pair<ChildProcess*, const char*>{&member->bft, "bft"},
                                 {&member->interpreter, "interpreter"},
                                 {&member->adapter, "pow-adapter"}}) {
      if (process->pid() > 0 && !process->Running()) {
        std::cout << "devnet: member-" << member->index << " " << name << " exited (status "
                  << process->exit_status() << "); see " << member->dir << "/" << name << ".log"
                  << std::endl;
      }
    }
  }
  uint64_t certificates, latest;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    certificates = certificates_;
    latest = latest_height_;
  }
  std::cout << "[" << std::setw(4) << static_cast<int>(elapsed_s) << "s] heights" << heights.str()
            << " | checkpoint " << (certificates ? "height=" + std::to_string(latest) : "none")
            << " | certificates " << certificates << " (" << std::fixed << std::setprecision(1)
            << (elapsed_s > 0 ? certificates * 60.0 / elapsed_s : 0) << "/min)" << std::endl;
}

void Devnet::Run(const sigset_t& signals) {
  const auto start = Clock::now();
  auto next_progress = start;
  while (true) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (options_.for_seconds > 0 && elapsed >= options_.for_seconds) return;
    if (Clock::now() >= next_progress) {
      PrintProgress(elapsed);
      next_progress += std::chrono::seconds(2);
    }
    timespec wait{0, 200 * 1000 * 1000};
    if (sigtimedwait(&signals, nullptr, &wait) > 0) {
      std::cout << "devnet: stopping (signal)" << std::endl;
      return;
    }
  }
}

int Devnet::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    if (watch_context_) watch_context_->TryCancel();
  }
  if (watcher_.joinable()) watcher_.join();
  int stopped = 0;
  // Signal everyone first so they stop in parallel, then wait for each.
  for (auto& member : members_) {
    for (ChildProcess* process : {&member->adapter, &member->interpreter, &member->bft}) {
      if (process->Running()) kill(process->pid(), SIGTERM);
    }
  }
  for (auto& member : members_) {
    for (ChildProcess* process : {&member->adapter, &member->interpreter, &member->bft}) {
      if (process->pid() > 0) {
        process->Stop(SIGTERM, 10000);
        ++stopped;
      }
    }
  }
  return stopped;
}

int Main(const Options& parsed) {
  Options options = parsed;
  // Stop signals are taken synchronously by Run; children get them unblocked.
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
  if (options.run_dir.empty()) options.run_dir = "devnet-runs/" + Timestamp();
  options.run_dir = fs::absolute(options.run_dir).string();
  Devnet devnet(options, *binaries);
  std::cout << "devnet: run directory " << options.run_dir << " (logs: net/member-*/*.log)"
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
  devnet.Run(signals);
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
                 "The devchain's mean block interval");
  app.add_option("--checkpointing", options.checkpointing,
                 "off: the chain does not apply certificates (demo)")
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--bin-dir", options.bin_dir, "Where the metronome binaries are");
  app.set_version_flag("--version", std::string("devnet ") + metronome::MetronomeVersion());
  CLI11_PARSE(app, argc, argv);
  return metronome::devnet::Main(options);
}
