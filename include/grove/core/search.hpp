// grove/core/search.hpp: the Monte Carlo Tree Search engine.
//
// Algorithm. Each simulation (iteration) does four things:
//   1. Select: from the root, repeatedly pick a child with the tree policy,
//      applying its action to a copy of the root state, until reaching a node
//      that is terminal, proven, or not yet expanded.
//   2. Expand: a node reached for the second time (or the root) gets one child
//      slot per legal action; the tree policy picks one child, which is the
//      leaf. A node reached for the first time is itself the leaf.
//   3. Evaluate: a terminal leaf is scored by terminal_value; any other leaf by
//      the domain's evaluate(state, rng) (random playouts, a heuristic, a
//      model), looked up first in the simulation cache by its state hash.
//   4. Back up: every node on the path gets one visit and the leaf value, seen
//      from that node's perspective (below); solver proofs propagate upward.
//
// Tree policies (N = parent visits, n = child visits, Q = child mean, P = prior,
// c = options.exploration; in-flight evaluations count in N and n, see
// virtual loss in async_search.hpp):
//   UCB1: unvisited children first, in child order; then Q + c * sqrt(ln N / n).
//         With c = 0 this is the best mean. Ties go to the earlier child.
//   PUCT: Q + c * P * sqrt(max(N, 1)) / (1 + n), with Q of an unvisited child
//         taken as the parent's mean (first-play urgency). Priors come from
//         the domain's priors() or are uniform; at the root they can be mixed
//         with Dirichlet noise, P' = (1 - w) P + w * Dir(alpha).
//   Progressive widening (optional, either policy): a node uses only its
//         first clamp(ceil(k * N^alpha), 1, legal actions) child slots; when
//         the domain provides priors, slots are ordered by prior (highest
//         first), otherwise in the domain's action order.
//
// Values and perspective. Domains score a state for the player to move there,
// in [-1, 1]. A node stores values for the player who moved into it (the
// player to move at its parent), so a parent picks the child with the highest
// stored mean. The root stores values for the player to move at the root. In
// single-agent domains (num_players == 1) every value is simply the value.
// Two-player domains are zero-sum: a value v for one player is -v for the other.
//
// MCTS-Solver (two-player domains, options.solver): a terminal leaf gets a
// proof (win, loss or draw) from its terminal value. A node whose player to
// move has a child proven a win is a proven win; one whose children are all
// proven is a proven draw if one is a draw, else a proven loss. Proofs
// propagate up the path; selection skips children proven lost; a proven node
// is backed up with its exact value (+1, -1 or 0) instead of being searched;
// the search stops with stop_reason::root_proven once the root is proven.
// Reference: Winands, Björnsson, Saito, "Monte-Carlo Tree Search Solver"
// (2008), https://doi.org/10.1007/978-3-540-87608-3_3
//
// Final choice (options.final), after the solver's preferences (a proven win
// first; proven losses only when every child is one): most visits (default),
// highest mean, robust (visits, then mean), or secure (the highest lower
// bound Q - c * sqrt(ln N / n)).
//
// Assumptions: deterministic transitions (chance belongs inside evaluate), one
// or two players, no simultaneous moves; the evaluator may be stochastic (it
// draws only from the engine's rng, so a seed reproduces a search).
// Reference for UCT: Kocsis and Szepesvári, "Bandit based Monte-Carlo
// Planning" (2006), https://doi.org/10.1007/11871842_29
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "grove/core/assert.hpp"
#include "grove/core/domain.hpp"
#include "grove/core/hash.hpp"
#include "grove/core/lru_cache.hpp"
#include "grove/core/rng.hpp"
#include "grove/core/search_options.hpp"
#include "grove/core/search_result.hpp"
#include "grove/core/tree.hpp"

