#include "grove/core/search.hpp"

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>
#include <thread>

#include "grove/core/export.hpp"
#include "grove/core/presets.hpp"
#include "test_domains.hpp"

namespace core = grove::core;
using core::testing::nim_domain;

namespace {

// One decision: `values.size()` actions, each leading to a terminal state
// whose value (for the single agent) is values[action]. Optional priors.
struct bandit_domain {
  using state_type = int;  // -1 at the root, else the action taken
  using action_type = std::uint8_t;
  static constexpr int num_players = 1;
  std::vector<double> values;
  std::vector<float> prior_weights;

  void legal_actions(const state_type&, std::vector<action_type>& out) const {
    out.clear();
    for (std::size_t i = 0; i < values.size(); ++i) {
      out.push_back(static_cast<action_type>(i));
    }
  }
  void apply(state_type& s, action_type a) const { s = a; }
  bool is_terminal(const state_type& s) const { return s >= 0; }
  int player_to_move(const state_type&) const { return 0; }
  double terminal_value(const state_type& s) const { return values[static_cast<std::size_t>(s)]; }
  double evaluate(const state_type&, core::rng&) const { return 0.0; }
  void priors(const state_type&, std::span<const action_type> actions, std::span<float> out) const {
    for (std::size_t i = 0; i < actions.size(); ++i) {
      out[i] = prior_weights.empty() ? 1.0f : prior_weights[actions[i]];
    }
  }
};

bandit_domain bandit(std::vector<double> values, std::vector<float> priors = {}) {
  return bandit_domain{std::move(values), std::move(priors)};
}

// An endless single-agent walk with `width` actions whose evaluator returns
// what `score` says for the n-th call; optionally sets a flag after n calls.
struct scripted_domain {
  struct state_type {
    std::uint32_t depth;
    std::uint32_t id;
  };
  using action_type = std::uint8_t;
  static constexpr int num_players = 1;
  std::uint32_t width = 3;
  double (*score)(std::uint64_t call) = nullptr;
  std::shared_ptr<std::uint64_t> calls = std::make_shared<std::uint64_t>(0);
  std::atomic<bool>* cancel_flag = nullptr;
  std::uint64_t cancel_after = 0;

  void legal_actions(const state_type&, std::vector<action_type>& out) const {
    out.resize(width);
    for (std::uint32_t i = 0; i < width; ++i) {
      out[i] = static_cast<action_type>(i);
    }
  }
  void apply(state_type& s, action_type a) const {
    ++s.depth;
    s.id = s.id * 31 + a + 1;
  }
  bool is_terminal(const state_type&) const { return false; }
  int player_to_move(const state_type&) const { return 0; }
  double terminal_value(const state_type&) const { return 0.0; }
  double evaluate(const state_type&, core::rng&) const {
    const std::uint64_t n = (*calls)++;
    if (cancel_flag != nullptr && n + 1 == cancel_after) {
      cancel_flag->store(true);
    }
    return score(n);
  }
};

struct no_evaluate {
  using state_type = int;
  using action_type = int;
  static constexpr int num_players = 1;
  void legal_actions(const int&, std::vector<int>&) const {}
  void apply(int&, int) const {}
  bool is_terminal(const int&) const { return true; }
  int player_to_move(const int&) const { return 0; }
  double terminal_value(const int&) const { return 0; }
};

struct draw_domain {
  using state_type = int;
  using action_type = std::uint8_t;
  static constexpr int num_players = 2;
  void legal_actions(const int&, std::vector<std::uint8_t>& out) const { out = {0, 1}; }
  void apply(int& s, std::uint8_t a) const { s = 1 + a; }
  bool is_terminal(const int& s) const { return s > 0; }
  int player_to_move(const int& s) const { return s > 0 ? 1 : 0; }
  // Action 0 ends in a draw; action 1 loses for the player who took it.
  double terminal_value(const int& s) const { return s == 1 ? 0.0 : 1.0; }
  double evaluate(const int&, core::rng&) const { return 0.0; }
};

// Claims no state ends, but has no action after the first move.
struct stuck_domain : bandit_domain {
  bool is_terminal(const state_type&) const { return false; }
  void legal_actions(const state_type& s, std::vector<action_type>& out) const {
    out.clear();
    if (s < 0) {
      out.push_back(0);
    }
  }
};

std::vector<std::uint32_t> child_visits(const core::basic_tree& t) {
  std::vector<std::uint32_t> visits;
  for (core::node_index child : t.children(t.root())) {
    visits.push_back(t.at(child).visits);
  }
  return visits;
}

template <class D>
std::string export_json(const core::search<D>& engine) {
  std::ostringstream out;
  core::write_json(out, engine, {.max_depth = 0, .top_k = 0});
  return out.str();
}

}  // namespace

