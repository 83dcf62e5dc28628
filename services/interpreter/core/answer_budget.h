#ifndef METRONOME_SERVICES_INTERPRETER_CORE_ANSWER_BUDGET_H_
#define METRONOME_SERVICES_INTERPRETER_CORE_ANSWER_BUDGET_H_

#include <cstdint>

// How the interpreter spends the time a bft request allows (interpreter.proto: the bft
// ignores a late answer). Pure; thread-safe.
namespace metronome::interpreter {

// The time a margin keeps free for the answer's own trip: a fifth, at most 100 ms.
uint64_t MarginMs(uint64_t total_ms);

// How long the interpreter may work on a request before it must answer: the bft's
// timeout less its margin, capped by the configured `limit_ms` (also used when the
// bft states no timeout, 0).
uint64_t AnswerWithinMs(uint32_t bft_timeout_ms, uint64_t limit_ms);

// BlockQuery.wait_ms for a query whose answer must arrive within `answer_within_ms`:
// the configured `query_wait_ms`, shortened so the adapter's "not known" still arrives
// in time.
uint32_t AdapterWaitMs(uint64_t answer_within_ms, uint64_t query_wait_ms);

}  // namespace metronome::interpreter

#endif  // METRONOME_SERVICES_INTERPRETER_CORE_ANSWER_BUDGET_H_
