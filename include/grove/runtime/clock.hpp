// grove/runtime/clock.hpp: the time source of every timing piece.
//
// Every component that reads the time or waits (token buckets, the circuit
// breaker's open interval, retry backoff, cache TTLs, task-group deadlines)
// takes a std::shared_ptr<clock>. Production code passes real_clock() (the
// default when the pointer is null); tests pass a manual_clock and move time
// by hand, so a simulated hour of rate limiting runs in milliseconds and every
// boundary is exact.
//
// Waiting is part of the clock: sleep_until() suspends the calling coroutine
// until the clock reaches a time point. On the real clock that is an Asio
// steady_timer; on the manual clock the wait completes when advance() moves
// time past its deadline. Either way the wait is an ordinary Asio operation on
// the calling coroutine's executor and honours per-operation cancellation.
//
// Example (a test):
//   auto clk = std::make_shared<grove::runtime::manual_clock>();
//   asio::co_spawn(io, clk->sleep_for(5s), asio::detached);
//   io.poll();                 // the coroutine is now waiting
//   clk->advance(5s);          // its deadline passed...
//   io.poll();                 // ...and it resumes here
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "grove/runtime/result.hpp"

namespace grove::runtime {

namespace detail {
class clock_timer;
}

/// A monotonic time source that can also suspend coroutines until a time point.
///
/// Thread safety: all members may be called from any thread.
class clock {
 public:
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;
  using wall_time_point = std::chrono::system_clock::time_point;

  virtual ~clock() = default;

  /// Monotonic now; never goes backwards.
  virtual time_point now() const noexcept = 0;

  /// Calendar time, used only to interpret absolute dates sent by servers
  /// (an HTTP-date in retry-after). The manual clock moves it with now().
  virtual wall_time_point wall_now() const noexcept = 0;

  /// Suspends the calling coroutine until now() >= deadline; returns at once
  /// (without suspending) when the deadline has already passed.
  /// Returns: success, or errc::cancelled when the wait was cancelled through
  /// the coroutine's cancellation slot (the deadline then did not pass).
  boost::asio::awaitable<result<void>> sleep_until(time_point deadline);

  /// sleep_until(now() + d). Requires: nothing; d <= 0 returns at once.
  boost::asio::awaitable<result<void>> sleep_for(duration d);

 protected:
  friend class detail::clock_timer;

  /// Arms `timer` for `deadline` (called by the timer under its own lock).
  /// The real clock sets the Asio timer's expiry; the manual clock records the
  /// timer and expires it from advance(). Returns false, arming nothing, when
  /// the deadline has already passed.
  virtual bool arm(const std::shared_ptr<detail::clock_timer>& timer, time_point deadline) = 0;
};

/// The process-wide real clock: std::chrono::steady_clock for now(),
/// std::chrono::system_clock for wall_now(), Asio steady_timers for waits.
std::shared_ptr<clock> real_clock();

/// `c` when it is not null, real_clock() otherwise (how components treat a
/// null clock option).
inline std::shared_ptr<clock> or_real_clock(std::shared_ptr<clock> c) {
  return c ? std::move(c) : real_clock();
}

/// A clock that only moves when told to. Pending waits complete, in deadline
/// order, when advance() or advance_to() moves time to or past their deadline;
/// their coroutines resume on their own executors (run or poll the io_context
/// afterwards).
///
/// Thread safety: all members may be called from any thread.
class manual_clock final : public clock {
 public:
  /// Starts at `start` (monotonic) and `wall_start` (calendar time, default
  /// 2026-01-01T00:00:00Z so HTTP-date tests are reproducible).
  explicit manual_clock(time_point start = time_point{},
                        wall_time_point wall_start = default_wall_start());

  time_point now() const noexcept override;
  wall_time_point wall_now() const noexcept override;

  /// Moves time forward by d and expires every wait whose deadline is now
  /// reached. Requires: d >= 0 (negative values are ignored).
  void advance(duration d);

  /// Moves time forward to t (no-op when t <= now()).
  void advance_to(time_point t);

  /// The earliest deadline of a pending wait, if any. Tests use it to jump
  /// from event to event: `while (auto t = clk.next_deadline()) {...}`.
  std::optional<time_point> next_deadline() const;

  /// Number of waits currently armed on this clock.
  std::size_t pending_waits() const;

  /// 2026-01-01T00:00:00Z.
  static wall_time_point default_wall_start() noexcept;

 private:
  bool arm(const std::shared_ptr<detail::clock_timer>& timer, time_point deadline) override;

  // A wait armed on this clock. `generation` tells a live arming from a stale
  // one: a timer that was cancelled or re-armed no longer matches.
  struct entry {
    time_point deadline;
    std::uint64_t generation;
    std::weak_ptr<detail::clock_timer> timer;
  };

  // Drops stale entries from the top of the heap. Requires: mutex_ held.
  void prune_top() const;

  mutable std::mutex mutex_;
  time_point now_;
  time_point start_;
  wall_time_point wall_start_;
  mutable std::vector<entry> heap_;  // min-heap on deadline
};

}  // namespace grove::runtime