TEST_CASE("domain: a type missing a member is not a domain", "[core]") {
  STATIC_REQUIRE(core::domain_rules<no_evaluate>);
  STATIC_REQUIRE_FALSE(core::domain<no_evaluate>);
  STATIC_REQUIRE(core::domain<nim_domain>);
  STATIC_REQUIRE(core::domain_with_priors<bandit_domain>);
}

TEST_CASE("search: UCB1 visits unvisited children first, in child order", "[core]") {
  core::search<bandit_domain> engine(bandit({0.1, 0.9, 0.3, 0.5, -0.2}), {.max_iterations = 3});
  engine.run(-1);
  CHECK(child_visits(engine.tree()) == std::vector<std::uint32_t>{1, 1, 1, 0, 0});
}

TEST_CASE("search: UCB1 with c = 0 follows the best mean, ties to the first child", "[core]") {
  core::search<bandit_domain> engine(bandit({0.1, 0.5, 0.3, 0.5, -0.2}),
                                     {.max_iterations = 20, .exploration = 0.0});
  const auto result = engine.run(-1);
  CHECK(child_visits(engine.tree()) == std::vector<std::uint32_t>{1, 16, 1, 1, 1});
  CHECK(result.best_action == 1);
  CHECK(result.best_value == Approx(0.5));
  CHECK(result.children.front().action == 1);
  CHECK(result.principal_variation == std::vector<std::uint8_t>{1});
}

TEST_CASE("search: UCB1 explores with c > 0 and concentrates on the best arm", "[core]") {
  core::search<bandit_domain> engine(bandit({0.1, 0.5, 0.3, 0.6, -0.2}), {.max_iterations = 2000});
  const auto result = engine.run(-1);
  CHECK(result.best_action == 3);
  const auto visits = child_visits(engine.tree());
  CHECK(visits[3] > visits[1]);
  CHECK(visits[4] > 1);  // still explored
}

TEST_CASE("search: PUCT follows normalised priors", "[core]") {
  core::search<bandit_domain> engine(bandit({0.0, 0.0, 0.0}, {1.0f, 7.0f, 2.0f}),
                                     {.max_iterations = 1, .policy = core::selection_policy::puct});
  engine.run(-1);
  const auto& t = engine.tree();
  const auto children = t.children(t.root());
  CHECK(t.at(children.first).prior == Approx(0.1f));
  CHECK(t.at(children.first + 1).prior == Approx(0.7f));
  CHECK(child_visits(t) == std::vector<std::uint32_t>{0, 1, 0});  // highest prior first

  core::search<bandit_domain> longer(
      bandit({0.0, 0.0, 0.0}, {1.0f, 7.0f, 2.0f}),
      {.max_iterations = 100, .policy = core::selection_policy::puct});
  longer.run(-1);
  const auto visits = child_visits(longer.tree());
  CHECK(visits[1] > visits[2]);
  CHECK(visits[2] > visits[0]);
}

TEST_CASE("search: root Dirichlet noise is seeded and keeps priors normalised", "[core]") {
  auto root_priors = [](std::uint64_t seed, double weight) {
    core::search<bandit_domain> engine(bandit(std::vector<double>(8, 0.0)),
                                       {.max_iterations = 1,
                                        .policy = core::selection_policy::puct,
                                        .dirichlet_alpha = 0.3,
                                        .dirichlet_weight = weight,
                                        .seed = seed});
    engine.run(-1);
    std::vector<float> priors;
    for (core::node_index child : engine.tree().children(engine.tree().root())) {
      priors.push_back(engine.tree().at(child).prior);
    }
    return priors;
  };
  const auto plain = root_priors(1, 0.0);
  const auto noisy = root_priors(1, 0.25);
  CHECK(plain == std::vector<float>(8, 0.125f));
  CHECK(noisy != plain);
  CHECK(noisy == root_priors(1, 0.25));
  CHECK(noisy != root_priors(2, 0.25));
  double sum = 0.0;
  for (float p : noisy) {
    sum += p;
    CHECK(p >= 0.75f * 0.125f - 1e-6f);  // (1 - w) of the prior always remains
  }
  CHECK(sum == Approx(1.0).epsilon(1e-5));
}

