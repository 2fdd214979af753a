// The simulation cache: lookups, plus an insert after every miss, per second.
// Run: grove_core_bench --benchmark_filter=lru
//
// Method: the cache (16 shards, the engine's default) is filled to capacity
// before timing; each thread then draws keys uniformly from [0, 2 * capacity),
// so about half the lookups hit and every miss inserts (and evicts). With two
// threads both work on the one shared cache; items/s is the sum over threads.
#include <benchmark/benchmark.h>
#include <cstdint>
#include <memory>

#include "grove/core/lru_cache.hpp"
#include "grove/core/rng.hpp"

namespace {

using cache_type = grove::core::sharded_lru_cache<std::uint64_t, double>;

std::unique_ptr<cache_type> shared_cache;

void BM_lru_cache_lookup_insert(benchmark::State& state) {
  const auto capacity = static_cast<std::uint64_t>(state.range(0));
  if (state.thread_index() == 0) {
    // Threads wait for each other at the start of the loop, so the cache is
    // ready before any of them uses it.
    shared_cache = std::make_unique<cache_type>(capacity, /*shards=*/16);
    for (std::uint64_t key = 0; key < capacity; ++key) {
      shared_cache->put(key * 2, 0.5);
    }
  }
  grove::core::rng random(/*seed=*/100 + static_cast<std::uint64_t>(state.thread_index()));
  const auto key_range = static_cast<std::uint32_t>(2 * capacity);
  std::uint64_t hits = 0;
  for (auto _ : state) {
    const std::uint64_t key = random.uniform(key_range);
    if (const auto value = shared_cache->get(key)) {
      ++hits;
      benchmark::DoNotOptimize(*value);
    } else {
      shared_cache->put(key, 0.25);
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_rate"] =
      benchmark::Counter(static_cast<double>(hits) / static_cast<double>(state.iterations()),
                         benchmark::Counter::kAvgThreads);
  if (state.thread_index() == 0) {
    state.counters["size"] = static_cast<double>(shared_cache->size());
  }
}

}  // namespace

BENCHMARK(BM_lru_cache_lookup_insert)
    ->Arg(10'000)
    ->Arg(1'000'000)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
