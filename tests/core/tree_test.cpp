#include "grove/core/tree.hpp"

#include <pthread.h>

#include <catch2/catch.hpp>
#include <exception>
#include <functional>
#include <sstream>
#include <string>

#include "grove/core/export.hpp"
#include "grove/core/search.hpp"
#include "test_domains.hpp"

namespace core = grove::core;
using core::testing::chain_domain;
using core::testing::random_domain;
using core::testing::wide_domain;

namespace {

// Runs `body` on a new thread whose stack is `stack_bytes`, and returns the
// exception it threw, if any. Recursion over a deep tree would overflow such
// a stack; the engine's loops must not.
std::exception_ptr run_on_small_stack(std::size_t stack_bytes, std::function<void()> body) {
  struct context {
    std::function<void()> body;
    std::exception_ptr error;
  } ctx{std::move(body), nullptr};
  pthread_attr_t attributes;
  REQUIRE(pthread_attr_init(&attributes) == 0);
  REQUIRE(pthread_attr_setstacksize(&attributes, stack_bytes) == 0);
  pthread_t thread;
  const int created = pthread_create(
      &thread, &attributes,
      [](void* raw) -> void* {
        auto* c = static_cast<context*>(raw);
        try {
          c->body();
        } catch (...) {
          c->error = std::current_exception();
        }
        return nullptr;
      },
      &ctx);
  pthread_attr_destroy(&attributes);
  REQUIRE(created == 0);
  REQUIRE(pthread_join(thread, nullptr) == 0);
  return ctx.error;
}

// Throws std::runtime_error naming the check, for use off the main thread
// (Catch's assertion macros are not thread-safe).
void expect(bool condition, const char* what) {
  if (!condition) {
    throw std::runtime_error(what);
  }
}

// For every expanded, unproven node: its visits are its children's visits
// plus the one evaluation it got as a leaf (the root gets none). Returns the
// first node that breaks it, or no_node.
template <class D>
core::node_index find_visit_mismatch(const core::tree<D>& t) {
  std::vector<core::node_index> stack{t.root()};
  while (!stack.empty()) {
    const core::node_index index = stack.back();
    stack.pop_back();
    const core::node& n = t.at(index);
    if (!n.expanded() || n.proof != core::proof_status::unknown) {
      continue;
    }
    std::uint64_t sum = index == t.root() ? 0 : 1;
    for (core::node_index child : t.children(index)) {
      sum += t.at(child).visits;
      stack.push_back(child);
    }
    if (sum != n.visits) {
      return index;
    }
  }
  return core::no_node;
}

}  // namespace

TEST_CASE("tree: a node is 32 bytes and holds the action, not the state", "[core]") {
  STATIC_REQUIRE(sizeof(core::node) <= 32);
  core::tree<wide_domain> t;
  const core::node_index first = t.expand(t.root(), 0, 3);
  t.set_action(first + 2, 77u);
  CHECK(t.action(first + 2) == 77u);
  CHECK(t.children(t.root()).size() == 3);
  CHECK(t.stats().nodes == 4);
  CHECK(t.stats().max_depth == 1);
}

TEST_CASE("tree: indices and addresses stay valid as the arena grows", "[core]") {
  core::basic_tree t;
  const core::node_index first = t.expand(t.root(), 0, 10);
  const core::node* address = &t.at(first + 5);
  t.at(first + 5).visits = 12345;
  // Several blocks' worth of nodes, and one range that crosses a block edge.
  core::node_index parent = first;
  for (int i = 0; i < 5; ++i) {
    parent = t.expand(parent, 1 + i, core::node_arena::block_size - 3);
  }
  CHECK(&t.at(first + 5) == address);
  CHECK(t.at(first + 5).visits == 12345);
  CHECK(t.stats() == t.recount());
  CHECK(t.stats().arena_bytes >= 5ull * core::node_arena::block_size * sizeof(core::node));
}