TEST_CASE("rng: gamma and Dirichlet samples have the right means", "[core]") {
  core::rng r(7);
  for (double shape : {0.3, 1.0, 2.5}) {
    double sum = 0.0;
    constexpr int n = 20000;
    for (int i = 0; i < n; ++i) {
      const double x = core::sample_gamma(shape, r);
      REQUIRE(x >= 0.0);
      sum += x;
    }
    CHECK(sum / n == Approx(shape).epsilon(0.05));
  }
  std::array<double, 4> sample{};
  core::sample_dirichlet(0.5, sample, r);
  CHECK(sample[0] + sample[1] + sample[2] + sample[3] == Approx(1.0));
}

TEST_CASE("search: progressive widening pins the number of root children", "[core]") {
  core::search<bandit_domain> engine(bandit(std::vector<double>(10, 0.0)),
                                     {.max_iterations = 1,
                                      .progressive_widening = true,
                                      .widening_k = 1.0,
                                      .widening_alpha = 0.5});
  engine.run(-1);
  const auto& t = engine.tree();
  auto children_at = [&](std::uint32_t visits) {
    while (t.at(t.root()).visits < visits) {
      engine.resume();
    }
    return t.children(t.root()).size();
  };
  CHECK(children_at(1) == 1);
  CHECK(children_at(2) == 2);
  CHECK(children_at(4) == 2);
  CHECK(children_at(9) == 3);
  CHECK(children_at(10) == 4);
  CHECK(children_at(50) == 8);  // ceil(7.07)
  CHECK(children_at(100) == 10);
  CHECK(engine.stats().nodes == 11);
  CHECK(engine.stats() == t.recount());
  // Only admitted children are ever visited.
  core::search<bandit_domain> wide(bandit(std::vector<double>(10, 0.0)),
                                   {.max_iterations = 20,
                                    .progressive_widening = true,
                                    .widening_k = 0.5,
                                    .widening_alpha = 0.5});
  wide.run(-1);
  const auto visits = child_visits(wide.tree());
  CHECK(visits.size() == 3);  // ceil(0.5 * sqrt(20))
}

TEST_CASE("search: widening admits the highest priors first", "[core]") {
  core::search<bandit_domain> engine(bandit({0.0, 0.0, 0.0, 0.0}, {1.0f, 2.0f, 9.0f, 3.0f}),
                                     {.max_iterations = 4,
                                      .progressive_widening = true,
                                      .widening_k = 1.0,
                                      .widening_alpha = 0.5});
  const auto result = engine.run(-1);
  REQUIRE(result.children.size() == 2);
  CHECK(engine.tree().action(engine.tree().children(engine.tree().root()).first) == 2);
  CHECK(engine.tree().action(engine.tree().children(engine.tree().root()).first + 1) == 3);
}

TEST_CASE("search: two-player values are stored for the player who moved", "[core]") {
  // Pile 5: taking 1 leaves 4, a lost pile for the opponent.
  core::search<nim_domain> engine(nim_domain{},
                                  {.max_iterations = 3000, .solver = false, .cache_capacity = 0});
  const auto result = engine.run({.pile = 5, .player = 0});
  CHECK(result.best_action == 1);
  CHECK(result.best_value > 0.5);  // good for the root player, who moved into it
  CHECK(result.root_value > 0.3);
  // One level down the opponent moves: its children are stored for it, and
  // the best reply to a losing position is still bad for it.
  const auto& t = engine.tree();
  const core::node_index best = engine.choose(t.root(), core::final_choice::most_visits);
  const core::node_index reply = engine.choose(best, core::final_choice::most_visits);
  CHECK(t.at(reply).mean() < -0.3);
}