namespace grove::core {

namespace detail {
template <class D>
struct async_driver;

/// Identity hash for keys that are already XXH3 hashes.
struct prehashed {
  std::size_t operator()(std::uint64_t key) const noexcept { return static_cast<std::size_t>(key); }
};

inline proof_status flip(proof_status proof) noexcept {
  switch (proof) {
    case proof_status::win:
      return proof_status::loss;
    case proof_status::loss:
      return proof_status::win;
    default:
      return proof;
  }
}

inline double proof_value(proof_status proof) noexcept {
  return proof == proof_status::win ? 1.0 : proof == proof_status::loss ? -1.0 : 0.0;
}
}  // namespace detail

/// True when the engine can key the simulation cache for D's states: the
/// domain has hash(state), or the state is plain bytes (hash_value).
template <class D>
inline constexpr bool has_state_hash =
    domain_with_hash<D> || std::has_unique_object_representations_v<typename D::state_type>;

/// The search engine for a domain D: owns the domain object, the options, the
/// tree, the seeded rng and the simulation cache.
///
/// Lifetime: a search object keeps its tree between calls; run() starts a new
/// tree, resume() continues the current one, advance() re-roots it.
/// Thread safety: none; use one search object from one thread (async_run uses
/// it from one executor). Different search objects are independent. Core does
/// not log (it depends on nothing but the standard library and xxHash):
/// everything worth reporting is in search_result.
///
/// D must satisfy domain_rules (domain.hpp); a type that does not gets a
/// static_assert naming the missing member. run() and resume() also need the
/// synchronous evaluate (the `domain` concept); async_run needs async_evaluate.
template <class D>
class search {
  static_assert(check_domain<D>());

 public:
  using domain_type = D;
  using state_type = typename D::state_type;
  using action_type = typename D::action_type;
  using result_type = search_result<D>;

  /// Takes the domain and options.
  /// Throws std::invalid_argument listing every field options.validate() rejects.
  search(D domain, search_options options)
      : domain_(std::move(domain)), options_(options), rng_(options_.seed) {
    if (auto errors = options_.validate(); !errors.empty()) {
      throw std::invalid_argument("grove: invalid search_options: " + describe(errors));
    }
    tree_.set_widening(
        {options_.progressive_widening, options_.widening_k, options_.widening_alpha});
    if constexpr (has_state_hash<D>) {
      if (options_.cache_capacity > 0) {
        cache_ = std::make_unique<cache_type>(options_.cache_capacity, options_.cache_shards);
      }
    }
  }

  /// Searches from `root` on a new tree until a budget or stop rule fires.
  /// The rng is reseeded from options.seed and the cache emptied first, so a
  /// run depends only on the domain, the options and `root`.
  /// Throws what the domain throws, std::out_of_range for a value outside
  /// [-1, 1] and std::logic_error for a non-terminal state without actions.
  result_type run(const state_type& root) requires domain<D> {
    reset(root);
    return resume();
  }

  /// Continues on the current tree with fresh budgets (iterations, time and
  /// the early-stop windows count from this call).
  /// Requires: run(), reset() or advance() was called before (else throws
  /// std::logic_error).
  result_type resume() requires domain<D> {
    const auto start = std::chrono::steady_clock::now();
    run_window window;
    std::optional<stop_reason> stop = initial_stop();
    while (!stop) {
      stop = check_budgets(window, start);
      if (stop) {
        break;
      }
      simulate();
      ++window.iterations;
      stop = check_early_stops(window);
    }
    return make_result(*stop, window.iterations, std::chrono::steady_clock::now() - start);
  }

  /// Starts a new tree at `root` without searching (reseeds the rng and
  /// empties the cache, like run()). Useful before resume() or async_run.
  void reset(const state_type& root) {
    tree_.reset();
    root_state_ = root;
    rng_.reseed(options_.seed);
    if (cache_) {
      cache_->clear();
    }
    root_noise_applied_ = false;
  }

