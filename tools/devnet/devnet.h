#ifndef METRONOME_TOOLS_DEVNET_DEVNET_H_
#define METRONOME_TOOLS_DEVNET_DEVNET_H_

#include <signal.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/child_process.h"
#include "metronome/v1/checkpoints.grpc.pb.h"
#include "metronome/v1/devchain.grpc.pb.h"

// A local Metronome federation on the embedded devchain, on loopback (DESIGN §2): a
// generated testnet and, per member, metronome-bft + metronome-interpreter +
// metronome-pow-adapter. The CLI (`./dev up`) and the attack demo (attack.h) start one
// programmatically. Not thread-safe apart from LatestCertificate.
namespace metronome::devnet {

// Where our binaries are.
struct Binaries {
  std::string cli, bft, interpreter, adapter;
};

// --bin-dir, or beside this binary in Bazel's runfiles or bin tree. nullopt with a
// reason when they are not all there.
std::optional<Binaries> FindBinaries(const std::string& bin_dir, std::string* error);

struct DevnetOptions {
  int members = 4;
  std::string run_dir;   // Absolute; created if missing. The testnet goes to run_dir/net.
  int base_port = 7100;  // The testnet's ports: base_port + 10 * member + offset.
  int block_interval_ms = 1000;
  bool checkpointing = true;
  // Each member's share of the chain's hash rate; 0: 1/members, so the members together
  // mine one block per block interval.
  double hash_rate_share = 0;
  // Extra `--set key=value` for every metronome-interpreter.
  std::vector<std::string> interpreter_overrides;
  // Print `certificate height=H hash=X bft_height=B` per certificate as it is issued.
  bool print_certificates = true;
};

std::string Loopback(int port);

class Devnet {
 public:
  Devnet(DevnetOptions options, Binaries binaries);
  ~Devnet();
  Devnet(const Devnet&) = delete;
  Devnet& operator=(const Devnet&) = delete;

  // Generates the testnet and starts every process. False with a reason on failure (the
  // caller still calls Stop).
  bool Start(std::string* error);
  // Prints progress until a signal in `signals` or, when for_seconds > 0, that many
  // seconds; returns when it is time to stop.
  void Run(const sigset_t& signals, int for_seconds);
  // Stops every child: SIGTERM to all, then waits for each (SIGKILL after a grace
  // period). Returns how many it stopped. Idempotent.
  int Stop();

  const DevnetOptions& options() const { return options_; }
  std::string net_dir() const { return options_.run_dir + "/net"; }
  std::string federation_file() const { return net_dir() + "/federation.toml"; }
  std::string member_dir(int member) const;
  // Member `member`'s devchain P2P address (fixed by the testnet).
  std::string P2pAddress(int member) const { return Loopback(Port(member, 6)); }
  v1::Devchain::Stub* P2p(int member);
  // nullptr until the member's adapter has written its admin port.
  v1::DevchainAdmin::Stub* Admin(int member);
  // The latest certificate member 0's Checkpoints service issued; false if none yet.
  bool LatestCertificate(uint64_t* pow_height, std::string* pow_block_hash);
  // "member-1 pow-adapter exited (status 2); see .../pow-adapter.log" for the first
  // child that is no longer running; empty while all run.
  std::string ExitedProcess();

 private:
  struct Member;
  int Port(int member, int offset) const { return options_.base_port + 10 * member + offset; }
  void WatchCertificates();
  void PrintProgress(double elapsed_s);

  DevnetOptions options_;
  Binaries binaries_;
  std::vector<std::unique_ptr<Member>> members_;
  std::thread watcher_;
  std::string exited_;  // The first child end ExitedProcess saw.
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  uint64_t certificates_ = 0;                           // Guarded by mutex_.
  uint64_t latest_height_ = 0;                          // Guarded by mutex_.
  std::string latest_hash_;                             // Guarded by mutex_; raw bytes.
  std::shared_ptr<grpc::ClientContext> watch_context_;  // Guarded by mutex_.
};

}  // namespace metronome::devnet

#endif  // METRONOME_TOOLS_DEVNET_DEVNET_H_
