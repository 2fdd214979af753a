// grove/runtime/retry.hpp: retries with full-jitter backoff, server hints and
// a retry budget shared by every call of a client.
//
// Algorithm, for one call made through retrier::run(op):
//   1. Run attempt n (n = 1, 2, ...). On success, refund the budget
//      (budget.success_refund) and return the value.
//   2. On failure, stop and return the error when any of these holds:
//      - the classifier says the class is not retryable (client_error,
//        rejected, unknown);
//      - the attempt marked itself streamed (bytes already reached the caller:
//        a retry would duplicate them);
//      - n == max_attempts;
//      - the shared budget has less than one retry_cost left (an empty budget
//        means no retries at all, so an outage is not multiplied by the fleet).
//   3. Otherwise spend retry_cost from the budget and wait:
//      - the server's hint when the attempt gave one (retry-after-ms, or
//        retry-after in seconds or as an HTTP-date), capped at max_server_hint;
//      - else full jitter: uniform in [0, min(max_delay, base_delay * 2^(n-1))].
//      Then go to 1 with n + 1.
//
// The jitter comes from a std::mt19937_64 member seeded from the options, so
// tests and benchmarks are reproducible (STYLE: randomness is explicit).
//
// Example:
//   grove::runtime::retrier retry({.max_attempts = 3});
//   auto body = co_await retry.run([&](grove::runtime::attempt_context& at)
//       -> boost::asio::awaitable<grove::result<std::string>> {
//     auto response = co_await http.get(url);
//     if (!response) {
//       at.set_retry_after(response.error_headers["retry-after-ms"],
//                          response.error_headers["retry-after"]);
//     }
//     co_return response;
//   });
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "grove/runtime/clock.hpp"
#include "grove/runtime/errors.hpp"
#include "grove/runtime/result.hpp"

namespace grove::runtime {

/// Parses server retry hints. `retry_after_ms` is a non-negative number of
/// milliseconds (decimals allowed); `retry_after` is a non-negative integer
/// number of seconds or an HTTP-date (IMF-fixdate, RFC 9110 section 5.6.7),
/// interpreted against `now`. Empty strings mean "absent"; retry_after_ms wins
/// when both parse. A date in the past gives 0. Returns nullopt when neither
/// is present and valid (malformed values are ignored, not errors: they come
/// from remote servers).
std::optional<std::chrono::nanoseconds> parse_retry_after(
    std::string_view retry_after_ms, std::string_view retry_after,
    std::chrono::system_clock::time_point now);

/// Configuration of a retry_budget.
struct retry_budget_options {
  /// Most retries banked. Range: >= 0. Default 10. 0 disables retries.
  double max_tokens = 10.0;
  /// Budget at construction. Range: [0, max_tokens]. Default max_tokens.
  std::optional<double> initial_tokens;
  /// Spent by each retry. Range: > 0. Default 1.
  double retry_cost = 1.0;
  /// Given back by each successful call. Range: >= 0. Default 0.1 (one retry
  /// per ten successes once the bank is empty).
  double success_refund = 0.1;

  result<void> validate() const;
};

/// A token bank shared by all calls of one client: each retry spends, each
/// success refunds.
/// Thread safety: every member may be called from any thread.
class retry_budget {
 public:
  /// Throws std::invalid_argument on bad options.
  explicit retry_budget(retry_budget_options options = {});

  /// Spends one retry_cost when at least that much is banked.
  bool try_spend() noexcept;
  /// Banks success_refund, up to max_tokens.
  void refund() noexcept;
  /// Tokens banked now.
  double tokens() const noexcept;

  const retry_budget_options& options() const noexcept { return options_; }

 private:
  retry_budget_options options_;
  mutable std::mutex mutex_;
  double tokens_;
};

/// Whether and how a failure class is retried.
/// Default: server_error, timeout, connection and rate_limited are retried.
bool is_retryable(failure_class c) noexcept;

/// Configuration of a retrier.
struct retry_options {
  /// Attempts per call, the first included. Range: >= 1. Default 3.
  int max_attempts = 3;
  /// Backoff base: the jitter ceiling of the first retry. Range: > 0.
  /// Default 0.5 s.
  std::chrono::nanoseconds base_delay = std::chrono::milliseconds(500);
  /// Ceiling of the jitter range. Range: >= base_delay. Default 8 s.
  std::chrono::nanoseconds max_delay = std::chrono::seconds(8);
  /// Cap applied to server hints. Range: >= 0. Default 60 s.
  std::chrono::nanoseconds max_server_hint = std::chrono::seconds(60);
  /// Seed of the jitter generator. Default a fixed constant.
  std::uint64_t seed = 0x6a09e667f3bcc908ULL;
  /// Maps an attempt's error to a failure_class; null means classify_error().
  std::function<failure_class(const error&)> classifier;
  /// Shared budget; null means a private budget with default options (pass the
  /// same pointer to several retriers to share one budget across them).
  std::shared_ptr<retry_budget> budget;
  /// Time source for backoff sleeps and HTTP-dates; null means real_clock().
  std::shared_ptr<clock> time_source;

