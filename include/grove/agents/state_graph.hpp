// grove/agents/state_graph.hpp: a small graph runtime for agent pipelines on
// Boost.Asio C++20 coroutines.
//
// A state_graph<State> is a set of named nodes. A node is a coroutine
//   awaitable<result<void>> node(State& state, node_context& ctx)
// that reads and writes an explicit per-request State. Control leaves a node by
// exactly one exit:
//   - end (the default): the request is complete;
//   - add_edge(from, to): always continue at `to`;
//   - add_conditional_edges(from, targets, router): the router looks at the
//     state and names the next node (one of `targets`, or end_node);
//   - add_fan_out(from, branches, join): the branches run at the same time over
//     the same state, are awaited together, then control continues at `join`.
// A request runs one node at a time except inside a fan-out. Each executed node
// is one step; a request that would exceed run_options::max_steps stops with
// errc::step_limit, so cycles through conditional edges always terminate.
//
// Failures: a sequential node that fails ends the request with its error. A
// fan-out branch that fails (error, exception or its deadline) is recorded in
// the report and the event stream, and the join still runs: the join decides
// what a partial result means (the agents write their own failures into the
// state). A node with a deadline is cancelled when it expires and fails with
// errc::deadline_exceeded.
//
// Cancellation: run() honours the cancellation slot of the coroutine awaiting
// it. Cancelling the request cancels every running node (sequential and all
// fan-out branches) through Asio's per-operation cancellation, waits for them
// to finish, and ends the request with errc::cancelled. Every coroutine the
// graph spawns is owned by a parallel group the request awaits: nothing
// outlives run().
//
// Executors and threads: the branches of a fan-out are spawned on the executor
// run() is awaited on, and interleave on it. Requires: that executor runs one
// handler at a time (a strand, or an io_context run by one thread), so nodes of
// one request never run in parallel and may touch the state between awaits
// without locks. Different requests may run on different strands at once;
// they share only the (immutable) graph.
//
// Example:
//   state_graph<my_state> g;
//   g.add_node("plan", plan).add_node("hrm", hrm, {.deadline = 30s})
//    .add_node("trm", trm).add_node("merge", merge)
//    .add_fan_out("plan", {"hrm", "trm"}, "merge").set_entry("plan");
//   if (auto ok = g.compile(); !ok) { ... ok.error().message lists the problems }
//   run_report report = co_await g.run(state, {.request_id = 7, .sink = print});
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "grove/agents/detail/graph_topology.hpp"
#include "grove/agents/errc.hpp"
#include "grove/agents/node_context.hpp"
#include "grove/agents/trace.hpp"
#include "grove/runtime/result.hpp"

namespace grove::agents {

/// The name a router returns to end the request.
inline constexpr std::string_view end_node = "__end__";

/// Per-node settings.
struct node_options {
  /// Longest the node may run; it is cancelled and fails with
  /// errc::deadline_exceeded when this expires. 0 = no deadline (default).
  std::chrono::milliseconds deadline{0};
};

/// A graph of coroutine nodes over a per-request State (see the file comment).
/// Ownership: the graph owns its node functions; run() borrows the graph and
/// the state, both of which must outlive the returned awaitable.
/// Thread safety: build and compile() from one thread; after compile(), run()
/// may be called concurrently for different requests (the graph is read-only).
template <class State>
class state_graph {
 public:
  using node_function =
      std::function<boost::asio::awaitable<grove::result<void>>(State&, node_context&)>;
  /// Names the next node (one of the declared targets) or end_node.
  using router_function = std::function<std::string_view(const State&)>;

  /// Adds a node. Duplicate names are reported by compile().
  state_graph& add_node(std::string name, node_function fn, node_options options = {});
  /// After `from`, continue at `to`.
  state_graph& add_edge(std::string_view from, std::string to);
  /// After `from`, continue where `router` says: one of `targets` or end_node
  /// (end_node need not be listed). A name outside that set fails the request
  /// with errc::unknown_node.
  state_graph& add_conditional_edges(std::string_view from, std::vector<std::string> targets,
                                     router_function router);
  /// After `from`, run `branches` concurrently, await them all, then `join`.
  /// Branch nodes must have no exit of their own.
  state_graph& add_fan_out(std::string_view from, std::vector<std::string> branches,
                           std::string join);
  /// The first node of every request.
  state_graph& set_entry(std::string name);

  /// Checks the graph and freezes it. Errors (errc::graph_invalid, all problems
  /// listed): unknown or duplicate names, no entry, two exits on one node, a
  /// fan-out branch with an exit, an empty fan-out or conditional.
  [[nodiscard]] grove::result<void> compile() { return topology_.compile(); }

  /// Graphviz DOT of the graph (compile() first for resolved edges).
  void write_dot(std::ostream& out, std::string_view name = "grove") const {
    topology_.write_dot(out, name);
  }

  /// Runs one request to its end. Never throws for node failures: the report's
  /// outcome holds success or the error that ended the request (step_limit,
  /// cancelled, node_failed / deadline_exceeded from a sequential node,
  /// unknown_node, graph_invalid when compile() did not succeed).
  /// Completion: the report. Cancellation: see the file comment.
  boost::asio::awaitable<run_report> run(State& state, run_options options) const;

 private:
  struct node_impl {
    node_function fn;
    router_function router;
  };

  boost::asio::awaitable<grove::result<void>> step(State& state, std::uint32_t index,
                                                   detail::request_run& run,
                                                   std::uint32_t fan_out) const;
  boost::asio::awaitable<grove::result<void>> guarded(State& state, std::uint32_t index,
                                                      node_context& ctx) const;
  boost::asio::awaitable<grove::result<void>> fan_out(State& state, std::uint32_t index,
                                                      detail::request_run& run,
                                                      std::uint32_t fan_out_id) const;

  detail::graph_topology topology_;
  std::vector<node_impl> impls_;
};

}  // namespace grove::agents

#include "grove/agents/impl/state_graph.hpp"
