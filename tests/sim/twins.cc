#include "tests/sim/twins.h"

#include <optional>
#include <set>
#include <sstream>

#include "common/assert.h"
#include "common/federation.h"

namespace metronome::sim {
namespace {

uint64_t Mix(uint64_t value) {
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

}  // namespace

TwinsScenario GenerateTwinsScenario(const TwinsOptions& options, uint64_t seed, uint64_t index) {
  METRONOME_ASSERT(options.twins <= options.members);
  const uint32_t nodes = options.members + options.twins;
  const uint32_t f = Federation::DefaultF(options.members);
  const uint32_t q = Federation::QuorumSize(options.members, f);
  TwinsScenario scenario;
  for (uint32_t twin = 0; twin < options.twins; ++twin) scenario.twin_of.push_back(twin);
  uint64_t state = Mix(seed * 0x100000001b3ULL ^ Mix(index));
  auto next = [&state] { return state = Mix(state); };
  auto chance = [&next](double probability) {
    return static_cast<double>(next() >> 11) * 0x1.0p-53 < probability;
  };
  // With more than f twins, a split partition (honest members alternate between two
  // groups, each twin pair split across them) lets both groups decide. Held for every
  // view, it makes conflicting decisions in the same view (twin leaders) and in
  // different views (one group's leader absent from the other) likely.
  std::optional<std::vector<uint8_t>> split;
  if (options.twins > 0 && chance(options.split_probability)) {
    split.emplace(nodes);
    const uint8_t flip = static_cast<uint8_t>(next() & 1);
    for (uint32_t member = 0; member < options.members; ++member) {
      (*split)[member] = member < options.twins ? static_cast<uint8_t>(next() & 1)
                                                : static_cast<uint8_t>((member & 1) ^ flip);
    }
    for (uint32_t twin = 0; twin < options.twins; ++twin) {
      (*split)[options.members + twin] = static_cast<uint8_t>(1 - (*split)[twin]);
    }
  }
  for (uint32_t view = 0; view < options.views; ++view) {
    if (split) {
      const uint32_t candidates = options.twin_leaders ? options.twins : options.members;
      scenario.leaders.push_back(static_cast<uint32_t>(next() % candidates));
      scenario.partitions.push_back(*split);
      continue;
    }
    scenario.leaders.push_back(static_cast<uint32_t>(next() % options.members));
    // A partition into two groups, one of which holds at least q distinct members (so a
    // quorum can still form somewhere; a member and its twin count once); drawn
    // uniformly from those by rejection.
    std::vector<uint8_t> groups(nodes);
    while (true) {
      const uint64_t bits = next();
      std::vector<std::set<uint32_t>> members_in(2);
      for (uint32_t node = 0; node < nodes; ++node) {
        groups[node] = static_cast<uint8_t>(bits >> node & 1);
        members_in[groups[node]].insert(node < options.members ? node : node - options.members);
      }
      if (members_in[0].size() >= q || members_in[1].size() >= q) break;
    }
    scenario.partitions.push_back(groups);
  }
  return scenario;
}

SimOptions TwinsSimOptions(const TwinsOptions& options, uint64_t seed, uint64_t index) {
  SimOptions sim;
  sim.seed = Mix(seed ^ Mix(index + 1));
  sim.members = options.members;
  sim.faults = false;
  sim.twins = GenerateTwinsScenario(options, seed, index);
  sim.timeout_ms_base = 100;
  sim.timeout_ms_max = 400;  // Liveness bound: 10 x 400 ms after the heal.
  sim.idle_interval_ms = 1000;
  sim.candidate_interval_ms_mean = 1000;
  // Partitions follow the scenario's views, but end by heal_ms whatever the views:
  // scenario partitions can otherwise strand a minority forever (relab/hotstuff #55).
  sim.heal_ms = 6000;
  sim.duration_ms = 14000;
  return sim;
}

std::string TwinsReplayCommand(const TwinsOptions& options, uint64_t seed, uint64_t index) {
  std::ostringstream command;
  command << "bazel run //tests/sim:twins_runner -- --members=" << options.members
          << " --twins=" << options.twins << " --views=" << options.views << " --seed=" << seed
          << " --index=" << index;
  return command.str();
}

}  // namespace metronome::sim
