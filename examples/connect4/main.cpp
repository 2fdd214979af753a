// grove-connect4: the grove engine playing real Connect Four positions.
//
//   grove-connect4 --position 4453 --iterations 200000 [--dot tree.dot]
//     searches one position and prints the chosen column, its visits and value,
//     the principal variation, whether the root is proven, the speed and the
//     tree size.
//   grove-connect4 --positions FILE... --iterations N | --time-ms T [--limit K]
//     searches every position of each file (`<moves> <score>` lines) and prints
//     how often the engine's move keeps the game-theoretic result, judged by
//     the exact solver, how often its estimate has the right sign, and the
//     time per position. Malformed lines are reported and skipped; a file
//     with no valid line at all is an error. The solver judges each position
//     within --judge-time-ms (default 10 s; early positions can take minutes);
//     a position it cannot judge in time is reported and left out of the
//     counts.
//
// Ctrl-C stops the search (or the file) in progress, prints what was finished
// and exits with 130.
//
// Exit status: 0 on success, 1 when a position file cannot be read or holds no
// valid position, 2 for bad flags or a bad --position (CLI11's own codes for
// flags it rejects), 130 when interrupted.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "connect4/connect4.hpp"
#include "connect4/position_file.hpp"
#include "connect4/solver.hpp"
#include "grove/core/export.hpp"
#include "grove/core/search.hpp"

