// Recall, latency, build time and memory of hnsw_vector_store against exact
// brute force, swept over graph and search settings.
//
//   grove_storage_bench [--vectors N] [--queries Q] [--configs M:EFC,...]
//                       [--ef E,...] [--threads T]
//
// Data: N random 384-dimensional vectors (independent standard-normal values,
// seed 42; default 100,000) and Q further random vectors as queries (default
// 500). The exact top 10 of every query is computed once by brute force (its
// mean time per query is the baseline). Then, for each graph setting M:EFC
// (hnswlib M and ef_construction; default 16:200,32:300), the store is built
// once (cosine, batches of 1,000, `insert_threads` = T, default 1) and every
// ef_search in the list (default 64,128,...,8192, doubling) is measured on the
// same graph: recall@10 (share of the exact top 10 in the store's top 10,
// over all queries), query latency p50 / p99 / mean (one query at a time,
// top_k 10, no metadata, steady_clock around query()), build time, bytes per
// vector of the index (hnswlib layout) and of resident memory growth while
// building (includes ids and bookkeeping).
//
// Output: one Markdown table row per (setting, ef_search), then a line naming
// the cheapest ef_search reaching recall 0.95 for each setting.
// Random vectors in 384 dimensions have no cluster structure: the hardest
// case for a graph index (see docs/benchmarks/storage.md).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "grove/storage/hnsw_vector_store.hpp"

namespace {

constexpr std::size_t dim = 384;
constexpr std::size_t k = 10;
using clock_type = std::chrono::steady_clock;

struct settings {
  std::size_t vectors = 100'000;
  std::size_t queries = 500;
  std::vector<std::pair<std::size_t, std::size_t>> configs = {{16, 200}, {32, 300}};
  std::vector<std::size_t> efs = {64, 128, 256, 512, 1024, 2048, 4096, 8192};
  std::size_t threads = 1;
};

std::vector<std::size_t> parse_list(const std::string& text) {
  std::vector<std::size_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::strtoull(item.c_str(), nullptr, 10));
  return out;
}

settings parse_args(int argc, char** argv) {
  settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--vectors") {
      s.vectors = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--queries") {
      s.queries = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--ef") {
      s.efs = parse_list(value);
    } else if (flag == "--threads") {
      s.threads = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--configs") {
      s.configs.clear();
      std::stringstream in(value);
      std::string item;
      while (std::getline(in, item, ',')) {
        const auto colon = item.find(':');
        s.configs.emplace_back(std::strtoull(item.substr(0, colon).c_str(), nullptr, 10),
                               std::strtoull(item.substr(colon + 1).c_str(), nullptr, 10));
      }
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  return s;
}

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

void normalise(std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  const auto norm = static_cast<float>(std::sqrt(sum));
  for (float& x : v) x /= norm;
}

