// Internal: definitions of state_graph<State>. Include grove/agents/state_graph.hpp.
#pragma once

#include <exception>
#include <utility>

#include <boost/system/system_error.hpp>

namespace grove::agents {
namespace detail {

/// True once the awaiting coroutine has received any cancellation.
inline boost::asio::awaitable<bool> cancellation_requested() {
  auto state = co_await boost::asio::this_coro::cancellation_state;
  co_return state.cancelled() != boost::asio::cancellation_type::none;
}

}  // namespace detail

template <class State>
state_graph<State>& state_graph<State>::add_node(std::string name, node_function fn,
                                                 node_options options) {
  topology_.add_node(std::move(name), options.deadline);
  impls_.push_back(node_impl{std::move(fn), {}});
  return *this;
}

template <class State>
state_graph<State>& state_graph<State>::add_edge(std::string_view from, std::string to) {
  topology_.add_edge(from, std::move(to));
  return *this;
}

template <class State>
state_graph<State>& state_graph<State>::add_conditional_edges(std::string_view from,
                                                              std::vector<std::string> targets,
                                                              router_function router) {
  for (std::size_t i = 0; i < topology_.size(); ++i) {
    if (topology_.node(static_cast<std::uint32_t>(i)).name == from) {
      impls_[i].router = std::move(router);
      break;
    }
  }
  topology_.add_conditional(from, std::move(targets));
  return *this;
}

template <class State>
state_graph<State>& state_graph<State>::add_fan_out(std::string_view from,
                                                    std::vector<std::string> branches,
                                                    std::string join) {
  topology_.add_fan_out(from, std::move(branches), std::move(join));
  return *this;
}

template <class State>
state_graph<State>& state_graph<State>::set_entry(std::string name) {
  topology_.set_entry(std::move(name));
  return *this;
}

template <class State>
boost::asio::awaitable<run_report> state_graph<State>::run(State& state,
                                                           run_options options) const {
  // Cancellation is checked explicitly between steps, so that a cancelled
  // request still completes with its report instead of an exception.
  co_await boost::asio::this_coro::throw_if_cancelled(false);
  detail::request_run run(options);
  if (!topology_.compiled()) {
    co_return run.finish(grove::fail(errc::graph_invalid, "run() on a graph not compiled"));
  }

  std::uint32_t current = topology_.entry();
  std::uint32_t fan_outs = 0;
  while (current != detail::no_node) {
    const detail::node_entry& node = topology_.node(current);
    if (co_await detail::cancellation_requested()) {
      co_return run.finish(grove::fail(errc::cancelled, "request cancelled", node.name));
    }
    if (run.steps() >= run.max_steps()) {
      co_return run.finish(
          grove::fail(errc::step_limit, "step limit reached before node", node.name));
    }

    // 1. Run the node; a sequential failure ends the request.
    grove::result<void> outcome = co_await step(state, current, run, 0);
    if (co_await detail::cancellation_requested()) {
      co_return run.finish(grove::fail(errc::cancelled, "request cancelled", node.name));
    }
    if (!outcome) {
      co_return run.finish(std::move(outcome));
    }

    // 2. Follow its exit.
    switch (node.exit) {
      case detail::exit_kind::end:
        current = detail::no_node;
        break;
      case detail::exit_kind::edge:
        current = node.targets.front();
        break;
      case detail::exit_kind::conditional: {
        auto next = topology_.resolve_choice(current, impls_[current].router(state));
        if (!next) {
          co_return run.finish(grove::fail(std::move(next).error()));
        }
        current = *next;
        break;
      }
      case detail::exit_kind::fan_out: {
        if (run.steps() + node.targets.size() > run.max_steps()) {
          co_return run.finish(
              grove::fail(errc::step_limit, "step limit reached before fan-out", node.name));
        }
        auto joined = co_await fan_out(state, current, run, ++fan_outs);
        if (!joined) {
          co_return run.finish(std::move(joined));
        }
        current = node.join;
        break;
      }
    }
  }
  co_return run.finish({});
}

template <class State>
boost::asio::awaitable<grove::result<void>> state_graph<State>::step(State& state,
                                                                     std::uint32_t index,
                                                                     detail::request_run& run,
                                                                     std::uint32_t fan_out) const {
  namespace asio = boost::asio;
  const detail::node_entry& node = topology_.node(index);
  node_context ctx(run, node.name);
  auto start = run.step_started(node.name);

  grove::result<void> outcome;
  if (node.deadline.count() == 0) {
    outcome = co_await guarded(state, index, ctx);
  } else {
    // The node races a timer; the loser is cancelled and awaited by the group.
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor, node.deadline);
    auto [order, node_exception, node_outcome, timer_error] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(executor, guarded(state, index, ctx), asio::deferred),
            timer.async_wait(asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    if (order[0] == 1 && !timer_error) {
      outcome = grove::fail(
          errc::deadline_exceeded,
          "node exceeded its deadline of " + std::to_string(node.deadline.count()) + " ms",
          node.name);
    } else if (node_exception) {
      outcome = grove::fail(errc::node_failed, "node threw an exception", node.name);
    } else {
      outcome = std::move(node_outcome);
    }
  }
  run.step_finished(node.name, start, outcome, fan_out);
  co_return outcome;
}

template <class State>
boost::asio::awaitable<grove::result<void>> state_graph<State>::guarded(State& state,
                                                                        std::uint32_t index,
                                                                        node_context& ctx) const {
  // Exceptions become errors here, so one failing node cannot tear down its
  // siblings in a fan-out; cancellation surfaces as operation_aborted.
  try {
    co_return co_await impls_[index].fn(state, ctx);
  } catch (const boost::system::system_error& e) {
    if (e.code() == boost::asio::error::operation_aborted) {
      co_return grove::fail(errc::cancelled, "node cancelled", std::string(ctx.node()));
    }
    co_return grove::fail(errc::node_failed, e.what(), std::string(ctx.node()));
  } catch (const std::exception& e) {
    co_return grove::fail(errc::node_failed, e.what(), std::string(ctx.node()));
  }
}

template <class State>
boost::asio::awaitable<grove::result<void>> state_graph<State>::fan_out(
    State& state, std::uint32_t index, detail::request_run& run, std::uint32_t fan_out_id) const {
  namespace asio = boost::asio;
  const detail::node_entry& node = topology_.node(index);
  auto executor = co_await asio::this_coro::executor;

  using operation = decltype(asio::co_spawn(executor, step(state, index, run, 0), asio::deferred));
  std::vector<operation> branches;
  branches.reserve(node.targets.size());
  for (std::uint32_t branch : node.targets) {
    branches.push_back(
        asio::co_spawn(executor, step(state, branch, run, fan_out_id), asio::deferred));
  }
  auto [order, exceptions, outcomes] =
      co_await asio::experimental::make_parallel_group(std::move(branches))
          .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  (void)order;
  (void)outcomes;
  // step() turns node exceptions into errors; an exception here is a bug in
  // the bookkeeping, so it propagates to the awaiting coroutine.
  for (auto& e : exceptions) {
    if (e) {
      std::rethrow_exception(e);
    }
  }
  co_return grove::result<void>{};
}

}  // namespace grove::agents