TEST_CASE("search: the solver proves wins, losses and draws", "[core]") {
  SECTION("won pile") {
    core::search<nim_domain> engine(nim_domain{}, {.max_iterations = 100000});
    const auto result = engine.run({.pile = 9, .player = 0});
    CHECK(result.stop == core::stop_reason::root_proven);
    CHECK(result.root_proof == core::proof_status::win);
    CHECK(result.best_action == 1);
    CHECK(result.children.size() == 3);
    for (const auto& child : result.children) {
      const core::proof_status expected_proof =
          child.action == 1 ? core::proof_status::win : core::proof_status::loss;
      CHECK((child.proof == expected_proof || child.proof == core::proof_status::unknown));
    }
  }
  SECTION("lost pile") {
    core::search<nim_domain> engine(nim_domain{}, {.max_iterations = 100000});
    const auto result = engine.run({.pile = 8, .player = 1});
    CHECK(result.stop == core::stop_reason::root_proven);
    CHECK(result.root_proof == core::proof_status::loss);
    for (const auto& child : result.children) {
      CHECK(child.proof == core::proof_status::loss);
    }
    CHECK(result.has_action);  // a move is still returned
  }
  SECTION("drawn: every move ends the game level") {
    core::search<draw_domain> engine(draw_domain{}, {.max_iterations = 1000});
    const auto result = engine.run(0);
    CHECK(result.stop == core::stop_reason::root_proven);
    CHECK(result.root_proof == core::proof_status::draw);
    CHECK(result.best_action == 0);
    CHECK(result.iterations == 2);
  }
  SECTION("off: the search runs its budget") {
    core::search<nim_domain> engine(nim_domain{}, {.max_iterations = 3000, .solver = false});
    const auto result = engine.run({.pile = 9, .player = 0});
    CHECK(result.stop == core::stop_reason::iterations);
    CHECK(result.root_proof == core::proof_status::unknown);
  }
}

TEST_CASE("search: final choice rules and solver preferences", "[core]") {
  core::search<bandit_domain> engine(bandit({0, 0, 0, 0}), {.max_iterations = 1});
  engine.reset(-1);
  auto& t = engine.mutable_tree();
  const core::node_index first = t.expand(t.root(), 0, 4);
  const std::pair<std::uint32_t, double> stats[] = {{10, 2.0}, {8, 4.0}, {10, 3.0}, {1, 0.9}};
  for (std::uint32_t i = 0; i < 4; ++i) {
    t.set_action(first + i, static_cast<std::uint8_t>(i));
    t.at(first + i).visits = stats[i].first;
    t.at(first + i).value_sum = stats[i].second;
    t.at(t.root()).visits += stats[i].first;
  }
  const core::node_index root = t.root();
  CHECK(engine.choose(root, core::final_choice::most_visits) == first + 0);
  CHECK(engine.choose(root, core::final_choice::robust) == first + 2);
  CHECK(engine.choose(root, core::final_choice::highest_mean) == first + 3);
  CHECK(engine.choose(root, core::final_choice::secure) == first + 1);

  t.at(first + 0).proof = core::proof_status::loss;
  t.at(first + 2).proof = core::proof_status::loss;
  CHECK(engine.choose(root, core::final_choice::most_visits) == first + 1);
  t.at(first + 3).proof = core::proof_status::win;
  CHECK(engine.choose(root, core::final_choice::most_visits) == first + 3);
  CHECK(engine.choose(root, core::final_choice::robust) == first + 3);
}

