// Runtime hot paths against baselines measured in the same run:
//   - token_bucket::acquire, uncontended and with 1,000 queued waiters, against
//     the Asio primitive it is built on (a steady_timer wait);
//   - circuit_breaker allow()+record(), on one and two threads;
//   - response_cache get/put at 10,000 entries, against a mutex-guarded
//     std::unordered_map.
// docs/benchmarks/runtime.md has the numbers and how to read them.
#include <benchmark/benchmark.h>

#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "grove/runtime/circuit_breaker.hpp"
#include "grove/runtime/clock.hpp"
#include "grove/runtime/response_cache.hpp"
#include "grove/runtime/token_bucket.hpp"

namespace {

namespace asio = boost::asio;
namespace rt = grove::runtime;
using namespace std::chrono_literals;

// Runs `body` as one coroutine on a fresh io_context, to completion.
template <class Body>
void run_coroutine(Body body) {
  asio::io_context io;
  asio::co_spawn(io, std::move(body), asio::detached);
  io.run();
}

// ---------------------------------------------------------------------------
// Token bucket

// Baseline: one co_await of an already expired steady_timer (a complete trip
// through Asio's timer queue and scheduler).
void bm_timer_wait_uncontended(benchmark::State& state) {
  run_coroutine([&]() -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (auto _ : state) {
      timer.expires_at(asio::steady_timer::time_point::min());
      co_await timer.async_wait(asio::use_awaitable);
    }
  });
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_timer_wait_uncontended);

// acquire() when tokens are always there: the fast path (lock, refill, take).
void bm_bucket_acquire_uncontended(benchmark::State& state) {
  rt::token_bucket bucket(
      {.capacity = 1e15, .refill_per_second = 1e15, .initial_tokens = 1e15, .time_source = {}});
  run_coroutine([&]() -> asio::awaitable<void> {
    for (auto _ : state) {
      auto ok = co_await bucket.acquire(1);
      benchmark::DoNotOptimize(ok);
    }
  });
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_bucket_acquire_uncontended);

constexpr int waiters = 1000;

// Baseline: 1,000 coroutines each waiting on its own steady_timer, all woken
// by cancel(): the wake-up mechanism the bucket's queue uses, without the bucket.
void bm_timer_wait_1000_waiters(benchmark::State& state) {
  for (auto _ : state) {
    asio::io_context io;
    std::vector<std::unique_ptr<asio::steady_timer>> timers;
    for (int i = 0; i < waiters; ++i) {
      timers.push_back(
          std::make_unique<asio::steady_timer>(io, asio::steady_timer::time_point::max()));
      asio::co_spawn(
          io,
          [t = timers.back().get()]() -> asio::awaitable<void> {
            boost::system::error_code ec;
            co_await t->async_wait(asio::redirect_error(asio::use_awaitable, ec));
          },
          asio::detached);
    }
    io.poll();
    for (auto& t : timers) {
      t->cancel();
    }
    io.run();
  }
  state.SetItemsProcessed(state.iterations() * waiters);
}
BENCHMARK(bm_timer_wait_1000_waiters)->Unit(benchmark::kMicrosecond);

// 1,000 acquire() calls queued on an empty bucket, then time moves by exactly
// the refill they need: each grant wakes the next waiter (FIFO hand-over).
void bm_bucket_acquire_1000_waiters(benchmark::State& state) {
  auto clk = std::make_shared<rt::manual_clock>();
  rt::token_bucket bucket(
      {.capacity = waiters, .refill_per_second = waiters, .initial_tokens = 0, .time_source = clk});
  for (auto _ : state) {
    asio::io_context io;
    for (int i = 0; i < waiters; ++i) {
      asio::co_spawn(io, bucket.acquire(1), asio::detached);
    }
    io.poll();
    clk->advance(1s);
    io.restart();
    io.run();
  }
  state.SetItemsProcessed(state.iterations() * waiters);
}
BENCHMARK(bm_bucket_acquire_1000_waiters)->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------
// Circuit breaker: allow() then record(success), shared by all threads.

rt::circuit_breaker& shared_breaker() {
  static rt::circuit_breaker breaker;
  return breaker;
}

void bm_breaker_allow_record(benchmark::State& state) {
  auto& breaker = shared_breaker();
  for (auto _ : state) {
    auto permit = breaker.allow();
    permit->record(rt::call_outcome::success);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_breaker_allow_record)->Threads(1)->Threads(2)->UseRealTime();

// ---------------------------------------------------------------------------
// Response cache at 10,000 entries.

constexpr int entries = 10'000;

std::vector<std::string> make_keys() {
  std::vector<std::string> keys;
  for (int i = 0; i < entries; ++i) {
    keys.push_back("chat:sha256:" + std::to_string(i * 7919) + ":gpt-4o-mini:t0");
  }
  return keys;
}

const std::vector<std::string>& keys() {
  static const std::vector<std::string> k = make_keys();
  return k;
}

std::vector<std::size_t> random_indices() {
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> pick(0, entries - 1);
  std::vector<std::size_t> out(4096);
  for (auto& i : out) {
    i = pick(rng);
  }
  return out;
}

const std::string& body() {
  static const std::string b(512, 'x');
  return b;
}

rt::response_cache_options cache_options() {
  rt::response_cache_options o;
  o.max_entries = entries;
  return o;
}

rt::response_cache& filled_cache() {
  static rt::response_cache cache(cache_options());
  static const bool filled = [] {
    for (const auto& k : keys()) {
      cache.put(k, body());
    }
    return true;
  }();
  (void)filled;
  return cache;
}

void bm_cache_get(benchmark::State& state) {
  auto& cache = filled_cache();
  const auto indices = random_indices();
  std::size_t n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.get(keys()[indices[n++ & 4095]]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_cache_get);

void bm_cache_put(benchmark::State& state) {
  auto& cache = filled_cache();
  const auto indices = random_indices();
  std::size_t n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.put(keys()[indices[n++ & 4095]], body()));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_cache_put);

// Baseline: find() in a std::unordered_map<std::string, std::string> under a
// std::mutex (no TTL, no LRU, no byte accounting).
void bm_map_find_baseline(benchmark::State& state) {
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const std::string>> map;
  for (const auto& k : keys()) {
    map.emplace(k, std::make_shared<const std::string>(body()));
  }
  const auto indices = random_indices();
  std::size_t n = 0;
  for (auto _ : state) {
    std::lock_guard lock(mutex);
    auto found = map.find(keys()[indices[n++ & 4095]]);
    benchmark::DoNotOptimize(found->second);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_map_find_baseline);

}  // namespace

BENCHMARK_MAIN();
