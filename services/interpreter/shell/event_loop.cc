#include "services/interpreter/shell/event_loop.h"

namespace metronome::interpreter {

EventLoop::~EventLoop() { Stop(); }

void EventLoop::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void EventLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    tasks_.clear();
    timers_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool EventLoop::Post(Task task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || tasks_.size() >= queue_max_) return false;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

uint64_t EventLoop::PostAfter(uint64_t delay_ms, Task task) {
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return 0;
    id = next_timer_id_++;
    timers_.emplace(id, Timer{Clock::now() + std::chrono::milliseconds(delay_ms), std::move(task)});
  }
  cv_.notify_one();
  return id;
}

void EventLoop::Cancel(uint64_t timer_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  timers_.erase(timer_id);
}

void EventLoop::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    // The earliest due timer (one per outstanding chain request, so a scan is fine).
    auto next = timers_.end();
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (next == timers_.end() || it->second.due < next->second.due) next = it;
    }
    // Due timers first: a steady stream of frames must not starve request deadlines.
    Task task;
    if (next != timers_.end() && next->second.due <= Clock::now()) {
      task = std::move(next->second.task);
      timers_.erase(next);
    } else if (!tasks_.empty()) {
      task = std::move(tasks_.front());
      tasks_.pop_front();
    } else {
      if (next == timers_.end()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, next->second.due);
      }
      continue;
    }
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace metronome::interpreter
