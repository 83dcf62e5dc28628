// Benchmark: checkpoint latency end to end on the devnet (4 members: bft, interpreter,
// pow-adapter with the embedded devchain; fsync on). For every certificate: from the
// moment its block reached depth k on the first devchain (tip height = block height +
// k) to the moment every devchain had applied it. Samples every devchain's admin Status
// every 20 ms, so times are ±20 ms.
//
//   checkpoint_latency [--json PATH] [--duration-s 90] [--block-interval-ms 1000] [--k 6]
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/assert.h"
#include "common/child_process.h"
#include "common/metrics.h"
#include "metronome/v1/devchain.grpc.pb.h"
#include "tools/bench/bench_report.h"

namespace metronome::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMembers = 4;

int AdminPort(const std::string& data_dir) {
  std::ifstream in(data_dir + "/ports.json");
  if (!in) return 0;
  try {
    return nlohmann::json::parse(in).value("admin", 0);
  } catch (const std::exception&) {
    return 0;
  }
}

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(q * values.size()));
  return values[index];
}

nlohmann::json Measure(const std::string& devnet, int duration_s, int block_interval_ms, int k) {
  char directory_template[] = "/tmp/metronome-bench-checkpoint-XXXXXX";
  const std::string root = mkdtemp(directory_template);
  const int base_port = 27900;
  ChildProcess process;
  METRONOME_ASSERT(
      process.Spawn({devnet, "--members", std::to_string(kMembers), "--run-dir", root + "/run",
                     "--base-port", std::to_string(base_port), "--block-interval-ms",
                     std::to_string(block_interval_ms), "--for", std::to_string(duration_s + 30)},
                    root + "/devnet.out", root + "/devnet.err"));
  std::vector<std::unique_ptr<v1::DevchainAdmin::Stub>> admins(kMembers);
  std::map<uint64_t, Clock::time_point> reached_depth_k;  // Block height -> when.
  std::map<uint64_t, Clock::time_point> applied_everywhere;
  const auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(duration_s) && process.Running()) {
    uint64_t tip_max = 0, checkpoint_min = UINT64_MAX;
    bool all = true;
    for (int i = 0; i < kMembers; ++i) {
      if (!admins[i]) {
        const int port =
            AdminPort(root + "/run/net/member-" + std::to_string(i) + "/data/pow-adapter");
        if (port == 0) {
          all = false;
          continue;
        }
        admins[i] = v1::DevchainAdmin::NewStub(grpc::CreateChannel(
            "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
      }
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      v1::DevchainStatusResponse status;
      if (!admins[i]->Status(&context, v1::DevchainStatusRequest(), &status).ok()) {
        all = false;
        continue;
      }
      tip_max = std::max(tip_max, status.height());
      checkpoint_min = std::min(checkpoint_min,
                                status.has_checkpoint() ? status.checkpoint_height() : uint64_t{0});
    }
    const auto now = Clock::now();
    for (uint64_t height = 1; height + k <= tip_max; ++height) reached_depth_k.emplace(height, now);
    if (all && checkpoint_min != UINT64_MAX && checkpoint_min > 0) {
      applied_everywhere.emplace(checkpoint_min, now);
    }
    // The sampling period, by design.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  process.Stop(SIGINT, 30000);
  std::filesystem::remove_all(root);
  std::vector<double> latencies_ms;
  for (const auto& [height, applied] : applied_everywhere) {
    auto deep = reached_depth_k.find(height);
    if (deep == reached_depth_k.end() || deep->second == start) continue;
    latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(applied - deep->second).count());
  }
  return {{"members", kMembers},
          {"block_interval_ms", block_interval_ms},
          {"k", k},
          {"certificates", latencies_ms.size()},
          {"certificates_per_min", latencies_ms.size() * 60.0 / wall},
          {"latency_p50_ms", Percentile(latencies_ms, 0.5)},
          {"latency_p99_ms", Percentile(latencies_ms, 0.99)},
          {"latency_max_ms", Percentile(latencies_ms, 1.0)},
          {"fsync", true}};
}

}  // namespace
}  // namespace metronome::bench

int main(int argc, char** argv) {
  using namespace metronome;
  bench::BenchFlags flags = bench::ParseBenchFlags(argc, argv);
  if (flags.version) {
    std::cout << "checkpoint_latency " << MetronomeVersion() << "\n";
    return 0;
  }
  int duration_s = 90, block_interval_ms = 1000, k = 6;
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--duration-s") duration_s = std::atoi(argv[i + 1]);
    if (flag == "--block-interval-ms") block_interval_ms = std::atoi(argv[i + 1]);
    if (flag == "--k") k = std::atoi(argv[i + 1]);
  }
  char self[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  METRONOME_ASSERT(length > 0);
  self[length] = '\0';
  const std::string devnet = std::string(self) + ".runfiles/metronome/tools/devnet/devnet";
  if (!std::filesystem::exists(devnet)) {
    std::cerr << "error: no devnet binary at " << devnet << "\n";
    return 2;
  }
  if (!flags.json_path.empty()) {
    flags.json_path = std::filesystem::absolute(flags.json_path).string();
  }
  nlohmann::json rows = nlohmann::json::array();
  rows.push_back(bench::Measure(devnet, duration_s, block_interval_ms, k));
  bench::Report("checkpoint_latency",
                {"members", "block_interval_ms", "k", "certificates", "certificates_per_min",
                 "latency_p50_ms", "latency_p99_ms", "latency_max_ms", "fsync"},
                rows, flags);
  return 0;
}
