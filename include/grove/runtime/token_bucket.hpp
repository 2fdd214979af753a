// grove/runtime/token_bucket.hpp: an awaitable token bucket with FIFO waiters.
//
// Algorithm: the bucket holds up to `capacity` tokens and gains
// `refill_per_second` tokens per second of clock time, computed lazily from the
// time elapsed since the last look (no background timer). acquire(cost) takes
// `cost` tokens at once when no one is queued and enough are present;
// otherwise the caller joins a FIFO queue. Only the head of the queue waits on
// the clock, for exactly the time its deficit needs
// (deficit / refill_per_second); when it has taken its tokens it wakes the
// next waiter, which becomes the head. Because later arrivals never overtake
// the head, a large request cannot be starved by a stream of small ones.
//
// Cancellation: a waiting acquire() honours Asio per-operation cancellation
// (for example `||` with a timer, or a task group's close). The cancelled
// waiter leaves the queue and has taken nothing: tokens are only ever taken by
// the head at the moment it succeeds, so nothing can leak.
//
// Example: 60 requests per minute, one at a time.
//   grove::runtime::token_bucket bucket({.capacity = 1,
//                                        .refill_per_second = 1.0,
//                                        .initial_tokens = 1});
//   if (auto ok = co_await bucket.acquire(); !ok) { /* closed or cancelled */ }
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "grove/runtime/clock.hpp"
#include "grove/runtime/errors.hpp"
#include "grove/runtime/result.hpp"

namespace grove::runtime {

/// Configuration of a token_bucket.
struct token_bucket_options {
  /// Most tokens the bucket holds (the burst). Range: > 0, finite. Default 1.
  double capacity = 1.0;

  /// Tokens added per second of clock time. Range: > 0, finite. Default 1
  /// (with capacity 1: 60 requests per minute).
  double refill_per_second = 1.0;

  /// Tokens present at construction. Range: [0, capacity]. Default 0: a fresh
  /// bucket does not grant a burst until it has refilled; set it to capacity
  /// to start full. Deliberately explicit (no "starts full" surprise).
  double initial_tokens = 0.0;

  /// Time source; null means real_clock().
  std::shared_ptr<clock> time_source;

  /// Every bad field, in one errc::invalid_options error.
  result<void> validate() const;

  /// Options for `per_minute` operations with a burst of `burst`, starting
  /// full. Example: per_minute(60, 1) is one call per second.
  static token_bucket_options per_minute(double per_minute, double burst);
};

/// Counters of one bucket (monotonic since construction).
struct token_bucket_stats {
  std::uint64_t granted = 0;          // acquire() calls that succeeded
  std::uint64_t granted_at_once = 0;  // ...without waiting
  std::uint64_t cancelled = 0;        // waits that ended through cancellation
  std::uint64_t rejected = 0;         // cost above capacity, bad cost, or closed
};

/// Awaitable rate limiter. See the file comment for the algorithm.
///
/// Ownership: the bucket must outlive every acquire() in progress (close()
/// and await them first, for instance through a task_group).
/// Thread safety: every member may be called from any thread; waiters resume
/// on their own coroutine's executor.
class token_bucket {
 public:
  /// Throws std::invalid_argument (with validate()'s message) on bad options.
  explicit token_bucket(token_bucket_options options = {});
  ~token_bucket();

  token_bucket(const token_bucket&) = delete;
  token_bucket& operator=(const token_bucket&) = delete;

  /// Takes `cost` tokens, waiting in FIFO order until they are available.
  /// Completes: success once the tokens are taken; errc::cost_exceeds_capacity
  /// at once when cost > capacity; errc::invalid_argument when cost <= 0 or not
  /// finite; errc::closed when the bucket is (or becomes) closed;
  /// errc::cancelled when per-operation cancellation reached the wait (no
  /// tokens are taken in any failure case).
  boost::asio::awaitable<result<void>> acquire(double cost = 1.0);

  /// Takes `cost` tokens only if that is possible now without overtaking a
  /// waiter. Returns false otherwise (also for a bad cost or a closed bucket).
  bool try_acquire(double cost = 1.0);

  /// Tokens present now (after refill), for monitoring.
  double available() const;

  /// Number of queued acquire() calls.
  std::size_t waiting() const;

  /// Capacity and refill rate this bucket was built with.
  const token_bucket_options& options() const noexcept { return options_; }

  token_bucket_stats stats() const;

  /// Refuses every later acquire() and makes every waiting one complete with
  /// errc::closed (on its own executor). Idempotent. The bucket has no
  /// background work: once the waiters have resumed, nothing of it is pending.
  void close();

 private:
  struct waiter;

  void refill_locked(clock::time_point now) const;
  void wake_head_locked();

  token_bucket_options options_;
  std::shared_ptr<clock> clock_;

  mutable std::mutex mutex_;
  mutable double tokens_;
  mutable clock::time_point last_refill_;
  std::list<std::shared_ptr<waiter>> queue_;
  token_bucket_stats stats_;
  bool closed_ = false;
};

}  // namespace grove::runtime
