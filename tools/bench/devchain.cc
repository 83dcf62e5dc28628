// devchain's CPU cost (issue 5): microseconds of CPU per mined and per validated block
// (the core, one thread), and the CPU the real processes use together when 4 instances
// mine 10 blocks a second in all (acceptance: under one core).
//
//   devchain [--json PATH] [--duration-s 20]
#include "services/pow_adapter/core/devchain.h"

#include <limits.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/assert.h"
#include "common/federation_file.h"
#include "common/metrics.h"
#include "common/test_support.h"
#include "services/pow_adapter/core/test_chain.h"
#include "tests/integration/pow_adapter/adapter_harness.h"
#include "tools/bench/bench_report.h"

namespace metronome::bench {
namespace {

using Clock = std::chrono::steady_clock;

double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15).
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14 || index == 15) ticks += std::stod(field);
    if (index == 15) break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

nlohmann::json MeasureCore() {
  const testing::TestFederation federation = testing::MakeTestFederation(4);
  const devchain::ChainParams params = devchain::testing::ParamsFor(federation.federation);
  devchain::Devchain miner(params);
  constexpr int kBlocks = 2000;
  std::vector<Bytes> blocks;
  uint64_t hashes = 0;
  double start = ThreadCpuSeconds();
  for (int i = 0; i < kBlocks; ++i) {
    devchain::DevchainBlock block = miner.BlockTemplate(1000 + i, "bench");
    const std::optional<uint64_t> tried =
        devchain::SearchNonce(&block.header, static_cast<uint64_t>(i) << 32, 1ULL << 32);
    METRONOME_ASSERT(tried.has_value());
    hashes += *tried;
    Bytes encoded = devchain::EncodeBlock(block);
    METRONOME_ASSERT(miner.AddEncodedBlock(encoded, 1ULL << 50).accepted());
    blocks.push_back(std::move(encoded));
  }
  const double mine_us = (ThreadCpuSeconds() - start) * 1e6 / kBlocks;
  devchain::Devchain validator(params);
  start = ThreadCpuSeconds();
  for (const Bytes& block : blocks) {
    METRONOME_ASSERT(validator.AddEncodedBlock(block, 1ULL << 50).accepted());
  }
  const double validate_us = (ThreadCpuSeconds() - start) * 1e6 / kBlocks;
  return {{"what", "core, one thread"},
          {"blocks", kBlocks},
          {"hashes_per_block", static_cast<double>(hashes) / kBlocks},
          {"cpu_us_per_mined_block", mine_us},
          {"cpu_us_per_validated_block", validate_us}};
}

nlohmann::json MeasureProcesses(int duration_s) {
  using pow_adapter::testing::AdapterProcess;
  char directory_template[] = "/tmp/metronome-bench-devchain-XXXXXX";
  const std::string root = mkdtemp(directory_template);
  const std::string federation_file = root + "/federation.toml";
  std::ofstream(federation_file) << FederationToToml(testing::MakeTestFederation(4).federation);
  std::vector<std::unique_ptr<AdapterProcess>> processes;
  for (int i = 0; i < 4; ++i) {
    processes.push_back(std::make_unique<AdapterProcess>(
        "bench-" + std::to_string(i), root + "/bench-" + std::to_string(i), federation_file,
        pow_adapter::testing::FreePort()));
  }
  for (int i = 0; i < 4; ++i) {
    std::vector<int> peers;
    for (int j = 0; j < 4; ++j) {
      if (j != i) peers.push_back(processes[j]->p2p_port());
    }
    // 4 x 0.25 of a 100 ms interval: 10 blocks a second in all.
    processes[i]->WriteConfig(peers, "hash_rate_share = 0.25\nblock_interval_ms = 100\nseed = " +
                                         std::to_string(i + 1) + "\n");
    METRONOME_ASSERT(processes[i]->Start());
  }
  // Warm up (start-up and first sync are not the steady state).
  METRONOME_ASSERT(
      pow_adapter::testing::WaitFor([&] { return processes[0]->Status().height() >= 20; }, 60000));
  std::vector<double> cpu_start;
  for (auto& process : processes) cpu_start.push_back(ProcessCpuSeconds(process->pid()));
  const uint64_t height_start = processes[0]->Status().height();
  const auto wall_start = Clock::now();
  // The measurement window: a fixed wall-clock duration, by design.
  std::this_thread::sleep_for(std::chrono::seconds(duration_s));
  const double wall = std::chrono::duration<double>(Clock::now() - wall_start).count();
  double cpu = 0;
  for (size_t i = 0; i < processes.size(); ++i) {
    cpu += ProcessCpuSeconds(processes[i]->pid()) - cpu_start[i];
  }
  const uint64_t blocks = processes[0]->Status().height() - height_start;
  for (auto& process : processes) process->Stop();
  std::filesystem::remove_all(root);
  const double cores = cpu / wall;
  return {{"what", "4 processes, 10 blocks/s in all"},
          {"blocks", blocks},
          {"blocks_per_s", static_cast<double>(blocks) / wall},
          {"cores_used", cores},
          {"cpu_ms_per_block_all_processes", blocks ? cpu * 1e3 / static_cast<double>(blocks) : 0},
          {"under_one_core", cores < 1.0}};
}

}  // namespace
}  // namespace metronome::bench

int main(int argc, char** argv) {
  using namespace metronome;
  bench::BenchFlags flags = bench::ParseBenchFlags(argc, argv);
  if (flags.version) {
    std::cout << "devchain " << MetronomeVersion() << "\n";
    return 0;
  }
  int duration_s = 20;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--duration-s") duration_s = std::atoi(argv[i + 1]);
  }
  if (!flags.json_path.empty()) {
    flags.json_path = std::filesystem::absolute(flags.json_path).string();
  }
  // The harness finds the adapter binary relative to the runfiles directory.
  char self[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  METRONOME_ASSERT(length > 0);
  self[length] = '\0';
  const std::string runfiles = std::string(self) + ".runfiles/metronome";
  if (chdir(runfiles.c_str()) != 0) {
    std::cerr << "error: no runfiles at " << runfiles << "\n";
    return 2;
  }
  nlohmann::json rows = nlohmann::json::array();
  rows.push_back(bench::MeasureCore());
  rows.push_back(bench::MeasureProcesses(duration_s));
  bench::Report(
      "devchain",
      {"what", "blocks", "hashes_per_block", "cpu_us_per_mined_block", "cpu_us_per_validated_block",
       "blocks_per_s", "cores_used", "cpu_ms_per_block_all_processes", "under_one_core"},
      rows, flags);
  return rows[1]["under_one_core"].get<bool>() ? 0 : 1;
}