namespace {

namespace c4 = grove::examples::connect4;
namespace core = grove::core;

/// Everything the command line sets.
struct cli_options {
  std::string position;            // --position: 1-based columns played
  std::vector<std::string> files;  // --positions
  std::uint64_t iterations = 100000;
  std::uint64_t time_ms = 0;
  std::size_t limit = 0;
  std::uint64_t seed = 42;
  bool no_solver = false;
  double exploration = 1.414;
  std::string playout = "decisive";
  std::size_t cache = 0;
  double draw_band = 0.2;
  std::string dot_file;
  std::uint32_t dot_depth = 3;
  std::uint32_t dot_top = 5;
  unsigned table_bits = 22;
  std::uint64_t judge_time_ms = 10'000;
};

/// Set by SIGINT / SIGTERM; the engine and the solver poll it.
std::atomic<bool> interrupted{false};

void on_interrupt(int) { interrupted.store(true); }

/// 1234567 -> "1,234,567".
std::string grouped(std::uint64_t value) {
  const std::string digits = std::to_string(value);
  std::string text;
  for (std::size_t at = 0; at < digits.size(); ++at) {
    if (at > 0 && (digits.size() - at) % 3 == 0) {
      text += ',';
    }
    text += digits[at];
  }
  return text;
}

std::string fixed(double value, int decimals, bool sign = false) {
  char text[64];
  std::snprintf(text, sizeof(text), sign ? "%+.*f" : "%.*f", decimals, value);
  return text;
}

double seconds(std::chrono::nanoseconds elapsed) {
  return std::chrono::duration<double>(elapsed).count();
}

/// "X" for the first player, "O" for the second.
const char* player_name(int player) { return player == 0 ? "X" : "O"; }

/// The board as six text rows, top first, with column numbers below.
void print_board(const c4::position& board) {
  const int to_move = board.moves() & 1;
  for (int row = c4::height - 1; row >= 0; --row) {
    std::string line = " ";
    for (int column = 0; column < c4::width; ++column) {
      const std::uint64_t cell = std::uint64_t{1} << (column * (c4::height + 1) + row);
      const char* mark = ".";
      if ((board.current & cell) != 0) {
        mark = player_name(to_move);
      } else if ((board.mask & cell) != 0) {
        mark = player_name(1 - to_move);
      }
      line += ' ';
      line += mark;
    }
    std::cout << line << '\n';
  }
  std::cout << "  1 2 3 4 5 6 7\n";
}

core::search_options engine_options(const cli_options& cli) {
  core::search_options options;
  options.max_iterations = cli.iterations;
  options.max_time = std::chrono::milliseconds(cli.time_ms);
  options.solver = !cli.no_solver;
  options.exploration = cli.exploration;
  options.cache_capacity = cli.cache;
  options.seed = cli.seed;
  options.cancel = &interrupted;
  return options;
}

/// The command-line flag behind an engine option, for error messages.
std::string flag_of(const std::string& field) {
  if (field == "exploration") {
    return "--exploration";
  }
  if (field == "cache_capacity") {
    return "--cache";
  }
  if (field.find("max_iterations") != std::string::npos) {
    return "--iterations / --time-ms (engine " + field + ")";
  }
  return "engine option " + field;
}

c4::game make_game(const cli_options& cli) {
  return c4::game(cli.playout == "uniform" ? c4::playout_policy::uniform
                                           : c4::playout_policy::decisive);
}

/// The engine's win/draw/loss estimate for the player to move: the solver's
/// proof when it has one, else the chosen child's mean against the draw band.
c4::outcome estimate_of(const core::search_result<c4::game>& result, double draw_band) {
  switch (result.root_proof) {
    case core::proof_status::win:
      return c4::outcome::win;
    case core::proof_status::loss:
      return c4::outcome::loss;
    case core::proof_status::draw:
      return c4::outcome::draw;
    case core::proof_status::unknown:
      break;
  }
  if (result.best_value > draw_band) {
    return c4::outcome::win;
  }
  return result.best_value < -draw_band ? c4::outcome::loss : c4::outcome::draw;
}

std::string proof_text(core::proof_status proof) {
  return proof == core::proof_status::unknown ? "-" : std::string(core::to_string(proof));
}

// --- One position -----------------------------------------------------------

int run_position(const cli_options& cli) {
  c4::position board;
  if (const auto problem = c4::parse_moves(cli.position, board)) {
    std::cerr << "grove-connect4: --position " << cli.position << ": " << c4::describe(*problem)
              << '\n';
    return 2;
  }
  if (board.is_over()) {
    std::cerr << "grove-connect4: --position " << cli.position
              << ": the game is already over, there is no move to choose\n";
    return 2;
  }
  const int to_move = board.moves() & 1;
  std::cout << "position " << (cli.position.empty() ? "(empty board)" : cli.position) << ": "
            << board.moves() << " stones, " << player_name(to_move) << " to move\n";
  print_board(board);

  core::search<c4::game> engine(make_game(cli), engine_options(cli));
  const core::search_result<c4::game> result = engine.run(board);
  if (interrupted.load()) {
    std::cout << "\ninterrupted: the search stopped after " << grouped(result.iterations)
              << " iterations; what it found so far:\n";
  }
  const double elapsed = seconds(result.elapsed);
  const double rate = elapsed > 0 ? static_cast<double>(result.iterations) / elapsed : 0.0;

  std::cout << "\nsearch: " << grouped(result.iterations) << " iterations in " << fixed(elapsed, 2)
            << " s (" << grouped(static_cast<std::uint64_t>(rate)) << " iterations/s), stopped by "
            << core::to_string(result.stop) << ", MCTS-Solver " << (cli.no_solver ? "off" : "on")
            << ", seed " << cli.seed << '\n';
  std::cout << "tree: " << grouped(result.tree.nodes) << " nodes, max depth "
            << result.tree.max_depth << ", " << fixed(result.tree.arena_bytes / 1048576.0, 1)
            << " MiB arena\n";
  const double share = result.iterations > 0 ? 100.0 * result.best_visits /
                                                   static_cast<double>(result.tree.root_visits)
                                             : 0.0;
  std::cout << "chosen column: " << c4::to_string(result.best_action) << " (visits "
            << grouped(result.best_visits) << " = " << fixed(share, 1) << "% of the root, value "
            << fixed(result.best_value, 3, true) << " for " << player_name(to_move) << ")\n";
  std::cout << "principal variation:";
  for (const c4::move step : result.principal_variation) {
    std::cout << ' ' << c4::to_string(step);
  }
  std::cout << '\n';
  if (result.root_proof == core::proof_status::unknown) {
    std::cout << "root: not proven (estimate " << fixed(result.root_value, 3, true) << " for "
              << player_name(to_move) << ")\n";
  } else {
    std::cout << "root: proven " << core::to_string(result.root_proof) << " for "
              << player_name(to_move) << '\n';
  }
  std::cout << "\n  column     visits   value  proof\n";
  for (const auto& child : result.children) {
    char line[96];
    std::snprintf(line, sizeof(line), "  %6s %10s  %+.3f  %s\n",
                  c4::to_string(child.action).c_str(), grouped(child.visits).c_str(), child.mean,
                  proof_text(child.proof).c_str());
    std::cout << line;
  }

  if (!cli.dot_file.empty()) {
    std::ofstream dot(cli.dot_file);
    if (!dot) {
      std::cerr << "grove-connect4: cannot write --dot " << cli.dot_file << '\n';
      return 1;
    }
    core::write_dot(dot, engine, core::export_options{cli.dot_depth, cli.dot_top});
    std::cout << "\ntree written as DOT to " << cli.dot_file << " (depth " << cli.dot_depth
              << ", top " << cli.dot_top << " children per node)\n";
  }
  return interrupted.load() ? 130 : 0;
}

// --- Position files ---------------------------------------------------------

/// Redraws one progress line on stderr; only used when stderr is a terminal.
void draw_progress(std::size_t done, std::size_t total, std::size_t kept) {
  constexpr int bar_width = 30;
  const int filled = total > 0 ? static_cast<int>(bar_width * done / total) : bar_width;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(bar_width, '.');
  std::fprintf(stderr, "\r  [%s] %zu/%zu  kept %zu", bar.c_str(), done, total, kept);
  std::fflush(stderr);
}

/// Runs the engine on every position of one file and prints the summary.
/// Returns false when the file cannot be read or has no valid position.
bool run_file(const cli_options& cli, const std::string& path, c4::solver& exact) {
  auto read = c4::read_position_file(path, cli.limit);
  if (!read) {
    std::cerr << "grove-connect4: " << read.error().describe() << '\n';
    return false;
  }
  const c4::position_set& set = *read;
  for (const c4::line_problem& problem : set.problems) {
    std::cerr << problem.describe() << " (line skipped)\n";
  }
  if (set.positions.empty()) {
    std::cerr << "grove-connect4: " << set.file << ": no valid position"
              << (set.problems.empty() ? " (the file is empty)"
                                       : " (every line above was malformed)")
              << "; expected `<moves> <score>` lines\n";
    return false;
  }

  const bool progress = isatty(fileno(stderr)) != 0;
  const c4::game game = make_game(cli);
  const core::search_options options = engine_options(cli);

  struct tally {
    std::size_t positions = 0, kept = 0;
  };
  tally won, drawn, lost;
  std::size_t right_sign = 0, proven = 0, disagreements = 0, searched = 0;
  std::vector<std::size_t> unjudged;
  std::uint64_t iterations = 0;
  double engine_seconds = 0, slowest = 0, judge_seconds = 0;
  std::vector<std::string> misses;

  for (std::size_t index = 0; index < set.positions.size() && !interrupted.load(); ++index) {
    const c4::scored_position& entry = set.positions[index];
    core::search<c4::game> engine(game, options);
    const core::search_result<c4::game> result = engine.run(entry.board);
    if (interrupted.load()) {
      break;  // the search was cut short: its move says nothing
    }
    const c4::outcome expected = c4::outcome_of(entry.score);
    const auto judge_start = std::chrono::steady_clock::now();
    c4::solve_limits limits{.stop = &interrupted};
    if (cli.judge_time_ms > 0) {
      limits.deadline = judge_start + std::chrono::milliseconds(cli.judge_time_ms);
    }
    const std::optional<c4::outcome> judged =
        c4::outcome_after_move(exact, entry.board, result.best_action.column, limits);
    judge_seconds += seconds(std::chrono::steady_clock::now() - judge_start);
    if (!judged) {
      if (interrupted.load()) {
        break;
      }
      unjudged.push_back(entry.line);
      continue;
    }
    const c4::outcome played = *judged;
    ++searched;
    const double elapsed = seconds(result.elapsed);
    engine_seconds += elapsed;
    slowest = std::max(slowest, elapsed);
    iterations += result.iterations;
    proven += result.root_proof != core::proof_status::unknown ? 1 : 0;

    tally& bucket = expected == c4::outcome::win    ? won
                    : expected == c4::outcome::draw ? drawn
                                                    : lost;
    ++bucket.positions;
    if (played == expected) {
      ++bucket.kept;
    } else if (static_cast<int>(played) > static_cast<int>(expected)) {
      // A move better than the file's score means the file or the solver is wrong.
      ++disagreements;
      misses.push_back("line " + std::to_string(entry.line) + ": " + entry.moves + " " +
                       std::to_string(entry.score) + ": solver says column " +
                       c4::to_string(result.best_action) + " gives a " + c4::to_string(played) +
                       ", better than the file's score");
    } else {
      misses.push_back(
          "line " + std::to_string(entry.line) + ": " + entry.moves + " " +
          std::to_string(entry.score) + ": played " + c4::to_string(result.best_action) + " (" +
          c4::to_string(played) + ") in a " + c4::to_string(expected) + ", value " +
          fixed(result.best_value, 3, true) + ", " + grouped(result.iterations) + " iterations");
    }
    right_sign += estimate_of(result, cli.draw_band) == expected ? 1 : 0;
    if (progress) {
      draw_progress(index + 1, set.positions.size(), won.kept + drawn.kept + lost.kept);
    }
  }
  if (progress) {
    std::fprintf(stderr, "\r\033[K");
  }

  // Only positions both searched and judged count.
  const std::size_t total = searched;
  const std::size_t kept = won.kept + drawn.kept + lost.kept;
  const auto percent = [&](std::size_t part) {
    return fixed(total > 0 ? 100.0 * static_cast<double>(part) / total : 0.0, 1) + "%";
  };
  std::cout << set.file << ": " << total + unjudged.size() << " positions";
  if (!set.problems.empty()) {
    std::cout << ", " << set.problems.size() << " malformed lines skipped";
  }
  std::cout << '\n';
  if (interrupted.load()) {
    std::cout << "  interrupted: stopped after " << total + unjudged.size() << " of "
              << set.positions.size() << " positions; the figures below cover those\n";
  }
  if (!unjudged.empty()) {
    std::cout << "  not judged: the solver ran out of --judge-time-ms (" << cli.judge_time_ms
              << " ms) on " << unjudged.size() << " positions (lines";
    for (std::size_t index = 0; index < unjudged.size() && index < 10; ++index) {
      std::cout << ' ' << unjudged[index];
    }
    std::cout << (unjudged.size() > 10 ? " ..." : "") << "); they are left out of the counts\n";
  }
  std::cout << "  engine: ";
  if (cli.iterations > 0) {
    std::cout << grouped(cli.iterations) << " iterations";
  }
  if (cli.time_ms > 0) {
    std::cout << (cli.iterations > 0 ? ", " : "") << cli.time_ms << " ms";
  }
  std::cout << " per position, MCTS-Solver " << (cli.no_solver ? "off" : "on") << ", seed "
            << cli.seed << ", " << cli.playout << " playouts\n";
  std::cout << "  move keeps the result: " << kept << "/" << total << " (" << percent(kept)
            << "); won " << won.kept << "/" << won.positions << ", drawn " << drawn.kept << "/"
            << drawn.positions << ", lost " << lost.kept << "/" << lost.positions
            << " (in a lost position every move loses)\n";
  std::cout << "  estimate has the right sign: " << right_sign << "/" << total << " ("
            << percent(right_sign) << "; draw band +-" << fixed(cli.draw_band, 2)
            << "), root proven in " << proven << "/" << total << '\n';
  if (total > 0) {
    std::cout << "  time per position: mean " << fixed(1000 * engine_seconds / total, 2)
              << " ms, max " << fixed(1000 * slowest, 2) << " ms; " << grouped(iterations)
              << " iterations, "
              << grouped(static_cast<std::uint64_t>(
                     engine_seconds > 0 ? static_cast<double>(iterations) / engine_seconds : 0))
              << " iterations/s; judging with the solver " << fixed(judge_seconds, 2) << " s\n";
  }
  if (disagreements > 0) {
    std::cout << "  warning: " << disagreements
              << " positions where the solver disagrees with the file's score\n";
  }
  constexpr std::size_t shown = 10;
  for (std::size_t index = 0; index < misses.size() && index < shown; ++index) {
    std::cout << "  miss: " << misses[index] << '\n';
  }
  if (misses.size() > shown) {
    std::cout << "  ... and " << misses.size() - shown << " more\n";
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  cli_options cli;
  CLI::App app{"grove-connect4: the grove MCTS engine on Connect Four positions", "grove-connect4"};
  auto* position = app.add_option("--position", cli.position,
                                  "columns played from the empty board, 1-based (e.g. 4453)");
  auto* files = app.add_option("--positions", cli.files,
                               "files of `<moves> <score>` lines to evaluate the engine on");
  position->excludes(files);
  auto* iterations =
      app.add_option("--iterations", cli.iterations,
                     "simulations per search (default 100000; 0 = no limit, needs --time-ms)")
          // A negative number wraps to a huge unsigned one; the ranges reject it.
          ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1'000'000'000'000}));
  app.add_option("--time-ms", cli.time_ms, "wall-clock budget per search in ms (0 = none)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{86'400'000}));
  app.add_option("--limit", cli.limit, "only the first K valid positions of each file (0 = all)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1'000'000'000}));
  app.add_option("--seed", cli.seed, "seed of the engine's random generator (default 42)");
  app.add_flag("--no-solver", cli.no_solver, "turn off MCTS-Solver proofs in the engine");
  app.add_option("--exploration", cli.exploration, "UCB1 exploration constant c (default 1.414)");
  app.add_option("--playout", cli.playout, "random playout policy (default decisive)")
      ->check(CLI::IsMember({"decisive", "uniform"}));
  app.add_option("--cache", cli.cache, "simulation cache entries (default 0 = off)");
  app.add_option("--draw-band", cli.draw_band,
                 "|value| below which an unproven estimate counts as a draw (default 0.2)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--dot", cli.dot_file, "write the searched tree as Graphviz DOT (--position)")
      ->needs(position);
  app.add_option("--dot-depth", cli.dot_depth, "levels of the tree in the DOT file (default 3)");
  app.add_option("--dot-top", cli.dot_top, "children per node in the DOT file (default 5)");
  app.add_option("--solver-table-bits", cli.table_bits,
                 "log2 of the exact solver's table slots, 8 bytes each (default 22)")
      ->check(CLI::Range(10u, 30u));
  app.add_option("--judge-time-ms", cli.judge_time_ms,
                 "longest the exact solver may take to judge one position, in ms; positions "
                 "it cannot judge in time are reported and not counted (default 10000; 0 = "
                 "no limit)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{86'400'000}));
  if (auto exit_code = grove::examples::parse_command_line(app, argc, argv)) {
    return *exit_code;
  }
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);

  if (cli.position.empty() && position->count() == 0 && cli.files.empty()) {
    std::cerr << "grove-connect4: give --position MOVES or --positions FILE (see --help)\n";
    return 2;
  }
  if (cli.time_ms > 0 && iterations->count() == 0) {
    cli.iterations = 0;  // --time-ms alone: the time is the budget
  }
  if (const auto errors = engine_options(cli).validate(); !errors.empty()) {
    for (const auto& error : errors) {
      std::cerr << "grove-connect4: " << flag_of(error.field) << " = " << error.value
                << " is out of range (accepted: " << error.accepted << ")\n";
    }
    return 2;
  }

  if (position->count() > 0) {
    return run_position(cli);
  }
  c4::solver exact(cli.table_bits);
  bool all_read = true;
  for (std::size_t index = 0; index < cli.files.size(); ++index) {
    if (index > 0) {
      std::cout << '\n';
    }
    if (interrupted.load()) {
      std::cout << "interrupted: " << cli.files.size() - index
                << " position files were not started\n";
      break;
    }
    all_read = run_file(cli, cli.files[index], exact) && all_read;
  }
  if (interrupted.load()) {
    return 130;
  }
  return all_read ? 0 : 1;
}