// Dot product with eight independent sums (the compiler keeps them apart).
float dot(const float* a, const float* b) {
  float s[8] = {};
  for (std::size_t i = 0; i < dim; i += 8) {
    for (std::size_t j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
  }
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

std::vector<std::size_t> brute_force(const std::vector<float>& unit, std::size_t n,
                                     const std::vector<float>& query) {
  std::vector<std::pair<float, std::size_t>> scored(n);
  for (std::size_t i = 0; i < n; ++i) scored[i] = {-dot(unit.data() + i * dim, query.data()), i};
  std::partial_sort(scored.begin(), scored.begin() + k, scored.end());
  std::vector<std::size_t> top(k);
  for (std::size_t i = 0; i < k; ++i) top[i] = scored[i].second;
  return top;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  const settings s = parse_args(argc, argv);

  // 1. Data, queries and the exact answers (once for every setting).
  std::mt19937 rng(42);
  std::normal_distribution<float> normal;
  std::vector<grove::storage::vector_record> records(s.vectors);
  std::vector<float> unit(s.vectors * dim);
  for (std::size_t i = 0; i < s.vectors; ++i) {
    std::vector<float> v(dim);
    for (float& x : v) x = normal(rng);
    records[i] = {std::to_string(i), v, nullptr};
    normalise(v);
    std::copy(v.begin(), v.end(), unit.begin() + static_cast<std::ptrdiff_t>(i * dim));
  }
  std::vector<std::vector<float>> queries(s.queries);
  std::vector<std::vector<std::size_t>> truth(s.queries);
  const auto truth_start = clock_type::now();
  for (std::size_t q = 0; q < s.queries; ++q) {
    queries[q].resize(dim);
    for (float& x : queries[q]) x = normal(rng);
    normalise(queries[q]);
    truth[q] = brute_force(unit, s.vectors, queries[q]);
  }
  const double brute_ms =
      std::chrono::duration<double, std::milli>(clock_type::now() - truth_start).count() /
      static_cast<double>(s.queries);
  std::printf("vectors %zu, dimension %zu, queries %zu, insert threads %zu\n", s.vectors, dim,
              s.queries, s.threads);
  std::printf("brute force (exact): %.2f ms per query\n\n", brute_ms);
  std::printf(
      "| M | ef_construction | build s | index B/vector | RSS B/vector | ef_search |"
      " recall@10 | p50 ms | p99 ms | mean ms | vs brute force |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  std::fflush(stdout);

  std::vector<std::string> cheapest;
  for (const auto& [m, efc] : s.configs) {
    // 2. One graph per setting.
    grove::storage::hnsw_vector_store_options options;
    options.dimension = dim;
    options.m = m;
    options.ef_construction = efc;
    options.initial_capacity = s.vectors;
    options.insert_threads = s.threads;
    const std::size_t rss_before = resident_bytes();
    auto opened = grove::storage::hnsw_vector_store::open(options);
    if (!opened) {
      std::fprintf(stderr, "%s\n", opened.error().describe().c_str());
      return 1;
    }
    auto store = std::move(*opened);
    const auto build_start = clock_type::now();
    for (std::size_t first = 0; first < s.vectors; first += 1000) {
      const std::size_t count = std::min<std::size_t>(1000, s.vectors - first);
      if (auto ok = store->upsert({records.data() + first, count}); !ok) {
        std::fprintf(stderr, "%s\n", ok.error().describe().c_str());
        return 1;
      }
    }
    const double build_s = std::chrono::duration<double>(clock_type::now() - build_start).count();
    const double rss_per_vector =
        static_cast<double>(resident_bytes() - rss_before) / static_cast<double>(s.vectors);
    const double index_per_vector =
        static_cast<double>(store->index_bytes()) / static_cast<double>(s.vectors);

    // 3. Every ef_search on the same graph.
    std::string best = "none of the ef_search values tried";
    for (std::size_t ef : s.efs) {
      store->set_ef_search(ef);
      grove::storage::vector_query query;
      query.top_k = k;
      query.include_metadata = false;
      std::vector<double> latencies;
      std::size_t hits = 0;
      for (std::size_t q = 0; q < s.queries; ++q) {
        query.vector = queries[q];
        const auto start = clock_type::now();
        auto found = store->query(query);
        latencies.push_back(
            std::chrono::duration<double, std::milli>(clock_type::now() - start).count());
        if (!found) {
          std::fprintf(stderr, "%s\n", found.error().describe().c_str());
          return 1;
        }
        for (std::size_t id : truth[q]) {
          const std::string want = std::to_string(id);
          hits += std::any_of(found->begin(), found->end(),
                              [&](const auto& match) { return match.id == want; });
        }
      }
      const double recall = static_cast<double>(hits) / static_cast<double>(s.queries * k);
      double mean = 0;
      for (double l : latencies) mean += l;
      mean /= static_cast<double>(latencies.size());
      std::printf("| %zu | %zu | %.0f | %.0f | %.0f | %zu | %.3f | %.2f | %.2f | %.2f | %.1fx |\n",
                  m, efc, build_s, index_per_vector, rss_per_vector, ef, recall,
                  percentile(latencies, 0.5), percentile(latencies, 0.99), mean, brute_ms / mean);
      std::fflush(stdout);
      if (recall >= 0.95 && best.starts_with("none")) best = "ef_search " + std::to_string(ef);
    }
    cheapest.push_back("M " + std::to_string(m) + ", ef_construction " + std::to_string(efc) +
                       ": recall@10 >= 0.95 first at " + best);
  }
  std::printf("\n");
  for (const std::string& line : cheapest) std::printf("%s\n", line.c_str());
  return 0;
}
