// connect4/position_file.hpp: reading files of scored Connect Four positions.
//
// Format: one position per line, `<moves> <score>`: the 1-based columns played
// from the empty board ("4453"), one or more spaces or tabs, and the
// game-theoretic score for the side to move (positive: it wins, 0: draw,
// negative: it loses). Blank lines are ignored; a trailing '\r' is accepted.
//
// A line that breaks the format is reported with the file name and line
// number and skipped; it never becomes a position. Problems found:
//   - a column that is not a digit 1..7;
//   - a move into a full column;
//   - a move after four in a row was made, or a position whose game is
//     already over (nothing is left to choose);
//   - a missing score, a score that is not an integer, a score outside
//     -21..21, or text after the score.
#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "connect4/connect4.hpp"
#include "grove/runtime/result.hpp"

namespace grove::examples::connect4 {

/// One valid line of a position file.
struct scored_position {
  std::string moves;     ///< the column digits as written
  position board;        ///< the position after those moves (game not over)
  int score = 0;         ///< the score from the file, for the player to move
  std::size_t line = 0;  ///< 1-based line number in the file
};

/// One rejected line.
struct line_problem {
  std::string file;      ///< the name given to the parser
  std::size_t line = 0;  ///< 1-based line number
  std::string message;   ///< what is wrong, e.g. "move 3 ('9'): bad column (accepted: 1..7)"

  /// "file:line: message".
  std::string describe() const;
};

/// Everything read from one file: the valid positions, in file order, and one
/// problem per rejected line.
struct position_set {
  std::string file;
  std::vector<scored_position> positions;
  std::vector<line_problem> problems;
};

/// Parses one line. Returns the position, or the reason the line is rejected
/// (the message only; the caller adds file and line). Requires: `text` holds
/// no '\n'.
grove::result<scored_position> parse_position_line(std::string_view text);

/// Reads every line of `input`. `name` is used in the problems' file field.
/// Stops after `limit` valid positions when limit > 0 (problems on the lines
/// read so far are still reported).
position_set parse_positions(std::istream& input, std::string name, std::size_t limit = 0);

/// Opens and parses `path` as above.
/// Errors: std::errc::no_such_file_or_directory (or the open error) when the
/// file cannot be read, with the path as context.
grove::result<position_set> read_position_file(const std::string& path, std::size_t limit = 0);

}  // namespace grove::examples::connect4
