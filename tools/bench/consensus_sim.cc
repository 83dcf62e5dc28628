// The consensus core's own speed: N replica cores in one process over the simulator's
// network with zero delay and no faults, each verifying every signature itself (no
// shared cache), leaders proposing as soon as they may. Reports decisions per second of
// CPU, and signatures made and verified per decision, for n = 4, 7, 13, 31.
#include <chrono>
#include <iostream>

#include "common/metrics.h"
#include "tests/sim/simulation.h"
#include "tools/bench/bench_report.h"

namespace metronome::bench {
namespace {

nlohmann::json Measure(uint32_t members, uint64_t decisions) {
  sim::SimOptions options;
  options.seed = 1;
  options.members = members;
  options.faults = false;
  options.delay_ms_min = 0;
  options.delay_ms_max = 0;
  options.idle_interval_ms = 0;
  options.timeout_ms_base = 1000;
  options.timeout_ms_max = 1000;
  options.candidate_interval_ms_mean = 1000000;
  options.duration_ms = 1000000000;  // Long enough; the run stops at `decisions`.
  options.heal_ms = 0;
  options.share_verification_cache = false;
  options.stop_after_decisions = decisions;
  const auto start = std::chrono::steady_clock::now();
  const sim::SimResult result = sim::RunSimulation(options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double made = static_cast<double>(result.totals.decisions);
  return {{"n", members},
          {"decisions", result.totals.decisions},
          {"decisions_per_s", made / seconds},
          {"signatures_per_decision", static_cast<double>(result.totals.signatures) / made},
          {"verifications_per_decision", static_cast<double>(result.totals.verifications) / made},
          {"ok", result.ok()}};
}

}  // namespace
}  // namespace metronome::bench

int main(int argc, char** argv) {
  using namespace metronome;
  const bench::BenchFlags flags = bench::ParseBenchFlags(argc, argv);
  if (flags.version) {
    std::cout << "consensus_sim " << MetronomeVersion() << "\n";
    return 0;
  }
  nlohmann::json rows = nlohmann::json::array();
  for (uint32_t members : {4u, 7u, 13u, 31u}) {
    rows.push_back(bench::Measure(members, members <= 7 ? 2000 : members <= 13 ? 500 : 100));
  }
  bench::Report("consensus_sim",
                {"n", "decisions", "decisions_per_s", "signatures_per_decision",
                 "verifications_per_decision", "ok"},
                rows, flags);
  return 0;
}
