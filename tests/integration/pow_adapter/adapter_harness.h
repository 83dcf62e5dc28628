#ifndef METRONOME_TESTS_INTEGRATION_POW_ADAPTER_ADAPTER_HARNESS_H_
#define METRONOME_TESTS_INTEGRATION_POW_ADAPTER_ADAPTER_HARNESS_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "metronome/v1/devchain.grpc.pb.h"
#include "services/pow_adapter/core/devchain.h"
#include "tests/support/wait_for.h"

// Runs real metronome-pow-adapter processes for integration tests: configs, start,
// readiness, SIGTERM, and typed clients for their P2P and admin services.
namespace metronome::pow_adapter::testing {

constexpr char kAdapterBinary[] = "services/pow_adapter/metronome-pow-adapter";
constexpr char kCliBinary[] = "tools/metronome/metronome";

using metronome::testing::WaitFor;  // tests/support/wait_for.h

// A TCP port on 127.0.0.1 that was free a moment ago (peers need each other's P2P
// addresses before they start, so port 0 will not do there).
int FreePort();

// One adapter process. The destructor kills it if still running.
class AdapterProcess {
 public:
  // `directory` gets pow-adapter.toml, adapter.key, data/ and adapter.log.
  AdapterProcess(std::string name, std::string directory, std::string federation_file,
                 int p2p_port);
  ~AdapterProcess();

  // Writes the config: `devchain_lines` go into the [devchain] table.
  void WriteConfig(const std::vector<int>& peer_ports, const std::string& devchain_lines);
  // Starts the process (with extra --set overrides) and waits until ports.json exists
  // and the admin service answers. False (with the log on stderr) otherwise.
  bool Start(const std::vector<std::string>& overrides = {});
  // SIGTERM, then waits; returns the exit code (-signal when killed by one).
  int Stop();
  bool Running();

  v1::DevchainStatusResponse Status();
  v1::DevchainApplyCertificateResponse Apply(const Bytes& certificate);
  // SubmitBlock's verdict ("accepted", "bad_pow", ...), or "rpc:<message>" on failure.
  std::string Submit(const Bytes& block);
  std::vector<devchain::DevchainHeader> BestChainHeaders();
  std::vector<Bytes> Blocks(const std::vector<Hash256>& hashes);
  // The text of /metrics.
  std::string MetricsText();

  const std::string& name() const { return name_; }
  const std::string& directory() const { return directory_; }
  std::string data_dir() const { return directory_ + "/data"; }
  std::string admin_address() const { return "127.0.0.1:" + std::to_string(admin_port_); }
  int p2p_port() const { return p2p_port_; }
  pid_t pid() const { return pid_; }
  std::string log() const;

 private:
  std::string name_;
  std::string directory_;
  std::string federation_file_;
  int p2p_port_;
  int admin_port_ = 0;
  int metrics_port_ = 0;
  pid_t pid_ = -1;
  std::unique_ptr<v1::DevchainAdmin::Stub> admin_;
  std::unique_ptr<v1::Devchain::Stub> p2p_;
};

// A replica of `process`'s best chain (headers, then blocks, verified by the core as
// they are added), for building forks on it.
std::unique_ptr<devchain::Devchain> ReplicaOf(AdapterProcess* process,
                                              const devchain::ChainParams& params);

// Reads a metric's value (the first sample whose line starts with `name`); -1 if absent.
double MetricValue(const std::string& metrics_text, const std::string& name);

}  // namespace metronome::pow_adapter::testing

#endif  // METRONOME_TESTS_INTEGRATION_POW_ADAPTER_ADAPTER_HARNESS_H_
