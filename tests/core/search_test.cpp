#include "grove/core/search.hpp"

#include <sstream>

#include "grove/core/export.hpp"
#include "grove/core/presets.hpp"

#include <catch2/catch.hpp>

#include "test_domains.hpp"

namespace core = grove::core;
using core::testing::nim_domain;

TEST_CASE("search: finds the winning move in a subtraction game", "[core]") {
  core::search<nim_domain> engine(nim_domain{}, {.max_iterations = 2000});
  const auto result = engine.run({.pile = 10, .player = 0});
  REQUIRE(result.has_action);
  CHECK(result.best_action == 2);  // leaves 8, a multiple of 4
  CHECK(result.tree == engine.tree().recount());
}

TEST_CASE("search: proves a subtraction-game position and stops", "[core]") {
  core::search<nim_domain> engine(nim_domain{}, {.max_iterations = 100000});
  const auto result = engine.run({.pile = 9, .player = 0});
  CHECK(result.stop == core::stop_reason::root_proven);
  CHECK(result.root_proof == core::proof_status::win);
  CHECK(result.best_action == 1);
  CHECK(result.tree == engine.tree().recount());
}

TEST_CASE("export: writes JSON and DOT", "[core]") {
  core::search<nim_domain> engine(nim_domain{}, core::preset(core::preset_name::fast));
  engine.run({.pile = 10, .player = 0});
  std::ostringstream json;
  std::ostringstream dot;
  core::write_json(json, engine);
  core::write_dot(dot, engine);
  CHECK(json.str().starts_with("{\"stats\":"));
  CHECK(dot.str().starts_with("digraph grove {"));
}
