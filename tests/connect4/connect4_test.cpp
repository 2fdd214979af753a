// Tests for connect4/connect4.hpp: the bitboard rules and the playouts.
#include "connect4/connect4.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace c4 = grove::examples::connect4;

namespace {

c4::position board_of(const std::string& moves) {
  c4::position board;
  const auto problem = c4::parse_moves(moves, board);
  INFO(moves);
  REQUIRE_FALSE(problem.has_value());
  return board;
}

// A plain 7x6 array board, written the obvious way, to check the bitboards.
struct grid {
  std::array<std::array<int, c4::height>, c4::width> cell{};  // 0 empty, 1 or 2 player
  std::array<int, c4::width> filled{};

  bool four_for(int player) const {
    constexpr int directions[4][2] = {{1, 0}, {0, 1}, {1, 1}, {1, -1}};
    for (int column = 0; column < c4::width; ++column) {
      for (int row = 0; row < c4::height; ++row) {
        for (const auto& direction : directions) {
          int run = 0;
          for (int step = 0; step < 4; ++step) {
            const int c = column + direction[0] * step;
            const int r = row + direction[1] * step;
            if (c < 0 || c >= c4::width || r < 0 || r >= c4::height || cell[c][r] != player) {
              break;
            }
            ++run;
          }
          if (run == 4) {
            return true;
          }
        }
      }
    }
    return false;
  }
};

}  // namespace

TEST_CASE("connect4: four in a row in every direction ends the game", "[connect4]") {
  const c4::game game;
  // Each sequence makes the first player's fourth stone in line on move 11 or 7.
  const std::string sequence =
      GENERATE(as<std::string>{}, "1122334", "1212121", "12234334474", "76654554414");
  CAPTURE(sequence);
  const c4::position before = board_of(sequence.substr(0, sequence.size() - 1));
  CHECK_FALSE(game.is_terminal(before));
  CHECK(before.is_winning_move(sequence.back() - '1'));

  const c4::position after = board_of(sequence);
  CHECK(after.last_move_won());
  CHECK(game.is_terminal(after));
  CHECK(game.terminal_value(after) == -1.0);
  CHECK(game.player_to_move(after) == 1);
}

TEST_CASE("connect4: a full board without four in a row is a draw", "[connect4]") {
  const c4::game game;
  const std::string sequence = "547125662261271266215743771576315353334444";
  const c4::position full = board_of(sequence);
  CHECK(full.moves() == 42);
  CHECK_FALSE(full.last_move_won());
  CHECK(game.is_terminal(full));
  CHECK(game.terminal_value(full) == 0.0);

  const c4::position one_left = board_of(sequence.substr(0, 41));
  CHECK_FALSE(game.is_terminal(one_left));
  std::vector<c4::move> moves;
  game.legal_actions(one_left, moves);
  REQUIRE(moves.size() == 1);
  CHECK(moves[0].column == 3);
}

TEST_CASE("connect4: legal moves skip full columns, centre first", "[connect4]") {
  const c4::game game;
  std::vector<c4::move> moves;
  game.legal_actions(c4::position{}, moves);
  std::vector<int> columns;
  for (const c4::move m : moves) {
    columns.push_back(m.column + 1);
  }
  CHECK(columns == std::vector<int>{4, 3, 5, 2, 6, 1, 7});

  const c4::position column_four_full = board_of("444444");
  CHECK_FALSE(column_four_full.can_play(3));
  game.legal_actions(column_four_full, moves);
  CHECK(moves.size() == 6);
  for (const c4::move m : moves) {
    CHECK(m.column != 3);
  }
  CHECK(c4::to_string(c4::move{0}) == "1");
  CHECK(c4::to_string(c4::move{6}) == "7");
}

TEST_CASE("connect4: move sequences report bad columns, full columns and late moves",
          "[connect4]") {
  c4::position board;
  SECTION("bad column") {
    const auto problem = c4::parse_moves("4480", board);
    REQUIRE(problem.has_value());
    CHECK(problem->what == c4::sequence_error::kind::bad_column);
    CHECK(problem->index == 2);
    CHECK(c4::describe(*problem) == "move 3 ('8'): bad column (accepted: 1..7)");
  }
  SECTION("full column") {
    const auto problem = c4::parse_moves("3333333", board);
    REQUIRE(problem.has_value());
    CHECK(problem->what == c4::sequence_error::kind::full_column);
    CHECK(problem->index == 6);
  }
  SECTION("move after four in a row") {
    const auto problem = c4::parse_moves("12121215", board);
    REQUIRE(problem.has_value());
    CHECK(problem->what == c4::sequence_error::kind::move_after_end);
    CHECK(problem->index == 7);
  }
}

TEST_CASE("connect4: bitboards agree with a plain array board on random games", "[connect4]") {
  grove::core::rng random(/*seed=*/7);
  const c4::game game;
  std::vector<c4::move> moves;
  for (int round = 0; round < 300; ++round) {
    c4::position board;
    grid reference;
    while (!game.is_terminal(board)) {
      game.legal_actions(board, moves);
      std::vector<int> open;
      for (int column = 0; column < c4::width; ++column) {
        if (reference.filled[column] < c4::height) {
          open.push_back(column);
        }
      }
      REQUIRE(moves.size() == open.size());
      const c4::move chosen = moves[random.uniform(static_cast<std::uint32_t>(moves.size()))];
      const int player = 1 + game.player_to_move(board);

      // is_winning_move must match playing the move on the array board.
      grid trial = reference;
      trial.cell[chosen.column][trial.filled[chosen.column]++] = player;
      REQUIRE(board.is_winning_move(chosen.column) == trial.four_for(player));

      game.apply(board, chosen);
      reference = trial;
      REQUIRE(board.last_move_won() == reference.four_for(player));
    }
    CHECK((board.last_move_won() || board.moves() == 42));
  }
}

TEST_CASE("connect4: decisive playouts take wins and see forced losses", "[connect4]") {
  const c4::game decisive(c4::playout_policy::decisive);
  const c4::game uniform(c4::playout_policy::uniform);
  grove::core::rng random(/*seed=*/11);

  // First player to move with three stacked in column 1: always a win.
  const c4::position can_win = board_of("121212");
  // The first player has an open three on the bottom row (columns 3-5) and the
  // second player to move cannot block both ends: always a loss for it.
  const c4::position lost = board_of("37475");
  for (int round = 0; round < 100; ++round) {
    CHECK(decisive.evaluate(can_win, random) == 1.0);
    CHECK(decisive.evaluate(lost, random) == -1.0);
  }

  // Uniform playouts are random but stay in range, and a fixed seed repeats.
  grove::core::rng first(/*seed=*/5);
  grove::core::rng second(/*seed=*/5);
  int wins = 0;
  for (int round = 0; round < 200; ++round) {
    const double value = uniform.evaluate(c4::position{}, first);
    CHECK((value == -1.0 || value == 0.0 || value == 1.0));
    CHECK(uniform.evaluate(c4::position{}, second) == value);
    wins += value > 0 ? 1 : 0;
  }
  CHECK(wins > 20);
  CHECK(wins < 180);
  CHECK(decisive.hash(can_win) == decisive.hash(board_of("121212")));
  CHECK(decisive.hash(can_win) != decisive.hash(board_of("212121")));
}
