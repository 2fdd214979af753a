#include "grove/runtime/token_bucket.hpp"

#include <random>
#include <vector>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "grove/runtime/multi_limiter.hpp"
#include "runtime_test_support.hpp"

namespace rt = grove::runtime;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using rt::testing::drain;
using rt::testing::run_until;
using rt::testing::spawn;

namespace {

using time_point = rt::clock::time_point;

// One acquire(); records the grant time (or nothing when it failed).
asio::awaitable<grove::result<void>> acquire_and_log(rt::token_bucket& bucket, double cost,
                                                     rt::clock& clk,
                                                     std::vector<time_point>& grants) {
  auto ok = co_await bucket.acquire(cost);
  if (ok) {
    grants.push_back(clk.now());
  }
  co_return ok;
}

asio::awaitable<grove::result<void>> acquire_in_order(rt::token_bucket& bucket, int id,
                                                      std::vector<int>& order) {
  auto ok = co_await bucket.acquire(1);
  if (ok) {
    order.push_back(id);
  }
  co_return ok;
}

rt::token_bucket_options manual(std::shared_ptr<rt::manual_clock> clk, double capacity, double rate,
                                double initial) {
  return {.capacity = capacity,
          .refill_per_second = rate,
          .initial_tokens = initial,
          .time_source = std::move(clk)};
}

}  // namespace

TEST_CASE("token_bucket: 60 per minute with burst 1 grants exactly 60 per minute, never 61",
          "[runtime]") {
  // Evidence: 200 callers compete for ten simulated minutes; the grant times
  // show 60 grants in the first minute and at most 60 in any 60 s window.
  auto clk = std::make_shared<rt::manual_clock>();
  auto options = rt::token_bucket_options::per_minute(60, 1);
  options.time_source = clk;
  rt::token_bucket bucket(options);
  asio::io_context io;
  std::vector<time_point> grants;
  for (int i = 0; i < 700; ++i) {
    spawn(io, acquire_and_log(bucket, 1, *clk, grants));
  }

  const time_point start = clk->now();
  run_until(io, *clk, start + 60s - 1ns);
  CHECK(grants.size() == 60);

  run_until(io, *clk, start + 600s - 1ns);
  REQUIRE(grants.size() == 600);
  for (std::size_t i = 0; i + 60 < grants.size(); ++i) {
    REQUIRE(grants[i + 60] - grants[i] >= 60s);
  }

  // Closing fails the 100 remaining waiters; afterwards nothing is pending.
  CHECK(bucket.waiting() == 100);
  bucket.close();
  drain(io);
  CHECK(bucket.waiting() == 0);
  CHECK(bucket.stats().granted == 600);
  CHECK(bucket.stats().rejected == 100);
  CHECK(clk->pending_waits() == 0);
  io.restart();
  CHECK(io.run_for(1s) == 0);
}

TEST_CASE("token_bucket: 10,000 concurrent waiters are served in arrival order", "[runtime]") {
  // Evidence: each waiter appends its spawn index when granted; the list must
  // come out sorted and complete.
  auto clk = std::make_shared<rt::manual_clock>();
  rt::token_bucket bucket(manual(clk, 10, 100, 0));
  asio::io_context io;
  std::vector<int> order;
  constexpr int waiters = 10'000;
  for (int i = 0; i < waiters; ++i) {
    spawn(io, acquire_in_order(bucket, i, order));
  }
  drain(io);
  CHECK(bucket.waiting() == waiters);

  run_until(io, *clk, clk->now() + 101s);
  REQUIRE(order.size() == waiters);
  for (int i = 0; i < waiters; ++i) {
    REQUIRE(order[static_cast<std::size_t>(i)] == i);
  }
  CHECK(bucket.waiting() == 0);
}

TEST_CASE("token_bucket: a large request is not starved by later small ones", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  rt::token_bucket bucket(manual(clk, 10, 1, 0));
  asio::io_context io;
  std::vector<time_point> big;
  std::vector<time_point> small;
  spawn(io, acquire_and_log(bucket, 10, *clk, big));
  for (int i = 0; i < 20; ++i) {
    spawn(io, acquire_and_log(bucket, 1, *clk, small));
  }
  drain(io);
  CHECK_FALSE(bucket.try_acquire(1));  // a newcomer may not overtake either

  run_until(io, *clk, clk->now() + 10s);
  REQUIRE(big.size() == 1);
  CHECK(small.empty());
  run_until(io, *clk, clk->now() + 20s);
  CHECK(small.size() == 20);
  CHECK(small.front() > big.front());
}