  /// Plays `action` at the root: the child's subtree becomes the tree and the
  /// rest is freed (O(kept nodes), iterative). When the root is not expanded
  /// the tree restarts at the new state. Returns false, changing nothing, when
  /// there is no root yet, the root is terminal or the action is not legal.
  bool advance(action_type action) {
    if (!root_state_ || domain_.is_terminal(*root_state_)) {
      return false;
    }
    const node_index root = tree_.root();
    node_index target = no_node;
    if (tree_.at(root).expanded()) {
      for (node_index slot : tree_.slots(root)) {
        if (same_action(tree_.action(slot), action)) {
          target = slot;
          break;
        }
      }
      if (target == no_node) {
        return false;
      }
    } else {
      scratch_actions_.clear();
      domain_.legal_actions(*root_state_, scratch_actions_);
      const bool legal = std::any_of(scratch_actions_.begin(), scratch_actions_.end(),
                                     [&](const action_type& a) { return same_action(a, action); });
      if (!legal) {
        return false;
      }
    }
    const int old_player = domain_.player_to_move(*root_state_);
    domain_.apply(*root_state_, action);
    if (target == no_node) {
      tree_.reset();
    } else {
      tree_.reroot(target);
      // The new root switches from the mover's perspective to that of the
      // player to move there (the root convention).
      node& r = tree_.at(tree_.root());
      if (D::num_players == 2 && domain_.player_to_move(*root_state_) != old_player) {
        r.value_sum = -r.value_sum;
        r.proof = detail::flip(r.proof);
      }
    }
    root_noise_applied_ = false;
    return true;
  }

  /// O(1) tree counters.
  tree_stats stats() const noexcept { return tree_.stats(); }
  /// The tree, for reading and export.
  const core::tree<D>& tree() const noexcept { return tree_; }
  /// The tree for building by hand (tests, warm starts). Keep the counters
  /// right by changing it only through tree::expand and tree::add_visit.
  core::tree<D>& mutable_tree() noexcept { return tree_; }
  const search_options& options() const noexcept { return options_; }
  /// The root state; requires has_root().
  const state_type& root_state() const { return *root_state_; }
  bool has_root() const noexcept { return root_state_.has_value(); }
  /// Simulation cache counters (zeros when there is no cache).
  cache_stats cache() const { return cache_ ? cache_->stats() : cache_stats{}; }
  /// Bytes counted against max_memory_bytes: the node arena plus the cache.
  std::uint64_t memory_bytes() const {
    return tree_.stats().arena_bytes + (cache_ ? cache_->memory_bytes() : 0);
  }

  /// The result for the current tree (what run() returns), with the given
  /// stop reason, iteration count and elapsed time.
  result_type make_result(stop_reason stop, std::uint64_t iterations,
                          std::chrono::nanoseconds elapsed) const {
    result_type result;
    result.stop = stop;
    result.iterations = iterations;
    result.elapsed = elapsed;
    result.tree = tree_.stats();
    result.cache = cache();
    const node_index root = tree_.root();
    result.root_value = tree_.at(root).mean();
    result.root_proof = tree_.at(root).proof;
    for (node_index child : tree_.children(root)) {
      const node& c = tree_.at(child);
      result.children.push_back({tree_.action(child), c.visits, c.mean(), c.prior, c.proof});
    }
    std::stable_sort(result.children.begin(), result.children.end(),
                     [](const auto& a, const auto& b) { return a.visits > b.visits; });
    const node_index best = choose(root, options_.final);
    if (best == no_node) {
      return result;
    }
    result.has_action = true;
    result.best_action = tree_.action(best);
    result.best_visits = tree_.at(best).visits;
    result.best_value = tree_.at(best).mean();
    for (node_index at = best; at != no_node; at = choose(at, final_choice::most_visits)) {
      result.principal_variation.push_back(tree_.action(at));
      if (tree_.at(at).visits == 0) {
        break;
      }
    }
    return result;
  }

