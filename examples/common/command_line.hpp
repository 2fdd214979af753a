// command_line.hpp: how the example programs end on a bad command line.
//
// CLI11 exits with its own error numbers (106 for a missing argument, 105 for a
// bad value, ...), which scripts cannot tell from a program's own failures. The
// programs use the usual convention instead: 0 after --help, 2 for any usage
// error, with CLI11's message and a pointer to --help on standard error.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>

namespace grove::examples {

/// Parses the command line into `app`. Returns nothing when the program should
/// go on, else the exit status it should return at once (0 after --help or
/// --version, 2 after a usage error, both already reported by CLI11).
[[nodiscard]] inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
}

}  // namespace grove::examples
