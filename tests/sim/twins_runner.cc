// Runs Twins scenarios: one to replay a failure, or a batch with outcome counts.
//   bazel run //tests/sim:twins_runner -- --twins=1 --seed=1 --index=17
//   bazel run //tests/sim:twins_runner -- --twins=1 --seed=1 --count=100000
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "tests/sim/twins.h"

namespace {

bool Flag(const char* arg, const char* name, uint64_t* value) {
  const size_t length = std::strlen(name);
  if (std::strncmp(arg, name, length) != 0 || arg[length] != '=') return false;
  *value = std::strtoull(arg + length + 1, nullptr, 10);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t members = 4, twins = 1, views = 6, seed = 1, index = 0, count = 1, split_percent = 0,
           twin_leaders = 0;
  for (int i = 1; i < argc; ++i) {
    if (Flag(argv[i], "--members", &members) || Flag(argv[i], "--twins", &twins) ||
        Flag(argv[i], "--views", &views) || Flag(argv[i], "--seed", &seed) ||
        Flag(argv[i], "--index", &index) || Flag(argv[i], "--count", &count) ||
        Flag(argv[i], "--split_percent", &split_percent) ||
        Flag(argv[i], "--twin_leaders", &twin_leaders)) {
      continue;
    }
    std::cerr << "unknown flag " << argv[i] << "\n";
    return 2;
  }
  metronome::sim::TwinsOptions options{static_cast<uint32_t>(members), static_cast<uint32_t>(twins),
                                       static_cast<uint32_t>(views),
                                       static_cast<double>(split_percent) / 100, twin_leaders != 0};
  uint64_t same_view = 0, cross_view = 0, unsafe = 0, not_live = 0, not_durable = 0, commits = 0;
  for (uint64_t i = index; i < index + count; ++i) {
    const metronome::sim::SimResult result =
        metronome::sim::RunSimulation(metronome::sim::TwinsSimOptions(options, seed, i));
    commits += result.totals.commits;
    if (!result.safe) ++unsafe;
    if (!result.live) ++not_live;
    if (!result.durable) ++not_durable;
    if (result.conflict_views) {
      (result.conflict_views->first == result.conflict_views->second ? same_view : cross_view)++;
    }
    if (count == 1) {
      const metronome::sim::TwinsScenario scenario =
          metronome::sim::GenerateTwinsScenario(options, seed, i);
      for (size_t view = 0; view < scenario.partitions.size(); ++view) {
        std::cout << "view " << view + 1 << ": leader " << scenario.leaders[view] << ", groups";
        for (uint8_t group : scenario.partitions[view]) std::cout << " " << int{group};
        std::cout << "\n";
      }
    }
    if (count == 1 || (!result.ok() && twins * 3 < members)) {
      std::cout << "scenario " << i << ": commits=" << result.totals.commits
                << (result.ok() ? " ok" : " VIOLATION: " + result.violation) << "\n"
                << "replay: " << metronome::sim::TwinsReplayCommand(options, seed, i) << "\n";
    }
  }
  std::cout << count << " scenarios: commits=" << commits << " unsafe=" << unsafe << " (same-view "
            << same_view << ", cross-view " << cross_view << ") not_live=" << not_live
            << " not_durable=" << not_durable << "\n";
  return 0;
}
