#include "grove/runtime/response_cache.hpp"

#include <stdexcept>
#include <vector>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "runtime_test_support.hpp"

namespace rt = grove::runtime;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using rt::testing::drain;
using rt::testing::spawn;

namespace {

rt::response_cache_options manual(std::shared_ptr<rt::manual_clock> clk, std::size_t entries,
                                  std::size_t bytes) {
  rt::response_cache_options options;
  options.max_entries = entries;
  options.max_bytes = bytes;
  options.ttl = 10s;
  options.time_source = std::move(clk);
  return options;
}

// An upstream whose answers arrive only when the test says so (a manual-clock
// sleep of 1 s), counting how often it is called.
struct slow_upstream {
  rt::manual_clock& clk;
  int calls = 0;
  bool cacheable = true;
  bool fail = false;

  rt::response_cache::fetch_function fetch(std::string body) {
    return [this, body]() -> asio::awaitable<grove::result<rt::fetched_response>> {
      ++calls;
      auto slept = co_await clk.sleep_for(1s);
      if (!slept) {
        co_return grove::fail(std::move(slept).error());
      }
      if (fail) {
        co_return grove::fail(std::make_error_code(std::errc::connection_reset), "upstream down");
      }
      co_return rt::fetched_response{.body = body, .cacheable = cacheable, .ttl = std::nullopt};
    };
  }
};

using fetch_result = grove::result<rt::response_cache::value_ptr>;

}  // namespace

TEST_CASE("response_cache: LRU bounded in entries", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  rt::response_cache cache(manual(clk, 3, 1 << 20));
  cache.put("a", "1");
  cache.put("b", "2");
  cache.put("c", "3");
  REQUIRE(cache.get("a"));  // a is now the most recently used
  cache.put("d", "4");      // evicts b, the least recently used
  CHECK_FALSE(cache.get("b"));
  CHECK(*cache.get("a") == "1");
  CHECK(*cache.get("c") == "3");
  CHECK(*cache.get("d") == "4");
  const auto stats = cache.stats();
  CHECK(stats.entries == 3);
  CHECK(stats.evictions == 1);
  CHECK(stats.hits == 4);
  CHECK(stats.misses == 1);
}

TEST_CASE("response_cache: bounded in bytes, oversize entries rejected", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  rt::response_cache cache(manual(clk, 100, 30));
  cache.put("k1", std::string(8, 'x'));  // 10 bytes
  cache.put("k2", std::string(8, 'y'));  // 20
  cache.put("k3", std::string(8, 'z'));  // 30: at the bound
  CHECK(cache.stats().bytes == 30);
  cache.put("k4", std::string(13, 'w'));  // 15 bytes: k1 and k2 must go
  CHECK(cache.stats().bytes == 25);
  CHECK(cache.stats().evictions == 2);
  CHECK_FALSE(cache.get("k1"));
  CHECK(cache.get("k3"));

  CHECK_FALSE(cache.put("huge", std::string(40, 'h')));
  CHECK(cache.stats().rejected == 1);
  CHECK(cache.stats().bytes == 25);

  cache.put("k3", "short");  // replacing an entry adjusts the byte count
  CHECK(cache.stats().bytes == 15 + 7);
  CHECK(cache.erase("k3"));
  CHECK_FALSE(cache.erase("k3"));
  cache.clear();
  CHECK(cache.stats().entries == 0);
  CHECK(cache.stats().bytes == 0);
}

TEST_CASE("response_cache: entries expire after their TTL", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  rt::response_cache cache(manual(clk, 10, 1000));
  cache.put("default", "d");
  cache.put("short", "s", 2s);
  clk->advance(2s - 1ns);
  CHECK(cache.get("short"));
  clk->advance(1ns);
  CHECK_FALSE(cache.get("short"));
  CHECK(cache.get("default"));
  clk->advance(8s);
  CHECK_FALSE(cache.get("default"));
  CHECK(cache.stats().expirations == 2);
  CHECK(cache.stats().entries == 0);
}