  /// The child of `parent` that `rule` picks (see the file comment), or
  /// no_node when it has no children.
  node_index choose(node_index parent, final_choice rule) const {
    const index_range children = tree_.children(parent);
    if (children.empty()) {
      return no_node;
    }
    bool any_win = false;
    bool all_loss = true;
    for (node_index child : children) {
      any_win = any_win || tree_.at(child).proof == proof_status::win;
      all_loss = all_loss && tree_.at(child).proof == proof_status::loss;
    }
    const double log_n = std::log(std::max<double>(1.0, tree_.at(parent).visits));
    auto eligible = [&](const node& c) {
      if (any_win) {
        return c.proof == proof_status::win;
      }
      return all_loss || c.proof != proof_status::loss;
    };
    // Returns true when a is strictly better than b under the rule.
    auto better = [&](const node& a, const node& b) {
      switch (any_win ? final_choice::most_visits : rule) {
        case final_choice::most_visits:
          return a.visits > b.visits;
        case final_choice::robust:
          return a.visits != b.visits ? a.visits > b.visits : a.mean() > b.mean();
        case final_choice::highest_mean:
          if (a.visits == 0 || b.visits == 0) {
            return b.visits == 0 && a.visits > 0;
          }
          return a.mean() != b.mean() ? a.mean() > b.mean() : a.visits > b.visits;
        case final_choice::secure: {
          if (a.visits == 0 || b.visits == 0) {
            return b.visits == 0 && a.visits > 0;
          }
          const double c = options_.exploration;
          return a.mean() - c * std::sqrt(log_n / a.visits) >
                 b.mean() - c * std::sqrt(log_n / b.visits);
        }
      }
      return false;
    };
    node_index best = no_node;
    for (node_index child : children) {
      const node& c = tree_.at(child);
      if (eligible(c) && (best == no_node || better(c, tree_.at(best)))) {
        best = child;
      }
    }
    return best;
  }

 private:
  friend struct detail::async_driver<D>;
  using cache_type = sharded_lru_cache<std::uint64_t, double, detail::prehashed>;

  // One node of the current path and the player to move at its state.
  struct path_entry {
    node_index index;
    int player;
  };

  // What a descent ended on: a value to back up now, or a state to evaluate.
  struct leaf {
    bool needs_evaluation = false;
    double value = 0.0;    // when !needs_evaluation
    int value_player = 0;  // the player `value` is for
    bool newly_proven = false;
  };

  // Per-call counters of the stop rules.
  struct run_window {
    std::uint64_t iterations = 0;
    double reference = std::numeric_limits<double>::quiet_NaN();
    std::uint64_t within = 0;
  };

  static bool same_action(const action_type& a, const action_type& b) noexcept {
    return std::memcmp(&a, &b, sizeof(action_type)) == 0;
  }

  // Stops that hold before any iteration: no root, a terminal root, no
  // actions at the root, a proven root.
  std::optional<stop_reason> initial_stop() {
    if (!root_state_) {
      throw std::logic_error("grove: search::resume() called before run() or reset()");
    }
    const node& r = tree_.at(tree_.root());
    if (r.terminal() || domain_.is_terminal(*root_state_)) {
      return stop_reason::no_actions;
    }
    if (!r.expanded()) {
      scratch_actions_.clear();
      domain_.legal_actions(*root_state_, scratch_actions_);
      if (scratch_actions_.empty()) {
        return stop_reason::no_actions;
      }
    } else {
      apply_root_noise();
    }
    if (r.proof != proof_status::unknown) {
      return stop_reason::root_proven;
    }
    return std::nullopt;
  }

  // Budgets, checked before each iteration.
  std::optional<stop_reason> check_budgets(const run_window& window,
                                           std::chrono::steady_clock::time_point start) const {
    if (options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed)) {
      return stop_reason::cancelled;
    }
    if (tree_.at(tree_.root()).proof != proof_status::unknown) {
      return stop_reason::root_proven;
    }
    if (options_.max_iterations != 0 && window.iterations >= options_.max_iterations) {
      return stop_reason::iterations;
    }
    if (options_.max_nodes != 0 && tree_.stats().nodes >= options_.max_nodes) {
      return stop_reason::nodes;
    }
    if (options_.max_memory_bytes != 0 && memory_bytes() >= options_.max_memory_bytes) {
      return stop_reason::memory;
    }
    // One steady_clock read (about 20 ns) per iteration, only with a time budget.
    if (options_.max_time.count() != 0 &&
        std::chrono::steady_clock::now() - start >= options_.max_time) {
      return stop_reason::time;
    }
    return std::nullopt;
  }

