// Work split over two cores: a producer thread hands items to the thread that consumes them,
// through a queue of a few items (memory stays bounded whatever the input's size).
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace auditpitr {

/// Runs `produce(push)` on its own thread; `push(item)` waits while `capacity` items wait, and
/// answers false once the consumer has gone (the producer then returns). The consumer calls
/// next() until it answers nullopt: the end, or the producer's exception, rethrown. Destroying
/// the Handoff early (the consumer failed) stops the producer at its next push and joins it.
template <typename T>
class Handoff {
 public:
  using Push = std::function<bool(T)>;

  Handoff(std::size_t capacity, std::function<void(const Push&)> produce) : capacity_(capacity) {
    thread_ = std::thread([this, produce = std::move(produce)] {
      std::exception_ptr error;
      try {
        produce([this](T item) { return push(std::move(item)); });
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
      error_ = error;
      changed_.notify_all();
    });
  }
  ~Handoff() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      abandoned_ = true;
      changed_.notify_all();
    }
    thread_.join();
  }
  Handoff(const Handoff&) = delete;
  Handoff& operator=(const Handoff&) = delete;

  std::optional<T> next() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return !items_.empty() || closed_; });
    if (items_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return std::nullopt;
    }
    T item = std::move(items_.front());
    items_.pop_front();
    changed_.notify_all();
    return item;
  }

 private:
  bool push(T item) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return items_.size() < capacity_ || abandoned_; });
    if (abandoned_) return false;
    items_.push_back(std::move(item));
    changed_.notify_all();
    return true;
  }

  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<T> items_;
  bool closed_ = false, abandoned_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace auditpitr
