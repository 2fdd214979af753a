// Tests for connect4/solver.hpp: the exact scores of the README checks and of
// a sample of the shipped data files.
#include "connect4/solver.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "connect4/position_file.hpp"

namespace c4 = grove::examples::connect4;

namespace {

c4::position board_of(const std::string& moves) {
  c4::position board;
  REQUIRE_FALSE(c4::parse_moves(moves, board).has_value());
  return board;
}

}  // namespace

TEST_CASE("solver: the two checks from the data README", "[connect4]") {
  c4::solver solver(/*table_bits=*/16);
  CHECK(solver.solve(board_of("4455")) == 18);
  CHECK(solver.solve(board_of("44455554221")) == -15);
  CHECK(solver.solve_outcome(board_of("4455")) == c4::outcome::win);
  CHECK(solver.solve_outcome(board_of("44455554221")) == c4::outcome::loss);
  CHECK(solver.nodes() > 0);
}

TEST_CASE("solver: finished games and immediate wins", "[connect4]") {
  c4::solver solver(/*table_bits=*/12);
  // The first player won with its 4th stone: 22 - 4 = 18 for the winner.
  CHECK(solver.solve(board_of("1212121")) == -18);
  CHECK(c4::terminal_score(board_of("1212121")) == -18);
  CHECK(solver.solve(board_of("547125662261271266215743771576315353334444")) == 0);
  // The first player to move wins with its 4th stone at once.
  CHECK(solver.solve(board_of("121212")) == 18);
  CHECK(solver.solve_outcome(board_of("121212")) == c4::outcome::win);
  CHECK_THROWS_AS(c4::solver(/*table_bits=*/3), std::invalid_argument);
}

TEST_CASE("solver: a time limit or a stop flag ends an early-position solve", "[connect4]") {
  // The empty board takes minutes to solve exactly; both limits must cut it
  // short, and the table must stay sound for later solves.
  c4::solver solver(/*table_bits=*/16);
  const auto started = std::chrono::steady_clock::now();
  c4::solve_limits limits;
  limits.deadline = started + std::chrono::milliseconds(50);
  CHECK_FALSE(solver.try_solve_outcome(c4::position{}, limits).has_value());
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
  CHECK_FALSE(c4::outcome_after_move(solver, board_of("4"), 3, limits).has_value());

  std::atomic<bool> stop{true};
  CHECK_FALSE(solver.try_solve_outcome(c4::position{}, {.stop = &stop}).has_value());

  // Exact answers after the aborted solves, with and without limits.
  CHECK(solver.solve(board_of("4455")) == 18);
  CHECK(solver.solve(board_of("44455554221")) == -15);
  stop = false;
  CHECK(solver.try_solve_outcome(board_of("44455554221"), {.stop = &stop}) == c4::outcome::loss);
}

TEST_CASE("solver: agrees with the scores of the data files", "[connect4]") {
  // Every line of both files: each solves in well under a millisecond
  // (measured: the whole case takes about 0.1 s in release), and together
  // they cover wins, draws and losses.
  c4::solver solver(/*table_bits=*/20);
  const std::string data = GROVE_SOURCE_DIR "/examples/connect4/data/";
  for (const auto& [name, stride] :
       {std::pair<std::string, std::size_t>{"Test_L3_R1.head200", 1}, {"Test_L2_R1.head200", 1}}) {
    const auto set = c4::read_position_file(data + name);
    REQUIRE(set.has_value());
    REQUIRE(set->problems.empty());
    int wins = 0, draws = 0, losses = 0;
    for (std::size_t index = 0; index < set->positions.size(); index += stride) {
      const c4::scored_position& entry = set->positions[index];
      INFO(name << ":" << entry.line << ": " << entry.moves);
      REQUIRE(solver.solve(entry.board) == entry.score);
      REQUIRE(solver.solve_outcome(entry.board) == c4::outcome_of(entry.score));
      wins += entry.score > 0;
      draws += entry.score == 0;
      losses += entry.score < 0;
    }
    CHECK(wins > 0);
    CHECK(draws > 0);
    CHECK(losses > 0);
  }
}

namespace {

// Plain negamax over every move to the end of the game, no pruning: the
// reference for the solver on positions with few empty cells.
int exhaustive_score(const c4::position& board) {
  if (board.is_over()) {
    return c4::terminal_score(board);
  }
  int best = -100;
  for (int column = 0; column < c4::width; ++column) {
    if (board.can_play(column)) {
      c4::position next = board;
      next.play(column);
      best = std::max(best, -exhaustive_score(next));
    }
  }
  return best;
}

}  // namespace

TEST_CASE("solver: matches exhaustive search near the end of random games", "[connect4]") {
  c4::solver solver(/*table_bits=*/16);
  grove::core::rng random(/*seed=*/3);
  int checked = 0;
  for (int round = 0; round < 1000 && checked < 60; ++round) {
    c4::position board;
    // Random moves that avoid making four, so most games reach 34 stones.
    while (!board.is_over() && board.moves() < 34) {
      int column = 0;
      int tries = 0;
      do {
        column = static_cast<int>(random.uniform(c4::width));
      } while (!board.can_play(column) || (board.is_winning_move(column) && ++tries < 20));
      board.play(column);
    }
    if (board.is_over()) {
      continue;
    }
    INFO("round " << round);
    CHECK(solver.solve(board) == exhaustive_score(board));
    CHECK(solver.solve_outcome(board) == c4::outcome_of(exhaustive_score(board)));
    ++checked;
  }
  CHECK(checked == 60);
}