  // Early-stop rules, checked after each iteration.
  std::optional<stop_reason> check_early_stops(run_window& window) const {
    const node& r = tree_.at(tree_.root());
    if (r.proof != proof_status::unknown) {
      return stop_reason::root_proven;
    }
    const bool warm = window.iterations >= options_.min_iterations;
    if (options_.stop_visit_share > 0.0 && warm && r.visits > 0) {
      std::uint32_t best = 0;
      for (node_index child : tree_.children(tree_.root())) {
        best = std::max(best, tree_.at(child).visits);
      }
      if (static_cast<double>(best) >= options_.stop_visit_share * r.visits) {
        return stop_reason::visit_share;
      }
    }
    if (options_.convergence_threshold > 0.0) {
      const double value = r.mean();
      if (!std::isnan(window.reference) &&
          std::abs(value - window.reference) < options_.convergence_threshold) {
        ++window.within;
      } else {
        window.reference = value;
        window.within = 0;
      }
      if (warm && window.within >= options_.convergence_patience) {
        return stop_reason::value_converged;
      }
    }
    return std::nullopt;
  }

  // One synchronous simulation.
  void simulate() requires domain<D> {
    state_type state = *root_state_;
    leaf outcome = descend(path_, state);
    if (outcome.needs_evaluation) {
      outcome.value = evaluate_cached(state);
      outcome.value_player = path_.back().player;
    }
    backup(path_, outcome, /*remove_virtual_loss=*/false);
  }

  // The value of a non-terminal state from the cache or the evaluator.
  double evaluate_cached(const state_type& state) requires domain<D> {
    std::uint64_t key = 0;
    if (cache_) {
      key = state_hash(state);
      if (auto hit = cache_->get(key)) {
        return *hit;
      }
    }
    const double value = checked(domain_.evaluate(state, rng_), "evaluate");
    if (cache_) {
      cache_->put(key, value);
    }
    return value;
  }

  std::uint64_t state_hash(const state_type& state) const {
    if constexpr (domain_with_hash<D>) {
      return static_cast<std::uint64_t>(domain_.hash(state));
    } else if constexpr (std::has_unique_object_representations_v<state_type>) {
      return hash_value(state);
    } else {
      return 0;
    }
  }

  static double checked(double value, const char* what) {
    if (!(value >= -1.0 && value <= 1.0)) {
      throw std::out_of_range(std::string("grove: domain ") + what + " returned " +
                              detail::number_text(value) + ", outside [-1, 1]");
    }
    return value;
  }

  // The player whose perspective the node at path[i] stores.
  static int perspective(const std::vector<path_entry>& path, std::size_t i) noexcept {
    return i == 0 ? path[0].player : path[i - 1].player;
  }

  // Walks from the root to a leaf (steps 1-2 of the file comment), leaving
  // the leaf's state in `state` and the path in `path`.
  leaf descend(std::vector<path_entry>& path, state_type& state) {
    path.clear();
    node_index index = tree_.root();
    std::uint64_t depth = 0;
    for (;;) {
      const int player = domain_.player_to_move(state);
      path.push_back({index, player});
      node& n = tree_.at(index);
      const bool is_root = path.size() == 1;
      if (n.terminal()) {
        return terminal_leaf(path, state, false);
      }
      if (!is_root && n.proof != proof_status::unknown) {
        return {false, detail::proof_value(n.proof), perspective(path, path.size() - 1), false};
      }
      if (!n.expanded()) {
        if (domain_.is_terminal(state)) {
          n.flags |= node::terminal_flag;
          return terminal_leaf(path, state, true);
        }
        // First visit to a node (no completed or in-flight simulation): the
        // node itself is the leaf.
        if (!is_root && n.visits == 0 && n.virtual_loss == 0) {
          return {true, 0.0, player, false};
        }
        expand(index, depth, state);
      }
      const node_index child = select_child(index, player, perspective(path, path.size() - 1));
      domain_.apply(state, tree_.action(child));
      index = child;
      ++depth;
    }
  }

