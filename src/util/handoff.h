// Items passed from one thread to another: a Channel, and a Handoff (a producer thread feeding
// the thread that consumes, through a channel of a few items, so memory stays bounded whatever
// the input's size).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace auditpitr {

/// A queue between a producing and a consuming thread. push() waits while `capacity` items wait;
/// close() ends it (with the producer's exception, if any); abandon() stops both sides: push()
/// then answers false and next() nullopt, whatever still waits.
template <typename T>
class Channel {
 public:
  explicit Channel(std::size_t capacity = SIZE_MAX) : capacity_(capacity) {}

  bool push(T item) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return items_.size() < capacity_ || abandoned_; });
    if (abandoned_) return false;
    items_.push_back(std::move(item));
    changed_.notify_all();
    return true;
  }
  /// No more items; next() hands out those waiting, then rethrows `error` or answers nullopt.
  void close(std::exception_ptr error = nullptr) {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    error_ = error;
    changed_.notify_all();
  }
  void abandon() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = abandoned_ = true;
    changed_.notify_all();
  }
  bool abandoned() {
    std::lock_guard<std::mutex> lock(mutex_);
    return abandoned_;
  }
  /// The next item, waiting for it; nullopt at the end or once abandoned.
  std::optional<T> next() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return !items_.empty() || closed_; });
    if (abandoned_) return std::nullopt;
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
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<T> items_;
  bool closed_ = false, abandoned_ = false;
  std::exception_ptr error_;
};

/// Runs `produce(push)` on its own thread; `push(item)` waits while `capacity` items wait, and
/// answers false once the consumer has gone (the producer then returns). The consumer calls
/// next() until it answers nullopt: the end, or the producer's exception, rethrown. Destroying
/// the Handoff early (the consumer failed) stops the producer at its next push and joins it.
template <typename T>
class Handoff {
 public:
  using Push = std::function<bool(T)>;

  Handoff(std::size_t capacity, std::function<void(const Push&)> produce) : channel_(capacity) {
    thread_ = std::thread([this, produce = std::move(produce)] {
      try {
        produce([this](T item) { return channel_.push(std::move(item)); });
        channel_.close();
      } catch (...) {
        channel_.close(std::current_exception());
      }
    });
  }
  ~Handoff() {
    channel_.abandon();
    thread_.join();
  }
  Handoff(const Handoff&) = delete;
  Handoff& operator=(const Handoff&) = delete;

  std::optional<T> next() { return channel_.next(); }

 private:
  Channel<T> channel_;
  std::thread thread_;
};

/// Items a consumer has finished with, handed back to their producer to fill again: what they
/// hold (vectors, strings) keeps its capacity, so a steady stream allocates next to nothing, and
/// nothing is freed on one thread that another allocated.
template <typename T>
class Spares {
 public:
  void put(T item) {
    std::lock_guard<std::mutex> lock(mutex_);
    items_.push_back(std::move(item));
  }
  /// A spent item, or a new one when none waits.
  T take() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (items_.empty()) return T{};
    T item = std::move(items_.back());
    items_.pop_back();
    return item;
  }

 private:
  std::mutex mutex_;
  std::deque<T> items_;
};

}  // namespace auditpitr
