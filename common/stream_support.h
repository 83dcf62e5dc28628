#ifndef METRONOME_COMMON_STREAM_SUPPORT_H_
#define METRONOME_COMMON_STREAM_SUPPORT_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

// Small pieces every long-lived stream uses (federation, interpreter and chain links,
// both sides): a watchdog for handshakes and a bounded outbound queue that a writer
// thread drains.
namespace metronome {

// Cancels a stream whose handshake has not finished in time: sync gRPC reads have no
// deadline of their own once the stream is open. Disarm before reading application
// frames.
class HandshakeWatchdog {
 public:
  HandshakeWatchdog(std::function<void()> cancel, uint64_t timeout_ms)
      : thread_([this, cancel = std::move(cancel), timeout_ms] {
          std::unique_lock<std::mutex> lock(mutex_);
          if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                            [this] { return done_; })) {
            fired_ = true;
            cancel();
          }
        }) {}
  ~HandshakeWatchdog() { Disarm(); }
  HandshakeWatchdog(const HandshakeWatchdog&) = delete;
  HandshakeWatchdog& operator=(const HandshakeWatchdog&) = delete;

  // Stops the watchdog; true when it had already fired (the stream was cancelled).
  bool Disarm() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    return fired_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;
};

// Cancels a stream from any thread without outliving it: gRPC contexts die with the
// thread that owns the stream, so the owner calls End() before that, and a Cancel()
// racing with the end then does nothing. Thread-safe.
class StreamCanceller {
 public:
  void Set(std::function<void()> cancel) {
    std::lock_guard<std::mutex> lock(mutex_);
    cancel_ = std::move(cancel);
  }
  void Cancel() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!ended_ && cancel_) cancel_();
  }
  void End() {
    std::lock_guard<std::mutex> lock(mutex_);
    ended_ = true;
  }

 private:
  std::mutex mutex_;
  std::function<void()> cancel_;  // Guarded by mutex_.
  bool ended_ = false;            // Guarded by mutex_.
};

// A bounded FIFO of frames for one stream. Push never blocks: beyond `size_max` the
// oldest frame is dropped (the caller counts it). Thread-safe.
template <typename Frame>
class OutboundQueue {
 public:
  explicit OutboundQueue(size_t size_max) : size_max_(size_max) {}

  // False when the queue is closed; `dropped` is set when an old frame made room.
  bool Push(Frame frame, bool* dropped) {
    *dropped = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return false;
      queue_.push_back(std::move(frame));
      if (queue_.size() > size_max_) {
        queue_.pop_front();
        *dropped = true;
      }
    }
    cv_.notify_one();
    return true;
  }

  // Waits for a frame; nullopt once closed.
  std::optional<Frame> PopBlocking() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return closed_ || !queue_.empty(); });
    if (closed_) return std::nullopt;
    Frame frame = std::move(queue_.front());
    queue_.pop_front();
    return frame;
  }

  // Waits up to `wait_ms` for a frame. nullopt with *closed set when closed, nullopt
  // alone on timeout.
  std::optional<Frame> Pop(uint64_t wait_ms, bool* closed) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                 [this] { return closed_ || !queue_.empty(); });
    *closed = closed_;
    if (closed_ || queue_.empty()) return std::nullopt;
    Frame frame = std::move(queue_.front());
    queue_.pop_front();
    return frame;
  }

  void Close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    cv_.notify_all();
  }

  bool closed() {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_;
  }

 private:
  const size_t size_max_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Frame> queue_;  // Guarded by mutex_.
  bool closed_ = false;      // Guarded by mutex_.
};

}  // namespace metronome

#endif  // METRONOME_COMMON_STREAM_SUPPORT_H_
