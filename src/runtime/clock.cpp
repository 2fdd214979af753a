// Real and manual clocks, and the clock_timer wait primitive.
#include "grove/runtime/clock.hpp"

#include <algorithm>
#include <functional>
#include <tuple>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "clock_timer.hpp"
#include "grove/runtime/errors.hpp"

namespace grove::runtime {

namespace asio = boost::asio;

namespace detail {

clock_timer::clock_timer(clock& time_source, const asio::any_io_executor& executor)
    : clock_(time_source), timer_(executor) {}

asio::awaitable<wait_status> clock_timer::wait(std::optional<clock::time_point> deadline) {
  // A cancelled coroutine throws at its next suspension; answer without one.
  auto cancel_state = co_await asio::this_coro::cancellation_state;
  if (cancel_state.cancelled() != asio::cancellation_type::none) {
    co_return wait_status::cancelled;
  }

  // The checks and the start of the Asio wait happen under one lock, in the
  // initiation, so a wake() or expire() cannot fall between them and be lost.
  auto initiate = [this, deadline](auto handler) {
    std::unique_lock lock(mutex_);
    expired_ = false;
    bool immediate = woken_;
    if (!immediate) {
      armed_generation_.store(next_generation_++, std::memory_order_release);
      if (!deadline) {
        timer_.expires_at(asio::steady_timer::time_point::max());
      } else if (!clock_.arm(shared_from_this(), *deadline)) {
        expired_ = true;
        immediate = true;
      }
    }
    if (immediate) {
      auto executor = asio::get_associated_executor(handler, timer_.get_executor());
      asio::post(executor, [h = std::move(handler)]() mutable { h(boost::system::error_code{}); });
      return;
    }
    timer_.async_wait(std::move(handler));
  };
  auto token = asio::as_tuple(asio::use_awaitable);
  auto [ec] = co_await asio::async_initiate<decltype(token), void(boost::system::error_code)>(
      initiate, token);

  std::lock_guard lock(mutex_);
  armed_generation_.store(0, std::memory_order_release);
  if (woken_) {
    woken_ = false;
    co_return wait_status::woken;
  }
  if (expired_ || !ec) {
    co_return wait_status::expired;
  }
  co_return wait_status::cancelled;
}

void clock_timer::wake() {
  std::lock_guard lock(mutex_);
  woken_ = true;
  timer_.cancel();
}

void clock_timer::expire(std::uint64_t generation) {
  std::lock_guard lock(mutex_);
  if (generation != 0 && armed_generation_.load(std::memory_order_relaxed) == generation) {
    expired_ = true;
    timer_.cancel();
  }
}

void clock_timer::set_native_expiry(clock::time_point deadline) {
  timer_.expires_at(asio::steady_timer::time_point(
      std::chrono::duration_cast<asio::steady_timer::duration>(deadline.time_since_epoch())));
}

}  // namespace detail

// ---------------------------------------------------------------------------
// clock

asio::awaitable<result<void>> clock::sleep_until(time_point deadline) {
  if (now() >= deadline) {
    co_return result<void>{};
  }
  auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<detail::clock_timer>(*this, executor);
  if (co_await timer->wait(deadline) == detail::wait_status::cancelled) {
    co_return fail(errc::cancelled, "sleep cancelled");
  }
  co_return result<void>{};
}

asio::awaitable<result<void>> clock::sleep_for(duration d) { return sleep_until(now() + d); }

// ---------------------------------------------------------------------------
// real clock

namespace {

class steady_real_clock final : public clock {
 public:
  time_point now() const noexcept override {
    return std::chrono::time_point_cast<duration>(std::chrono::steady_clock::now());
  }
  wall_time_point wall_now() const noexcept override { return std::chrono::system_clock::now(); }

 private:
  bool arm(const std::shared_ptr<detail::clock_timer>& timer, time_point deadline) override {
    // An Asio timer whose expiry has passed completes at once, in order.
    timer->set_native_expiry(deadline);
    return true;
  }
};

}  // namespace

std::shared_ptr<clock> real_clock() {
  static const std::shared_ptr<clock> instance = std::make_shared<steady_real_clock>();
  return instance;
}

// ---------------------------------------------------------------------------
// manual clock

namespace {

// std::push_heap builds a max-heap; this order puts the earliest deadline on top.
struct later_deadline {
  template <class Entry>
  bool operator()(const Entry& a, const Entry& b) const {
    return a.deadline > b.deadline;
  }
};

}  // namespace

manual_clock::manual_clock(time_point start, wall_time_point wall_start)
    : now_(start), start_(start), wall_start_(wall_start) {}

clock::time_point manual_clock::now() const noexcept {
  std::lock_guard lock(mutex_);
  return now_;
}

clock::wall_time_point manual_clock::wall_now() const noexcept {
  std::lock_guard lock(mutex_);
  return wall_start_ + std::chrono::duration_cast<wall_time_point::duration>(now_ - start_);
}

void manual_clock::advance(duration d) {
  if (d > duration::zero()) {
    advance_to(now() + d);
  }
}

void manual_clock::advance_to(time_point t) {
  // Collect the due timers under the lock, expire them outside it: a timer
  // takes its own lock and then this one when it arms, so never the reverse.
  std::vector<std::pair<std::shared_ptr<detail::clock_timer>, std::uint64_t>> due;
  {
    std::lock_guard lock(mutex_);
    if (t <= now_) {
      return;
    }
    now_ = t;
    while (!heap_.empty() && heap_.front().deadline <= now_) {
      std::pop_heap(heap_.begin(), heap_.end(), later_deadline{});
      entry e = std::move(heap_.back());
      heap_.pop_back();
      if (auto timer = e.timer.lock()) {
        due.emplace_back(std::move(timer), e.generation);
      }
    }
  }
  for (auto& [timer, generation] : due) {
    timer->expire(generation);
  }
}

void manual_clock::prune_top() const {
  while (!heap_.empty()) {
    const entry& top = heap_.front();
    auto timer = top.timer.lock();
    if (timer && timer->armed_generation() == top.generation) {
      return;
    }
    std::pop_heap(heap_.begin(), heap_.end(), later_deadline{});
    heap_.pop_back();
  }
}

std::optional<clock::time_point> manual_clock::next_deadline() const {
  std::lock_guard lock(mutex_);
  prune_top();
  if (heap_.empty()) {
    return std::nullopt;
  }
  return heap_.front().deadline;
}

std::size_t manual_clock::pending_waits() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(heap_.begin(), heap_.end(), [](const entry& e) {
    auto timer = e.timer.lock();
    return timer && timer->armed_generation() == e.generation;
  }));
}

clock::wall_time_point manual_clock::default_wall_start() noexcept {
  // 2026-01-01T00:00:00Z: 20454 days after the Unix epoch.
  return wall_time_point(std::chrono::seconds(std::int64_t{20454} * 86400));
}

bool manual_clock::arm(const std::shared_ptr<detail::clock_timer>& timer, time_point deadline) {
  std::lock_guard lock(mutex_);
  if (deadline <= now_) {
    return false;
  }
  // Stale entries (cancelled or woken waits) are dropped here too, so the heap
  // stays proportional to the live waits rather than to the history.
  prune_top();
  heap_.push_back(entry{deadline, timer->armed_generation(), timer});
  std::push_heap(heap_.begin(), heap_.end(), later_deadline{});
  return true;
}

}  // namespace grove::runtime
