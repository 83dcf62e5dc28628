#include "services/interpreter/core/answer_budget.h"

#include <algorithm>

namespace metronome::interpreter {

uint64_t MarginMs(uint64_t total_ms) { return std::min<uint64_t>(100, total_ms / 5); }

uint64_t AnswerWithinMs(uint32_t bft_timeout_ms, uint64_t limit_ms) {
  if (bft_timeout_ms == 0) return limit_ms;
  return std::min<uint64_t>(limit_ms, bft_timeout_ms - MarginMs(bft_timeout_ms));
}

uint32_t AdapterWaitMs(uint64_t answer_within_ms, uint64_t query_wait_ms) {
  const uint64_t room = answer_within_ms - MarginMs(answer_within_ms);
  return static_cast<uint32_t>(std::min<uint64_t>({room, query_wait_ms, UINT32_MAX}));
}

}  // namespace metronome::interpreter