  result<void> validate() const;
};

/// Counters since construction.
struct retry_stats {
  std::uint64_t calls = 0;                  // run() calls
  std::uint64_t attempts = 0;               // attempts made, first ones included
  std::uint64_t retries = 0;                // attempts after the first
  std::uint64_t succeeded = 0;              // calls that ended with a value
  std::uint64_t gave_up_not_retryable = 0;  // stopped: class not retryable
  std::uint64_t gave_up_streamed = 0;       // stopped: bytes reached the caller
  std::uint64_t gave_up_attempts = 0;       // stopped: max_attempts reached
  std::uint64_t gave_up_budget = 0;         // stopped: budget empty
  std::uint64_t server_hints = 0;           // waits that used a server hint
};

/// What an attempt tells the retry loop about itself. Passed to the operation.
class attempt_context {
 public:
  explicit attempt_context(int number) noexcept : number_(number) {}

  /// 1 for the first attempt.
  int number() const noexcept { return number_; }

  /// The server asked to wait at least `delay` before trying again.
  void set_retry_after(std::chrono::nanoseconds delay) noexcept { hint_ = delay; }

  /// Same, from raw header values (see parse_retry_after; malformed ignored).
  /// `now` is the calendar time HTTP-dates are measured against.
  void set_retry_after(std::string_view retry_after_ms, std::string_view retry_after,
                       std::chrono::system_clock::time_point now);

  /// Response bytes have reached the caller: this call must not be retried.
  void mark_streamed() noexcept { streamed_ = true; }

  bool streamed() const noexcept { return streamed_; }
  std::optional<std::chrono::nanoseconds> retry_after() const noexcept { return hint_; }

 private:
  int number_;
  bool streamed_ = false;
  std::optional<std::chrono::nanoseconds> hint_;
};

/// Runs operations with retries. One retrier per client; its budget (and
/// optionally one budget across clients) is shared by all their calls.
/// Ownership: must outlive every run() in progress.
/// Thread safety: run() may be called concurrently from any thread.
class retrier {
 public:
  /// Throws std::invalid_argument (validate()'s message) on bad options.
  explicit retrier(retry_options options = {});

  /// Runs `op` until it succeeds or the algorithm in the file comment stops.
  /// `op` is called as `op(attempt_context&)` and returns
  /// `boost::asio::awaitable<result<T>>`; it may be called several times.
  /// Completes with op's value or its last error (unchanged, so callers can
  /// still inspect it); errc::cancelled when a backoff wait was cancelled.
  template <class Op>
  auto run(Op op) -> std::invoke_result_t<Op&, attempt_context&>;

  /// The delay before the next attempt after attempt `at` failed with class
  /// `c`, or nullopt to stop (spends the budget when it returns a delay).
  /// Exposed for tests and for callers with their own loop.
  std::optional<std::chrono::nanoseconds> next_delay(const attempt_context& at, failure_class c);

  /// Classifies with the configured classifier.
  failure_class classify(const error& e) const;

  /// Reports that attempt `number` starts (counts calls, attempts, retries).
  void on_attempt(int number);

  /// Reports a success (refunds the budget).
  void on_success();

  retry_stats stats() const;
  const std::shared_ptr<retry_budget>& budget() const noexcept { return options_.budget; }
  const std::shared_ptr<clock>& time_source() const noexcept { return clock_; }
  const retry_options& options() const noexcept { return options_; }

 private:
  retry_options options_;
  std::shared_ptr<clock> clock_;
  mutable std::mutex mutex_;
  std::mt19937_64 rng_;
  retry_stats stats_;
};

// ---------------------------------------------------------------------------
// Definitions.

template <class Op>
auto retrier::run(Op op) -> std::invoke_result_t<Op&, attempt_context&> {
  for (int number = 1;; ++number) {
    on_attempt(number);
    attempt_context at(number);
    auto outcome = co_await op(at);
    if (outcome) {
      on_success();
      co_return outcome;
    }
    const auto delay = next_delay(at, classify(outcome.error()));
    if (!delay) {
      co_return outcome;
    }
    if (auto slept = co_await clock_->sleep_for(*delay); !slept) {
      co_return grove::fail(std::move(slept).error());
    }
  }
}

}  // namespace grove::runtime
