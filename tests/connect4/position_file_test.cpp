// Tests for connect4/position_file.hpp: valid lines, and every kind of bad
// line reported with its file and line number and skipped.
#include "connect4/position_file.hpp"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>

namespace c4 = grove::examples::connect4;

TEST_CASE("position_file: valid lines become positions", "[connect4]") {
  std::istringstream input("4455 18\r\n\n  44455554221\t-15\n1 0\n");
  const c4::position_set set = c4::parse_positions(input, "sample.txt");
  CHECK(set.problems.empty());
  REQUIRE(set.positions.size() == 3);
  CHECK(set.positions[0].moves == "4455");
  CHECK(set.positions[0].score == 18);
  CHECK(set.positions[0].line == 1);
  CHECK(set.positions[0].board.moves() == 4);
  CHECK(set.positions[1].moves == "44455554221");
  CHECK(set.positions[1].score == -15);
  CHECK(set.positions[1].line == 3);
  CHECK(set.positions[2].board.moves() == 1);
}

TEST_CASE("position_file: malformed lines are reported with file and line, and skipped",
          "[connect4]") {
  std::istringstream input(
      "4455 18\n"            // 1: fine
      "4485 1\n"             // 2: bad column
      "3333333 0\n"          // 3: full column
      "12121215 0\n"         // 4: move after four in a row
      "1212121 0\n"          // 5: the game is over, nothing to choose
      "4455\n"               // 6: missing score
      "4455 x3\n"            // 7: non-integer score
      "4455 3.5\n"           // 8: non-integer score
      "4455 99\n"            // 9: out of range
      "4455 18 extra\n"      // 10: trailing text
      "44455554221 -15\n");  // 11: fine
  const c4::position_set set = c4::parse_positions(input, "bad.txt");
  REQUIRE(set.positions.size() == 2);
  CHECK(set.positions[0].line == 1);
  CHECK(set.positions[1].line == 11);
  REQUIRE(set.problems.size() == 9);

  const auto expect = [&](std::size_t index, std::size_t line, const std::string& fragment) {
    const c4::line_problem& problem = set.problems.at(index);
    INFO(problem.describe());
    CHECK(problem.file == "bad.txt");
    CHECK(problem.line == line);
    CHECK(problem.message.find(fragment) != std::string::npos);
  };
  expect(0, 2, "move 3 ('8'): bad column (accepted: 1..7)");
  expect(1, 3, "column is full");
  expect(2, 4, "move after the game ended");
  expect(3, 5, "already over");
  expect(4, 6, "missing score");
  expect(5, 7, "'x3' is not an integer");
  expect(6, 8, "'3.5' is not an integer");
  expect(7, 9, "out of range");
  expect(8, 10, "unexpected text after the score");
  CHECK(set.problems[0].describe() == "bad.txt:2: move 3 ('8'): bad column (accepted: 1..7)");
}

TEST_CASE("position_file: the limit counts valid positions only", "[connect4]") {
  std::istringstream input("4455 18\nbad\n1 0\n2 0\n3 0\n");
  const c4::position_set set = c4::parse_positions(input, "limit.txt", /*limit=*/2);
  REQUIRE(set.positions.size() == 2);
  CHECK(set.positions[1].moves == "1");
  CHECK(set.problems.size() == 1);
}

TEST_CASE("position_file: an unreadable file is an error, not an empty set", "[connect4]") {
  const auto missing = c4::read_position_file("/nonexistent/grove/positions.txt");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == std::errc::no_such_file_or_directory);
  CHECK(missing.error().context == "/nonexistent/grove/positions.txt");

  const auto directory = c4::read_position_file(GROVE_SOURCE_DIR);
  REQUIRE_FALSE(directory.has_value());
  CHECK(directory.error().code == std::errc::is_a_directory);

  const auto shipped =
      c4::read_position_file(GROVE_SOURCE_DIR "/examples/connect4/data/Test_L3_R1.head200");
  REQUIRE(shipped.has_value());
  CHECK(shipped->positions.size() == 200);
  CHECK(shipped->problems.empty());
}
