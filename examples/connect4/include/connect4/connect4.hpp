// connect4/connect4.hpp: Connect Four on bitboards, as a grove search domain.
//
// The board is 7 columns by 6 rows. A position is two 64-bit masks: the stones
// of the player to move (`current`) and every stone on the board (`mask`). Bit
// 7 * c + r is the cell in column c (0 = leftmost), row r (0 = bottom); bit
// 7 * c + 6 is a sentinel row that is never set, so shifting a mask by 1
// (vertical), 7 (horizontal), 6 or 8 (diagonals) never wraps a line from one
// column into the next. The stones of the player who just moved are
// `current ^ mask`. Playing a move adds the lowest empty cell of a column to
// `mask` and swaps the players by `current ^= mask` (before adding the cell).
//
//   bit:  5 12 19 26 33 40 47    row 5 (top)
//         ...
//         0  7 14 21 28 35 42    row 0 (bottom)
//         column 1 ......... 7   (1-based, as the CLI and data files count)
//
// As a grove domain (grove::core::domain): actions are columns, values are
// seen from the player to move (+1 win, 0 draw, -1 loss), a finished game is
// scored exactly, and `evaluate` plays one random game to the end. The
// default playout is "decisive": a player who can win at once does so, and a
// player who must block the opponent's immediate win blocks; otherwise the
// column is uniform at random. Both checks are a few dozen bit operations, so
// a playout costs little more than a uniformly random one and is far less
// noisy near the end of the game.
//
// Reference for the bitboard layout and the threat masks: John Tromp's
// Connect Four notes, https://tromp.github.io/c4/c4.html.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "grove/core/domain.hpp"
#include "grove/core/hash.hpp"
#include "grove/core/rng.hpp"

namespace grove::examples::connect4 {

inline constexpr int width = 7;
inline constexpr int height = 6;
inline constexpr int cells = width * height;

namespace detail {

/// The lowest cell of every column.
inline constexpr std::uint64_t bottom_row = [] {
  std::uint64_t bits = 0;
  for (int column = 0; column < width; ++column) {
    bits |= std::uint64_t{1} << (column * (height + 1));
  }
  return bits;
}();

/// Every playable cell (all rows but the sentinel).
inline constexpr std::uint64_t board_cells = bottom_row * ((std::uint64_t{1} << height) - 1);

constexpr std::uint64_t bottom_cell(int column) noexcept {
  return std::uint64_t{1} << (column * (height + 1));
}
constexpr std::uint64_t top_cell(int column) noexcept {
  return std::uint64_t{1} << (height - 1 + column * (height + 1));
}
constexpr std::uint64_t column_cells(int column) noexcept {
  return ((std::uint64_t{1} << height) - 1) << (column * (height + 1));
}

/// True when `stones` contain four in a row in any direction.
constexpr bool has_four(std::uint64_t stones) noexcept {
  // For a shift d, pairs = stones & (stones >> d) marks the first stone of
  // every two in a row; pairs & (pairs >> 2d) marks the first of four.
  for (const int shift : {1, height + 1, height, height + 2}) {
    const std::uint64_t pairs = stones & (stones >> shift);
    if ((pairs & (pairs >> (2 * shift))) != 0) {
      return true;
    }
  }
  return false;
}

/// Cells (empty or not) that would complete four in a row for `stones`.
constexpr std::uint64_t threat_cells(std::uint64_t stones) noexcept {
  // Vertical: only the cell above three stacked stones.
  std::uint64_t cells_found = (stones << 1) & (stones << 2) & (stones << 3);
  for (const int shift : {height + 1, height, height + 2}) {
    // The cell completes x x x _, _ x x x, x _ x x or x x _ x along `shift`.
    const std::uint64_t before = (stones << shift) & (stones << (2 * shift));
    cells_found |= before & (stones << (3 * shift));
    cells_found |= before & (stones >> shift);
    const std::uint64_t after = (stones >> shift) & (stones >> (2 * shift));
    cells_found |= after & (stones << shift);
    cells_found |= after & (stones >> (3 * shift));
  }
  return cells_found & board_cells;
}

}  // namespace detail

/// A column to play, 0-based (column 0 is the leftmost). Printed 1-based.
struct move {
  std::uint8_t column = 0;
  friend constexpr bool operator==(move, move) = default;
};

/// The column as the data files and the CLI write it: "1" .. "7".
inline std::string to_string(move m) { return std::string(1, static_cast<char>('1' + m.column)); }

/// A Connect Four position: the stones of the player to move and all stones.
///
/// A value type of 16 bytes with no padding, so equal positions have equal
/// bytes and can be hashed as they are. The player to move is the first player
/// when the number of stones is even.
struct position {
  std::uint64_t current = 0;  ///< stones of the player to move
  std::uint64_t mask = 0;     ///< every stone on the board

