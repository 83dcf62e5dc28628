// The checkers can fail: built against a deliberately broken consensus core, the
// simulator must find a violation within the CI budget.
//  - METRONOME_MUTATION_BREAK_LOCK (votes ignore the lock): Twins with one twin finds
//    conflicting commits.
//  - METRONOME_MUTATION_PERSIST_AFTER_SEND (messages leave before the safety state and
//    the own-signature log are durable): the durability checker finds it.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/sim/twins.h"

namespace metronome::sim {
namespace {

#if defined(METRONOME_MUTATION_BREAK_LOCK)
TEST(MutationTest, BrokenLockIsCaughtByTwins) {
  const TwinsOptions options{4, 1, 6};
  for (uint64_t index = 0; index < 20000; ++index) {
    const SimResult result = RunSimulation(TwinsSimOptions(options, 7, index));
    if (!result.safe) {
      std::cout << "caught after " << index + 1 << " scenarios: " << result.violation << "\n";
      return;
    }
  }
  FAIL() << "a core that ignores its lock passed 20,000 Twins scenarios";
}
#elif defined(METRONOME_MUTATION_PERSIST_AFTER_SEND)
TEST(MutationTest, PersistenceAfterSendIsCaught) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SimOptions options;
    options.seed = seed;
    const SimResult result = RunSimulation(options);
    if (!result.durable) {
      std::cout << "caught at seed " << seed << ": " << result.violation << "\n";
      return;
    }
  }
  FAIL() << "a core that sends before persisting passed 200 seeded runs";
}
#else
#error "build this test with a mutation define"
#endif

}  // namespace
}  // namespace metronome::sim