TEST_CASE("search: budgets stop the search and say which one", "[core]") {
  auto constant = [](std::uint64_t) { return 0.25; };
  SECTION("iterations") {
    core::search<scripted_domain> engine(scripted_domain{.score = constant},
                                         {.max_iterations = 77});
    const auto result = engine.run({0, 0});
    CHECK(result.stop == core::stop_reason::iterations);
    CHECK(result.iterations == 77);
  }
  SECTION("time") {
    core::search<scripted_domain> engine(
        scripted_domain{.score = constant},
        {.max_iterations = 0, .max_time = std::chrono::milliseconds(20), .cache_capacity = 0});
    const auto result = engine.run({0, 0});
    CHECK(result.stop == core::stop_reason::time);
    CHECK(result.elapsed >= std::chrono::milliseconds(20));
  }
  SECTION("nodes") {
    core::search<scripted_domain> engine(scripted_domain{.score = constant},
                                         {.max_iterations = 0, .max_nodes = 100});
    const auto result = engine.run({0, 0});
    CHECK(result.stop == core::stop_reason::nodes);
    CHECK(result.tree.nodes >= 100);
    CHECK(result.tree.nodes < 100 + 3);  // one expansion past the check at most
  }
  SECTION("memory") {
    core::search<scripted_domain> engine(
        scripted_domain{.width = 50, .score = constant},
        {.max_iterations = 0, .max_nodes = 10'000'000, .max_memory_bytes = 4 << 20});
    const auto result = engine.run({0, 0});
    CHECK(result.stop == core::stop_reason::memory);
    CHECK(engine.memory_bytes() >= (4u << 20));
    CHECK(engine.memory_bytes() < (5u << 20));
  }
  SECTION("cancellation, checked every iteration") {
    std::atomic<bool> flag{false};
    core::search<scripted_domain> engine(
        scripted_domain{.score = constant, .cancel_flag = &flag, .cancel_after = 10},
        {.max_iterations = 1000, .cancel = &flag, .cache_capacity = 0});
    const auto result = engine.run({0, 0});
    CHECK(result.stop == core::stop_reason::cancelled);
    CHECK(result.iterations == 10);
  }
  SECTION("cancellation from another thread") {
    std::atomic<bool> flag{false};
    core::search<scripted_domain> engine(
        scripted_domain{.score = constant},
        {.max_iterations = 0, .max_time = std::chrono::seconds(20), .cancel = &flag});
    std::thread canceller([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      flag.store(true);
    });
    const auto result = engine.run({0, 0});
    canceller.join();
    CHECK(result.stop == core::stop_reason::cancelled);
  }
}

TEST_CASE("search: early stop by value convergence", "[core]") {
  const core::search_options options{.max_iterations = 90,
                                     .convergence_threshold = 0.01,
                                     .convergence_patience = 20,
                                     .cache_capacity = 0};
  SECTION("constant rollouts converge") {
    core::search<scripted_domain> engine(
        scripted_domain{.score = [](std::uint64_t) { return 0.5; }}, options);
    const auto result = engine.run({0, 0});
    CHECK(result.stop == core::stop_reason::value_converged);
    CHECK(result.iterations == 21);  // a reference, then 20 iterations within 0.01
  }
  SECTION("alternating rollouts do not") {
    core::search<scripted_domain> engine(
        scripted_domain{.score = [](std::uint64_t n) { return n % 2 == 0 ? 1.0 : -1.0; }}, options);
    const auto result = engine.run({0, 0});
    CHECK(result.stop == core::stop_reason::iterations);
    CHECK(result.iterations == 90);
  }
  SECTION("threshold 0 disables the rule") {
    auto off = options;
    off.convergence_threshold = 0.0;
    core::search<scripted_domain> engine(
        scripted_domain{.score = [](std::uint64_t) { return 0.5; }}, off);
    CHECK(engine.run({0, 0}).stop == core::stop_reason::iterations);
  }
  SECTION("min_iterations delays it") {
    auto late = options;
    late.min_iterations = 50;
    core::search<scripted_domain> engine(
        scripted_domain{.score = [](std::uint64_t) { return 0.5; }}, late);
    const auto result = engine.run({0, 0});
    CHECK(result.stop == core::stop_reason::value_converged);
    CHECK(result.iterations == 50);
  }
}

