// grove/agents/node_context.hpp: what a graph node sees of its request.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grove/agents/trace.hpp"

namespace spdlog {
class logger;
}

namespace grove::agents {

namespace detail {
class request_run;
}

/// Handed to a node for the duration of one step: the request's id, the node's
/// name, and the request's event stream.
/// Thread safety: none; use it on the request's executor, inside the step only.
class node_context {
 public:
  node_context(detail::request_run& run, std::string_view node) noexcept
      : run_(&run), node_(node) {}

  std::uint64_t request_id() const noexcept;
  std::string_view node() const noexcept { return node_; }
  /// Time since the request started.
  std::chrono::nanoseconds elapsed() const noexcept;

  /// Sends an event to the request's sink; request_id, `at` and an empty
  /// `node` are filled in.
  void emit(graph_event event) const;
  /// A note event with free text.
  void note(std::string text) const;
  /// A strategy_iteration event.
  void strategy_iteration(std::string strategy, double score, std::uint64_t iteration) const;
  /// A tokens event with the request's total so far.
  void tokens(std::uint64_t total) const;

 private:
  detail::request_run* run_;
  std::string_view node_;
};

/// How one request runs through a graph.
struct run_options {
  /// Identifies the request in events, traces and logs. Default 0.
  std::uint64_t request_id = 0;
  /// Most node steps the request may execute (each fan-out branch is a step);
  /// the request fails with errc::step_limit before exceeding it. Default 64,
  /// range >= 1.
  std::uint32_t max_steps = 64;
  /// Receives the request's events (none when empty).
  event_sink sink{};
  /// Node start/finish at debug level and failures at warn level (none when null).
  std::shared_ptr<spdlog::logger> logger{};
};

namespace detail {

// Internal: the bookkeeping of one running request (clock, step count, report,
// event delivery). Include grove/agents/state_graph.hpp instead.
class request_run {
 public:
  explicit request_run(const run_options& options);

  std::uint64_t request_id() const noexcept { return report_.request_id; }
  std::uint32_t steps() const noexcept { return report_.steps; }
  std::uint32_t max_steps() const noexcept { return max_steps_; }
  std::chrono::nanoseconds elapsed() const noexcept;

  void emit(graph_event event, std::string_view node);

  /// Counts a step and emits node_started; returns the step's start offset.
  std::chrono::nanoseconds step_started(std::string_view node);
  /// Records the step and emits node_finished.
  void step_finished(std::string_view node, std::chrono::nanoseconds start,
                     const grove::result<void>& outcome, std::uint32_t fan_out);

  /// Ends the request with `outcome` and emits request_finished.
  run_report finish(grove::result<void> outcome);

 private:
  std::chrono::steady_clock::time_point start_;
  std::uint32_t max_steps_;
  const event_sink* sink_;
  spdlog::logger* logger_;
  run_report report_;
};

}  // namespace detail
}  // namespace grove::agents
