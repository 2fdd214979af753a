#include "grove/runtime/circuit_breaker.hpp"

#include <atomic>
#include <sstream>
#include <thread>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "runtime_test_support.hpp"

namespace rt = grove::runtime;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using rt::breaker_state;
using rt::call_outcome;
using rt::testing::drain;
using rt::testing::spawn;

namespace {

rt::circuit_breaker_options manual_options(std::shared_ptr<rt::manual_clock> clk) {
  rt::circuit_breaker_options options;
  options.name = "test";
  options.time_source = std::move(clk);
  return options;
}

// Makes `n` calls that all end with `outcome`.
void calls(rt::circuit_breaker& breaker, int n, call_outcome outcome) {
  for (int i = 0; i < n; ++i) {
    auto permit = breaker.allow();
    REQUIRE(permit);
    permit->record(outcome);
  }
}

// Trips a fresh (closed) breaker with the default window: 20 failures.
void trip(rt::circuit_breaker& breaker) {
  calls(breaker, 20, call_outcome::failure);
  REQUIRE(breaker.state() == breaker_state::open);
}

}  // namespace

TEST_CASE("circuit_breaker: closed opens at the failure rate once the window is full enough",
          "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  rt::circuit_breaker breaker(manual_options(clk));

  SECTION("fewer than minimum_calls never open, even when all fail") {
    calls(breaker, 19, call_outcome::failure);
    CHECK(breaker.state() == breaker_state::closed);
    CHECK(breaker.window_failures() == 19);
    calls(breaker, 1, call_outcome::failure);
    CHECK(breaker.state() == breaker_state::open);
  }

  SECTION("below 50% stays closed; reaching 50% opens") {
    calls(breaker, 11, call_outcome::success);
    calls(breaker, 9, call_outcome::failure);
    CHECK(breaker.state() == breaker_state::closed);  // 9 of 20
    calls(breaker, 2, call_outcome::failure);         // 11 of 22
    CHECK(breaker.state() == breaker_state::open);
  }

  SECTION("the window slides: only the last window_size calls count") {
    calls(breaker, 30, call_outcome::success);
    calls(breaker, 24, call_outcome::failure);
    // Last 50: 26 successes, 24 failures (48%). Over all 54 calls it would be 44%.
    CHECK(breaker.state() == breaker_state::closed);
    CHECK(breaker.window_calls() == 50);
    calls(breaker, 1, call_outcome::failure);  // 25 of the last 50
    CHECK(breaker.state() == breaker_state::open);
  }

  SECTION("ignored outcomes (429, other 4xx) are not counted") {
    for (int i = 0; i < 100; ++i) {
      auto permit = breaker.allow();
      REQUIRE(permit);
      permit->record(rt::count_as_failure(rt::classify_http_status(i % 2 ? 429 : 404)));
    }
    CHECK(breaker.state() == breaker_state::closed);
    CHECK(breaker.window_calls() == 0);
    CHECK(breaker.stats().ignored == 100);
  }

  SECTION("5xx, 529, timeouts and resets are failures") {
    CHECK(rt::count_as_failure(rt::classify_http_status(500)) == call_outcome::failure);
    CHECK(rt::count_as_failure(rt::classify_http_status(529)) == call_outcome::failure);
    CHECK(rt::count_as_failure(rt::failure_class::timeout) == call_outcome::failure);
    CHECK(rt::count_as_failure(rt::failure_class::connection) == call_outcome::failure);
    CHECK(rt::count_as_failure(rt::failure_class::rejected) == call_outcome::ignored);
  }
}

TEST_CASE("circuit_breaker: slow successes open the circuit by the slow-call rule", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  auto options = manual_options(clk);
  options.slow_call_duration = 2s;
  options.slow_call_rate_threshold = 0.5;
  rt::circuit_breaker breaker(options);
  for (int i = 0; i < 20; ++i) {
    auto permit = breaker.allow();
    REQUIRE(permit);
    clk->advance(i % 2 ? 2s : 1s);  // every other call is slow
    permit->record(call_outcome::success);
  }
  CHECK(breaker.state() == breaker_state::open);
  CHECK(breaker.stats().slow == 10);
  CHECK(breaker.stats().failures == 0);
}