  leaf terminal_leaf(const std::vector<path_entry>& path, const state_type& state,
                     bool first_time) {
    const double value = checked(domain_.terminal_value(state), "terminal_value");
    const int player = path.back().player;
    bool newly_proven = false;
    node& n = tree_.at(path.back().index);
    if (first_time && options_.solver && D::num_players == 2 && path.size() > 1) {
      const double mine = perspective(path, path.size() - 1) == player ? value : -value;
      n.proof = mine > 0.0   ? proof_status::win
                : mine < 0.0 ? proof_status::loss
                             : proof_status::draw;
      newly_proven = true;
    }
    return {false, value, player, newly_proven};
  }

  // Creates the child slots of `index` with their actions and priors.
  void expand(node_index index, std::uint64_t depth, const state_type& state) {
    scratch_actions_.clear();
    domain_.legal_actions(state, scratch_actions_);
    if (scratch_actions_.empty()) {
      throw std::logic_error(
          "grove: domain legal_actions returned no action for a non-terminal state");
    }
    if (scratch_actions_.size() > 0xFFFFFFF0u) {
      throw std::length_error("grove: more than 2^32 legal actions");
    }
    const auto count = static_cast<std::uint32_t>(scratch_actions_.size());
    scratch_priors_.assign(count, 1.0f / static_cast<float>(count));
    if constexpr (domain_with_priors<D>) {
      if (options_.policy == selection_policy::puct || options_.progressive_widening) {
        domain_.priors(state, std::span<const action_type>(scratch_actions_),
                       std::span<float>(scratch_priors_));
        normalise_priors();
        if (options_.progressive_widening) {
          sort_by_prior();
        }
      }
    }
    const node_index first = tree_.expand(index, depth, count);
    for (std::uint32_t i = 0; i < count; ++i) {
      tree_.set_action(first + i, scratch_actions_[i]);
      tree_.at(first + i).prior = scratch_priors_[i];
    }
    if (index == tree_.root()) {
      apply_root_noise();
    }
  }

  void normalise_priors() {
    double sum = 0.0;
    for (float p : scratch_priors_) {
      if (!(p >= 0.0f) || std::isinf(p)) {
        throw std::out_of_range("grove: domain priors() gave " +
                                detail::number_text(static_cast<double>(p)) +
                                "; priors must be finite and >= 0");
      }
      sum += p;
    }
    const auto count = static_cast<float>(scratch_priors_.size());
    for (float& p : scratch_priors_) {
      p = sum > 0.0 ? static_cast<float>(p / sum) : 1.0f / count;
    }
  }

  // Stable sort of actions and priors together, highest prior first.
  void sort_by_prior() {
    scratch_order_.resize(scratch_actions_.size());
    for (std::uint32_t i = 0; i < scratch_order_.size(); ++i) {
      scratch_order_[i] = i;
    }
    std::stable_sort(scratch_order_.begin(), scratch_order_.end(),
                     [&](auto a, auto b) { return scratch_priors_[a] > scratch_priors_[b]; });
    std::vector<action_type> actions;
    std::vector<float> priors;
    actions.reserve(scratch_order_.size());
    priors.reserve(scratch_order_.size());
    for (auto i : scratch_order_) {
      actions.push_back(scratch_actions_[i]);
      priors.push_back(scratch_priors_[i]);
    }
    scratch_actions_.swap(actions);
    scratch_priors_.swap(priors);
  }

