#include "grove/runtime/retry.hpp"

#include <vector>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "runtime_test_support.hpp"

namespace rt = grove::runtime;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using rt::testing::drain;
using rt::testing::run_until;
using rt::testing::spawn;

namespace {

// An upstream that fails with the scripted errors, then succeeds.
struct scripted_upstream {
  std::vector<std::error_code> failures;
  std::vector<rt::clock::time_point> attempt_times;
  std::string retry_after_ms;
  std::string retry_after;
  bool stream_before_failing = false;

  asio::awaitable<grove::result<int>> operator()(rt::attempt_context& at, rt::clock& clk) {
    attempt_times.push_back(clk.now());
    const auto index = static_cast<std::size_t>(at.number() - 1);
    if (index < failures.size()) {
      at.set_retry_after(retry_after_ms, retry_after, clk.wall_now());
      if (stream_before_failing) {
        at.mark_streamed();
      }
      co_return grove::fail(failures[index], "scripted failure");
    }
    co_return at.number();
  }
};

const std::error_code server_error = std::make_error_code(std::errc::connection_reset);
const std::error_code bad_request = std::make_error_code(std::errc::invalid_argument);

struct fixture {
  std::shared_ptr<rt::manual_clock> clk = std::make_shared<rt::manual_clock>();
  asio::io_context io;
  scripted_upstream upstream;

  rt::retry_options options() {
    rt::retry_options o;
    o.time_source = clk;
    return o;
  }

  std::shared_ptr<rt::testing::spawned<grove::result<int>>> start(rt::retrier& retry) {
    return spawn(io, retry.run([this](rt::attempt_context& at) { return upstream(at, *clk); }));
  }
};

}  // namespace

TEST_CASE("retry: parse_retry_after reads milliseconds, seconds and HTTP-dates", "[runtime]") {
  const auto now = rt::manual_clock::default_wall_start();  // Thu, 01 Jan 2026 00:00:00 GMT
  CHECK(rt::parse_retry_after("1500", "", now) == 1500ms);
  CHECK(rt::parse_retry_after(" 2.5 ", "", now) == 2500us);
  CHECK(rt::parse_retry_after("", "7", now) == 7s);
  CHECK(rt::parse_retry_after("250", "7", now) == 250ms);  // retry-after-ms wins
  CHECK(rt::parse_retry_after("", "Thu, 01 Jan 2026 00:00:42 GMT", now) == 42s);
  CHECK(rt::parse_retry_after("", "Wed, 31 Dec 2025 23:59:00 GMT", now) == 0s);
  CHECK(rt::parse_retry_after("", "99999999999999", now) == 86400s);
  CHECK_FALSE(rt::parse_retry_after("", "", now));
  CHECK_FALSE(rt::parse_retry_after("-5", "", now));
  CHECK_FALSE(rt::parse_retry_after("soon", "tomorrow", now));
  CHECK_FALSE(rt::parse_retry_after("", "Thu, 32 Jan 2026 00:00:42 GMT", now));
  CHECK_FALSE(rt::parse_retry_after("", "-3", now));
}

TEST_CASE("retry: transient failures are retried with full-jitter backoff", "[runtime]") {
  fixture f;
  f.upstream.failures = {server_error, server_error};
  rt::retrier retry(f.options());
  auto call = f.start(retry);
  run_until(f.io, *f.clk, f.clk->now() + 1min);
  REQUIRE(call->done);
  REQUIRE(call->value->has_value());
  CHECK(**call->value == 3);

  // Attempt n waits uniformly in [0, min(8 s, 0.5 s * 2^(n-1))].
  REQUIRE(f.upstream.attempt_times.size() == 3);
  const auto first_wait = f.upstream.attempt_times[1] - f.upstream.attempt_times[0];
  const auto second_wait = f.upstream.attempt_times[2] - f.upstream.attempt_times[1];
  CHECK(first_wait <= 500ms);
  CHECK(second_wait <= 1s);
  CHECK(retry.stats().retries == 2);
  CHECK(retry.stats().succeeded == 1);
}

TEST_CASE("retry: jitter is seeded, bounded by the cap and spread out", "[runtime]") {
  auto budget = std::make_shared<rt::retry_budget>(rt::retry_budget_options{
      .max_tokens = 1e9, .initial_tokens = {}, .retry_cost = 1, .success_refund = 0});
  auto delays = [&](std::uint64_t seed) {
    rt::retry_options options;
    options.max_attempts = 100;
    options.seed = seed;
    options.budget = budget;
    rt::retrier retry(options);
    std::vector<std::chrono::nanoseconds> out;
    for (int n = 1; n < 100; ++n) {
      rt::attempt_context at(n);
      out.push_back(*retry.next_delay(at, rt::failure_class::server_error));
    }
    return out;
  };
  const auto a = delays(42);
  CHECK(a == delays(42));
  CHECK(a != delays(43));
  std::chrono::nanoseconds largest{0};
  for (auto d : a) {
    CHECK(d >= 0ns);
    CHECK(d <= 8s);
    largest = std::max(largest, d);
  }
  CHECK(largest > 4s);  // 90+ draws under an 8 s ceiling: not all small
}