TEST_CASE("response_cache: concurrent identical requests make one upstream call", "[runtime]") {
  // Evidence: 50 coroutines ask for one key while the upstream is slow; the
  // upstream counts its calls (1) and every caller gets the same body.
  auto clk = std::make_shared<rt::manual_clock>();
  rt::response_cache cache(manual(clk, 10, 1000));
  slow_upstream upstream{*clk};
  asio::io_context io;
  std::vector<std::shared_ptr<rt::testing::spawned<fetch_result>>> callers;
  for (int i = 0; i < 50; ++i) {
    callers.push_back(spawn(io, cache.get_or_fetch("prompt-hash", upstream.fetch("answer"))));
  }
  drain(io);
  clk->advance(1s);
  drain(io);
  CHECK(upstream.calls == 1);
  for (auto& caller : callers) {
    REQUIRE(caller->done);
    REQUIRE(caller->value->has_value());
    CHECK(***caller->value == "answer");
  }
  CHECK(cache.stats().fetches == 1);
  CHECK(cache.stats().coalesced == 49);

  // Now cached: no further upstream call.
  auto later = spawn(io, cache.get_or_fetch("prompt-hash", upstream.fetch("other")));
  drain(io);
  CHECK(***later->value == "answer");
  CHECK(upstream.calls == 1);
}

TEST_CASE("response_cache: the caller decides what is cached", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  rt::response_cache cache(manual(clk, 10, 1000));
  slow_upstream upstream{*clk};
  asio::io_context io;

  SECTION("uncacheable answers are shared by the flight, then forgotten") {
    upstream.cacheable = false;
    auto a = spawn(io, cache.get_or_fetch("k", upstream.fetch("temperature 0.7")));
    auto b = spawn(io, cache.get_or_fetch("k", upstream.fetch("temperature 0.7")));
    drain(io);
    clk->advance(1s);
    drain(io);
    CHECK(***a->value == "temperature 0.7");
    CHECK(***b->value == "temperature 0.7");
    CHECK(upstream.calls == 1);
    CHECK_FALSE(cache.get("k"));
  }

  SECTION("failures are shared by the flight and not cached") {
    upstream.fail = true;
    auto a = spawn(io, cache.get_or_fetch("k", upstream.fetch("x")));
    auto b = spawn(io, cache.get_or_fetch("k", upstream.fetch("x")));
    drain(io);
    clk->advance(1s);
    drain(io);
    CHECK(a->value->error().code == std::errc::connection_reset);
    CHECK(b->value->error().code == std::errc::connection_reset);
    CHECK(upstream.calls == 1);
    CHECK(cache.stats().entries == 0);
  }
}

TEST_CASE("response_cache: a cancelled leader hands the fetch to a waiter", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  rt::response_cache cache(manual(clk, 10, 1000));
  slow_upstream upstream{*clk};
  asio::io_context io;
  asio::cancellation_signal leader_signal;
  asio::cancellation_signal waiter_signal;
  auto leader = spawn(io, cache.get_or_fetch("k", upstream.fetch("v")), &leader_signal);
  auto follower = spawn(io, cache.get_or_fetch("k", upstream.fetch("v")));
  auto quitter = spawn(io, cache.get_or_fetch("k", upstream.fetch("v")), &waiter_signal);
  drain(io);

  waiter_signal.emit(asio::cancellation_type::terminal);
  drain(io);
  CHECK(quitter->value->error().code == rt::errc::cancelled);

  leader_signal.emit(asio::cancellation_type::terminal);
  drain(io);
  REQUIRE(leader->done);
  CHECK(leader->value->error().code == rt::errc::cancelled);
  CHECK_FALSE(follower->done);
  CHECK(upstream.calls == 2);  // the follower took over

  clk->advance(1s);
  drain(io);
  CHECK(***follower->value == "v");
  CHECK(clk->pending_waits() == 0);
}

TEST_CASE("response_cache: close fails waiters, and options are validated", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  rt::response_cache cache(manual(clk, 10, 1000));
  slow_upstream upstream{*clk};
  asio::io_context io;
  auto leader = spawn(io, cache.get_or_fetch("k", upstream.fetch("v")));
  auto waiter = spawn(io, cache.get_or_fetch("k", upstream.fetch("v")));
  drain(io);
  cache.close();
  drain(io);
  CHECK(waiter->value->error().code == rt::errc::closed);
  clk->advance(1s);
  drain(io);
  CHECK(***leader->value == "v");  // the running fetch finishes in its caller
  auto refused = spawn(io, cache.get_or_fetch("k2", upstream.fetch("v")));
  drain(io);
  CHECK(refused->value->error().code == rt::errc::closed);

  rt::response_cache_options bad;
  bad.max_entries = 0;
  bad.max_bytes = 0;
  bad.ttl = 0s;
  auto checked = bad.validate();
  REQUIRE_FALSE(checked);
  CHECK_THAT(checked.error().message, Catch::Contains("max_entries") &&
                                          Catch::Contains("max_bytes") && Catch::Contains("ttl"));
  CHECK_THROWS_AS(rt::response_cache(bad), std::invalid_argument);
}
