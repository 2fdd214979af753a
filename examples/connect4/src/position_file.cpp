#include "connect4/position_file.hpp"

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

namespace grove::examples::connect4 {
namespace {

constexpr int max_abs_score = cells / 2;  // 21: a win on the first stone is impossible anyway

bool is_blank(char c) { return c == ' ' || c == '\t'; }

grove::unexpected rejected(std::string message) {
  return grove::fail(std::make_error_code(std::errc::invalid_argument), std::move(message));
}

}  // namespace

std::string line_problem::describe() const {
  return file + ":" + std::to_string(line) + ": " + message;
}

grove::result<scored_position> parse_position_line(std::string_view text) {
  if (!text.empty() && text.back() == '\r') {
    text.remove_suffix(1);
  }
  std::size_t at = 0;
  while (at < text.size() && is_blank(text[at])) {
    ++at;
  }
  const std::size_t moves_begin = at;
  while (at < text.size() && !is_blank(text[at])) {
    ++at;
  }
  const std::string_view moves = text.substr(moves_begin, at - moves_begin);
  while (at < text.size() && is_blank(text[at])) {
    ++at;
  }
  const std::size_t score_begin = at;
  while (at < text.size() && !is_blank(text[at])) {
    ++at;
  }
  const std::string_view score_text = text.substr(score_begin, at - score_begin);
  while (at < text.size() && is_blank(text[at])) {
    ++at;
  }

  scored_position entry;
  if (const auto problem = parse_moves(moves, entry.board)) {
    return rejected(describe(*problem));
  }
  if (entry.board.is_over()) {
    return rejected(entry.board.last_move_won()
                        ? "the game is already over (the last move makes four in a row)"
                        : "the game is already over (the board is full)");
  }
  if (score_text.empty()) {
    return rejected("missing score (expected `<moves> <score>`, e.g. `4453 -2`)");
  }
  int score = 0;
  const char* const end = score_text.data() + score_text.size();
  const auto [stop, error] = std::from_chars(score_text.data(), end, score);
  if (error != std::errc{} || stop != end) {
    return rejected("score '" + std::string(score_text) + "' is not an integer");
  }
  if (score < -max_abs_score || score > max_abs_score) {
    return rejected("score " + std::to_string(score) + " is out of range (accepted: -21..21)");
  }
  if (at != text.size()) {
    return rejected("unexpected text after the score: '" + std::string(text.substr(at)) + "'");
  }
  entry.moves = std::string(moves);
  entry.score = score;
  return entry;
}

position_set parse_positions(std::istream& input, std::string name, std::size_t limit) {
  position_set set;
  set.file = std::move(name);
  std::string text;
  std::size_t line = 0;
  while ((limit == 0 || set.positions.size() < limit) && std::getline(input, text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    auto parsed = parse_position_line(text);
    if (!parsed) {
      set.problems.push_back(line_problem{set.file, line, parsed.error().message});
      continue;
    }
    parsed->line = line;
    set.positions.push_back(std::move(*parsed));
  }
  return set;
}

grove::result<position_set> read_position_file(const std::string& path, std::size_t limit) {
  std::error_code status;
  if (std::filesystem::is_directory(path, status)) {
    return grove::fail(std::make_error_code(std::errc::is_a_directory),
                       "cannot read position file: it is a directory", path);
  }
  errno = 0;
  std::ifstream input(path);
  if (!input) {
    const int code = errno != 0 ? errno : ENOENT;
    return grove::fail(std::error_code(code, std::generic_category()),
                       "cannot read position file: " + std::generic_category().message(code), path);
  }
  position_set set = parse_positions(input, path, limit);
  if (input.bad()) {
    return grove::fail(std::make_error_code(std::errc::io_error), "read error in position file",
                       path);
  }
  return set;
}

}  // namespace grove::examples::connect4
