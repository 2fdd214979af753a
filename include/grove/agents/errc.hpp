// grove/agents/errc.hpp: the error codes of the agent layer.
//
// Every failure the agent graph, the agents and the pipeline report as a
// grove::error carries one of these codes (category "grove.agents"), so a host
// can branch on the kind of failure without parsing messages.
#pragma once

#include <system_error>

namespace grove::agents {

enum class errc {
  /// The query is empty, whitespace only, too long or not valid UTF-8.
  invalid_query = 1,
  /// The graph refers to an unknown node, has no entry, or a node has two exits.
  graph_invalid,
  /// A conditional edge chose a node that is not among its declared targets.
  unknown_node,
  /// The request executed more node steps than its step limit allows.
  step_limit,
  /// A node did not finish within its deadline and was cancelled.
  deadline_exceeded,
  /// The request (or the node) was cancelled from outside.
  cancelled,
  /// A node returned an error or threw an exception.
  node_failed,
  /// A per-request budget (LLM calls, tokens, wall time) ran out.
  budget_exhausted,
  /// Every agent of the request failed; the message lists the causes.
  all_agents_failed,
  /// A model reply could not be parsed in any accepted form.
  parse_error,
  /// An LLM call failed (the message carries the provider's error).
  llm_failed,
  /// A cassette file is missing, malformed, or has no recording for a request.
  cassette,
};

/// The category of errc, named "grove.agents".
const std::error_category& agents_category() noexcept;

/// Makes errc usable as a std::error_code (found by ADL).
std::error_code make_error_code(errc code) noexcept;

}  // namespace grove::agents

template <>
struct std::is_error_code_enum<grove::agents::errc> : std::true_type {};
