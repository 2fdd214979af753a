// grove/core/search_result.hpp: what a search returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "grove/core/lru_cache.hpp"
#include "grove/core/search_options.hpp"
#include "grove/core/tree.hpp"

namespace grove::core {

/// One child of the root after a search.
template <class D>
struct child_summary {
  typename D::action_type action{};
  std::uint32_t visits = 0;  ///< completed simulations through the child
  double mean = 0.0;         ///< mean value for the player to move at the root (0 if unvisited)
  float prior = 0.0f;        ///< normalised prior (after root noise, if any)
  /// Solver proof for the player to move at the root: win means playing this
  /// action wins.
  proof_status proof = proof_status::unknown;
};

/// The outcome of search::run / resume / async_run.
template <class D>
struct search_result {
  /// The chosen action; meaningful only when has_action.
  typename D::action_type best_action{};
  /// False when the root is terminal or has no legal action (stop is no_actions).
  bool has_action = false;
  std::uint32_t best_visits = 0;  ///< visits of the chosen child
  double best_value = 0.0;        ///< mean of the chosen child, for the player to move at the root
  double root_value = 0.0;        ///< root mean, for the player to move at the root
  /// Solver proof of the root, for the player to move at the root.
  proof_status root_proof = proof_status::unknown;
  stop_reason stop = stop_reason::iterations;  ///< the rule that ended the search
  std::uint64_t iterations = 0;                ///< simulations completed by this call
  std::chrono::nanoseconds elapsed{0};         ///< wall time of this call
  tree_stats tree;                             ///< O(1) counters after the call
  cache_stats cache;                           ///< simulation cache counters (cumulative)
  /// The root's children, most visited first (ties keep child order).
  std::vector<child_summary<D>> children;
  /// The chosen action followed by the most visited child at each level below.
  std::vector<typename D::action_type> principal_variation;
};

}  // namespace grove::core
