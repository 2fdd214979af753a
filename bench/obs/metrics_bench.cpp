// Metric recording rates: a cached counter, gauge and histogram handle, a
// labelled lookup per sample, two threads on one cell, and a scrape. The
// baseline is a bare relaxed std::atomic fetch_add, the floor for any counter.
#include <benchmark/benchmark.h>

#include <atomic>
#include <string>
#include <vector>

#include "grove/obs/metrics.hpp"

namespace {

grove::obs::metrics_registry& registry() {
  static grove::obs::metrics_registry instance;
  return instance;
}

grove::obs::counter_family& requests() {
  static grove::obs::counter_family family = registry()
                                                 .add_counter({.name = "grove_bench_requests_total",
                                                               .help = "Requests.",
                                                               .labels = {"provider", "status"}})
                                                 .value();
  return family;
}

grove::obs::histogram_family& latency() {
  static grove::obs::histogram_family family =
      registry()
          .add_histogram({.name = "grove_bench_latency_seconds",
                          .help = "Latency.",
                          .labels = {"provider"},
                          .buckets = grove::obs::latency_buckets_seconds()})
          .value();
  return family;
}

std::atomic<std::uint64_t> bare_cell{0};

void BM_baseline_atomic_add(benchmark::State& state) {
  for (auto _ : state) {
    bare_cell.fetch_add(1, std::memory_order_relaxed);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_baseline_atomic_add)->Threads(1)->Threads(2);

void BM_counter_inc(benchmark::State& state) {
  grove::obs::counter& counter = requests().with({"openai", "200"});
  for (auto _ : state) {
    counter.inc();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_counter_inc)->Threads(1)->Threads(2);

void BM_counter_lookup_and_inc(benchmark::State& state) {
  const std::vector<std::string> providers = {"openai", "anthropic", "offline", "vllm"};
  const std::vector<std::string> statuses = {"200", "429", "500", "529"};
  std::size_t i = 0;
  for (auto _ : state) {
    requests().with({providers[i & 3], statuses[(i >> 2) & 3]}).inc();
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_counter_lookup_and_inc)->Threads(1)->Threads(2);

void BM_gauge_set(benchmark::State& state) {
  static grove::obs::gauge_family family =
      registry().add_gauge({.name = "grove_bench_depth", .help = "Depth."}).value();
  grove::obs::gauge& gauge = family.with();
  double value = 0;
  for (auto _ : state) {
    gauge.set(value);
    value += 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_gauge_set);

void BM_histogram_observe(benchmark::State& state) {
  grove::obs::histogram& histogram = latency().with({"openai"});
  double value = 0.001;
  for (auto _ : state) {
    histogram.observe(value);
    value = value > 100 ? 0.001 : value * 1.7;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_histogram_observe)->Threads(1)->Threads(2);

void BM_expose(benchmark::State& state) {
  grove::obs::metrics_registry local;
  auto counters =
      local.add_counter({.name = "grove_bench_calls_total", .help = "Calls.", .labels = {"model"}})
          .value();
  auto histograms = local
                        .add_histogram({.name = "grove_bench_call_duration_seconds",
                                        .help = "Durations.",
                                        .labels = {"model"},
                                        .buckets = grove::obs::latency_buckets_seconds()})
                        .value();
  for (int m = 0; m < 32; ++m) {
    const std::string model = "model-" + std::to_string(m);
    counters.with({model}).inc(static_cast<std::uint64_t>(m));
    histograms.with({model}).observe(0.1 * m);
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    local.expose_to(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_expose);

}  // namespace