TEST_CASE("token_bucket: the rate holds within 1% over a simulated hour", "[runtime]") {
  // Four workers ask for 1-3 tokens at a time for an hour at 10 tokens/s.
  auto clk = std::make_shared<rt::manual_clock>();
  rt::token_bucket bucket(manual(clk, 5, 10, 0));
  asio::io_context io;
  double granted_tokens = 0;
  bool stop = false;
  auto worker = [&](unsigned seed) -> asio::awaitable<grove::result<void>> {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> cost(1, 3);
    while (!stop) {
      const double c = cost(rng);
      auto ok = co_await bucket.acquire(c);
      if (!ok) {
        co_return ok;
      }
      granted_tokens += c;
    }
    co_return grove::result<void>{};
  };
  for (unsigned seed = 1; seed <= 4; ++seed) {
    spawn(io, worker(seed));
  }
  run_until(io, *clk, clk->now() + 1h);
  const double expected = 3600 * 10;
  CHECK(granted_tokens >= expected * 0.99);
  CHECK(granted_tokens <= expected * 1.01);
  stop = true;
  bucket.close();
  drain(io);
  CHECK(bucket.waiting() == 0);
}

TEST_CASE("token_bucket: cancelling a waiter removes it without leaking tokens", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  rt::token_bucket bucket(manual(clk, 5, 1, 0));
  asio::io_context io;
  std::vector<time_point> grants;
  asio::cancellation_signal head_signal;
  asio::cancellation_signal middle_signal;
  auto head = spawn(io, acquire_and_log(bucket, 5, *clk, grants), &head_signal);
  auto middle = spawn(io, acquire_and_log(bucket, 2, *clk, grants), &middle_signal);
  auto tail = spawn(io, acquire_and_log(bucket, 1, *clk, grants));
  drain(io);
  REQUIRE(bucket.waiting() == 3);

  SECTION("the head: the next waiter is served from the tokens it did not take") {
    clk->advance(3s);
    drain(io);
    head_signal.emit(asio::cancellation_type::terminal);
    drain(io);
    REQUIRE(head->done);
    CHECK(head->value->error().code == rt::errc::cancelled);
    // 3 tokens present: the middle (2) then the tail (1) are served at once.
    CHECK(middle->value->has_value());
    CHECK(tail->value->has_value());
    CHECK(bucket.available() == Approx(0.0).margin(1e-9));
    CHECK(bucket.stats().cancelled == 1);
  }

  SECTION("a middle waiter: the queue closes up behind the head") {
    middle_signal.emit(asio::cancellation_type::terminal);
    drain(io);
    REQUIRE(middle->done);
    CHECK(middle->value->error().code == rt::errc::cancelled);
    CHECK(bucket.waiting() == 2);
    run_until(io, *clk, clk->now() + 6s);
    CHECK(head->value->has_value());
    CHECK(tail->value->has_value());
    CHECK(grants.size() == 2);
    CHECK(bucket.available() == Approx(0.0).margin(1e-9));
  }
  CHECK(clk->pending_waits() == 0);
}

TEST_CASE("token_bucket: bad costs fail at once with a clear error", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  rt::token_bucket bucket(manual(clk, 10, 1, 10));
  asio::io_context io;
  std::vector<time_point> grants;
  auto too_big = spawn(io, acquire_and_log(bucket, 11, *clk, grants));
  auto zero = spawn(io, acquire_and_log(bucket, 0, *clk, grants));
  auto nan = spawn(io, acquire_and_log(bucket, std::nan(""), *clk, grants));
  drain(io);
  REQUIRE(too_big->done);
  CHECK(too_big->value->error().code == rt::errc::cost_exceeds_capacity);
  CHECK_THAT(too_big->value->error().message, Catch::Contains("exceeds the capacity 10"));
  CHECK(zero->value->error().code == rt::errc::invalid_argument);
  CHECK(nan->value->error().code == rt::errc::invalid_argument);
  CHECK(bucket.available() == 10);
  CHECK_FALSE(bucket.try_acquire(11));
  CHECK(bucket.try_acquire(10));
}

TEST_CASE("token_bucket: options are validated field by field", "[runtime]") {
  rt::token_bucket_options bad;
  bad.capacity = 0;
  bad.refill_per_second = -1;
  bad.initial_tokens = 5;
  auto checked = bad.validate();
  REQUIRE_FALSE(checked);
  CHECK(checked.error().code == rt::errc::invalid_options);
  CHECK_THAT(checked.error().message, Catch::Contains("capacity") &&
                                          Catch::Contains("refill_per_second") &&
                                          Catch::Contains("initial_tokens"));
  CHECK_THROWS_AS(rt::token_bucket(bad), std::invalid_argument);
  CHECK(rt::token_bucket_options{}.validate());
}

