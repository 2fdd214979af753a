// grove/agents/trace.hpp: what a request reports while it runs and after.
//
// A request of the agent graph produces two records:
//   - a stream of graph_event values, delivered to an event_sink as they happen
//     (node started / finished with duration, strategy iteration with score,
//     tokens so far). The CLI prints them as JSON lines; hosts show progress.
//   - a run_report when it ends: the outcome, the number of steps and one
//     step_record per executed node.
// request_trace keeps both for one request and writes them as one JSON document
// (`grove-reason --trace`, artifacts, debugging).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "grove/runtime/result.hpp"

namespace grove::agents {

/// What an event reports.
enum class event_kind : std::uint8_t {
  request_started,     ///< The graph began executing the request.
  node_started,        ///< `node` began.
  node_finished,       ///< `node` ended after `duration`; `ok`, `detail` = error.
  strategy_iteration,  ///< One strategy evaluation: `detail` = strategy, `score`.
  tokens,              ///< `tokens` = total tokens used by the request so far.
  note,                ///< Free text from a node (`detail`), e.g. a degraded step.
  request_finished,    ///< The request ended after `duration`; `ok`, `detail`.
};

/// "request_started", "node_started", ... (stable; used in JSON).
std::string_view to_string(event_kind kind) noexcept;

/// One progress event. Fields that do not apply to the kind keep their defaults.
struct graph_event {
  event_kind kind = event_kind::note;
  /// The request that produced the event.
  std::uint64_t request_id = 0;
  /// Time since the request started.
  std::chrono::nanoseconds at{0};
  /// The node the event belongs to (empty for request-level events).
  std::string node;
  /// node_finished / request_finished: how long it ran.
  std::chrono::nanoseconds duration{0};
  /// node_finished / request_finished: whether it succeeded.
  bool ok = true;
  /// Error message, strategy name or note text.
  std::string detail;
  /// strategy_iteration: the judge's score in [0, 1].
  double score = 0.0;
  /// strategy_iteration: 1-based evaluation number.
  std::uint64_t iteration = 0;
  /// tokens: total tokens so far.
  std::uint64_t tokens = 0;
};

/// Receives events. Called on the executor that runs the request; a sink shared
/// by requests running on several threads must be thread-safe itself.
using event_sink = std::function<void(const graph_event&)>;

/// The event as one JSON object on one line (no trailing newline).
std::string to_json_line(const graph_event& event);

/// One executed node step.
struct step_record {
  std::string node;
  /// Offset from the request's start, and how long the node ran.
  std::chrono::nanoseconds start{0};
  std::chrono::nanoseconds duration{0};
  /// Whether the node succeeded; the error when it did not.
  bool ok = true;
  grove::error error;
  /// The fan-out the step belonged to (0 = sequential step).
  std::uint32_t fan_out = 0;
};

/// How a request ended and what it executed.
struct run_report {
  std::uint64_t request_id = 0;
  /// Success, or the error that stopped the request (errc::step_limit,
  /// errc::cancelled, errc::node_failed, errc::unknown_node, errc::graph_invalid).
  grove::result<void> outcome;
  /// Node steps executed (every branch of a fan-out counts as one step).
  std::uint32_t steps = 0;
  std::chrono::nanoseconds elapsed{0};
  std::vector<step_record> trace;
};

/// Collects the events of one request and writes them with its report.
/// Thread safety: none; give it to one request (its sink() is called on that
/// request's executor).
class request_trace {
 public:
  /// A sink that appends to this trace and then forwards to `next` (if any).
  /// Requires: this object outlives every use of the returned sink.
  event_sink sink(event_sink next = {});

  const std::vector<graph_event>& events() const noexcept { return events_; }

  /// {"request_id", "outcome", "steps", "elapsed_ns", "trace": [...], "events": [...]}
  void write_json(std::ostream& out, const run_report& report) const;

  /// write_json to a file. Errors: the file cannot be opened or written.
  [[nodiscard]] grove::result<void> write_json_file(const std::string& path,
                                                    const run_report& report) const;

 private:
  std::vector<graph_event> events_;
};

}  // namespace grove::agents
