#include "grove/runtime/guarded_call.hpp"

#include <string>
#include <vector>

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

// HTTP statuses as error codes, the way an adapter would report them.
class status_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "test.http"; }
  std::string message(int status) const override { return "HTTP " + std::to_string(status); }
};

std::error_code http_status(int status) {
  static const status_category category;
  return {status, category};
}

rt::failure_class classify_status(const grove::error& e) {
  return rt::classify_http_status(e.code.value());
}

// A fake remote endpoint: answers with the scripted statuses, then 200.
struct fake_endpoint {
  rt::manual_clock& clk;
  std::vector<int> statuses;
  int calls = 0;

  asio::awaitable<grove::result<std::string>> call(rt::attempt_context& at) {
    const auto index = static_cast<std::size_t>(calls++);
    co_await clk.sleep_for(100ms);  // network time
    if (index < statuses.size()) {
      if (statuses[index] == 429) {
        at.set_retry_after("", "2", clk.wall_now());
      }
      co_return grove::fail(http_status(statuses[index]), "scripted status");
    }
    co_return std::string("body");
  }
};

struct guarded_fixture {
  std::shared_ptr<rt::manual_clock> clk = std::make_shared<rt::manual_clock>();
  asio::io_context io;
  rt::token_bucket bucket{[this] {
    auto o = rt::token_bucket_options::per_minute(600, 10);
    o.time_source = clk;
    return o;
  }()};
  rt::circuit_breaker breaker{[this] {
    rt::circuit_breaker_options o;
    o.name = "endpoint";
    o.minimum_calls = 2;
    o.window_size = 4;
    o.time_source = clk;
    return o;
  }()};
  rt::retrier retry{[this] {
    rt::retry_options o;
    o.time_source = clk;
    o.classifier = classify_status;
    return o;
  }()};
  rt::response_cache cache{[this] {
    rt::response_cache_options o;
    o.time_source = clk;
    return o;
  }()};

  rt::call_guards guards(std::string key = {}) {
    rt::call_guards g;
    g.bucket = &bucket;
    g.breaker = &breaker;
    g.retry = &retry;
    g.cache = &cache;
    g.cache_key = std::move(key);
    g.cacheable = !g.cache_key.empty();
    return g;
  }
};

using call_result = grove::result<std::string>;

}  // namespace

TEST_CASE("guarded_call: cache, retry, breaker and limiter around one endpoint", "[runtime]") {
  // Evidence: five identical calls while the endpoint first answers 503 make
  // two upstream requests in total (one flight, one retry), every caller gets
  // the body, and each guard's counters show its part.
  guarded_fixture f;
  fake_endpoint endpoint{*f.clk, {503}};
  std::vector<std::shared_ptr<rt::testing::spawned<call_result>>> callers;
  for (int i = 0; i < 5; ++i) {
    auto g = f.guards("request-hash");
    callers.push_back(spawn(
        f.io, rt::guarded_call(g, [&](rt::attempt_context& at) { return endpoint.call(at); })));
  }
  run_until(f.io, *f.clk, f.clk->now() + 1min);
  CHECK(endpoint.calls == 2);
  for (auto& caller : callers) {
    REQUIRE(caller->done);
    REQUIRE(caller->value->has_value());
    CHECK(**caller->value == "body");
  }
  CHECK(f.breaker.stats().failures == 1);
  CHECK(f.breaker.stats().successes == 1);
  CHECK(f.bucket.stats().granted == 2);
  CHECK(f.retry.stats().retries == 1);
  CHECK(f.cache.stats().fetches == 1);
  CHECK(f.cache.stats().coalesced == 4);
}

TEST_CASE("guarded_call: 429 is retried after the hint and not held against the server",
          "[runtime]") {
  guarded_fixture f;
  fake_endpoint endpoint{*f.clk, {429, 429}};
  auto g = f.guards();
  auto caller =
      spawn(f.io, rt::guarded_call(g, [&](rt::attempt_context& at) { return endpoint.call(at); }));
  run_until(f.io, *f.clk, f.clk->now() + 4s + 200ms);
  CHECK_FALSE(caller->done);  // two 2 s hints plus network time
  run_until(f.io, *f.clk, f.clk->now() + 100ms);
  REQUIRE(caller->done);
  CHECK(**caller->value == "body");
  CHECK(f.breaker.stats().failures == 0);
  CHECK(f.breaker.stats().ignored == 2);
  CHECK(f.retry.stats().server_hints == 2);
}

TEST_CASE("guarded_call: an open circuit refuses at once, without retries", "[runtime]") {
  guarded_fixture f;
  fake_endpoint endpoint{*f.clk, {500, 500, 500, 500, 500, 500}};
  auto g = f.guards();
  auto first =
      spawn(f.io, rt::guarded_call(g, [&](rt::attempt_context& at) { return endpoint.call(at); }));
  run_until(f.io, *f.clk, f.clk->now() + 5s);  // well inside the 30 s open interval
  REQUIRE(first->done);
  // Attempt 1 and 2 fail (500), opening the circuit (2 of 2); attempt 3 is refused.
  CHECK(first->value->error().code == rt::errc::circuit_open);
  CHECK(endpoint.calls == 2);
  CHECK(f.breaker.state() == rt::breaker_state::open);

  auto second =
      spawn(f.io, rt::guarded_call(g, [&](rt::attempt_context& at) { return endpoint.call(at); }));
  drain(f.io);
  REQUIRE(second->done);
  CHECK(second->value->error().code == rt::errc::circuit_open);
  CHECK(endpoint.calls == 2);

  SECTION("a 4xx is neither retried nor counted") {
    guarded_fixture g2;
    fake_endpoint bad_request{*g2.clk, {400}};
    auto guards = g2.guards();
    auto call = spawn(g2.io, rt::guarded_call(guards, [&](rt::attempt_context& at) {
                        return bad_request.call(at);
                      }));
    run_until(g2.io, *g2.clk, g2.clk->now() + 1s);
    REQUIRE(call->done);
    CHECK(call->value->error().code == http_status(400));
    CHECK(bad_request.calls == 1);
    CHECK(g2.breaker.stats().ignored == 1);
  }
}
