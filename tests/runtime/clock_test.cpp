#include "grove/runtime/clock.hpp"

#include <vector>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "grove/runtime/errors.hpp"
#include "runtime_test_support.hpp"

namespace rt = grove::runtime;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using rt::testing::drain;
using rt::testing::spawn;

namespace {

asio::awaitable<grove::result<void>> sleep_then_record(rt::clock& clk, rt::clock::duration d,
                                                       std::vector<int>& order, int id) {
  auto slept = co_await clk.sleep_for(d);
  if (slept) {
    order.push_back(id);
  }
  co_return slept;
}

}  // namespace

TEST_CASE("clock: manual waits complete when time reaches them, in deadline order", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  asio::io_context io;
  std::vector<int> order;
  auto late = spawn(io, sleep_then_record(*clk, 5s, order, 2));
  auto early = spawn(io, sleep_then_record(*clk, 2s, order, 1));
  drain(io);
  CHECK(clk->pending_waits() == 2);
  CHECK(clk->next_deadline() == rt::clock::time_point{} + 2s);

  clk->advance(2s - 1ns);
  drain(io);
  CHECK(order.empty());

  clk->advance(1ns);
  drain(io);
  CHECK(order == std::vector<int>{1});

  clk->advance(10s);
  drain(io);
  CHECK(order == std::vector<int>{1, 2});
  CHECK(late->value->has_value());
  CHECK(early->value->has_value());
  CHECK(clk->pending_waits() == 0);
  CHECK_FALSE(clk->next_deadline());
}

TEST_CASE("clock: a past deadline returns without waiting, and wall time follows now()",
          "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  asio::io_context io;
  std::vector<int> order;
  auto immediate = spawn(io, sleep_then_record(*clk, -1s, order, 7));
  drain(io);
  CHECK(immediate->done);
  CHECK(order == std::vector<int>{7});

  const auto wall = clk->wall_now();
  CHECK(wall == rt::manual_clock::default_wall_start());
  clk->advance(90s);
  CHECK(clk->wall_now() - wall == 90s);
}

TEST_CASE("clock: a cancelled wait completes with errc::cancelled and disarms", "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  asio::io_context io;
  asio::cancellation_signal signal;
  std::vector<int> order;
  auto waiting = spawn(io, sleep_then_record(*clk, 1h, order, 1), &signal);
  drain(io);
  REQUIRE(clk->pending_waits() == 1);

  signal.emit(asio::cancellation_type::terminal);
  drain(io);
  REQUIRE(waiting->done);
  REQUIRE(waiting->value);
  CHECK(waiting->value->error().code == rt::errc::cancelled);
  CHECK(clk->pending_waits() == 0);
  CHECK(order.empty());

  // Nothing is left behind: the io_context has no more work.
  io.restart();
  CHECK(io.run_for(1s) == 0);
}

TEST_CASE("clock: the real clock sleeps on an Asio timer", "[runtime]") {
  // Wiring check against the steady clock: the sleep lasts at least its
  // duration (only a lower bound: the machine is shared and noisy).
  auto clk = rt::real_clock();
  CHECK(clk == rt::or_real_clock(nullptr));
  asio::io_context io;
  std::vector<int> order;
  const auto start = clk->now();
  auto slept = spawn(io, sleep_then_record(*clk, 20ms, order, 1));
  io.run_for(10s);
  REQUIRE(slept->done);
  CHECK(slept->value->has_value());
  CHECK(clk->now() - start >= 20ms);

  SECTION("and cancellation reaches the Asio timer") {
    asio::io_context io2;
    asio::cancellation_signal signal;
    auto cancelled = spawn(io2, sleep_then_record(*clk, 1h, order, 2), &signal);
    io2.poll();
    signal.emit(asio::cancellation_type::terminal);
    io2.run_for(10s);
    REQUIRE(cancelled->done);
    CHECK(cancelled->value->error().code == rt::errc::cancelled);
  }
}
