#include "tools/devnet/devnet.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/bytes.h"

namespace metronome::devnet {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string SelfPath() {
  char self[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (length <= 0) return "";
  self[length] = '\0';
  return self;
}

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

}  // namespace

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

std::string Loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

struct Devnet::Member {
  int index = 0;
  std::string dir;
  ChildProcess bft, interpreter, adapter;
  std::unique_ptr<v1::Devchain::Stub> p2p;
  std::unique_ptr<v1::DevchainAdmin::Stub> admin;  // Once its ports.json names the port.
};

Devnet::Devnet(DevnetOptions options, Binaries binaries)
    : options_(std::move(options)), binaries_(std::move(binaries)) {}

Devnet::~Devnet() { Stop(); }

std::string Devnet::member_dir(int member) const {
  return net_dir() + "/member-" + std::to_string(member);
}

bool Devnet::Start(std::string* error) {
  std::error_code ec;
  fs::create_directories(options_.run_dir, ec);
  if (ec) {
    *error = "cannot create the run directory " + options_.run_dir + ": " + ec.message();
    return false;
  }
  ChildProcess cli;
  std::string spawn_error;
  if (!cli.Spawn({binaries_.cli, "testnet", "--members", std::to_string(options_.members), "--out",
                  net_dir(), "--base-port", std::to_string(options_.base_port)},
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
  // By default each member mines an equal share: together one block per block interval.
  const double share =
      options_.hash_rate_share > 0 ? options_.hash_rate_share : 1.0 / options_.members;
  for (int i = 0; i < options_.members; ++i) {
    auto member = std::make_unique<Member>();
    member->index = i;
    member->dir = member_dir(i);
    member->p2p = v1::Devchain::NewStub(
        grpc::CreateChannel(P2pAddress(i), grpc::InsecureChannelCredentials()));
    const std::string logs = member->dir + "/";
    std::vector<std::string> interpreter_argv = {binaries_.interpreter, "--config",
                                                 member->dir + "/interpreter.toml"};
    for (const std::string& override : options_.interpreter_overrides) {
      interpreter_argv.push_back("--set");
      interpreter_argv.push_back(override);
    }
    bool ok =
        member->bft.Spawn({binaries_.bft, "--config", member->dir + "/bft.toml"}, logs + "bft.log",
                          logs + "bft.log", &spawn_error) &&
        member->interpreter.Spawn(interpreter_argv, logs + "interpreter.log",
                                  logs + "interpreter.log", &spawn_error) &&
        member->adapter.Spawn(
            {binaries_.adapter, "--config", member->dir + "/pow-adapter.toml", "--set",
             "devchain.hash_rate_share=" + std::to_string(share), "--set",
             "devchain.block_interval_ms=" + std::to_string(options_.block_interval_ms), "--set",
             "devchain.seed=" + std::to_string(i + 1), "--set",
             "devchain.miner_id=member-" + std::to_string(i), "--set",
             std::string("devchain.checkpointing=") + (options_.checkpointing ? "true" : "false")},
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

v1::Devchain::Stub* Devnet::P2p(int member) { return members_.at(member)->p2p.get(); }

v1::DevchainAdmin::Stub* Devnet::Admin(int member) {
  Member& m = *members_.at(member);
  if (!m.admin) {
    const int port = PortFromFile(m.dir + "/data/pow-adapter", "admin");
    if (port != 0) {
      m.admin = v1::DevchainAdmin::NewStub(
          grpc::CreateChannel(Loopback(port), grpc::InsecureChannelCredentials()));
    }
  }
  return m.admin.get();
}

bool Devnet::LatestCertificate(uint64_t* pow_height, std::string* pow_block_hash) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (certificates_ == 0) return false;
  *pow_height = latest_height_;
  *pow_block_hash = latest_hash_;
  return true;
}

std::string Devnet::ExitedProcess() {
  for (auto& member : members_) {
    for (auto [process, name] : {std::pair<ChildProcess*, const char*>{&member->bft, "bft"},
                                 {&member->interpreter, "interpreter"},
                                 {&member->adapter, "pow-adapter"}}) {
      // Running() reaps, after which pid() is -1: remember the first end we see.
      if (process->pid() > 0 && !process->Running() && exited_.empty()) {
        exited_ = "member-" + std::to_string(member->index) + " " + name + " exited (status " +
                  std::to_string(process->exit_status()) + "); see " + member->dir + "/" + name +
                  ".log";
      }
    }
  }
  return exited_;
}

// Member 0's Checkpoints.Watch: every certificate as it is issued.
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
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ++certificates_;
        latest_height_ = identity.pow_height();
        latest_hash_ = identity.pow_block_hash();
      }
      if (options_.print_certificates) {
        std::cout << "certificate height=" << identity.pow_height()
                  << " hash=" << ToHex(BytesOf(identity.pow_block_hash()))
                  << " bft_height=" << reply.bft_height() << std::endl;
      }
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
  for (int i = 0; i < static_cast<int>(members_.size()); ++i) {
    std::string height = "-";
    if (v1::DevchainAdmin::Stub* admin = Admin(i)) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      v1::DevchainStatusResponse status;
      if (admin->Status(&context, v1::DevchainStatusRequest(), &status).ok()) {
        height = std::to_string(status.height());
      }
    }
    heights << " " << height;
  }
  for (auto& member : members_) {
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

void Devnet::Run(const sigset_t& signals, int for_seconds) {
  const auto start = Clock::now();
  auto next_progress = start;
  while (true) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (for_seconds > 0 && elapsed >= for_seconds) return;
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
  // Our client channels first: a pow-adapter's server shutdown waits seconds for an
  // open client connection to go away.
  for (auto& member : members_) {
    member->p2p.reset();
    member->admin.reset();
  }
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

}  // namespace metronome::devnet
