#include "connect4/solver.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <optional>
#include <stdexcept>
#include <string>

namespace grove::examples::connect4 {
namespace {

constexpr int value_offset = 32;  // stored values are score + 32, in 7 bits, never 0

/// Columns in the order moves are tried when their threat counts tie.
constexpr std::array<int, width> centre_first = {3, 2, 4, 1, 5, 0, 6};

/// Playable cells that do not hand the opponent an immediate win: a single
/// opponent threat must be blocked, and no stone goes right under an opponent
/// threat. Zero when every move loses at once (two threats, or only moves
/// under threats).
std::uint64_t non_losing_cells(const position& board) noexcept {
  std::uint64_t playable = board.playable_cells();
  const std::uint64_t opponent_threats = detail::threat_cells(board.opponent());
  const std::uint64_t forced = playable & opponent_threats;
  if (forced != 0) {
    if ((forced & (forced - 1)) != 0) {
      return 0;
    }
    playable = forced;
  }
  return playable & ~(opponent_threats >> 1);
}

bool can_win_now(const position& board) noexcept {
  return (detail::threat_cells(board.current) & board.playable_cells()) != 0;
}

}  // namespace

const char* to_string(outcome result) noexcept {
  switch (result) {
    case outcome::win:
      return "win";
    case outcome::draw:
      return "draw";
    case outcome::loss:
      return "loss";
  }
  return "unknown";
}

int terminal_score(const position& board) noexcept {
  if (!board.last_move_won()) {
    return 0;
  }
  const int winner_stones = (board.moves() + 1) / 2;
  return -(cells / 2 + 1 - winner_stones);
}

solver::solver(unsigned table_bits) : table_bits_(table_bits) {
  if (table_bits < 10 || table_bits > 30) {
    throw std::invalid_argument("connect4 solver: table_bits is " + std::to_string(table_bits) +
                                ", accepted 10..30");
  }
  table_.assign(std::size_t{1} << table_bits, 0);
}

void solver::reset() {
  std::fill(table_.begin(), table_.end(), 0);
  nodes_ = 0;
}

std::size_t solver::slot(std::uint64_t key) const noexcept {
  // Fibonacci hashing: the key's low bits are very regular (one bit per column).
  return static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ULL) >> (64 - table_bits_));
}

void solver::store(std::uint64_t key, int value, bool lower_bound) noexcept {
  table_[slot(key)] = (key << 8) | (static_cast<std::uint64_t>(lower_bound) << 7) |
                      static_cast<std::uint64_t>(value + value_offset);
}

int solver::solve(const position& board) {
  if (board.is_over()) {
    return terminal_score(board);
  }
  const int moves = board.moves();
  if (can_win_now(board)) {
    return (cells + 1 - moves) / 2;
  }
  return narrow(board, -(cells - moves) / 2, (cells + 1 - moves) / 2);
}

outcome solver::solve_outcome(const position& board) {
  if (board.is_over()) {
    return outcome_of(terminal_score(board));
  }
  if (can_win_now(board)) {
    return outcome::win;
  }
  return outcome_of(narrow(board, -1, 1));
}

std::optional<outcome> solver::try_solve_outcome(const position& board,
                                                 const solve_limits& limits) {
  limits_ = &limits;
  aborted_ = false;
  const outcome found = solve_outcome(board);
  limits_ = nullptr;
  if (aborted_) {
    aborted_ = false;
    return std::nullopt;
  }
  return found;
}

bool solver::limit_reached() noexcept {
  if (limits_->stop != nullptr && limits_->stop->load(std::memory_order_relaxed)) {
    return true;
  }
  return limits_->deadline != std::chrono::steady_clock::time_point::max() &&
         std::chrono::steady_clock::now() >= limits_->deadline;
}

int solver::narrow(const position& board, int low, int high) {
  // Bisection with null windows [guess, guess + 1]; each answer says whether
  // the score is above guess. Guesses lean towards 0 (half of the bound),
  // where short searches settle most positions.
  while (low < high) {
    int guess = low + (high - low) / 2;
    if (guess <= 0 && low / 2 < guess) {
      guess = low / 2;
    } else if (guess >= 0 && high / 2 > guess) {
      guess = high / 2;
    }
    const int found = search(board, guess, guess + 1);
    if (aborted_) {
      return 0;
    }
    if (found <= guess) {
      high = found;
    } else {
      low = found;
    }
  }
  return low;
}

int solver::search(const position& board, int alpha, int beta) {
  // Requires: the game is not over and the player to move cannot win at once.
  ++nodes_;
  if (limits_ != nullptr && (nodes_ & 1023) == 0 && limit_reached()) {
    aborted_ = true;
  }
  if (aborted_) {
    return 0;  // unwinds without storing: the value means nothing
  }
  const std::uint64_t candidates = non_losing_cells(board);
  const int moves = board.moves();
  if (candidates == 0) {
    return -(cells - moves) / 2;
  }
  if (moves >= cells - 2) {
    return 0;  // neither side can win in the last two moves
  }

  const int lowest = -(cells - 2 - moves) / 2;
  if (alpha < lowest) {
    alpha = lowest;
    if (alpha >= beta) {
      return alpha;
    }
  }
  int highest = (cells - 1 - moves) / 2;
  const std::uint64_t key = board.key();
  if (const std::uint64_t entry = table_[slot(key)]; entry != 0 && (entry >> 8) == key) {
    const int value = static_cast<int>(entry & 0x7f) - value_offset;
    if ((entry & 0x80) != 0) {
      alpha = std::max(alpha, value);
    } else {
      highest = std::min(highest, value);
    }
  }
  if (beta > highest) {
    beta = highest;
  }
  if (alpha >= beta) {
    return alpha;
  }

  // Order the candidate moves: most threats created first, then centre first
  // (insertion sort over at most 7 moves keeps equal scores in centre order).
  std::array<std::uint64_t, width> order{};
  std::array<int, width> rank{};
  int count = 0;
  for (const int column : centre_first) {
    const std::uint64_t cell = candidates & detail::column_cells(column);
    if (cell == 0) {
      continue;
    }
    const int threats = std::popcount(detail::threat_cells(board.current | cell) &
                                      ~(board.mask | cell) & detail::board_cells);
    int at = count++;
    for (; at > 0 && rank[at - 1] < threats; --at) {
      order[at] = order[at - 1];
      rank[at] = rank[at - 1];
    }
    order[at] = cell;
    rank[at] = threats;
  }

  for (int index = 0; index < count; ++index) {
    position next = board;
    next.play_cell(order[index]);
    const int score = -search(next, -beta, -alpha);
    if (aborted_) {
      return 0;
    }
    if (score >= beta) {
      store(key, score, /*lower_bound=*/true);
      return score;
    }
    alpha = std::max(alpha, score);
  }
  store(key, alpha, /*lower_bound=*/false);
  return alpha;
}

outcome outcome_after_move(solver& exact, const position& board, int column) {
  if (board.is_winning_move(column)) {
    return outcome::win;
  }
  position next = board;
  next.play(column);
  return static_cast<outcome>(-static_cast<int>(exact.solve_outcome(next)));
}

std::optional<outcome> outcome_after_move(solver& exact, const position& board, int column,
                                          const solve_limits& limits) {
  if (board.is_winning_move(column)) {
    return outcome::win;
  }
  position next = board;
  next.play(column);
  const auto found = exact.try_solve_outcome(next, limits);
  if (!found) {
    return std::nullopt;
  }
  return static_cast<outcome>(-static_cast<int>(*found));
}

}  // namespace grove::examples::connect4
