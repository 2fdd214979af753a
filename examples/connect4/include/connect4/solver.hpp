// connect4/solver.hpp: an exact Connect Four solver, to judge the engine.
//
// Algorithm: negamax alpha-beta over the bitboards of connect4.hpp.
//   - Scores follow the data files: a win is 22 minus the number of stones the
//     winner has played when the game ends (faster wins score higher), a loss
//     is the negation, a draw 0; range -18 .. 18 for positions reached by
//     play. From the player to move's point of view.
//   - Bounds before searching: the player to move cannot win on the spot
//     (checked first), so the best score is (41 - moves) / 2; the opponent
//     cannot win on the spot either after we only consider "non-losing" moves
//     (block a single threat, never play under an opponent's threat), so the
//     worst is -(40 - moves) / 2. A node with no non-losing move is lost at
//     once.
//   - Move ordering: moves that create the most threats first, ties broken
//     centre first.
//   - Transposition table: one slot per hash of the position key, always
//     replace; a slot holds the full key and a lower or an upper bound.
//   - The root narrows the score with null-window searches (a bisection on
//     the score that starts near 0, where most positions lie); a weak solve
//     only asks whether the result is a win, a draw or a loss (window [-1, 1]),
//     which is much cheaper.
//   - Early positions can take minutes to solve. try_solve_outcome() takes a
//     deadline and a stop flag, checked every 1,024 positions; when either
//     trips, the search unwinds without storing anything, so the table keeps
//     only bounds of subtrees that were searched to the end.
//
// Reference: Pascal Pons, "Solving Connect Four" (blog series, 2016),
// http://blog.gamesolver.org/ (the scoring convention and the techniques).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "connect4/connect4.hpp"

namespace grove::examples::connect4 {

/// The result of a game for the player to move, without the distance.
enum class outcome { loss = -1, draw = 0, win = 1 };

/// "win", "draw" or "loss".
const char* to_string(outcome result) noexcept;

/// The outcome a score stands for (its sign).
constexpr outcome outcome_of(int score) noexcept {
  return score > 0 ? outcome::win : (score < 0 ? outcome::loss : outcome::draw);
}

/// The exact score of a finished game for the player to move: 0 for a full
/// board, minus (22 - the winner's stones) when the last move made four.
/// Requires: position.is_over().
int terminal_score(const position& board) noexcept;

/// Bounds on one solve; the defaults bound nothing.
struct solve_limits {
  /// The solve gives up once this time has passed.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  /// The solve gives up once this reads true (for example, set by a Ctrl-C
  /// handler). Null: no flag.
  const std::atomic<bool>* stop = nullptr;
};

/// An exact alpha-beta solver with a transposition table.
///
/// Owns its table (8 bytes per slot). The table survives between calls: its
/// entries are exact bounds, valid for any later query, so solving many
/// related positions gets faster.
/// Thread safety: none; use one solver per thread.
class solver {
 public:
  /// Requires: 10 <= table_bits <= 30 (the table has 2^table_bits slots,
  /// 8 bytes each; the default, 22, takes 32 MiB).
  explicit solver(unsigned table_bits = 22);

  /// The exact score of `board` for the player to move (see the file comment).
  /// Works on finished games too (terminal_score).
  int solve(const position& board);

  /// Only the sign of the score: win, draw or loss for the player to move.
  outcome solve_outcome(const position& board);

  /// Like solve_outcome(), within `limits`: nullopt when the deadline passed
  /// or the stop flag was set before the answer was known.
  std::optional<outcome> try_solve_outcome(const position& board, const solve_limits& limits);

  /// Positions searched since construction or the last reset().
  std::uint64_t nodes() const noexcept { return nodes_; }

  /// Empties the table and the node count.
  void reset();

 private:
  int search(const position& board, int alpha, int beta);
  int narrow(const position& board, int low, int high);
  void store(std::uint64_t key, int value, bool lower_bound) noexcept;
  std::size_t slot(std::uint64_t key) const noexcept;

  bool limit_reached() noexcept;

  std::vector<std::uint64_t> table_;  // (key << 8) | (lower_bound << 7) | (value + 32); 0 = empty
  unsigned table_bits_;
  std::uint64_t nodes_ = 0;
  // Set only during try_solve_outcome().
  const solve_limits* limits_ = nullptr;
  bool aborted_ = false;
};

/// The result, with perfect play afterwards, for the player to move in
/// `board` when it plays `column`: win, draw or loss. An immediate four is a
/// win; otherwise the solver answers for the opponent and the sign flips.
/// Requires: !board.is_over() and board.can_play(column).
outcome outcome_after_move(solver& exact, const position& board, int column);

/// Like outcome_after_move(), within `limits`: nullopt when the solver gave up.
std::optional<outcome> outcome_after_move(solver& exact, const position& board, int column,
                                          const solve_limits& limits);

}  // namespace grove::examples::connect4
