// token_bucket: lazily refilled bucket with a FIFO queue whose head waits on
// the clock for exactly its deficit.
#include "grove/runtime/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>
#include <boost/asio/this_coro.hpp>

#include "clock_timer.hpp"
#include "grove/core/assert.hpp"
#include "options_check.hpp"

namespace grove::runtime {

namespace asio = boost::asio;

namespace {

// Refill arithmetic is in double; a head woken at the exact nanosecond its
// deficit is covered may still see a deficit of a few ulps. Amounts within
// this tolerance count as present (it is far below one token per hour).
bool enough(double tokens, double cost) { return tokens >= cost - 1e-9 * std::max(1.0, cost); }

}  // namespace

result<void> token_bucket_options::validate() const {
  detail::options_check check("token_bucket_options");
  check.require(detail::positive(capacity), "capacity", "must be finite and > 0");
  check.require(detail::positive(refill_per_second), "refill_per_second", "must be finite and > 0");
  check.require(
      std::isfinite(initial_tokens) && initial_tokens >= 0 && !(initial_tokens > capacity),
      "initial_tokens", "must be in [0, capacity]");
  return check.finish();
}

token_bucket_options token_bucket_options::per_minute(double per_minute, double burst) {
  return {.capacity = burst,
          .refill_per_second = per_minute / 60.0,
          .initial_tokens = burst,
          .time_source = nullptr};
}

struct token_bucket::waiter {
  double cost;
  std::shared_ptr<detail::clock_timer> timer;
  bool closed = false;  // set by close(), which also removes the waiter
};

token_bucket::token_bucket(token_bucket_options options)
    : options_(std::move(options)), clock_(or_real_clock(options_.time_source)) {
  detail::throw_if_invalid(options_.validate());
  tokens_ = options_.initial_tokens;
  last_refill_ = clock_->now();
}

token_bucket::~token_bucket() {
  std::lock_guard lock(mutex_);
  GROVE_ASSERT(queue_.empty(), "token_bucket destroyed while acquire() calls wait");
}

void token_bucket::refill_locked(clock::time_point now) const {
  if (now <= last_refill_) {
    return;
  }
  const double seconds = std::chrono::duration<double>(now - last_refill_).count();
  tokens_ = std::min(options_.capacity, tokens_ + seconds * options_.refill_per_second);
  last_refill_ = now;
}

void token_bucket::wake_head_locked() {
  if (!queue_.empty()) {
    queue_.front()->timer->wake();
  }
}

asio::awaitable<result<void>> token_bucket::acquire(double cost) {
  if (!detail::positive(cost)) {
    std::lock_guard lock(mutex_);
    ++stats_.rejected;
    co_return fail(errc::invalid_argument,
                   fmt::format("token_bucket::acquire: cost {} must be finite and > 0", cost));
  }
  if (cost > options_.capacity) {
    std::lock_guard lock(mutex_);
    ++stats_.rejected;
    co_return fail(errc::cost_exceeds_capacity,
                   fmt::format("token_bucket::acquire: cost {} exceeds the capacity {}; "
                               "it could never be granted",
                               cost, options_.capacity));
  }

  // 1. Fast path: nobody queued and enough tokens.
  const auto executor = co_await asio::this_coro::executor;
  std::shared_ptr<waiter> self;
  std::list<std::shared_ptr<waiter>>::iterator position;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      ++stats_.rejected;
      co_return fail(errc::closed, "token_bucket::acquire: bucket closed");
    }
    refill_locked(clock_->now());
    if (queue_.empty() && enough(tokens_, cost)) {
      tokens_ = std::max(0.0, tokens_ - cost);
      ++stats_.granted;
      ++stats_.granted_at_once;
      co_return result<void>{};
    }
    self = std::make_shared<waiter>(
        waiter{cost, std::make_shared<detail::clock_timer>(*clock_, executor)});
    position = queue_.insert(queue_.end(), self);
  }

  // 2. Queued. Only the head waits with a deadline; the others wait to be
  // woken when they become the head.
  for (;;) {
    std::optional<clock::time_point> deadline;
    {
      std::lock_guard lock(mutex_);
      if (self->closed) {
        ++stats_.rejected;
        co_return fail(errc::closed, "token_bucket::acquire: bucket closed while waiting");
      }
      if (queue_.front() == self) {
        const auto now = clock_->now();
        refill_locked(now);
        if (enough(tokens_, cost)) {
          tokens_ = std::max(0.0, tokens_ - cost);
          queue_.pop_front();
          wake_head_locked();
          ++stats_.granted;
          co_return result<void>{};
        }
        const double seconds = (cost - tokens_) / options_.refill_per_second;
        const auto wait = std::chrono::nanoseconds(
            std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(seconds * 1e9))));
        deadline = now + wait;
      }
    }

    if (co_await self->timer->wait(deadline) != detail::wait_status::cancelled) {
      continue;
    }

    // 3. Cancelled: leave the queue having taken nothing; a new head must
    // recompute its deadline.
    std::lock_guard lock(mutex_);
    if (self->closed) {
      ++stats_.rejected;
      co_return fail(errc::closed, "token_bucket::acquire: bucket closed while waiting");
    }
    const bool was_head = queue_.front() == self;
    queue_.erase(position);
    if (was_head) {
      wake_head_locked();
    }
    ++stats_.cancelled;
    co_return fail(errc::cancelled, "token_bucket::acquire: cancelled while waiting");
  }
}

bool token_bucket::try_acquire(double cost) {
  if (!detail::positive(cost) || cost > options_.capacity) {
    return false;
  }
  std::lock_guard lock(mutex_);
  if (closed_ || !queue_.empty()) {
    return false;
  }
  refill_locked(clock_->now());
  if (!enough(tokens_, cost)) {
    return false;
  }
  tokens_ = std::max(0.0, tokens_ - cost);
  ++stats_.granted;
  ++stats_.granted_at_once;
  return true;
}

double token_bucket::available() const {
  std::lock_guard lock(mutex_);
  refill_locked(clock_->now());
  return tokens_;
}

std::size_t token_bucket::waiting() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

token_bucket_stats token_bucket::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void token_bucket::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  for (auto& w : queue_) {
    w->closed = true;
    w->timer->wake();
  }
  queue_.clear();
}

}  // namespace grove::runtime