  /// Stones on the board, 0 .. 42.
  constexpr int moves() const noexcept { return std::popcount(mask); }

  /// The stones of the player who moved last.
  constexpr std::uint64_t opponent() const noexcept { return current ^ mask; }

  /// True when the column exists and is not full.
  constexpr bool can_play(int column) const noexcept {
    return column >= 0 && column < width && (mask & detail::top_cell(column)) == 0;
  }

  /// The cells where a stone can be dropped now (one per non-full column).
  constexpr std::uint64_t playable_cells() const noexcept {
    return (mask + detail::bottom_row) & detail::board_cells;
  }

  /// Drops a stone for the player to move into the cell `cell`.
  /// Requires: `cell` is one bit of playable_cells().
  constexpr void play_cell(std::uint64_t cell) noexcept {
    current ^= mask;
    mask |= cell;
  }

  /// Drops a stone in `column`. Requires: can_play(column).
  constexpr void play(int column) noexcept {
    play_cell((mask + detail::bottom_cell(column)) & detail::column_cells(column));
  }

  /// True when the player to move wins by playing `column`.
  /// Requires: can_play(column).
  constexpr bool is_winning_move(int column) const noexcept {
    const std::uint64_t cell = (mask + detail::bottom_cell(column)) & detail::column_cells(column);
    return (detail::threat_cells(current) & cell) != 0;
  }

  /// True when the player who moved last has four in a row.
  constexpr bool last_move_won() const noexcept { return detail::has_four(opponent()); }

  /// True when the game is over: four in a row, or a full board.
  constexpr bool is_over() const noexcept { return last_move_won() || mask == detail::board_cells; }

  /// A key that identifies the position (current + mask is unique per position
  /// because it sets exactly one extra bit above each column's stones).
  constexpr std::uint64_t key() const noexcept { return current + mask; }

  friend constexpr bool operator==(const position&, const position&) = default;
};

static_assert(sizeof(position) == 16 && std::has_unique_object_representations_v<position>,
              "position is hashed as raw bytes: keep it two 64-bit words, no padding");

/// Why a move sequence is not a legal game.
struct sequence_error {
  enum class kind {
    bad_column,      ///< a character that is not a digit 1..7
    full_column,     ///< the column already holds 6 stones
    move_after_end,  ///< a move after four in a row was made
  };
  kind what;
  std::size_t index;  ///< 0-based index of the offending move
  char symbol;        ///< the offending character
};

/// Plays a sequence of 1-based columns ("4453") from the empty board.
/// Returns the position, or the first problem found. An empty sequence gives
/// the empty board. A sequence that fills the board ends the game as well: a
/// further move is reported as full_column (every column is full).
inline constexpr auto parse_moves(std::string_view sequence, position& out)
    -> std::optional<sequence_error> {
  position board;
  for (std::size_t index = 0; index < sequence.size(); ++index) {
    const char symbol = sequence[index];
    if (symbol < '1' || symbol > '0' + width) {
      return sequence_error{sequence_error::kind::bad_column, index, symbol};
    }
    if (board.last_move_won()) {
      return sequence_error{sequence_error::kind::move_after_end, index, symbol};
    }
    const int column = symbol - '1';
    if (!board.can_play(column)) {
      return sequence_error{sequence_error::kind::full_column, index, symbol};
    }
    board.play(column);
  }
  out = board;
  return std::nullopt;
}

/// A one-line description of a sequence_error, e.g.
/// "move 5 ('8'): bad column (accepted: 1..7)".
inline std::string describe(const sequence_error& error) {
  std::string text = "move " + std::to_string(error.index + 1) + " ('";
  text += error.symbol;
  text += "'): ";
  switch (error.what) {
    case sequence_error::kind::bad_column:
      return text + "bad column (accepted: 1..7)";
    case sequence_error::kind::full_column:
      return text + "illegal move, the column is full";
    case sequence_error::kind::move_after_end:
      return text + "move after the game ended (four in a row already)";
  }
  return text + "invalid move";
}

/// How `game::evaluate` plays its random games.
enum class playout_policy {
  uniform,   ///< every legal column equally likely
  decisive,  ///< take an immediate win, block an immediate loss, else uniform
};

/// Connect Four as a grove::core::domain.
///
/// Stateless apart from its options; copies are cheap and independent.
/// Thread safety: all members are const and may be called concurrently.
class game {
 public:
  using state_type = position;
  using action_type = move;
  static constexpr int num_players = 2;

