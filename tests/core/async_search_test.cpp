#include "grove/core/async_search.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <stdexcept>

#include "grove/core/hash.hpp"

namespace asio = boost::asio;
namespace core = grove::core;

namespace {

// Counts evaluations in flight. Concurrency is sampled at every start (after
// counting it) and every finish (before uncounting it), so the samples
// describe the run by events, not by clock time.
struct flight_probe {
  int active = 0;
  int peak = 0;
  std::uint64_t samples = 0;
  std::uint64_t sample_sum = 0;
  int calls = 0;
  int fail_on_call = -1;  // throw from this call (0-based), -1 = never

  void sample() {
    ++samples;
    sample_sum += static_cast<std::uint64_t>(active);
  }
  double mean() const { return samples == 0 ? 0.0 : double(sample_sum) / double(samples); }
};

// A 4-ary tree of depth 6 whose leaves are scored after a 1 ms timer.
struct timed_domain {
  struct state_type {
    std::uint64_t id;
    std::uint32_t depth;
  };
  using action_type = std::uint8_t;
  static constexpr int num_players = 1;
  std::shared_ptr<flight_probe> probe;

  void legal_actions(const state_type&, std::vector<action_type>& out) const { out = {0, 1, 2, 3}; }
  void apply(state_type& s, action_type a) const {
    s.id = s.id * 4 + a;
    ++s.depth;
  }
  bool is_terminal(const state_type& s) const { return s.depth >= 6; }
  std::uint64_t hash(const state_type& s) const { return grove::core::hash_combine(s.id, s.depth); }
  int player_to_move(const state_type&) const { return 0; }
  double terminal_value(const state_type&) const { return 0.0; }
  asio::awaitable<double> async_evaluate(const state_type& s, std::uint64_t) const {
    flight_probe& p = *probe;
    const int call = p.calls++;
    ++p.active;
    p.peak = std::max(p.peak, p.active);
    p.sample();
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
    co_await timer.async_wait(asio::use_awaitable);
    p.sample();
    --p.active;
    if (call == p.fail_on_call) {
      throw std::runtime_error("judge unavailable");
    }
    co_return static_cast<double>(grove::core::hash_value(s.id) % 1000) / 999.0;
  }
};
static_assert(core::async_domain<timed_domain>);

// Runs async_run to completion on a single-threaded io_context, with a
// deadline so a hang fails the test instead of blocking it.
template <class D>
std::optional<core::search_result<D>> run_async(core::search<D>& engine,
                                                typename D::state_type root,
                                                std::exception_ptr& error) {
  asio::io_context context;
  std::optional<core::search_result<D>> result;
  bool done = false;
  asio::co_spawn(context, core::async_run(engine, root),
                 [&](std::exception_ptr e, core::search_result<D> r) {
                   done = true;
                   error = e;
                   if (!e) {
                     result = std::move(r);
                   }
                 });
  context.run_for(std::chrono::seconds(30));
  REQUIRE(done);
  return result;
}

}  // namespace

// Property: with max_in_flight = 8 the engine keeps exactly 8 evaluations
// running (peak 8, never more) and almost always 8 (mean >= 7 over start and
// finish events), and leaves no virtual loss and a consistent tree behind.
TEST_CASE("async_search: keeps max_in_flight evaluations running", "[core]") {
  auto probe = std::make_shared<flight_probe>();
  core::search<timed_domain> engine(
      timed_domain{probe}, {.max_iterations = 400, .cache_capacity = 0, .max_in_flight = 8});
  std::exception_ptr error;
  const auto result = run_async(engine, {0, 0}, error);
  REQUIRE_FALSE(error);
  REQUIRE(result);
  CHECK(result->iterations == 400);
  CHECK(result->tree.root_visits == 400);
  CHECK(probe->peak == 8);
  CHECK(probe->mean() >= 7.0);
  CHECK(probe->active == 0);
  CHECK(engine.tree().total_virtual_loss() == 0);
  CHECK(engine.stats() == engine.tree().recount());
  CHECK(result->has_action);
}

