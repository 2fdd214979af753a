// Recall, latency and memory of hnsw_vector_store against exact brute force.
//
// Data: GROVE_BENCH_VECTORS random 384-dimensional vectors (normal
// distribution, seed 42; default 20,000, the figure is 100,000) and
// 200 random queries. The exact top 10 of every query is computed once by
// brute force; each HNSW case reports recall@10 against it. Random vectors
// in 384 dimensions have no cluster structure, the hardest case for HNSW:
// real embeddings reach the same recall at a smaller ef_search.
//
// Cases (all single-threaded, top_k = 10, cosine):
//   brute_force_query            exact scan of every vector: the baseline
//   hnsw_query/ef:<E>            HNSW search with ef_search = E
// Counters: recall_at_10, index_bytes_per_vector (graph + vectors, from the
// hnswlib layout), rss_bytes_per_vector (resident set growth while building,
// including ids and metadata), build_seconds.
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

#include "grove/storage/hnsw_vector_store.hpp"

namespace {

constexpr std::size_t dim = 384;
constexpr std::size_t query_count = 200;
constexpr std::size_t k = 10;

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

struct dataset {
  std::size_t n = 0;
  std::vector<float> unit;  // n x dim, normalised, for brute force
  std::vector<std::vector<float>> queries;
  std::vector<std::vector<std::size_t>> truth;  // exact top k per query
  std::unique_ptr<grove::storage::hnsw_vector_store> store;
  double build_seconds = 0;
  double rss_per_vector = 0;
};

void normalise(std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  const auto norm = static_cast<float>(std::sqrt(sum));
  for (float& x : v) x /= norm;
}

std::vector<std::size_t> brute_force(const dataset& d, const std::vector<float>& query) {
  std::vector<std::pair<float, std::size_t>> scored(d.n);
  for (std::size_t i = 0; i < d.n; ++i) {
    const float* row = d.unit.data() + i * dim;
    float dot = 0;
    for (std::size_t j = 0; j < dim; ++j) dot += row[j] * query[j];
    scored[i] = {-dot, i};
  }
  std::partial_sort(scored.begin(), scored.begin() + k, scored.end());
  std::vector<std::size_t> top(k);
  for (std::size_t i = 0; i < k; ++i) top[i] = scored[i].second;
  return top;
}

dataset& data() {
  static dataset d = [] {
    dataset out;
    const char* env = std::getenv("GROVE_BENCH_VECTORS");
    out.n = env != nullptr ? std::strtoull(env, nullptr, 10) : 20'000;
    std::mt19937 rng(42);
    std::normal_distribution<float> normal;

    grove::storage::hnsw_vector_store_options options;
    options.dimension = dim;
    options.initial_capacity = out.n;
    out.store = std::move(*grove::storage::hnsw_vector_store::open(options));

    // Build in batches of 1,000, measuring resident memory and time.
    const std::size_t rss_before = resident_bytes();
    const auto start = std::chrono::steady_clock::now();
    out.unit.resize(out.n * dim);
    std::vector<grove::storage::vector_record> batch;
    for (std::size_t i = 0; i < out.n; ++i) {
      std::vector<float> v(dim);
      for (float& x : v) x = normal(rng);
      batch.push_back({std::to_string(i), v, nullptr});
      normalise(v);
      std::copy(v.begin(), v.end(), out.unit.begin() + static_cast<std::ptrdiff_t>(i * dim));
      if (batch.size() == 1000 || i + 1 == out.n) {
        if (!out.store->upsert(batch)) std::abort();
        batch.clear();
      }
    }
    out.build_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // The brute-force copy (n * dim floats) was allocated in the same window.
    const double brute_bytes = static_cast<double>(out.n * dim * sizeof(float));
    out.rss_per_vector = (static_cast<double>(resident_bytes() - rss_before) - brute_bytes) /
                         static_cast<double>(out.n);

    for (std::size_t q = 0; q < query_count; ++q) {
      std::vector<float> v(dim);
      for (float& x : v) x = normal(rng);
      normalise(v);
      out.truth.push_back(brute_force(out, v));
      out.queries.push_back(std::move(v));
    }
    return out;
  }();
  return d;
}

void brute_force_query(benchmark::State& state) {
  dataset& d = data();
  std::size_t q = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(brute_force(d, d.queries[q++ % query_count]));
  }
  state.counters["vectors"] = static_cast<double>(d.n);
}

void hnsw_query(benchmark::State& state) {
  dataset& d = data();
  d.store->set_ef_search(static_cast<std::size_t>(state.range(0)));

  // Recall over all queries, outside the timed loop.
  std::size_t hits = 0;
  for (std::size_t q = 0; q < query_count; ++q) {
    grove::storage::vector_query query;
    query.vector = d.queries[q];
    query.top_k = k;
    query.include_metadata = false;
    auto found = d.store->query(query);
    for (std::size_t id : d.truth[q]) {
      const std::string want = std::to_string(id);
      hits +=
          std::any_of(found->begin(), found->end(), [&](const auto& m) { return m.id == want; });
    }
  }

  grove::storage::vector_query query;
  query.top_k = k;
  query.include_metadata = false;
  std::size_t q = 0;
  for (auto _ : state) {
    query.vector = d.queries[q++ % query_count];
    benchmark::DoNotOptimize(d.store->query(query));
  }
  state.counters["vectors"] = static_cast<double>(d.n);
  state.counters["recall_at_10"] = static_cast<double>(hits) / (query_count * k);
  state.counters["index_bytes_per_vector"] =
      static_cast<double>(d.store->index_bytes()) / static_cast<double>(d.n);
  state.counters["rss_bytes_per_vector"] = d.rss_per_vector;
  state.counters["build_seconds"] = d.build_seconds;
}

BENCHMARK(brute_force_query)->Unit(benchmark::kMicrosecond);
BENCHMARK(hnsw_query)
    ->ArgName("ef")
    ->Arg(64)
    ->Arg(128)
    ->Arg(256)
    ->Arg(512)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
