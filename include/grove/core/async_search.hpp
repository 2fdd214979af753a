// grove/core/async_search.hpp: concurrent leaf evaluation on a Boost.Asio executor.
//
// For domains whose evaluator is slow and asynchronous (an LLM judge, a remote
// simulator), async_run keeps up to options.max_in_flight evaluations running
// at once. The loop is the synchronous engine's, with one change:
//
//   while no budget or stop rule has fired:
//     while fewer than max_in_flight evaluations are running:
//       descend from the root (selection + expansion, as in search.hpp);
//       a terminal or proven leaf, or a cache hit, is backed up at once;
//       otherwise add a virtual loss to every node on the path and start
//       d.async_evaluate(leaf_state, seed) as a child coroutine;
//     wait until one evaluation completes; back up its value and remove its
//     virtual loss.
//   wait for every evaluation still running, then return the result.
//
// Virtual loss: while an evaluation is in flight, each node on its path counts
// one extra visit whose value is -options.virtual_loss for the player who moved
// into the node, so the next descents prefer other paths and the evaluations
// spread over different leaves. Each evaluation gets its own seed, split from
// the engine's rng in launch order.
//
// Executor contract: async_run runs on the executor of the awaiting coroutine
// and spawns its evaluations there. That executor must not run two handlers at
// once (an io_context run by one thread, or a strand): the tree is not locked.
// Note: the tree a run builds depends on the order in which evaluations
// complete, so async runs are reproducible only when that order is.
//
// Ownership and errors: every evaluation async_run starts is awaited before it
// returns, on success and on failure. When an evaluation throws, no new ones
// start, the running ones are awaited, their virtual loss is removed, and the
// first exception is rethrown from async_run. Budgets stop new launches; the
// evaluations already running are awaited (not cancelled), so a time budget
// can be exceeded by one evaluation's duration.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "grove/core/search.hpp"

namespace grove::core {

/// A domain with an awaitable evaluator: `d.async_evaluate(state, seed)`
/// returns boost::asio::awaitable<double>, a value in [-1, 1] for the player to
/// move at `state`. The state is passed by const reference and stays alive
/// until the awaitable completes.
template <class D>
concept async_domain = domain_rules<D> &&
    requires(const D& d, const typename D::state_type& s, std::uint64_t seed) {
  { d.async_evaluate(s, seed) } -> std::same_as<boost::asio::awaitable<double>>;
};

namespace detail {

template <class D>
struct async_driver {
  using engine_type = search<D>;
  using state_type = typename D::state_type;
  using path_type = std::vector<typename engine_type::path_entry>;
  using leaf_type = typename engine_type::leaf;
  using window_type = typename engine_type::run_window;

  engine_type& engine;
  std::uint32_t in_flight = 0;
  std::uint64_t started = 0;
  std::optional<stop_reason> stop;
  std::exception_ptr failure;
  window_type window;

  void add_virtual_loss(const path_type& path) {
    for (const auto& entry : path) {
      node& n = engine.tree_.at(entry.index);
      GROVE_ASSERT(n.virtual_loss < 0xFFFFu, "virtual loss overflow");
      ++n.virtual_loss;
    }
  }

  void remove_virtual_loss(const path_type& path) {
    for (const auto& entry : path) {
      node& n = engine.tree_.at(entry.index);
      GROVE_ASSERT(n.virtual_loss > 0, "virtual loss removed twice");
      --n.virtual_loss;
    }
  }

  // A completed simulation: early-stop rules, counted.
  void completed() {
    ++window.iterations;
    if (!stop) {
      stop = engine.check_early_stops(window);
    }
  }

  static boost::asio::awaitable<double> evaluate(const D& domain, state_type state,
                                                 std::uint64_t seed) {
    co_return co_await domain.async_evaluate(state, seed);
  }

