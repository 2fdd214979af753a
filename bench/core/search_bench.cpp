// The engine on Connect Four: the tree's own cost per iteration, O(1) tree
// statistics, and memory per node. Run: grove_core_bench --benchmark_filter=search
//
// Tree overhead. BM_search_connect4 runs a whole search (50,000 iterations
// from the position 4453, MCTS-Solver on, seed 42).
// Before timing, the same search is run once with a domain that records every
// state it is asked to evaluate; BM_playouts_only then plays random games from
// exactly those states, in the same order, with no tree at all. Both report
// the time for one whole batch, so
//   tree overhead = 1 - time(BM_playouts_only) / time(BM_search_connect4)
// is the share of a search spent outside the playouts: selection, expansion,
// re-deriving states along the path, backup and the solver's proofs.
// The first argument is the playout policy (0 decisive, 1 uniform); the
// second the simulation cache capacity. The target (tree overhead under 30%)
// refers to the cache off (0): each leaf gets a fresh random playout, as the
// baseline's loop does. With the cache on (10,000 entries, the library
// default) every leaf is also hashed and looked up, and a hit replays an old
// random result instead of playing; the baseline then replays only the
// leaves the search really evaluated (the misses), so the pair shows what
// hashing and caching add on top of the tree.
//
// Statistics. BM_tree_stats reads the O(1) counters of a tree of 10^3, 10^5
// and 10^6 nodes; BM_tree_recount recomputes them by walking every node.
//
// Memory. BM_search_million_nodes grows one tree to 10^6 nodes and reports the
// arena's bytes per node (the node itself is 32 bytes; the arena grows in
// blocks, so the ratio includes the unused tail of the last block).
#include <benchmark/benchmark.h>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "connect4/connect4.hpp"
#include "grove/core/search.hpp"

namespace {

namespace c4 = grove::examples::connect4;
namespace core = grove::core;

constexpr std::uint64_t search_iterations = 50'000;

c4::position start_position() {
  c4::position board;
  static_cast<void>(c4::parse_moves("4453", board));
  return board;
}

c4::playout_policy policy_of(const benchmark::State& state) {
  return state.range(0) == 0 ? c4::playout_policy::decisive : c4::playout_policy::uniform;
}

core::search_options overhead_options(const benchmark::State& state) {
  core::search_options options;
  options.max_iterations = search_iterations;
  options.cache_capacity = static_cast<std::size_t>(state.range(1));
  options.seed = 42;
  return options;
}

/// The Connect Four domain, recording each state the engine evaluates.
class recording_game : public c4::game {
 public:
  recording_game(c4::playout_policy policy, std::vector<c4::position>* seen)
      : c4::game(policy), seen_(seen) {}

  double evaluate(const c4::position& state, core::rng& random) const {
    seen_->push_back(state);
    return c4::game::evaluate(state, random);
  }

 private:
  std::vector<c4::position>* seen_;
};

void BM_search_connect4(benchmark::State& state) {
  const c4::game game(policy_of(state));
  const c4::position root = start_position();
  std::uint64_t iterations = 0;
  for (auto _ : state) {
    core::search<c4::game> engine(game, overhead_options(state));
    const auto result = engine.run(root);
    iterations += result.iterations;
    benchmark::DoNotOptimize(result.best_action);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(iterations));
}

void BM_playouts_only(benchmark::State& state) {
  std::vector<c4::position> leaves;
  {
    core::search<recording_game> engine(recording_game(policy_of(state), &leaves),
                                        overhead_options(state));
    static_cast<void>(engine.run(start_position()));
  }
  const c4::game game(policy_of(state));
  for (auto _ : state) {
    core::rng random(/*seed=*/42);
    double total = 0;
    for (const c4::position& leaf : leaves) {
      total += game.evaluate(leaf, random);
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * leaves.size()));
  state.counters["playouts_per_batch"] = static_cast<double>(leaves.size());
}

/// Searches with a node budget only, so the tree ends with about `nodes` nodes.
std::unique_ptr<core::search<c4::game>> grown_tree(std::uint64_t nodes) {
  core::search_options options;
  options.max_iterations = 0;
  options.max_nodes = nodes;
  options.cache_capacity = 0;
  options.solver = false;  // a proven root would stop the search before the budget
  auto engine = std::make_unique<core::search<c4::game>>(c4::game(), options);
  static_cast<void>(engine->run(c4::position{}));
  return engine;
}

core::search<c4::game>& tree_of_size(std::uint64_t nodes) {
  static std::map<std::uint64_t, std::unique_ptr<core::search<c4::game>>> trees;
  auto& slot = trees[nodes];
  if (!slot) {
    slot = grown_tree(nodes);
  }
  return *slot;
}

void BM_tree_stats(benchmark::State& state) {
  const auto& engine = tree_of_size(static_cast<std::uint64_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine.stats());
  }
  state.counters["nodes"] = static_cast<double>(engine.stats().nodes);
}

void BM_tree_recount(benchmark::State& state) {
  const auto& engine = tree_of_size(static_cast<std::uint64_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine.tree().recount());
  }
  state.counters["nodes"] = static_cast<double>(engine.stats().nodes);
}

void BM_search_million_nodes(benchmark::State& state) {
  core::tree_stats stats;
  for (auto _ : state) {
    stats = grown_tree(1'000'000)->stats();
  }
  state.counters["nodes"] = static_cast<double>(stats.nodes);
  state.counters["arena_bytes"] = static_cast<double>(stats.arena_bytes);
  state.counters["bytes_per_node"] =
      static_cast<double>(stats.arena_bytes) / static_cast<double>(stats.nodes);
  state.counters["node_size"] = static_cast<double>(sizeof(core::node));
}

}  // namespace

BENCHMARK(BM_search_connect4)
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 10'000})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_playouts_only)
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 10'000})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tree_stats)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(BM_tree_recount)->Arg(1'000)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_search_million_nodes)->Iterations(1)->Unit(benchmark::kMillisecond);
