// circuit_breaker: count-window breaker with bounded half-open probes.
#include "grove/runtime/circuit_breaker.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "options_check.hpp"

namespace grove::runtime {

namespace {

long long to_ms(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

bool in_unit_interval(double v) { return detail::positive(v) && v <= 1.0; }

}  // namespace

std::string_view to_string(breaker_state s) noexcept {
  switch (s) {
    case breaker_state::closed:
      return "closed";
    case breaker_state::open:
      return "open";
    case breaker_state::half_open:
      return "half_open";
  }
  return "unknown";
}

call_outcome count_as_failure(failure_class c) noexcept {
  switch (c) {
    case failure_class::server_error:
    case failure_class::timeout:
    case failure_class::connection:
    case failure_class::unknown:
      return call_outcome::failure;
    case failure_class::rate_limited:
    case failure_class::client_error:
    case failure_class::rejected:
      return call_outcome::ignored;
  }
  return call_outcome::failure;
}

result<void> circuit_breaker_options::validate() const {
  detail::options_check check("circuit_breaker_options");
  check.require(window_size >= 1, "window_size", "must be >= 1");
  check.require(minimum_calls >= 1 && minimum_calls <= window_size, "minimum_calls",
                "must be in [1, window_size]");
  check.require(in_unit_interval(failure_rate_threshold), "failure_rate_threshold",
                "must be in (0, 1]");
  check.require(slow_call_duration.count() > 0, "slow_call_duration", "must be > 0");
  check.require(in_unit_interval(slow_call_rate_threshold), "slow_call_rate_threshold",
                "must be in (0, 1]");
  check.require(open_interval.count() > 0, "open_interval", "must be > 0");
  check.require(std::isfinite(open_interval_multiplier) && open_interval_multiplier >= 1,
                "open_interval_multiplier", "must be finite and >= 1");
  check.require(max_open_interval >= open_interval, "max_open_interval",
                "must be >= open_interval");
  check.require(half_open_max_probes >= 1, "half_open_max_probes", "must be >= 1");
  check.require(half_open_successes >= 1, "half_open_successes", "must be >= 1");
  return check.finish();
}

// ---------------------------------------------------------------------------
// breaker_permit

breaker_permit::breaker_permit(breaker_permit&& other) noexcept
    : breaker_(std::exchange(other.breaker_, nullptr)),
      generation_(other.generation_),
      start_(other.start_),
      probe_(other.probe_) {}

breaker_permit& breaker_permit::operator=(breaker_permit&& other) noexcept {
  if (this != &other) {
    record(call_outcome::ignored);
    breaker_ = std::exchange(other.breaker_, nullptr);
    generation_ = other.generation_;
    start_ = other.start_;
    probe_ = other.probe_;
  }
  return *this;
}

breaker_permit::~breaker_permit() { record(call_outcome::ignored); }

void breaker_permit::record(call_outcome outcome) {
  if (breaker_ != nullptr) {
    std::exchange(breaker_, nullptr)->record(*this, outcome);
  }
}

// ---------------------------------------------------------------------------
// circuit_breaker

circuit_breaker::circuit_breaker(circuit_breaker_options options)
    : options_(std::move(options)),
      clock_(or_real_clock(options_.time_source)),
      open_interval_(options_.open_interval) {
  detail::throw_if_invalid(options_.validate());
  window_.resize(options_.window_size);
}

circuit_breaker::~circuit_breaker() = default;

result<breaker_permit> circuit_breaker::allow() {
  std::lock_guard lock(mutex_);
  const auto now = clock_->now();
  if (state_ == breaker_state::closed) {
    ++stats_.allowed;
    return breaker_permit(this, generation_, /*probe=*/false, now);
  }
  if (state_ == breaker_state::open) {
    if (now < open_until_) {
      ++stats_.rejected;
      return fail(errc::circuit_open,
                  fmt::format("circuit '{}' is open for another {} ms", options_.name,
                              to_ms(open_until_ - now)),
                  options_.name);
    }
    transition_locked(breaker_state::half_open, now, "open interval elapsed");
  }

  // Half-open: a bounded number of probes.
  if (probes_in_flight_ >= options_.half_open_max_probes) {
    ++stats_.rejected;
    return fail(errc::circuit_open,
                fmt::format("circuit '{}' is half-open with {} probes in flight (the limit)",
                            options_.name, probes_in_flight_),
                options_.name);
  }
  ++probes_in_flight_;
  ++stats_.allowed;
  return breaker_permit(this, generation_, /*probe=*/true, now);
}

void circuit_breaker::record(const breaker_permit& permit, call_outcome outcome) {
  std::lock_guard lock(mutex_);
  const auto now = clock_->now();
  const bool slow = now - permit.start_ >= options_.slow_call_duration;
  switch (outcome) {
    case call_outcome::success:
      ++stats_.successes;
      break;
    case call_outcome::failure:
      ++stats_.failures;
      break;
    case call_outcome::ignored:
      ++stats_.ignored;
      break;
  }
  if (outcome != call_outcome::ignored && slow) {
    ++stats_.slow;
  }

  // Calls admitted under an earlier state (before the last transition) are
  // counted above but say nothing about the current state.
  if (permit.generation_ != generation_) {
    return;
  }

  if (permit.probe_) {
    --probes_in_flight_;
    if (outcome == call_outcome::ignored) {
      return;
    }
    if (outcome == call_outcome::failure || slow) {
      const auto grown = std::chrono::duration_cast<std::chrono::nanoseconds>(
          open_interval_ * options_.open_interval_multiplier);
      open_interval_ = std::min(grown, options_.max_open_interval);
      transition_locked(breaker_state::open, now,
                        outcome == call_outcome::failure ? "probe failed" : "probe was slow");
      return;
    }
    if (++probe_successes_ >= options_.half_open_successes) {
      open_interval_ = options_.open_interval;
      transition_locked(breaker_state::closed, now, "probes succeeded");
    }
    return;
  }

  if (state_ != breaker_state::closed || outcome == call_outcome::ignored) {
    return;
  }

  // Closed: slide the window, then test both rates.
  sample& slot = window_[window_next_];
  if (window_count_ == window_.size()) {
    window_failures_ -= slot.failure ? 1 : 0;
    window_slow_ -= slot.slow ? 1 : 0;
  } else {
    ++window_count_;
  }
  slot = sample{outcome == call_outcome::failure, slow};
  window_failures_ += slot.failure ? 1 : 0;
  window_slow_ += slot.slow ? 1 : 0;
  window_next_ = (window_next_ + 1) % window_.size();

  if (window_count_ < options_.minimum_calls) {
    return;
  }
  const double calls = static_cast<double>(window_count_);
  const double failure_rate = static_cast<double>(window_failures_) / calls;
  const double slow_rate = static_cast<double>(window_slow_) / calls;
  if (failure_rate >= options_.failure_rate_threshold) {
    transition_locked(
        breaker_state::open, now,
        fmt::format("failure rate {:.0f}% over {} calls", failure_rate * 100, window_count_));
  } else if (slow_rate >= options_.slow_call_rate_threshold) {
    transition_locked(
        breaker_state::open, now,
        fmt::format("slow-call rate {:.0f}% over {} calls", slow_rate * 100, window_count_));
  }
}

void circuit_breaker::transition_locked(breaker_state to, clock::time_point now,
                                        std::string_view why) {
  const breaker_state from = state_;
  state_ = to;
  ++generation_;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
  switch (to) {
    case breaker_state::open:
      ++stats_.opened;
      open_until_ = now + open_interval_;
      break;
    case breaker_state::half_open:
      ++stats_.half_opened;
      break;
    case breaker_state::closed:
      ++stats_.closed;
      reset_window_locked();
      break;
  }

  // Transitions are rare (a few per open interval at most), so they are logged
  // under the lock: the log then shows them in the order they happened.
  if (options_.logger) {
    options_.logger->info("circuit breaker '{}': {} -> {} ({}; open interval {} ms)", options_.name,
                          to_string(from), to_string(to), why, to_ms(open_interval_));
  }
}

void circuit_breaker::reset_window_locked() {
  window_next_ = 0;
  window_count_ = 0;
  window_failures_ = 0;
  window_slow_ = 0;
}

breaker_state circuit_breaker::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

std::chrono::nanoseconds circuit_breaker::current_open_interval() const {
  std::lock_guard lock(mutex_);
  return open_interval_;
}

std::size_t circuit_breaker::window_calls() const {
  std::lock_guard lock(mutex_);
  return window_count_;
}

std::size_t circuit_breaker::window_failures() const {
  std::lock_guard lock(mutex_);
  return window_failures_;
}

std::size_t circuit_breaker::probes_in_flight() const {
  std::lock_guard lock(mutex_);
  return probes_in_flight_;
}

circuit_breaker_stats circuit_breaker::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace grove::runtime
