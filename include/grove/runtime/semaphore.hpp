// grove/runtime/semaphore.hpp: an awaitable counting semaphore.
//
// Bounds concurrency (for example, requests in flight to one provider). It is
// an ordinary member built in its owner's constructor: there is no lazy
// creation to race on. acquire() takes a permit at once when one is free and
// nobody is queued, else waits in FIFO order; releasing a permit hands it
// directly to the head of the queue, so no later arrival can overtake.
//
// Example:
//   class client {
//    public:
//     explicit client(std::size_t max_in_flight) : in_flight_(max_in_flight) {}
//     boost::asio::awaitable<grove::result<std::string>> call() {
//       auto permit = co_await in_flight_.acquire();
//       if (!permit) co_return grove::fail(permit.error());
//       ...  // the permit is released when it goes out of scope
//     }
//    private:
//     grove::runtime::async_semaphore in_flight_;
//   };
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>

#include <boost/asio/awaitable.hpp>

#include "grove/runtime/errors.hpp"
#include "grove/runtime/result.hpp"

namespace grove::runtime {

class async_semaphore;

/// One permit of an async_semaphore, released on destruction or release().
/// Movable, not copyable. Requires: the semaphore outlives its permits.
class semaphore_permit {
 public:
  semaphore_permit() = default;
  semaphore_permit(semaphore_permit&& other) noexcept : owner_(other.owner_) {
    other.owner_ = nullptr;
  }
  semaphore_permit& operator=(semaphore_permit&& other) noexcept;
  semaphore_permit(const semaphore_permit&) = delete;
  semaphore_permit& operator=(const semaphore_permit&) = delete;
  ~semaphore_permit() { release(); }

  /// Gives the permit back now (no-op when empty).
  void release() noexcept;
  /// True while the permit is held.
  bool held() const noexcept { return owner_ != nullptr; }

 private:
  friend class async_semaphore;
  explicit semaphore_permit(async_semaphore* owner) noexcept : owner_(owner) {}

  async_semaphore* owner_ = nullptr;
};

/// See the file comment.
/// Thread safety: every member may be called from any thread; waiters resume
/// on their own coroutine's executor.
class async_semaphore {
 public:
  /// A semaphore with `permits` free permits. Requires: permits >= 1
  /// (throws std::invalid_argument otherwise).
  explicit async_semaphore(std::size_t permits);
  ~async_semaphore();

  async_semaphore(const async_semaphore&) = delete;
  async_semaphore& operator=(const async_semaphore&) = delete;

  /// Waits for a permit (FIFO).
  /// Completes: a held permit; errc::closed when the semaphore is (or becomes)
  /// closed; errc::cancelled when per-operation cancellation reached the wait
  /// (a permit handed over concurrently is given back, never lost).
  boost::asio::awaitable<result<semaphore_permit>> acquire();

  /// A permit if one is free now and nobody is queued; an empty permit otherwise.
  semaphore_permit try_acquire();

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t available() const;
  std::size_t waiting() const;

  /// Refuses later acquire() calls and fails waiting ones with errc::closed.
  /// Held permits stay valid and are released normally. Idempotent.
  void close();

 private:
  friend class semaphore_permit;
  struct waiter;

  void release_one() noexcept;

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::size_t available_;
  std::list<std::shared_ptr<waiter>> queue_;
  bool closed_ = false;
};

}  // namespace grove::runtime
