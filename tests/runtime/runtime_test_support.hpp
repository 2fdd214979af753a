// tests/runtime/runtime_test_support.hpp: helpers shared by the runtime tests
// (driving an io_context against a manual_clock, spawning with a signal).
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "grove/runtime/clock.hpp"

namespace grove::runtime::testing {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// Runs every ready handler (and the ones they make ready) without blocking.
inline void drain(asio::io_context& io) {
  io.restart();
  io.poll();
}

/// Moves `clk` to `end` event by event (each pending deadline in turn),
/// running ready handlers after every step. Returns the number of steps.
inline std::size_t run_until(asio::io_context& io, manual_clock& clk, clock::time_point end) {
  std::size_t steps = 0;
  drain(io);
  while (auto next = clk.next_deadline()) {
    if (*next > end) {
      break;
    }
    clk.advance_to(*next);
    drain(io);
    ++steps;
  }
  clk.advance_to(end);
  drain(io);
  return steps;
}

/// The outcome of a spawned coroutine, filled in when it completes.
template <class T>
struct spawned {
  bool done = false;
  std::exception_ptr failure;
  std::optional<T> value;
};

/// Spawns `task` on `io` with `signal` as its cancellation slot (may be null);
/// the returned record is filled in on completion.
template <class T>
std::shared_ptr<spawned<T>> spawn(asio::io_context& io, asio::awaitable<T> task,
                                  asio::cancellation_signal* signal = nullptr) {
  auto record = std::make_shared<spawned<T>>();
  auto on_done = [record](std::exception_ptr e, T value) {
    record->done = true;
    record->failure = e;
    if (!e) {
      record->value.emplace(std::move(value));
    }
  };
  if (signal != nullptr) {
    asio::co_spawn(io, std::move(task), asio::bind_cancellation_slot(signal->slot(), on_done));
  } else {
    asio::co_spawn(io, std::move(task), on_done);
  }
  return record;
}

/// Runs `task` on a fresh io_context to completion (for code that does not
/// wait on a manual clock) and returns its value.
template <class T>
T run_to_completion(asio::awaitable<T> task) {
  asio::io_context io;
  auto record = spawn(io, std::move(task));
  io.run_for(std::chrono::seconds(10));
  REQUIRE(record->done);
  if (record->failure) {
    std::rethrow_exception(record->failure);
  }
  return std::move(*record->value);
}

}  // namespace grove::runtime::testing