  // Mixes Dirichlet noise into the root priors once per root (PUCT only).
  void apply_root_noise() {
    if (root_noise_applied_ || options_.policy != selection_policy::puct ||
        options_.dirichlet_weight <= 0.0 || !tree_.at(tree_.root()).expanded()) {
      return;
    }
    root_noise_applied_ = true;
    const index_range slots = tree_.slots(tree_.root());
    scratch_noise_.resize(slots.size());
    sample_dirichlet(options_.dirichlet_alpha, scratch_noise_, rng_);
    const double w = options_.dirichlet_weight;
    std::size_t i = 0;
    for (node_index slot : slots) {
      node& c = tree_.at(slot);
      c.prior = static_cast<float>((1.0 - w) * c.prior + w * scratch_noise_[i++]);
    }
  }

  // The tree policy at `parent`, whose player to move is `player` and whose
  // own values are stored for `parent_perspective`.
  //
  // This is the hot loop of a search (about 60% of the instructions of a
  // Connect Four search with random playouts before it was tuned), so the
  // policy and the virtual-loss case are template arguments: each variant
  // computes only what its formula needs. The variant without virtual loss is
  // taken when the parent has none in flight; every in-flight path adds one to
  // each of its nodes, so then no child has any either, and dropping the
  // `- vl * 0` and `+ 0` terms gives the same doubles.
  node_index select_child(node_index parent, int player, int parent_perspective) {
    const bool in_flight = tree_.at(parent).virtual_loss != 0;
    if (options_.policy == selection_policy::puct) {
      return in_flight ? select_by<true, true>(parent, player, parent_perspective)
                       : select_by<true, false>(parent, player, parent_perspective);
    }
    return in_flight ? select_by<false, true>(parent, player, parent_perspective)
                     : select_by<false, false>(parent, player, parent_perspective);
  }

  template <bool Puct, bool InFlight>
  node_index select_by(node_index parent, int player, int parent_perspective) {
    const node& p = tree_.at(parent);
    const index_range children = tree_.children(parent);
    GROVE_ASSERT(!children.empty(), "selection at a node without children");
    const double vl = options_.virtual_loss;
    const std::uint64_t parent_count = std::uint64_t{p.visits} + p.virtual_loss;
    const bool skip_losses = options_.solver && D::num_players == 2;
    const double c = options_.exploration;
    double log_n = 0.0;
    double sqrt_n = 0.0;
    double first_play = 0.0;
    if constexpr (Puct) {
      sqrt_n = std::sqrt(std::max(static_cast<double>(parent_count), 1.0));
      first_play = p.mean();
      if (D::num_players == 2 && parent_perspective != player) {
        first_play = -first_play;
      }
    } else {
      log_n = log_count(parent_count);
    }

    node_index best = no_node;
    double best_score = -std::numeric_limits<double>::infinity();
    node_index fallback = no_node;  // used when every child is a proven loss
    // Children are walked through a plain pointer, one run per arena block
    // (one run unless the range crosses a block edge): looking each index up
    // in the arena cost about 7 instructions per child.
    for (index_range rest = children; !rest.empty();) {
      const std::uint32_t length = tree_.run_length(rest);
      const node* run = &tree_.at(rest.first);
      for (std::uint32_t i = 0; i < length; ++i) {
        const node& n = run[i];
        const node_index child = rest.first + i;
        if (skip_losses && n.proof != proof_status::unknown) {
          if (n.proof == proof_status::win) {
            return child;
          }
          if (n.proof == proof_status::loss) {
            if (fallback == no_node) {
              fallback = child;
            }
            continue;
          }
        }
        GROVE_ASSERT(InFlight || n.virtual_loss == 0, "virtual loss on a path not counted");
        double visits = static_cast<double>(n.visits);
        double value_sum = n.value_sum;
        if constexpr (InFlight) {
          visits += n.virtual_loss;
          value_sum -= vl * n.virtual_loss;
        }
        double score;
        if constexpr (Puct) {
          const double q = visits > 0.0 ? value_sum / visits : first_play;
          score = q + c * n.prior * sqrt_n / (1.0 + visits);
        } else {
          if (visits == 0.0) {
            return child;
          }
          score = value_sum / visits + c * std::sqrt(log_n / visits);
        }
        // Scores are finite (values in [-1, 1], visits > 0 or a finite first
        // play urgency), so the first child scored always beats -infinity.
        if (score > best_score) {
          best = child;
          best_score = score;
        }
      }
      rest = {rest.first + length, rest.count - length};
    }
    return best != no_node ? best : fallback;
  }

