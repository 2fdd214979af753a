// grove/agents/strategy_search.hpp: which way of prompting pays off for this
// question, decided by the core MCTS engine with an LLM judge.
//
// The search tree (a single-agent domain for grove::core::async_run):
//   root -> one child per prompt strategy (direct, decomposition, refinement,
//           analogy, adversarial by default; user-extensible)
//        -> "refine": a second level that improves that strategy's answer
//        -> a terminal third level that repeats the refined score.
// Evaluating a strategy node = one answer call with the strategy's
// instruction + one judge call; evaluating a refine node = one call improving
// the strategy's answer + one judge call. The judge's score s in [0, 1] is
// backed up as 2s - 1. UCB1 (c = 1.414 by default) picks the next node; up to
// max_in_flight evaluations run at once (virtual loss spreads them). The
// simulation cache is off: every evaluation is a real answer.
// The search stops at its evaluation budget, or as soon as the request's LLM
// budget is spent (it then returns what it has).
// The result is the answer with the best judge score inside the most visited
// strategy's subtree (ties in visits go to the higher mean score), plus
// per-strategy statistics for the CLI's tree view.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "grove/agents/consensus.hpp"
#include "grove/agents/llm_session.hpp"
#include "grove/agents/node_context.hpp"
#include "grove/agents/reasoning.hpp"

namespace grove::agents {

/// A way of prompting the model.
struct prompt_strategy {
  /// Short identifier ("direct").
  std::string name{};
  /// The system instruction that makes the strategy.
  std::string instruction{};
};

/// direct, decomposition, refinement, analogy, adversarial.
std::vector<prompt_strategy> default_strategies();

/// Settings of the strategy search.
struct strategy_search_options {
  /// The strategies searched over. Default: default_strategies(); 1..64 entries,
  /// unique non-empty names.
  std::vector<prompt_strategy> strategies = default_strategies();
  /// Evaluations (answer + judge) per search. Default 10; range 1..1000.
  std::uint32_t max_evaluations = 10;
  /// Evaluations in flight at once. Default 4; range 1..64.
  std::uint32_t max_in_flight = 4;
  /// UCB1 exploration constant c. Default 1.414; range >= 0.
  double exploration = 1.414;
  /// Seed of the engine's rng. Default 42.
  std::uint64_t seed = 42;
  /// Sampling temperature of the answer calls. Default 0.7; range 0..2.
  double temperature = 0.7;
  /// Reply length limit per answer call. Default 512; range >= 16.
  std::uint32_t max_tokens = 512;

  std::vector<std::string> validate() const;
};

/// One strategy's line in the result.
struct strategy_stats {
  std::string name{};
  /// Completed simulations through the strategy (the engine's visits).
  std::uint32_t visits = 0;
  /// Mean judge score in [0, 1] over those visits.
  double mean_score = 0.0;
  /// Best judge score of the strategy's answers (0 when never evaluated).
  double best_score = 0.0;
  /// Whether the second level (refinement) was evaluated.
  bool refined = false;
  double refined_score = 0.0;
};

/// What a search produced.
struct strategy_search_result {
  /// The output (agent "search"); ok = false with the cause when no
  /// evaluation succeeded.
  agent_output output{};
  /// The chosen strategy's name.
  std::string best_strategy{};
  std::vector<strategy_stats> strategies{};
  /// Evaluations completed and failed.
  std::uint32_t evaluations = 0;
  std::uint32_t failed_evaluations = 0;
  /// The engine's stop reason ("iterations", "cancelled" when a budget ran out).
  std::string stop{};
  /// The strategy tree as Graphviz DOT.
  std::string dot{};
};

/// Runs one search. Emits a strategy_iteration event per evaluation through
/// `ctx`. Requires: options.validate() is empty; runs on the request's strand.
boost::asio::awaitable<strategy_search_result> run_strategy_search(
    llm_session& session, std::string question, std::string context,
    strategy_search_options options, judge_options judge, reasoning_stats& stats,
    const node_context& ctx);

}  // namespace grove::agents
