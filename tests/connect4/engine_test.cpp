// The grove engine on Connect Four end-game positions, judged by the exact
// solver: a wrong value perspective, a broken backup or a bad final choice
// makes the engine pick losing or drawing moves in won positions, which these
// cases catch. Seeds are fixed, so a failure reproduces. The budgets are small
// on purpose (2,000 iterations): with many more, the exact values of the
// finished games inside the tree decide these short end-games on their own
// and even negated playout values pass; at 2,000, negating them fails 8 checks.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "connect4/connect4.hpp"
#include "connect4/position_file.hpp"
#include "connect4/solver.hpp"
#include "grove/core/search.hpp"

namespace c4 = grove::examples::connect4;
namespace core = grove::core;

namespace {

c4::position_set end_game_positions(std::size_t limit) {
  auto set =
      c4::read_position_file(GROVE_SOURCE_DIR "/examples/connect4/data/Test_L3_R1.head200", limit);
  REQUIRE(set.has_value());
  REQUIRE(set->positions.size() == limit);
  return std::move(*set);
}

core::search_options budget(std::uint64_t iterations, bool solver, std::uint64_t seed) {
  core::search_options options;
  options.max_iterations = iterations;
  options.solver = solver;
  options.cache_capacity = 0;
  options.seed = seed;
  return options;
}

}  // namespace

TEST_CASE("engine on connect4: every move keeps the result of end-game positions", "[connect4]") {
  const c4::position_set set = end_game_positions(40);
  c4::solver exact(/*table_bits=*/18);
  const bool solver = GENERATE(false, true);
  CAPTURE(solver);
  std::size_t right_sign = 0;
  for (const c4::scored_position& entry : set.positions) {
    INFO("line " << entry.line << ": " << entry.moves << " " << entry.score);
    core::search<c4::game> engine(c4::game(), budget(/*iterations=*/2'000, solver, /*seed=*/7));
    const auto result = engine.run(entry.board);
    REQUIRE(result.has_action);
    const c4::outcome expected = c4::outcome_of(entry.score);
    CHECK(c4::outcome_after_move(exact, entry.board, result.best_action.column) == expected);
    if (result.root_proof != core::proof_status::unknown) {
      // A proof is exact: it must agree with the file.
      const c4::outcome proven = result.root_proof == core::proof_status::win ? c4::outcome::win
                                 : result.root_proof == core::proof_status::loss
                                     ? c4::outcome::loss
                                     : c4::outcome::draw;
      CHECK(proven == expected);
    }
    const double value = result.best_value;
    right_sign += (expected == c4::outcome::win && value > 0.2) ||
                  (expected == c4::outcome::loss && value < -0.2) ||
                  (expected == c4::outcome::draw && value >= -0.2 && value <= 0.2);
  }
  CHECK(right_sign >= 32);
}

TEST_CASE("engine on connect4: finds the only winning move", "[connect4]") {
  // Won end-game positions in which exactly one column wins (the others draw
  // or lose), found with the exact solver.
  const c4::position_set set = end_game_positions(200);
  c4::solver exact(/*table_bits=*/18);
  std::size_t checked = 0;
  for (const c4::scored_position& entry : set.positions) {
    if (entry.score <= 0 || checked == 6) {
      continue;
    }
    std::vector<int> winning;
    for (int column = 0; column < c4::width; ++column) {
      if (entry.board.can_play(column) &&
          c4::outcome_after_move(exact, entry.board, column) == c4::outcome::win) {
        winning.push_back(column);
      }
    }
    REQUIRE_FALSE(winning.empty());
    if (winning.size() != 1) {
      continue;
    }
    ++checked;
    INFO("line " << entry.line << ": " << entry.moves << " " << entry.score << ", wins only with "
                 << winning[0] + 1);
    for (const c4::playout_policy policy :
         {c4::playout_policy::decisive, c4::playout_policy::uniform}) {
      INFO((policy == c4::playout_policy::decisive ? "decisive" : "uniform") << " playouts");
      core::search<c4::game> engine(c4::game(policy),
                                    budget(/*iterations=*/2'000, /*solver=*/false, /*seed=*/3));
      CHECK(engine.run(entry.board).best_action.column == winning[0]);
    }
  }
  CHECK(checked == 6);
}