TEST_CASE("tree: progressive widening admits ceil(k * visits^alpha) children", "[core]") {
  core::basic_tree t;
  t.set_widening({.enabled = true, .k = 1.0, .alpha = 0.5});
  t.expand(t.root(), 0, 10);
  CHECK(t.children(t.root()).size() == 1);  // 0 visits: at least one child
  auto visit_until = [&](std::uint32_t visits) {
    while (t.at(t.root()).visits < visits) {
      t.add_visit(t.root(), 0.0);
    }
    return t.children(t.root()).size();
  };
  CHECK(visit_until(1) == 1);
  CHECK(visit_until(2) == 2);   // ceil(1.414)
  CHECK(visit_until(4) == 2);   // ceil(2)
  CHECK(visit_until(5) == 3);   // ceil(2.236)
  CHECK(visit_until(10) == 4);  // ceil(3.162)
  CHECK(visit_until(100) == 10);
  CHECK(visit_until(1000) == 10);  // never more than the legal actions
  CHECK(t.stats().nodes == 11);
  CHECK(t.stats() == t.recount());

  core::widening_rule rule{.enabled = true, .k = 2.0, .alpha = 0.6};
  CHECK(rule.allowed(100, 0) == 1);
  CHECK(rule.allowed(100, 1) == 2);
  CHECK(rule.allowed(100, 10) == 8);    // ceil(2 * 3.98)
  CHECK(rule.allowed(100, 100) == 32);  // ceil(2 * 15.85)
  CHECK(core::widening_rule{}.allowed(100, 0) == 100);
}

TEST_CASE("tree: re-rooting keeps the subtree and recounts", "[core]") {
  core::search<random_domain<2>> engine(random_domain<2>{.seed = 3, .max_branching = 4},
                                        {.max_iterations = 500, .solver = false});
  engine.run({.id = 0, .depth = 0, .player = 0});
  const core::node_index root = engine.tree().root();
  core::node_index best = engine.choose(root, core::final_choice::most_visits);
  const std::uint32_t visits = engine.tree().at(best).visits;
  const double mean = engine.tree().at(best).mean();
  REQUIRE(engine.advance(engine.tree().action(best)));
  CHECK(engine.stats().root_visits == visits);
  // The root now stores values for the player to move there (the opponent).
  CHECK(engine.stats().root_value == Approx(-mean));
  CHECK(engine.stats() == engine.tree().recount());
  CHECK(engine.stats().nodes < 500);
  const auto again = engine.resume();
  CHECK(again.tree.root_visits == visits + 500);
  CHECK(engine.stats() == engine.tree().recount());
}

