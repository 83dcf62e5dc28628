#include "tests/support/wait_for.h"

#include <chrono>
#include <thread>

namespace metronome::testing {

bool WaitFor(const std::function<bool()>& condition, int timeout_ms, int poll_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    // The poll interval of a condition wait, not synchronisation by time.
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
  return condition();
}

}  // namespace metronome::testing