  explicit constexpr game(playout_policy policy = playout_policy::decisive) noexcept
      : policy_(policy) {}

  /// The non-full columns, centre first (4, 3, 5, 2, 6, 1, 7 in 1-based
  /// columns): the centre is usually the strongest move, and the engine breaks
  /// ties between unvisited children in this order.
  void legal_actions(const position& state, std::vector<move>& out) const {
    out.clear();
    for (const int column : {3, 2, 4, 1, 5, 0, 6}) {
      if (state.can_play(column)) {
        out.push_back(move{static_cast<std::uint8_t>(column)});
      }
    }
  }

  /// Requires: state.can_play(action.column) and !is_terminal(state).
  constexpr void apply(position& state, move action) const noexcept { state.play(action.column); }

  constexpr bool is_terminal(const position& state) const noexcept { return state.is_over(); }

  constexpr int player_to_move(const position& state) const noexcept { return state.moves() & 1; }

  /// -1 when the previous move made four in a row (the player to move lost),
  /// 0 for a full board. Requires: is_terminal(state).
  constexpr double terminal_value(const position& state) const noexcept {
    return state.last_move_won() ? -1.0 : 0.0;
  }

  /// The result of one random game from `state` for the player to move:
  /// +1 win, 0 draw, -1 loss. Requires: !is_terminal(state).
  double evaluate(const position& state, grove::core::rng& random) const noexcept {
    return policy_ == playout_policy::decisive ? decisive_playout(state, random)
                                               : uniform_playout(state, random);
  }

  /// XXH3-64 of the position's bytes.
  std::uint64_t hash(const position& state) const noexcept {
    return grove::core::hash_value(state);
  }

  constexpr playout_policy policy() const noexcept { return policy_; }

 private:
  /// The `index`-th set bit of `bits` (0-based). Requires: index < popcount(bits).
  static constexpr std::uint64_t nth_bit(std::uint64_t bits, std::uint32_t index) noexcept {
    for (; index > 0; --index) {
      bits &= bits - 1;
    }
    return bits & (~bits + 1);
  }

  static double decisive_playout(position board, grove::core::rng& random) noexcept {
    // `sign` is +1 while the player to move in `board` is the one the value is
    // for, and flips every ply.
    double sign = 1.0;
    for (;;) {
      const std::uint64_t playable = board.playable_cells();
      if ((detail::threat_cells(board.current) & playable) != 0) {
        return sign;
      }
      const std::uint64_t must_block = detail::threat_cells(board.opponent()) & playable;
      std::uint64_t cell = 0;
      if (must_block != 0) {
        if ((must_block & (must_block - 1)) != 0) {
          return -sign;  // two immediate threats: the opponent wins next move
        }
        cell = must_block;
      } else {
        cell = nth_bit(playable, random.uniform(std::popcount(playable)));
      }
      board.play_cell(cell);
      if (board.mask == detail::board_cells) {
        return 0.0;
      }
      sign = -sign;
    }
  }

  static double uniform_playout(position board, grove::core::rng& random) noexcept {
    double sign = 1.0;
    for (;;) {
      const std::uint64_t playable = board.playable_cells();
      board.play_cell(nth_bit(playable, random.uniform(std::popcount(playable))));
      if (board.last_move_won()) {
        return sign;  // the player who just moved is the one `sign` was for
      }
      if (board.mask == detail::board_cells) {
        return 0.0;
      }
      sign = -sign;
    }
  }

  playout_policy policy_;
};

static_assert(grove::core::domain<game>);
static_assert(grove::core::domain_with_hash<game>);

}  // namespace grove::examples::connect4
