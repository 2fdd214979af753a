// src/runtime/clock_timer.hpp: internal to grove::runtime (not installed).
// The wait primitive behind clock::sleep_until and every queue of waiters
// (token_bucket, async_semaphore, response_cache flights, task_group).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "grove/runtime/clock.hpp"

namespace grove::runtime::detail {

/// How a clock_timer::wait ended.
enum class wait_status {
  expired,    // the deadline passed
  woken,      // wake() was called (before or during the wait)
  cancelled,  // per-operation cancellation reached the wait
};

/// One waiting coroutine's alarm: it can be woken by a deadline on its clock,
/// by wake() from any thread, or by the coroutine's cancellation slot.
///
/// Ownership: created with std::make_shared (the manual clock keeps weak
/// references); owned by the waiting coroutine and whoever needs to wake it.
/// Thread safety: wake() and expire() may be called from any thread; wait()
/// is called by one coroutine at a time.
class clock_timer : public std::enable_shared_from_this<clock_timer> {
 public:
  clock_timer(clock& time_source, const boost::asio::any_io_executor& executor);

  /// Suspends until `deadline` (none: no deadline), wake(), or cancellation.
  /// A wake() that came before the wait makes it return at once (wakes are
  /// remembered, once). Returns cancelled without suspending when the calling
  /// coroutine is already cancelled.
  boost::asio::awaitable<wait_status> wait(std::optional<clock::time_point> deadline);

  /// Wakes the current or the next wait.
  void wake();

  /// Called by the manual clock: ends the wait armed as `generation`.
  void expire(std::uint64_t generation);

  /// Called by the real clock from arm(): sets the Asio timer's expiry.
  /// Requires: the timer's lock is held (arm() runs inside wait()).
  void set_native_expiry(clock::time_point deadline);

  /// The generation of the armed wait, or 0 when no wait is armed.
  std::uint64_t armed_generation() const noexcept {
    return armed_generation_.load(std::memory_order_acquire);
  }

 private:
  clock& clock_;
  std::mutex mutex_;
  boost::asio::steady_timer timer_;
  bool woken_ = false;
  bool expired_ = false;
  std::uint64_t next_generation_ = 1;
  // Read without the lock by the manual clock to skip stale heap entries.
  std::atomic<std::uint64_t> armed_generation_{0};
};

}  // namespace grove::runtime::detail
