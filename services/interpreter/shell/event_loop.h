#ifndef METRONOME_SERVICES_INTERPRETER_SHELL_EVENT_LOOP_H_
#define METRONOME_SERVICES_INTERPRETER_SHELL_EVENT_LOOP_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace metronome::interpreter {

// One worker thread that runs tasks in the order they were posted, and timers when they
// are due. Whatever only tasks touch needs no lock: this is how the interpreter keeps
// one state object while gRPC reader threads only hand frames over and return.
// Thread-safe.
class EventLoop {
 public:
  using Task = std::function<void()>;

  // At most `queue_max` tasks wait; Post refuses beyond (timers are not counted).
  explicit EventLoop(size_t queue_max) : queue_max_(queue_max) {}
  // Stops the loop.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Starts the worker thread. Call once.
  void Start();
  // Runs no task after it returns (queued ones and timers are dropped) and joins the
  // worker. Idempotent; never call it from a task.
  void Stop();

  // Queues `task`. False when the queue is full or the loop stopped (then the task is
  // dropped: callers count it).
  bool Post(Task task);
  // Runs `task` on the loop after `delay_ms`. Returns an id for Cancel (0 when stopped).
  uint64_t PostAfter(uint64_t delay_ms, Task task);
  // Forgets a timer that has not run yet; a no-op for ids that ran or never existed.
  void Cancel(uint64_t timer_id);
  // True on the worker thread.
  bool InLoop() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Timer {
    Clock::time_point due;
    Task task;
  };

  void Run();

  const size_t queue_max_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;            // Guarded by mutex_.
  std::map<uint64_t, Timer> timers_;  // By id; guarded by mutex_.
  uint64_t next_timer_id_ = 1;        // Guarded by mutex_.
  bool started_ = false;              // Guarded by mutex_.
  bool stopping_ = false;             // Guarded by mutex_.
  std::thread thread_;
};

}  // namespace metronome::interpreter

#endif  // METRONOME_SERVICES_INTERPRETER_SHELL_EVENT_LOOP_H_
