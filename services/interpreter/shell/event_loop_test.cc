#include "services/interpreter/shell/event_loop.h"

#include <gtest/gtest.h>

#include <future>
#include <vector>

namespace metronome::interpreter {
namespace {

// Runs `task` on the loop and waits for it: everything posted before has run by then.
void Drain(EventLoop* loop) {
  std::promise<void> done;
  ASSERT_TRUE(loop->Post([&done] { done.set_value(); }));
  done.get_future().wait();
}

TEST(EventLoopTest, TasksRunInPostOrderOnTheLoopThread) {
  EventLoop loop(16);
  loop.Start();
  std::vector<int> order;  // Touched only on the loop.
  bool in_loop = true;
  for (int i = 0; i < 5; ++i) {
    loop.Post([&, i] {
      order.push_back(i);
      in_loop = in_loop && loop.InLoop();
    });
  }
  Drain(&loop);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(in_loop);
  EXPECT_FALSE(loop.InLoop());
}

TEST(EventLoopTest, TimersRunByDueTimeAndCancelledOnesNever) {
  EventLoop loop(16);
  loop.Start();
  std::vector<int> order;
  std::promise<void> last;
  loop.PostAfter(30, [&] { order.push_back(2); });
  const uint64_t cancelled = loop.PostAfter(10, [&] { order.push_back(99); });
  loop.PostAfter(5, [&] { order.push_back(1); });
  loop.PostAfter(60, [&] {
    order.push_back(3);
    last.set_value();
  });
  loop.Cancel(cancelled);
  last.get_future().wait();
  Drain(&loop);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoopTest, AFullQueueRefusesInsteadOfGrowing) {
  EventLoop loop(2);  // Not started: nothing drains.
  EXPECT_TRUE(loop.Post([] {}));
  EXPECT_TRUE(loop.Post([] {}));
  EXPECT_FALSE(loop.Post([] {}));
}

TEST(EventLoopTest, AStoppedLoopRunsNothingMore) {
  EventLoop loop(16);
  loop.Start();
  int runs = 0;
  loop.Post([&] { ++runs; });
  Drain(&loop);
  loop.Stop();
  EXPECT_FALSE(loop.Post([&] { ++runs; }));
  EXPECT_EQ(loop.PostAfter(0, [&] { ++runs; }), 0u);
  EXPECT_EQ(runs, 1);
}

}  // namespace
}  // namespace metronome::interpreter