  // ln(max(n, 1)), the ln N of UCB1. Values below log_table_size come from a
  // table filled on first use with the same std::log call, so the results are
  // identical; libm's log cost about 50 instructions, 6% of a Connect Four
  // search, when it was called at every node of every descent. With 16,384
  // entries only the few nodes visited more often than that still call it
  // (4,096 entries left 143,000 calls in a 50,000-iteration search; 65,536
  // saved only 0.6% more instructions for four times the memory).
  double log_count(std::uint64_t n) {
    if (n < log_table_.size()) {
      return log_table_[n];
    }
    if (n >= log_table_size) {
      return std::log(static_cast<double>(n));
    }
    while (log_table_.size() <= n) {
      const auto k = static_cast<double>(log_table_.size());
      log_table_.push_back(std::log(std::max(k, 1.0)));
    }
    return log_table_[n];
  }

  // Step 4: visits, values and proofs along the path.
  void backup(const std::vector<path_entry>& path, const leaf& outcome, bool remove_virtual_loss) {
    for (std::size_t i = 0; i < path.size(); ++i) {
      node& n = tree_.at(path[i].index);
      if (remove_virtual_loss) {
        GROVE_ASSERT(n.virtual_loss > 0, "virtual loss removed twice");
        --n.virtual_loss;
      }
      const bool same = D::num_players == 1 || perspective(path, i) == outcome.value_player;
      tree_.add_visit(path[i].index, same ? outcome.value : -outcome.value);
    }
    if (outcome.newly_proven) {
      propagate_proof(path);
    }
  }

  // Proves the ancestors of a newly proven leaf where possible (see the file
  // comment), stopping at the first ancestor that stays unknown.
  void propagate_proof(const std::vector<path_entry>& path) {
    for (std::size_t i = path.size() - 1; i-- > 0;) {
      node& parent = tree_.at(path[i].index);
      if (parent.proof != proof_status::unknown) {
        return;
      }
      bool all_proven = true;
      bool any_draw = false;
      proof_status status = proof_status::unknown;
      for (node_index slot : tree_.slots(path[i].index)) {
        const proof_status child = tree_.at(slot).proof;
        if (child == proof_status::win) {
          status = proof_status::win;
          break;
        }
        all_proven = all_proven && child != proof_status::unknown;
        any_draw = any_draw || child == proof_status::draw;
      }
      if (status == proof_status::unknown && all_proven) {
        status = any_draw ? proof_status::draw : proof_status::loss;
      }
      if (status == proof_status::unknown) {
        return;
      }
      parent.proof = perspective(path, i) == path[i].player ? status : detail::flip(status);
    }
  }

  D domain_;
  search_options options_;
  core::tree<D> tree_;
  rng rng_;
  std::unique_ptr<cache_type> cache_;
  std::optional<state_type> root_state_;
  bool root_noise_applied_ = false;
  std::vector<path_entry> path_;
  std::vector<action_type> scratch_actions_;
  std::vector<float> scratch_priors_;
  std::vector<std::uint32_t> scratch_order_;
  std::vector<double> scratch_noise_;
  // ln(max(n, 1)) for n < log_table_size (128 KiB at most), grown on demand.
  static constexpr std::uint64_t log_table_size = 16384;
  std::vector<double> log_table_;
};

}  // namespace grove::core