  boost::asio::awaitable<search_result<D>> run() {
    using namespace std::chrono;
    namespace asio = boost::asio;
    const auto start = steady_clock::now();
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer wake(executor);
    const std::uint32_t limit = engine.options_.max_in_flight;

    stop = engine.initial_stop();
    while (true) {
      // Launch until the window is full or a rule fires.
      while (!stop && in_flight < limit) {
        if (engine.options_.max_iterations != 0 && started >= engine.options_.max_iterations) {
          stop = stop_reason::iterations;
          break;
        }
        window_type launched = window;
        launched.iterations = started;
        stop = engine.check_budgets(launched, start);
        if (stop) {
          break;
        }
        state_type state = *engine.root_state_;
        path_type path;
        leaf_type outcome;
        try {
          outcome = engine.descend(path, state);
          ++started;
          if (outcome.needs_evaluation && engine.cache_) {
            if (auto hit = engine.cache_->get(engine.state_hash(state))) {
              outcome.needs_evaluation = false;
              outcome.value = *hit;
              outcome.value_player = path.back().player;
            }
          }
          if (!outcome.needs_evaluation) {
            engine.backup(path, outcome, /*remove_virtual_loss=*/false);
            completed();
            continue;
          }
        } catch (...) {
          // The domain threw during selection or a terminal evaluation: stop
          // launching, but the evaluations already running must be awaited
          // before the exception leaves (they reference this driver).
          failure = std::current_exception();
          stop = stop_reason::cancelled;
          break;
        }
        add_virtual_loss(path);
        ++in_flight;
        const int value_player = path.back().player;
        const std::uint64_t key = engine.cache_ ? engine.state_hash(state) : 0;
        asio::co_spawn(executor, evaluate(engine.domain_, std::move(state), engine.rng_.split()),
                       [this, path = std::move(path), value_player, key, &wake](
                           std::exception_ptr error, double value) {
                         --in_flight;
                         if (!error && !(value >= -1.0 && value <= 1.0)) {
                           error = std::make_exception_ptr(
                               std::out_of_range("grove: domain async_evaluate returned " +
                                                 number_text(value) + ", outside [-1, 1]"));
                         }
                         if (error) {
                           remove_virtual_loss(path);
                           if (!failure) {
                             failure = error;
                           }
                           stop = stop.value_or(stop_reason::cancelled);
                         } else {
                           if (engine.cache_) {
                             engine.cache_->put(key, value);
                           }
                           engine.backup(path, leaf_type{false, value, value_player, false},
                                         /*remove_virtual_loss=*/true);
                           completed();
                         }
                         wake.cancel();
                       });
      }
      if (in_flight == 0) {
        break;
      }
      // Sleep until an evaluation completes (its handler cancels the timer)
      // or, with a time budget, until the deadline.
      if (engine.options_.max_time.count() != 0 && !stop) {
        wake.expires_at(start + engine.options_.max_time);
      } else {
        wake.expires_at(steady_clock::time_point::max());
      }
      co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (failure) {
      std::rethrow_exception(failure);
    }
    co_return engine.make_result(stop.value_or(stop_reason::iterations), window.iterations,
                                 steady_clock::now() - start);
  }
};

}  // namespace detail

/// Searches from `root` on a new tree (like search::run), evaluating leaves
/// with d.async_evaluate, up to options.max_in_flight at once.
///
/// Completion: the search_result; result.iterations counts completed
/// simulations. Errors: rethrows the first exception an evaluation threw (or
/// std::out_of_range for a value outside [-1, 1]) after every running
/// evaluation has finished. Requires: the engine outlives the awaitable and
/// is not used by anything else meanwhile; see the file comment for the
/// executor contract.
template <async_domain D>
boost::asio::awaitable<search_result<D>> async_run(search<D>& engine, typename D::state_type root) {
  engine.reset(root);
  detail::async_driver<D> driver{engine};
  co_return co_await driver.run();
}

/// Continues on the engine's current tree (like search::resume) with fresh
/// budgets. Requires: reset(), run() or async_run() was called before.
template <async_domain D>
boost::asio::awaitable<search_result<D>> async_resume(search<D>& engine) {
  detail::async_driver<D> driver{engine};
  co_return co_await driver.run();
}

}  // namespace grove::core