TEST_CASE("token_bucket: the real clock paces grants", "[runtime]") {
  // Wiring check: 3 grants at 50/s from an empty bucket take at least 60 ms.
  rt::token_bucket bucket(
      {.capacity = 1, .refill_per_second = 50, .initial_tokens = 0, .time_source = nullptr});
  auto clk = rt::real_clock();
  asio::io_context io;
  std::vector<time_point> grants;
  const auto start = clk->now();
  for (int i = 0; i < 3; ++i) {
    spawn(io, acquire_and_log(bucket, 1, *clk, grants));
  }
  io.run_for(10s);
  REQUIRE(grants.size() == 3);
  CHECK(grants.back() - start >= 59ms);
}

// ---------------------------------------------------------------------------
// multi_limiter

TEST_CASE("multi_limiter: RPM and TPM buckets per (provider, model, key)", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  rt::multi_limiter_options options;
  options.time_source = clk;
  options.limits[{"openai", "*"}] = {.requests_per_minute = 600,
                                     .request_burst = 10,
                                     .tokens_per_minute = 6000,
                                     .token_burst = 1000};
  options.limits[{"openai", "gpt-4o-mini"}] = {.requests_per_minute = 1200};
  rt::multi_limiter limits(options);
  asio::io_context io;

  SECTION("limits are looked up exact, then provider-wide, then the default") {
    CHECK(limits.limit_for({"openai", "gpt-4o-mini", "k"}).requests_per_minute == 1200);
    CHECK(limits.limit_for({"openai", "gpt-4o", "k"}).tokens_per_minute == 6000);
    const auto fallback = limits.limit_for({"anthropic", "claude", "k"});
    CHECK(fallback.requests_per_minute == 60);
    CHECK(fallback.tokens_per_minute == 0);
  }

  SECTION("the token bucket paces calls once the request bucket allows them") {
    int done = 0;
    auto call = [&](double tokens) -> asio::awaitable<grove::result<void>> {
      auto ok = co_await limits.acquire({"openai", "gpt-4o", "key-1"}, tokens);
      done += ok ? 1 : 0;
      co_return ok;
    };
    // 1000 tokens of burst, then 100 tokens/s: three 500-token calls need 5 s.
    for (int i = 0; i < 3; ++i) {
      spawn(io, call(500));
    }
    drain(io);
    CHECK(done == 2);
    run_until(io, *clk, clk->now() + 5s - 1ms);
    CHECK(done == 2);
    run_until(io, *clk, clk->now() + 1ms);
    CHECK(done == 3);

    auto too_many = spawn(io, call(1001));
    drain(io);
    CHECK(too_many->value->error().code == rt::errc::cost_exceeds_capacity);
  }

  SECTION("keys are independent; the default limit is 60 per minute") {
    std::vector<time_point> a;
    std::vector<time_point> b;
    auto call = [&](std::string key,
                    std::vector<time_point>& log) -> asio::awaitable<grove::result<void>> {
      auto ok = co_await limits.acquire({"local", "m", std::move(key)});
      if (ok) {
        log.push_back(clk->now());
      }
      co_return ok;
    };
    for (int i = 0; i < 100; ++i) {
      spawn(io, call("a", a));
      spawn(io, call("b", b));
    }
    run_until(io, *clk, clk->now() + 60s - 1ns);
    CHECK(a.size() == 60);
    CHECK(b.size() == 60);
    CHECK(limits.size() == 2);
    limits.close();
    drain(io);
  }
}

TEST_CASE("multi_limiter: bounded keys and validated options", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  rt::multi_limiter_options options;
  options.max_keys = 1;
  options.time_source = clk;
  rt::multi_limiter limits(options);
  asio::io_context io;
  auto first = spawn(io, limits.acquire({"p", "m", "k1"}));
  auto second = spawn(io, limits.acquire({"p", "m", "k2"}));
  auto unnamed = spawn(io, limits.acquire({"", "m", "k1"}));
  drain(io);
  CHECK(first->value->has_value());
  CHECK(second->value->error().code == rt::errc::too_many_keys);
  CHECK(unnamed->value->error().code == rt::errc::invalid_argument);

  rt::multi_limiter_options bad;
  bad.default_limit.requests_per_minute = 0;
  bad.limits[{"openai", "*"}] = {.tokens_per_minute = -5};
  bad.max_keys = 0;
  auto checked = bad.validate();
  REQUIRE_FALSE(checked);
  CHECK_THAT(checked.error().message, Catch::Contains("default_limit") &&
                                          Catch::Contains("limits[openai/*]") &&
                                          Catch::Contains("max_keys"));
}
