// grove/core/search_options.hpp: how a search is configured and why it stopped.
//
// search_options is one aggregate with a documented default per field; build it
// with designated initialisers or start from a preset (presets.hpp). validate()
// reports every out-of-range field at once, and the search constructor refuses
// options that do not validate.
//
// Example:
//   grove::core::search_options options{.max_iterations = 10'000, .exploration = 1.0};
//   for (const auto& e : options.validate()) { /* e.field, e.value, e.accepted */ }
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace grove::core {

/// The tree policy used to pick a child during selection.
enum class selection_policy {
  ucb1,  ///< mean + c * sqrt(ln N / n); unvisited children first, in child order
  puct,  ///< mean + c * P * sqrt(N) / (1 + n), P the (normalised) prior
};

/// How the action is picked once the search ends.
enum class final_choice {
  most_visits,   ///< the child with the most visits; ties go to the earlier child
  highest_mean,  ///< the visited child with the highest mean value
  robust,        ///< most visits, ties broken by the higher mean
  secure,        ///< the highest lower confidence bound mean - c * sqrt(ln N / n)
};

/// Which rule ended a search.
enum class stop_reason {
  iterations,       ///< max_iterations simulations were run
  time,             ///< max_time elapsed
  nodes,            ///< the tree reached max_nodes nodes
  memory,           ///< arena plus cache bytes reached max_memory_bytes
  cancelled,        ///< the cancel flag was set
  visit_share,      ///< the best root child reached stop_visit_share of the root visits
  value_converged,  ///< the root value moved less than convergence_threshold for patience
  root_proven,      ///< the solver proved the root's game-theoretic value
  no_actions,       ///< the root is terminal or has no legal action
};

/// A solver proof. Stored in a node from the perspective of the player who
/// moved into it (see search.hpp); in results it is stated for the player the
/// field names (root_proof: the player to move at the root).
enum class proof_status : std::uint8_t { unknown, win, loss, draw };

/// The stable lower-case name of a stop reason ("root_proven").
constexpr std::string_view to_string(stop_reason reason) noexcept {
  switch (reason) {
    case stop_reason::iterations:
      return "iterations";
    case stop_reason::time:
      return "time";
    case stop_reason::nodes:
      return "nodes";
    case stop_reason::memory:
      return "memory";
    case stop_reason::cancelled:
      return "cancelled";
    case stop_reason::visit_share:
      return "visit_share";
    case stop_reason::value_converged:
      return "value_converged";
    case stop_reason::root_proven:
      return "root_proven";
    case stop_reason::no_actions:
      return "no_actions";
  }
  return "unknown";
}

/// "unknown", "win", "loss" or "draw".
constexpr std::string_view to_string(proof_status proof) noexcept {
  switch (proof) {
    case proof_status::unknown:
      return "unknown";
    case proof_status::win:
      return "win";
    case proof_status::loss:
      return "loss";
    case proof_status::draw:
      return "draw";
  }
  return "unknown";
}

/// "ucb1" or "puct".
constexpr std::string_view to_string(selection_policy policy) noexcept {
  return policy == selection_policy::puct ? "puct" : "ucb1";
}

/// "most_visits", "highest_mean", "robust" or "secure".
constexpr std::string_view to_string(final_choice choice) noexcept {
  switch (choice) {
    case final_choice::most_visits:
      return "most_visits";
    case final_choice::highest_mean:
      return "highest_mean";
    case final_choice::robust:
      return "robust";
    case final_choice::secure:
      return "secure";
  }
  return "most_visits";
}

/// One field that failed validation: its name, its value as text, and the
/// range or values it accepts.
struct option_error {
  std::string field;
  std::string value;
  std::string accepted;

  friend bool operator==(const option_error&, const option_error&) = default;
};

/// Everything that configures a search. A value of 0 disables a budget or an
/// early-stop rule unless the field says otherwise.
struct search_options {
  // --- Budgets: the search stops at the first one reached. At least one of
  // max_iterations, max_time and max_nodes must be non-zero.

  /// Simulations (select, expand, evaluate, back up) per run. Default 100;
  /// 0 = no limit.
  std::uint64_t max_iterations = 100;
  /// Wall-clock budget per run, on std::chrono::steady_clock, checked every few
  /// iterations. Default 0 = no limit; >= 0.
  std::chrono::milliseconds max_time{0};
  /// Stop once the tree holds this many nodes. Default 0 = no limit.
  std::uint64_t max_nodes = 0;
  /// Stop once the node arena plus the simulation cache use this many bytes
  /// (checked before each iteration; one expansion may go past it). Default 0 =
  /// no limit; otherwise >= 4096.
  std::uint64_t max_memory_bytes = 0;
  /// When non-null, the search stops (stop_reason::cancelled) once it reads true.
  /// Checked before every iteration; the flag must outlive the run. Default null.
  const std::atomic<bool>* cancel = nullptr;

  // --- Selection.

  /// Tree policy. Default ucb1.
  selection_policy policy = selection_policy::ucb1;
  /// Exploration constant c of UCB1 / PUCT, also the width of the secure
  /// final choice's bound. Default 1.414 (about sqrt 2); range [0, 100].
  double exploration = 1.414;
  /// Concentration of the Dirichlet noise mixed into the root priors (PUCT
  /// only). Default 0.3; range (0, 100].
  double dirichlet_alpha = 0.3;
  /// Weight of that noise: P' = (1 - w) P + w * noise. Default 0 = off; range [0, 1].
  double dirichlet_weight = 0.0;
  /// Limit the children a node may use to ceil(widening_k * visits^widening_alpha)
  /// (at least 1). Default false: every legal action is a child at once.
  bool progressive_widening = false;
  /// k of progressive widening. Default 1.0; range (0, 1e6].
  double widening_k = 1.0;
  /// alpha of progressive widening. Default 0.5; range (0, 1].
  double widening_alpha = 0.5;
  /// How the action is picked at the end. Default most_visits.
  final_choice final = final_choice::most_visits;

  // --- Early stops.

  /// Stop when the most visited root child has at least this share of the root
  /// visits, after min_iterations. Default 0 = off; range [0, 1] (1.0 fires only
  /// when one child has every visit).
  double stop_visit_share = 0.0;
  /// Iterations before either early-stop rule may fire. Default 0.
  std::uint64_t min_iterations = 0;
  /// Stop when the root value stays within this distance of a reference value
  /// for convergence_patience consecutive iterations (the reference restarts
  /// whenever the value leaves the band). Default 0 = off; range [0, 2].
  double convergence_threshold = 0.0;
  /// The patience window of the convergence rule, in iterations. Default 0;
  /// must be >= 1 when convergence_threshold > 0.
  std::uint64_t convergence_patience = 0;
  /// MCTS-Solver: propagate proven wins, losses and draws (two-player domains).
  /// Default true.
  bool solver = true;

  // --- Cache and concurrency.

  /// Entries of the simulation cache (leaf evaluations keyed by the state
  /// hash). Default 10,000; 0 = no cache.
  std::size_t cache_capacity = 10000;
  /// Shards of the cache (one mutex each). Default 16; range [1, 1024].
  std::size_t cache_shards = 16;
  /// Leaf evaluations in flight at once (async_run only). Default 1; range [1, 65535].
  std::uint32_t max_in_flight = 1;
  /// Virtual loss per in-flight evaluation: each counts as a visit with value
  /// -virtual_loss for the mover until it completes. Default 1.0; range [0, 1].
  double virtual_loss = 1.0;
  /// Seed of the engine's random generator. Default 42.
  std::uint64_t seed = 42;

  /// Every field that is out of range, in declaration order; empty when the
  /// options are usable.
  std::vector<option_error> validate() const;
};

namespace detail {

inline std::string number_text(double value) {
  if (std::isnan(value)) {
    return "nan";
  }
  std::string text = std::to_string(value);
  // std::to_string prints six decimals; drop the trailing zeros for messages.
  if (text.find('.') != std::string::npos) {
    while (!text.empty() && text.back() == '0') {
      text.pop_back();
    }
    if (!text.empty() && text.back() == '.') {
      text.pop_back();
    }
  }
  return text;
}

// True when low <= value <= high (false for NaN), with open ends on request.
inline bool in_range(double value, double low, double high, bool open_low = false) {
  if (std::isnan(value)) {
    return false;
  }
  return (open_low ? value > low : value >= low) && value <= high;
}

}  // namespace detail

inline std::vector<option_error> search_options::validate() const {
  std::vector<option_error> errors;
  auto check = [&](bool ok, const char* field, std::string value, const char* accepted) {
    if (!ok) {
      errors.push_back({field, std::move(value), accepted});
    }
  };
  using detail::in_range;
  using detail::number_text;
  check(max_iterations != 0 || max_time.count() != 0 || max_nodes != 0,
        "max_iterations/max_time/max_nodes", "all 0",
        "at least one of max_iterations, max_time, max_nodes > 0");
  check(max_time.count() >= 0, "max_time", std::to_string(max_time.count()) + " ms", ">= 0 ms");
  check(max_nodes == 0 || max_nodes <= 0xFFFFFFFEULL, "max_nodes", std::to_string(max_nodes),
        "0 (no limit) or 1 .. 4294967294");
  check(max_memory_bytes == 0 || max_memory_bytes >= 4096, "max_memory_bytes",
        std::to_string(max_memory_bytes), "0 (no limit) or >= 4096");
  check(in_range(exploration, 0.0, 100.0), "exploration", number_text(exploration), "[0, 100]");
  check(in_range(dirichlet_alpha, 0.0, 100.0, true), "dirichlet_alpha",
        number_text(dirichlet_alpha), "(0, 100]");
  check(in_range(dirichlet_weight, 0.0, 1.0), "dirichlet_weight", number_text(dirichlet_weight),
        "[0, 1]");
  check(in_range(widening_k, 0.0, 1e6, true), "widening_k", number_text(widening_k), "(0, 1e6]");
  check(in_range(widening_alpha, 0.0, 1.0, true), "widening_alpha", number_text(widening_alpha),
        "(0, 1]");
  check(static_cast<unsigned>(policy) <= static_cast<unsigned>(selection_policy::puct), "policy",
        std::to_string(static_cast<unsigned>(policy)), "ucb1 or puct");
  check(static_cast<unsigned>(final) <= static_cast<unsigned>(final_choice::secure), "final",
        std::to_string(static_cast<unsigned>(final)),
        "most_visits, highest_mean, robust or secure");
  check(in_range(stop_visit_share, 0.0, 1.0), "stop_visit_share", number_text(stop_visit_share),
        "[0, 1]");
  check(in_range(convergence_threshold, 0.0, 2.0), "convergence_threshold",
        number_text(convergence_threshold), "[0, 2]");
  check(!(convergence_threshold > 0.0 && convergence_patience == 0), "convergence_patience",
        std::to_string(convergence_patience), ">= 1 when convergence_threshold > 0");
  check(cache_shards >= 1 && cache_shards <= 1024, "cache_shards", std::to_string(cache_shards),
        "[1, 1024]");
  check(max_in_flight >= 1 && max_in_flight <= 65535, "max_in_flight",
        std::to_string(max_in_flight), "[1, 65535]");
  check(in_range(virtual_loss, 0.0, 1.0), "virtual_loss", number_text(virtual_loss), "[0, 1]");
  return errors;
}

/// "field = value (accepted: range); ..." for every error, for exception messages.
inline std::string describe(const std::vector<option_error>& errors) {
  std::string text;
  for (const auto& e : errors) {
    if (!text.empty()) {
      text += "; ";
    }
    text += e.field + " = " + e.value + " (accepted: " + e.accepted + ")";
  }
  return text;
}

}  // namespace grove::core