TEST_CASE("circuit_breaker: every transition, with a growing open interval", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  std::ostringstream log;
  auto options = manual_options(clk);
  options.logger = std::make_shared<spdlog::logger>(
      "breaker-test", std::make_shared<spdlog::sinks::ostream_sink_st>(log));
  rt::circuit_breaker breaker(options);
  trip(breaker);
  CHECK(breaker.current_open_interval() == 30s);

  // open: refused until the interval has elapsed.
  clk->advance(30s - 1ns);
  auto refused = breaker.allow();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == rt::errc::circuit_open);
  CHECK_THAT(refused.error().message, Catch::Contains("is open"));

  // open -> half_open on the first allow() after 30 s; a failed probe reopens
  // for twice as long, and so on up to the 5 minute cap.
  clk->advance(1ns);
  const std::vector<std::chrono::seconds> intervals = {60s, 120s, 240s, 300s, 300s};
  for (auto expected : intervals) {
    auto probe = breaker.allow();
    REQUIRE(probe);
    CHECK(probe->is_probe());
    CHECK(breaker.state() == breaker_state::half_open);
    probe->record(call_outcome::failure);
    CHECK(breaker.state() == breaker_state::open);
    CHECK(breaker.current_open_interval() == expected);
    clk->advance(expected - 1ns);
    CHECK_FALSE(breaker.allow());
    clk->advance(1ns);
  }

  // half_open -> closed after 3 successful probes; the interval resets.
  for (int i = 0; i < 3; ++i) {
    auto probe = breaker.allow();
    REQUIRE(probe);
    CHECK(probe->is_probe());
    probe->record(call_outcome::success);
  }
  CHECK(breaker.state() == breaker_state::closed);
  CHECK(breaker.current_open_interval() == 30s);
  CHECK(breaker.window_calls() == 0);

  // closed -> open again starts from 30 s.
  trip(breaker);
  CHECK(breaker.current_open_interval() == 30s);

  const auto stats = breaker.stats();
  CHECK(stats.opened == 7);  // 2 trips + 5 failed probes
  CHECK(stats.half_opened == 6);
  CHECK(stats.closed == 1);
  const std::string text = log.str();
  CHECK_THAT(text, Catch::Contains("circuit breaker 'test': closed -> open"));
  CHECK_THAT(text, Catch::Contains("open -> half_open"));
  CHECK_THAT(text, Catch::Contains("half_open -> open (probe failed"));
  CHECK_THAT(text, Catch::Contains("half_open -> closed"));
}

TEST_CASE("circuit_breaker: half-open admits at most the probe limit", "[runtime]") {
  // Evidence: 100 coroutines ask at once; each admitted probe stays in flight
  // for 1 s of manual time. Exactly half_open_max_probes (3) are admitted.
  auto clk = std::make_shared<rt::manual_clock>();
  rt::circuit_breaker breaker(manual_options(clk));
  trip(breaker);
  clk->advance(30s);

  asio::io_context io;
  int admitted = 0;
  int refused = 0;
  auto call = [&]() -> asio::awaitable<grove::result<void>> {
    auto permit = breaker.allow();
    if (!permit) {
      ++refused;
      co_return grove::fail(permit.error());
    }
    ++admitted;
    co_await clk->sleep_for(1s);
    permit->record(call_outcome::success);
    co_return grove::result<void>{};
  };
  for (int i = 0; i < 100; ++i) {
    spawn(io, call());
  }
  drain(io);
  CHECK(admitted == 3);
  CHECK(refused == 97);
  CHECK(breaker.probes_in_flight() == 3);

  clk->advance(1s);
  drain(io);
  CHECK(breaker.state() == breaker_state::closed);

  SECTION("a permit dropped unrecorded frees its probe slot") {
    trip(breaker);
    clk->advance(30s);
    {
      auto probe = breaker.allow();
      REQUIRE(probe);
      CHECK(breaker.probes_in_flight() == 1);
    }
    CHECK(breaker.probes_in_flight() == 0);
    CHECK(breaker.state() == breaker_state::half_open);
  }
}

TEST_CASE("circuit_breaker: the probe limit holds across threads", "[runtime]") {
  // Evidence: 4 threads race 25 allow() calls each against a half-open
  // breaker and keep their permits; exactly 3 are admitted.
  auto clk = std::make_shared<rt::manual_clock>();
  rt::circuit_breaker breaker(manual_options(clk));
  trip(breaker);
  clk->advance(30s);

  std::atomic<int> admitted{0};
  std::vector<std::vector<rt::breaker_permit>> held(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (auto permit = breaker.allow()) {
          admitted.fetch_add(1);
          held[t].push_back(std::move(*permit));
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(admitted.load() == 3);
  CHECK(breaker.stats().rejected == 97);
}

TEST_CASE("circuit_breaker: options are validated field by field", "[runtime]") {
  rt::circuit_breaker_options bad;
  bad.window_size = 10;
  bad.minimum_calls = 11;
  bad.failure_rate_threshold = 1.5;
  bad.max_open_interval = 1s;
  bad.half_open_max_probes = 0;
  auto checked = bad.validate();
  REQUIRE_FALSE(checked);
  CHECK_THAT(checked.error().message,
             Catch::Contains("minimum_calls") && Catch::Contains("failure_rate_threshold") &&
                 Catch::Contains("max_open_interval") && Catch::Contains("half_open_max_probes"));
  CHECK_THROWS_AS(rt::circuit_breaker(bad), std::invalid_argument);
}