TEST_CASE("tree: deep chain and a million-node tree on a 256 KiB stack", "[core]") {
  constexpr std::size_t stack_bytes = 256 * 1024;

  SECTION("chain of depth 100,000") {
    const auto error = run_on_small_stack(stack_bytes, [] {
      constexpr std::uint32_t length = 100'000;
      core::search<chain_domain> engine(chain_domain{.length = length},
                                        {.max_iterations = 50, .cache_capacity = 0});
      engine.reset(0);
      // Building by search adds one level per iteration and replays the whole
      // path each time (quadratic); build most of the chain directly instead,
      // one visit per node, then let the search walk and extend it.
      core::tree<chain_domain>& t = engine.mutable_tree();
      core::node_index index = t.root();
      for (std::uint32_t depth = 0; depth < length - 10; ++depth) {
        t.add_visit(index, 0.0);
        index = t.expand(index, depth, 1);
        t.set_action(index, 0);
      }
      t.add_visit(index, 0.0);
      const auto result = engine.resume();
      expect(result.iterations == 50, "50 iterations");
      expect(engine.stats().max_depth == length, "search reached the terminal depth");
      expect(engine.stats().nodes == length + 1, "one node per depth");
      expect(engine.stats() == engine.tree().recount(), "recount matches");
      expect(result.principal_variation.size() == length, "principal variation to the end");

      std::ostringstream json;
      core::write_json(json, engine, {.max_depth = 0, .top_k = 0});
      expect(json.str().size() > 50 * std::size_t{length}, "JSON has every node");
      std::ostringstream dot;
      core::write_dot(dot, engine, {.max_depth = 0, .top_k = 0});
      expect(dot.str().find("n100000 [label") != std::string::npos, "DOT has the deepest node");
      expect(engine.advance(0), "advance one step");
      expect(engine.stats().nodes == length, "re-rooted chain");
      expect(engine.stats() == engine.tree().recount(), "recount after re-root");
    });  // the engine and its 100,001 nodes are destroyed on the small stack
    if (error) {
      std::rethrow_exception(error);
    }
  }

  SECTION("1,000,000 nodes, 1,000 children per node") {
    const auto error = run_on_small_stack(stack_bytes, [] {
      core::search<wide_domain> engine(
          wide_domain{.width = 1000, .depth = 3},
          {.max_iterations = 0, .max_nodes = 1'000'000, .exploration = 100.0, .cache_capacity = 0});
      const auto result = engine.run({0, 0});
      expect(result.stop == core::stop_reason::nodes, "stopped by the node budget");
      expect(result.tree.nodes >= 1'000'000, "a million nodes");
      expect(engine.stats() == engine.tree().recount(), "recount matches");
      std::ostringstream json;
      core::write_json(json, engine, {.max_depth = 0, .top_k = 0});
      std::ostringstream dot;
      core::write_dot(dot, engine, {.max_depth = 0, .top_k = 0});
      expect(json.str().size() > 1000 && dot.str().size() > 1000, "exports written");
      expect(find_visit_mismatch(engine.tree()) == core::no_node, "visits add up");
    });
    if (error) {
      std::rethrow_exception(error);
    }
  }
}

TEST_CASE("tree: O(1) counters match a full recount over 1,000 random searches", "[core]") {
  core::rng pick(2024);
  int searched = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    core::search_options options;
    options.seed = pick();
    options.max_iterations = 1 + pick.uniform(300);
    options.policy =
        pick.uniform(2) == 0 ? core::selection_policy::ucb1 : core::selection_policy::puct;
    options.exploration = pick.uniform01() * 3.0;
    options.progressive_widening = pick.uniform(2) == 0;
    options.widening_k = 0.25 + pick.uniform01() * 3.0;
    options.widening_alpha = 0.1 + pick.uniform01() * 0.9;
    options.solver = pick.uniform(2) == 0;
    options.cache_capacity = pick.uniform(3) == 0 ? 0 : 1 + pick.uniform(200);
    options.dirichlet_weight = pick.uniform(2) == 0 ? 0.0 : 0.25;
    const std::uint64_t domain_seed = pick();
    const std::uint32_t branching = 1 + pick.uniform(8);
    const std::uint32_t depth = 1 + pick.uniform(10);
    INFO("trial " << trial);

    auto check = [&](auto& engine) {
      const auto result = engine.run({.id = domain_seed, .depth = 0, .player = 0});
      const core::tree_stats counted = engine.tree().recount();
      CHECK(engine.stats() == counted);
      CHECK(result.tree == counted);
      if (result.stop != core::stop_reason::no_actions) {
        CHECK(result.tree.root_visits == result.iterations);
        ++searched;
      }
      if (!options.solver) {
        CHECK(find_visit_mismatch(engine.tree()) == core::no_node);
      }
      CHECK(engine.tree().total_virtual_loss() == 0);
      if (result.has_action && engine.advance(result.best_action)) {
        CHECK(engine.stats() == engine.tree().recount());
      }
    };
    if (trial % 2 == 0) {
      core::search<random_domain<1>> engine(
          random_domain<1>{.seed = domain_seed, .max_branching = branching, .max_depth = depth},
          options);
      check(engine);
    } else {
      core::search<random_domain<2>> engine(
          random_domain<2>{.seed = domain_seed, .max_branching = branching, .max_depth = depth},
          options);
      check(engine);
    }
  }
  CHECK(searched > 900);
}