TEST_CASE("retry: server hints replace the jitter and are capped at 60 s", "[runtime]") {
  fixture f;
  f.upstream.failures = {server_error, server_error};

  SECTION("retry-after-ms") {
    f.upstream.retry_after_ms = "1250";
    rt::retrier retry(f.options());
    auto call = f.start(retry);
    run_until(f.io, *f.clk, f.clk->now() + 1min);
    REQUIRE(call->value->has_value());
    CHECK(f.upstream.attempt_times[1] - f.upstream.attempt_times[0] == 1250ms);
    CHECK(retry.stats().server_hints == 2);
  }

  SECTION("retry-after as an HTTP-date, more than 60 s away") {
    f.upstream.retry_after = "Thu, 01 Jan 2026 00:10:00 GMT";
    rt::retrier retry(f.options());
    auto call = f.start(retry);
    run_until(f.io, *f.clk, f.clk->now() + 5min);
    REQUIRE(call->value->has_value());
    CHECK(f.upstream.attempt_times[1] - f.upstream.attempt_times[0] == 60s);
  }
}

TEST_CASE("retry: calls that must not be retried fail at once", "[runtime]") {
  fixture f;
  rt::retrier retry(f.options());

  SECTION("a non-retryable class") {
    f.upstream.failures = {bad_request};
    auto call = f.start(retry);
    drain(f.io);
    REQUIRE(call->done);
    CHECK(call->value->error().code == bad_request);  // the upstream's error, unchanged
    CHECK(f.upstream.attempt_times.size() == 1);
    CHECK(retry.stats().gave_up_not_retryable == 1);
  }

  SECTION("bytes already streamed to the caller") {
    f.upstream.failures = {server_error};
    f.upstream.stream_before_failing = true;
    auto call = f.start(retry);
    drain(f.io);
    REQUIRE(call->done);
    CHECK(call->value->error().code == server_error);
    CHECK(f.upstream.attempt_times.size() == 1);
    CHECK(retry.stats().gave_up_streamed == 1);
  }

  SECTION("attempts exhausted") {
    f.upstream.failures = {server_error, server_error, server_error, server_error};
    auto call = f.start(retry);
    run_until(f.io, *f.clk, f.clk->now() + 1min);
    REQUIRE(call->done);
    CHECK(call->value->error().code == server_error);
    CHECK(f.upstream.attempt_times.size() == 3);
    CHECK(retry.stats().gave_up_attempts == 1);
  }
}

TEST_CASE("retry: the shared budget stops retries during an outage", "[runtime]") {
  // Evidence: 10 calls against a dead upstream with a budget of 3 retries make
  // 13 attempts in total, not 30; then successes refund the budget.
  fixture f;
  f.upstream.failures = std::vector<std::error_code>(1000, server_error);
  auto budget = std::make_shared<rt::retry_budget>(rt::retry_budget_options{
      .max_tokens = 3, .initial_tokens = {}, .retry_cost = 1, .success_refund = 0.5});
  auto options = f.options();
  options.budget = budget;
  rt::retrier retry(options);
  std::vector<std::shared_ptr<rt::testing::spawned<grove::result<int>>>> started;
  for (int i = 0; i < 10; ++i) {
    started.push_back(f.start(retry));
  }
  run_until(f.io, *f.clk, f.clk->now() + 1min);
  for (auto& call : started) {
    REQUIRE(call->done);
    CHECK_FALSE(*call->value);
  }
  CHECK(f.upstream.attempt_times.size() == 13);
  CHECK(budget->tokens() == 0);
  CHECK(retry.stats().gave_up_budget >= 7);

  retry.on_success();
  retry.on_success();
  CHECK(budget->tokens() == Approx(1.0));
  CHECK(budget->try_spend());
  CHECK_FALSE(budget->try_spend());

  SECTION("an empty budget means no retries at all") {
    auto empty = std::make_shared<rt::retry_budget>(rt::retry_budget_options{
        .max_tokens = 0, .initial_tokens = {}, .retry_cost = 1, .success_refund = 0.1});
    rt::retrier none([&] {
      auto o = f.options();
      o.budget = empty;
      return o;
    }());
    rt::attempt_context at(1);
    CHECK_FALSE(none.next_delay(at, rt::failure_class::server_error));
  }
}

TEST_CASE("retry: cancelling a backoff wait ends the call with errc::cancelled", "[runtime]") {
  fixture f;
  f.upstream.failures = {server_error};
  f.upstream.retry_after_ms = "5000";
  rt::retrier retry(f.options());
  asio::cancellation_signal signal;
  auto call = spawn(
      f.io, retry.run([&](rt::attempt_context& at) { return f.upstream(at, *f.clk); }), &signal);
  drain(f.io);
  REQUIRE_FALSE(call->done);
  signal.emit(asio::cancellation_type::terminal);
  drain(f.io);
  REQUIRE(call->done);
  CHECK(call->value->error().code == rt::errc::cancelled);
  CHECK(f.upstream.attempt_times.size() == 1);
  CHECK(f.clk->pending_waits() == 0);
}

TEST_CASE("retry: options are validated field by field", "[runtime]") {
  rt::retry_options bad;
  bad.max_attempts = 0;
  bad.base_delay = 0s;
  bad.max_delay = -1s;
  auto checked = bad.validate();
  REQUIRE_FALSE(checked);
  CHECK_THAT(checked.error().message, Catch::Contains("max_attempts") &&
                                          Catch::Contains("base_delay") &&
                                          Catch::Contains("max_delay"));
  CHECK_THROWS_AS(rt::retrier(bad), std::invalid_argument);
}
