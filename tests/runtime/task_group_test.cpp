#include "grove/runtime/task_group.hpp"

#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <catch2/catch.hpp>

#include "grove/runtime/semaphore.hpp"
#include "runtime_test_support.hpp"

namespace rt = grove::runtime;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using rt::testing::drain;
using rt::testing::spawn;

// ---------------------------------------------------------------------------
// async_semaphore

TEST_CASE("async_semaphore: bounds concurrency and serves waiters in order", "[runtime]") {
  // Evidence: 20 workers each hold a permit across a 1 s manual-clock sleep;
  // the peak of the in-flight counter is the capacity, and workers enter in
  // spawn order.
  auto clk = std::make_shared<rt::manual_clock>();
  rt::async_semaphore semaphore(3);
  asio::io_context io;
  int in_flight = 0;
  int peak = 0;
  std::vector<int> entered;
  auto worker = [&](int id) -> asio::awaitable<grove::result<void>> {
    auto permit = co_await semaphore.acquire();
    if (!permit) {
      co_return grove::fail(permit.error());
    }
    entered.push_back(id);
    peak = std::max(peak, ++in_flight);
    co_await clk->sleep_for(1s);
    --in_flight;
    co_return grove::result<void>{};
  };
  for (int i = 0; i < 20; ++i) {
    spawn(io, worker(i));
  }
  drain(io);
  CHECK(semaphore.waiting() == 17);
  rt::testing::run_until(io, *clk, clk->now() + 10s);
  CHECK(peak == 3);
  REQUIRE(entered.size() == 20);
  for (int i = 0; i < 20; ++i) {
    CHECK(entered[static_cast<std::size_t>(i)] == i);
  }
  CHECK(semaphore.available() == 3);
}

TEST_CASE("async_semaphore: cancellation and close never lose a permit", "[runtime]") {
  rt::async_semaphore semaphore(1);
  asio::io_context io;
  auto held = semaphore.try_acquire();
  REQUIRE(held.held());
  CHECK_FALSE(semaphore.try_acquire().held());

  asio::cancellation_signal signal;
  auto cancelled = spawn(io, semaphore.acquire(), &signal);
  auto closed = spawn(io, semaphore.acquire());
  drain(io);
  CHECK(semaphore.waiting() == 2);

  signal.emit(asio::cancellation_type::terminal);
  drain(io);
  CHECK(cancelled->value->error().code == rt::errc::cancelled);
  CHECK(semaphore.waiting() == 1);

  semaphore.close();
  drain(io);
  CHECK(closed->value->error().code == rt::errc::closed);
  held.release();
  CHECK(semaphore.available() == 1);
  CHECK_THROWS_AS(rt::async_semaphore(0), std::invalid_argument);
}

// ---------------------------------------------------------------------------
// task_group

TEST_CASE("task_group: async_close cancels children and waits for them", "[runtime]") {
  // Evidence: children sleep for an hour of manual time; async_close() ends
  // them through cancellation, and afterwards the io_context has no work left
  // (no timer or coroutine outlives the group).
  auto clk = std::make_shared<rt::manual_clock>();
  asio::io_context io;
  auto group = std::make_unique<rt::task_group>(io.get_executor(), clk);
  int finished = 0;
  auto child = [&]() -> asio::awaitable<void> {
    auto slept = co_await clk->sleep_for(1h);
    finished += slept ? 0 : 1;  // cancelled, as expected
  };
  for (int i = 0; i < 10; ++i) {
    REQUIRE(group->spawn(child()));
  }
  drain(io);
  CHECK(group->size() == 10);
  CHECK(clk->pending_waits() == 10);

  auto closing = spawn(io, group->async_close(5s));
  drain(io);
  REQUIRE(closing->done);
  CHECK(closing->value->has_value());
  CHECK(finished == 10);
  CHECK(group->size() == 0);
  CHECK(group->stats().completed == 10);
  CHECK(clk->pending_waits() == 0);

  auto refused = group->spawn(child());
  CHECK(refused.error().code == rt::errc::closed);
  group.reset();
  io.restart();
  CHECK(io.run_for(1s) == 0);
}

TEST_CASE("task_group: the close deadline is reported when a child ignores cancellation",
          "[runtime]") {
  auto clk = std::make_shared<rt::manual_clock>();
  asio::io_context io;
  rt::task_group group(io.get_executor(), clk);
  bool release = false;
  auto stubborn = [&]() -> asio::awaitable<void> {
    // Polls a flag on the manual clock and shields itself from cancellation.
    co_await asio::this_coro::reset_cancellation_state(
        [](asio::cancellation_type) { return asio::cancellation_type::none; });
    while (!release) {
      co_await clk->sleep_for(1s);
    }
  };
  REQUIRE(group.spawn(stubborn()));
  auto closing = spawn(io, group.async_close(3s));
  rt::testing::run_until(io, *clk, clk->now() + 3s);
  REQUIRE(closing->done);
  CHECK(closing->value->error().code == rt::errc::deadline_exceeded);
  CHECK(group.size() == 1);

  release = true;
  rt::testing::run_until(io, *clk, clk->now() + 2s);
  CHECK(group.size() == 0);
}

TEST_CASE("task_group: child exceptions are contained and counted", "[runtime]") {
  asio::io_context io;
  rt::task_group group(io.get_executor());
  auto thrower = []() -> asio::awaitable<void> {
    throw std::runtime_error("child failed");
    co_return;
  };
  REQUIRE(group.spawn(thrower()));
  REQUIRE(group.spawn([]() -> asio::awaitable<void> { co_return; }()));
  io.run_for(10s);
  CHECK(group.stats().failed == 1);
  CHECK(group.stats().completed == 1);
  CHECK(group.stats().spawned == 2);

  auto waited = spawn(io, group.wait(1s));
  io.restart();
  io.run_for(10s);
  CHECK(waited->value->has_value());
}

TEST_CASE("task_group: children on a thread pool strand close cleanly", "[runtime]") {
  // Two threads run the children (through a strand, as the class comment
  // asks); a third party closes the group with the real clock. Run under TSan
  // this shows the cancellation path is race-free.
  asio::thread_pool pool(2);
  auto strand = asio::make_strand(pool.get_executor());
  rt::task_group group(strand);
  std::atomic<int> cancelled{0};
  for (int i = 0; i < 50; ++i) {
    REQUIRE(group.spawn([&]() -> asio::awaitable<void> {
      auto slept = co_await rt::real_clock()->sleep_for(1h);
      cancelled += slept ? 0 : 1;
    }()));
  }
  std::promise<grove::result<void>> closed;
  asio::co_spawn(strand, group.async_close(10s),
                 [&](std::exception_ptr, grove::result<void> r) { closed.set_value(r); });
  auto outcome = closed.get_future();
  REQUIRE(outcome.wait_for(10s) == std::future_status::ready);
  CHECK(outcome.get().has_value());
  CHECK(cancelled.load() == 50);
  pool.join();
}
