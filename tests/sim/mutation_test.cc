// The checkers can fail: built against a deliberately broken consensus core, the
// simulator must find a violation within the CI budget.
//  - METRONOME_MUTATION_BREAK_LOCK (votes ignore the lock): a Byzantine leader proposing
//    a sibling of a decided block on an older QC gets conflicting blocks decided.
//  - METRONOME_MUTATION_PERSIST_AFTER_SEND (messages leave before the safety state and
//    the own-signature log are durable): the durability checker finds it.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/sim/twins.h"

namespace metronome::sim {
namespace {

#if defined(METRONOME_MUTATION_BREAK_LOCK)
// With correct leaders the highest-QC rule alone keeps Basic HotStuff safe; the lock is
// what stops a Byzantine leader driving a sibling of a decided block through on an older
// QC. So this build meets one (SimOptions::lock_attack).
TEST(MutationTest, BrokenLockIsCaughtByALockAttack) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.lock_attack = true;
    const SimResult result = RunSimulation(options);
    if (!result.safe) {
      std::cout << "caught at seed " << seed << ": " << result.violation << "\n";
      return;
    }
  }
  FAIL() << "a core that ignores its lock passed 20 runs with a lock attack";
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
