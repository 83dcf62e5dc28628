#ifndef METRONOME_TESTS_SIM_TWINS_H_
#define METRONOME_TESTS_SIM_TWINS_H_

#include <cstdint>
#include <string>

#include "tests/sim/simulation.h"

namespace metronome::sim {

// Twins (Bano et al., OPODIS 2021): a faulty member is two nodes with one key, placed in
// different partitions, so it equivocates, double-votes and forgets its locks without
// any hand-written Byzantine code. A scenario fixes, for each of the first `views`
// views, the leader and a partition of the nodes into two groups (one of them holding at
// least q nodes); after that the network heals.
struct TwinsOptions {
  uint32_t members = 4;
  uint32_t twins = 1;  // Members 0..twins-1 get a twin.
  uint32_t views = 6;  // Views with scenario partitions; then the network heals.
  // The chance that the scenario holds one split partition for all its views: honest
  // members alternate between two groups, each twin pair split across them (so with
  // more than f twins both groups can decide). 0: uniform, as in the Twins paper.
  double split_probability = 0;
  // Under a split partition, only twinned members lead (both groups then hear a leader in
  // every view, so they decide in the same views).
  bool twin_leaders = false;
};

// The scenario number `index` of the generator seeded with `seed`: leaders and
// partitions per view drawn from the Cartesian product (leaders x partitions)^views.
TwinsScenario GenerateTwinsScenario(const TwinsOptions& options, uint64_t seed, uint64_t index);

// Simulation options for running a scenario: no random faults, short views, and a
// liveness check on the healed suffix only.
SimOptions TwinsSimOptions(const TwinsOptions& options, uint64_t seed, uint64_t index);

// A one-line command that replays scenario `index` of `seed`.
std::string TwinsReplayCommand(const TwinsOptions& options, uint64_t seed, uint64_t index);

}  // namespace metronome::sim

#endif  // METRONOME_TESTS_SIM_TWINS_H_
