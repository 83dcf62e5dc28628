// Benchmark: real metronome-bft processes on loopback, each with a test interpreter,
// with fsync on (as deployed). For n = 4 and 7, two loads:
// - one outstanding candidate: an interpreter offers the next candidate only once the
//   previous one is certified;
// - saturated: every block the leaders propose carries a candidate.
// Reports decisions/s, commit latency p50/p99 (from block first seen to decided, from
// the bft's histogram), signatures per decision (all members) and certificates issued.
//
//   bft_loopback [--json PATH] [--duration-s 20] [--members 4,7]
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "common/assert.h"
#include "common/metrics.h"
#include "tests/integration/bft/bft_harness.h"
#include "tools/bench/bench_report.h"

namespace metronome::bench {
namespace {

using bft::testing::BftTestnet;
using bft::testing::MetricValue;
using Clock = std::chrono::steady_clock;

// Cumulative bucket counts (upper bound -> count) of one histogram in Prometheus text.
std::map<double, double> Buckets(const std::string& text, const std::string& name) {
  std::map<double, double> buckets;
  std::istringstream lines(text);
  std::string line;
  const std::string prefix = name + "_bucket{le=\"";
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const size_t end = line.find('"', prefix.size());
    const std::string bound = line.substr(prefix.size(), end - prefix.size());
    const double upper = bound == "+Inf" ? INFINITY : std::stod(bound);
    buckets[upper] = std::stod(line.substr(line.rfind(' ') + 1));
  }
  return buckets;
}

// The q-quantile of the observations between two snapshots, interpolated linearly
// within its bucket.
double Quantile(const std::map<double, double>& before, const std::map<double, double>& after,
                double q) {
  std::vector<std::pair<double, double>> delta;
  for (const auto& [upper, count] : after) {
    auto it = before.find(upper);
    delta.emplace_back(upper, count - (it == before.end() ? 0 : it->second));
  }
  if (delta.empty() || delta.back().second <= 0) return 0;
  const double rank = q * delta.back().second;
  double lower = 0, below = 0;
  for (const auto& [upper, count] : delta) {
    if (count >= rank) {
      if (std::isinf(upper)) return lower;
      const double within = count - below;
      return within <= 0 ? upper : lower + (upper - lower) * (rank - below) / within;
    }
    lower = upper;
    below = count;
  }
  return lower;
}

struct Snapshot {
  double decisions = 0;              // Member 0's.
  double signatures = 0;             // All members.
  double certificates = 0;           // Member 0's.
  std::map<double, double> latency;  // Member 0's commit latency histogram.
};

Snapshot Take(BftTestnet* net) {
  Snapshot snapshot;
  for (int i = 0; i < net->n(); ++i) {
    const std::string text = net->Metrics(i);
    snapshot.signatures += MetricValue(text, "metronome_bft_signatures_total").value_or(0);
    if (i == 0) {
      snapshot.decisions = MetricValue(text, "metronome_bft_decisions_total").value_or(0);
      snapshot.certificates =
          MetricValue(text, "metronome_bft_certificates_issued_total").value_or(0);
      snapshot.latency = Buckets(text, "metronome_bft_commit_latency_seconds");
    }
  }
  return snapshot;
}

nlohmann::json Measure(int members, bool saturated, int duration_s, const std::string& root) {
  const std::string name =
      "n" + std::to_string(members) + (saturated ? "-saturated" : "-one-outstanding");
  std::unique_ptr<BftTestnet> net = BftTestnet::Create(root + "/" + name, members);
  METRONOME_ASSERT(net != nullptr);
  METRONOME_ASSERT(net->StartAllBfts());
  const std::vector<std::string> flags =
      saturated ? std::vector<std::string>{"--saturate"}
                : std::vector<std::string>{"--candidate-interval-ms", "1"};
  for (int i = 0; i < members; ++i) METRONOME_ASSERT(net->StartInterpreter(i, flags));
  // Warm up: past start-up, the first views and the first certificates.
  METRONOME_ASSERT(bft::testing::PollUntil(
      [&] { return net->Metric(0, "metronome_bft_certificates_issued_total") >= 3; }, 120000));
  const Snapshot before = Take(net.get());
  const auto start = Clock::now();
  // The measurement window: a fixed wall-clock duration, by design.
  std::this_thread::sleep_for(std::chrono::seconds(duration_s));
  const Snapshot after = Take(net.get());
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  for (int i = 0; i < members; ++i) {
    net->TerminateInterpreter(i);
    net->TerminateBft(i);
  }
  const double decisions = after.decisions - before.decisions;
  return {{"n", members},
          {"load", saturated ? "saturated" : "one outstanding"},
          {"decisions", decisions},
          {"decisions_per_s", decisions / wall},
          {"certificates_per_s", (after.certificates - before.certificates) / wall},
          {"commit_p50_ms", Quantile(before.latency, after.latency, 0.5) * 1e3},
          {"commit_p99_ms", Quantile(before.latency, after.latency, 0.99) * 1e3},
          {"signatures_per_decision",
           decisions > 0 ? (after.signatures - before.signatures) / decisions : 0},
          {"fsync", true}};
}

}  // namespace
}  // namespace metronome::bench

int main(int argc, char** argv) {
  using namespace metronome;
  bench::BenchFlags flags = bench::ParseBenchFlags(argc, argv);
  if (flags.version) {
    std::cout << "bft_loopback " << MetronomeVersion() << "\n";
    return 0;
  }
  int duration_s = 20;
  std::vector<int> sizes = {4, 7};
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--duration-s") duration_s = std::atoi(argv[i + 1]);
    if (flag == "--members") {
      sizes.clear();
      std::stringstream list(argv[i + 1]);
      std::string item;
      while (std::getline(list, item, ',')) sizes.push_back(std::atoi(item.c_str()));
    }
  }
  if (!flags.json_path.empty()) {
    flags.json_path = std::filesystem::absolute(flags.json_path).string();
  }
  const std::string root = bench::EnterRunfiles("bft");
  if (root.empty()) return 2;
  nlohmann::json rows = nlohmann::json::array();
  for (int members : sizes) {
    for (bool saturated : {false, true}) {
      rows.push_back(bench::Measure(members, saturated, duration_s, root));
      std::cerr << rows.back().dump() << "\n";
    }
  }
  std::filesystem::remove_all(root);
  bench::Report("bft_loopback",
                {"n", "load", "decisions", "decisions_per_s", "certificates_per_s", "commit_p50_ms",
                 "commit_p99_ms", "signatures_per_decision", "fsync"},
                rows, flags);
  return 0;
}