TEST_CASE("search: early stop by visit share", "[core]") {
  SECTION("share 1.0 never fires while two children have visits") {
    core::search<bandit_domain> engine(
        bandit({0.9, 0.1}),
        {.max_iterations = 200, .exploration = 0.0, .stop_visit_share = 1.0, .min_iterations = 2});
    const auto result = engine.run(-1);
    CHECK(result.stop == core::stop_reason::iterations);
  }
  SECTION("share 1.0 fires when one child has every visit") {
    core::search<bandit_domain> engine(
        bandit({0.9}), {.max_iterations = 200, .stop_visit_share = 1.0, .min_iterations = 30});
    const auto result = engine.run(-1);
    CHECK(result.stop == core::stop_reason::visit_share);
    CHECK(result.iterations == 30);
  }
  SECTION("share 0.8 fires once the best arm dominates") {
    core::search<bandit_domain> engine(
        bandit({0.9, 0.1, 0.2}),
        {.max_iterations = 1000, .exploration = 0.0, .stop_visit_share = 0.8, .min_iterations = 5});
    const auto result = engine.run(-1);
    CHECK(result.stop == core::stop_reason::visit_share);
    CHECK(result.iterations == 10);  // one visit per arm, then 8 of 10 on arm 0
    CHECK(result.best_action == 0);
  }
}

TEST_CASE("search: same seed gives the same tree, other seeds differ", "[core]") {
  auto run = [](std::uint64_t seed) {
    core::search<nim_domain> engine(nim_domain{}, {.max_iterations = 800,
                                                   .policy = core::selection_policy::puct,
                                                   .dirichlet_weight = 0.25,
                                                   .progressive_widening = true,
                                                   .solver = false,
                                                   .cache_capacity = 0,
                                                   .seed = seed});
    const auto result = engine.run({.pile = 21, .player = 0});
    return std::pair{export_json(engine), result.best_action};
  };
  const auto first = run(5);
  const auto second = run(5);
  CHECK(first.first == second.first);
  CHECK(first.second == second.second);
  CHECK(run(6).first != first.first);
  // run() on the same object starts over: reseeded rng, empty cache.
  core::search<nim_domain> engine(nim_domain{}, {.max_iterations = 500, .seed = 5});
  engine.run({.pile = 21, .player = 0});
  const std::string once = export_json(engine);
  engine.run({.pile = 21, .player = 0});
  CHECK(export_json(engine) == once);
}

TEST_CASE("search: terminal roots, bad values and empty action lists", "[core]") {
  core::search<nim_domain> engine(nim_domain{}, {});
  const auto over = engine.run({.pile = 0, .player = 0});
  CHECK(over.stop == core::stop_reason::no_actions);
  CHECK_FALSE(over.has_action);
  CHECK(over.iterations == 0);
  CHECK_FALSE(engine.advance(1));

  core::search<bandit_domain> bad(bandit({0.5, 3.0}), {.max_iterations = 10});
  CHECK_THROWS_WITH(bad.run(-1), Catch::Contains("terminal_value returned 3, outside [-1, 1]"));

  core::search<stuck_domain> stuck(stuck_domain{bandit({0.0})}, {.max_iterations = 10});
  CHECK_THROWS_AS(stuck.run(-1), std::logic_error);

  core::search<nim_domain> fresh(nim_domain{}, {});
  CHECK_THROWS_AS(fresh.resume(), std::logic_error);
}

TEST_CASE("search: advance re-roots on a played move and resumes", "[core]") {
  core::search<nim_domain> engine(nim_domain{}, {.max_iterations = 400, .solver = false});
  auto result = engine.run({.pile = 15, .player = 0});
  const std::uint64_t before = result.tree.nodes;
  REQUIRE(engine.advance(result.best_action));
  CHECK(engine.root_state().pile == 15u - result.best_action);
  CHECK(engine.stats().nodes < before);
  CHECK(engine.stats() == engine.tree().recount());
  CHECK_FALSE(engine.advance(9));  // not a legal move
  result = engine.resume();
  CHECK(result.iterations == 400);
  CHECK(engine.stats() == engine.tree().recount());
}

TEST_CASE("search: the cache answers repeated states and counts", "[core]") {
  // Nim states are plain bytes, so the engine keys them with hash_value.
  core::search<nim_domain> engine(nim_domain{},
                                  {.max_iterations = 2000, .solver = false, .cache_capacity = 8});
  const auto result = engine.run({.pile = 20, .player = 0});
  CHECK(result.cache.hits > 0);
  CHECK(result.cache.size <= 8);
  CHECK(result.cache.capacity == 8);
  CHECK(result.cache.hits + result.cache.misses > 0);
}
