#include "services/interpreter/core/answer_budget.h"

#include <gtest/gtest.h>

namespace metronome::interpreter {
namespace {

TEST(AnswerBudgetTest, TheAnswerIsDueAMarginBeforeTheBftGivesUp) {
  EXPECT_EQ(AnswerWithinMs(2000, 10000), 1900u);  // 100 ms margin at most.
  EXPECT_EQ(AnswerWithinMs(250, 10000), 200u);    // A fifth of short timeouts.
  EXPECT_EQ(AnswerWithinMs(2000, 800), 800u);     // The configured limit caps it.
  EXPECT_EQ(AnswerWithinMs(0, 800), 800u);        // No stated timeout: the limit.
  EXPECT_EQ(AnswerWithinMs(1, 800), 1u);
}

TEST(AnswerBudgetTest, TheAdapterWaitsNoLongerThanTheAnswerAllows) {
  EXPECT_EQ(AdapterWaitMs(1900, 3000), 1800u);
  EXPECT_EQ(AdapterWaitMs(10000, 3000), 3000u);
  EXPECT_EQ(AdapterWaitMs(0, 3000), 0u);
}

}  // namespace
}  // namespace metronome::interpreter