TEST_CASE("async_search: max_in_flight = 1 evaluates one leaf at a time", "[core]") {
  auto probe = std::make_shared<flight_probe>();
  core::search<timed_domain> engine(timed_domain{probe},
                                    {.max_iterations = 30, .cache_capacity = 0});
  std::exception_ptr error;
  const auto result = run_async(engine, {0, 0}, error);
  REQUIRE(result);
  CHECK(probe->peak == 1);
  CHECK(result->iterations == 30);
}

TEST_CASE("async_search: an evaluator exception ends the run after the others finish", "[core]") {
  auto probe = std::make_shared<flight_probe>();
  probe->fail_on_call = 20;
  core::search<timed_domain> engine(
      timed_domain{probe}, {.max_iterations = 400, .cache_capacity = 0, .max_in_flight = 8});
  std::exception_ptr error;
  const auto result = run_async(engine, {0, 0}, error);
  CHECK_FALSE(result);
  REQUIRE(error);
  CHECK_THROWS_WITH(std::rethrow_exception(error), "judge unavailable");
  CHECK(probe->active == 0);  // every evaluation was awaited
  CHECK(probe->calls < 40);   // no new launches after the failure
  CHECK(engine.tree().total_virtual_loss() == 0);
  CHECK(engine.stats() == engine.tree().recount());
}

TEST_CASE("async_search: the cache answers repeated leaves without the evaluator", "[core]") {
  auto probe = std::make_shared<flight_probe>();
  core::search<timed_domain> engine(timed_domain{probe},
                                    {.max_iterations = 200, .max_in_flight = 4});
  std::exception_ptr error;
  const auto result = run_async(engine, {0, 0}, error);
  REQUIRE(result);
  CHECK(result->iterations == 200);
  CHECK(static_cast<std::uint64_t>(probe->calls) == result->cache.misses);
}

TEST_CASE("async_search: budgets stop launches and running evaluations finish", "[core]") {
  SECTION("time") {
    auto probe = std::make_shared<flight_probe>();
    core::search<timed_domain> engine(timed_domain{probe},
                                      {.max_iterations = 0,
                                       .max_time = std::chrono::milliseconds(30),
                                       .cache_capacity = 0,
                                       .max_in_flight = 4});
    std::exception_ptr error;
    const auto result = run_async(engine, {0, 0}, error);
    REQUIRE(result);
    CHECK(result->stop == core::stop_reason::time);
    CHECK(result->elapsed >= std::chrono::milliseconds(30));
    CHECK(probe->active == 0);
    CHECK(engine.tree().total_virtual_loss() == 0);
    CHECK(result->iterations == result->tree.root_visits);
  }
  SECTION("cancellation flag") {
    auto probe = std::make_shared<flight_probe>();
    std::atomic<bool> cancel{false};
    core::search<timed_domain> engine(timed_domain{probe}, {.max_iterations = 0,
                                                            .max_time = std::chrono::seconds(20),
                                                            .cancel = &cancel,
                                                            .cache_capacity = 0,
                                                            .max_in_flight = 4});
    asio::io_context context;
    asio::steady_timer trigger(context, std::chrono::milliseconds(10));
    trigger.async_wait([&](boost::system::error_code) { cancel.store(true); });
    std::optional<core::search_result<timed_domain>> result;
    asio::co_spawn(context, core::async_run(engine, {0, 0}),
                   [&](std::exception_ptr, core::search_result<timed_domain> r) { result = r; });
    context.run_for(std::chrono::seconds(30));
    REQUIRE(result);
    CHECK(result->stop == core::stop_reason::cancelled);
    CHECK(probe->active == 0);
    CHECK(engine.tree().total_virtual_loss() == 0);
  }
  SECTION("terminal root") {
    auto probe = std::make_shared<flight_probe>();
    core::search<timed_domain> engine(timed_domain{probe}, {.max_in_flight = 4});
    std::exception_ptr error;
    const auto result = run_async(engine, {0, 6}, error);
    REQUIRE(result);
    CHECK(result->stop == core::stop_reason::no_actions);
    CHECK(probe->calls == 0);
  }
}
