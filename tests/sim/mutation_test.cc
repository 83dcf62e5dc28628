// The checkers can fail: built against a deliberately broken consensus core, the
// simulator must find a violation within the CI budget.
//  - METRONOME_MUTATION_BREAK_LOCK (votes ignore the lock): a Byzantine leader proposing
//    a sibling of a decided block on an older QC gets conflicting blocks decided.
//  - METRONOME_MUTATION_PERSIST_AFTER_SEND (messages leave before the safety state and
//    the own-signature log are durable): the durability checker finds it.
//  - METRONOME_MUTATION_NO_PHASE_CHECK (votes with phases 4..255 reach the vote set): the
//    Byzantine adversary's phase sweeps abort a leader (run in a child process).
//  - METRONOME_MUTATION_NO_STASH_QUOTA (one shared stash, oldest evicted): the memory
//    checker finds a Byzantine sender above its share.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

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
SimOptions ByzantineOptions(uint64_t seed) {
  SimOptions options;
  options.seed = seed;
  options.byzantine = 1;
  return options;
}

#if defined(METRONOME_MUTATION_NO_PHASE_CHECK)
// The mutant aborts the process: each run happens in a child, caught when it dies.
TEST(MutationTest, MissingPhaseCheckIsCaughtByTheByzantineAdversary) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) _exit(RunSimulation(ByzantineOptions(seed)).ok() ? 0 : 1);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::cout << "caught at seed " << seed << " (child status " << status << ")\n";
      return;
    }
  }
  FAIL() << "a core without the phase check passed 20 runs with a Byzantine member";
}
#elif defined(METRONOME_MUTATION_NO_STASH_QUOTA)
TEST(MutationTest, MissingStashShareIsCaughtByTheMemoryChecker) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    const SimResult result = RunSimulation(ByzantineOptions(seed));
    if (!result.bounded) {
      std::cout << "caught at seed " << seed << ": " << result.violation << "\n";
      return;
    }
  }
  FAIL() << "the mutant passed 50 runs with a Byzantine member";
}
#else
#error "build this test with a mutation define"
#endif
#endif

}  // namespace
}  // namespace metronome::sim
