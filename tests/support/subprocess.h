#ifndef METRONOME_TESTS_SUPPORT_SUBPROCESS_H_
#define METRONOME_TESTS_SUPPORT_SUBPROCESS_H_

#include <string>
#include <vector>

namespace metronome::testing {

struct RunResult {
  bool exited = false;  // False when killed by a signal (a crash) or the deadline.
  int exit_code = -1;   // Valid when exited.
  int signal = 0;       // The terminating signal, when !exited.
  bool timed_out = false;
  std::string out;  // Everything written to stdout.
  std::string err;  // Everything written to stderr.
};

// Runs argv[0] (a path) with the arguments, capturing stdout and stderr, and waits for
// it to end. A child still running after `timeout_ms` is killed (SIGKILL) and reported
// as timed out. Blocks the calling thread; for tests and tools only.
RunResult Run(const std::vector<std::string>& argv, int timeout_ms = 30000);

}  // namespace metronome::testing

#endif  // METRONOME_TESTS_SUPPORT_SUBPROCESS_H_
