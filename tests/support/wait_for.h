#ifndef METRONOME_TESTS_SUPPORT_WAIT_FOR_H_
#define METRONOME_TESTS_SUPPORT_WAIT_FOR_H_

#include <functional>

namespace metronome::testing {

// Waits until `condition` holds or `timeout_ms` passes, re-checking it every `poll_ms`
// milliseconds (raise it for conditions that cost a scrape or an RPC); returns whether it
// held. For conditions that cannot notify (another
// process's state, a gRPC peer's view): tests wait on a condition with a deadline, never
// on a fixed sleep.
bool WaitFor(const std::function<bool()>& condition, int timeout_ms = 30000, int poll_ms = 10);

}  // namespace metronome::testing

#endif  // METRONOME_TESTS_SUPPORT_WAIT_FOR_H_
