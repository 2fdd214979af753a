// grove/obs/log.hpp: the loggers grove components take, and a factory for
// applications.
//
// grove never writes to stdout or stderr. Every component that logs takes a
// std::shared_ptr<spdlog::logger> in its options and defaults to null_logger(),
// which discards everything at the cost of one level check. An application that
// wants grove's logs builds a logger with make_logger() (text or JSON lines, to
// stderr, a file or a stream, level from the options or GROVE_LOG_LEVEL) and
// passes it in; every logger make_logger() builds masks credentials (see
// grove/obs/redact.hpp) before any sink sees the message.
//
// This header only forward-declares spdlog; code that calls log->info(...)
// includes <spdlog/logger.h> itself.
//
// Example:
//   auto log = grove::obs::make_logger({.format = grove::obs::log_format::json_lines});
//   if (!log) { /* log.error().describe() says what was wrong */ }
//   client_options options{.logger = *log};
#pragma once

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "grove/obs/redact.hpp"
#include "grove/runtime/result.hpp"

namespace spdlog {
class logger;
namespace sinks {
class sink;
}  // namespace sinks
}  // namespace spdlog

namespace grove::obs {

/// Severity, in spdlog's order. `off` disables a logger.
enum class log_level { trace, debug, info, warn, error, critical, off };

/// How each record is written.
enum class log_format {
  /// One line per record: `2026-12-04T16:30:00.123+00:00 [grove] [info] text`.
  text,
  /// One JSON object per line with the members time (ISO 8601 UTC with
  /// microseconds), level, logger, thread, message and, when the call site
  /// recorded it, source ("file:line"). Strings are escaped per RFC 8259;
  /// bytes that are not valid UTF-8 become U+FFFD, so every line parses.
  json_lines,
};

/// Where records go.
enum class log_destination {
  stderr_stream,  ///< the process's stderr
  file,           ///< logger_options::file_path (appended unless truncate)
  stream,         ///< logger_options::stream (owned by the caller)
};

/// Options for make_logger().
struct logger_options {
  // --- identity and level ---

  /// Logger name, shown in every record. Default "grove". 1..64 bytes.
  std::string name = "grove";

  /// Minimum level written. Unset (the default): the level named by the
  /// environment variable level_env when it is set and non-empty, else info.
  std::optional<log_level> level{};

  /// Environment variable read when `level` is unset. Default
  /// "GROVE_LOG_LEVEL"; empty disables the lookup. A value that is not a level
  /// name makes make_logger() fail with errc::invalid_log_level.
  std::string level_env = "GROVE_LOG_LEVEL";

  /// Records at or above this level flush the sink at once. Default warn.
  log_level flush_level = log_level::warn;

  // --- output ---

  /// Text or JSON lines. Default text.
  log_format format = log_format::text;

  /// Default stderr_stream.
  log_destination destination = log_destination::stderr_stream;

  /// For destination::file: the file to write; parent folders are created.
  /// Required (non-empty) for that destination, ignored otherwise.
  std::string file_path{};

  /// For destination::file: start with an empty file instead of appending.
  /// Default false.
  bool truncate = false;

  /// For destination::stream: the stream to write. Required for that
  /// destination. The caller keeps it alive for the logger's lifetime and does
  /// not write to it concurrently; the logger serialises its own writes.
  std::ostream* stream = nullptr;

  // --- redaction ---

  /// Mask credentials before any sink sees them. Default true; switching it
  /// off is meant for benchmarks and debugging, never production.
  bool redact = true;

  /// Masking options, used when redact is true.
  redaction_options redaction{};

  /// Reports every bad field at once (errc::invalid_options).
  result<void> validate() const;
};

/// A logger that discards everything: the default of every grove component.
///
/// It is one shared logger named "grove" with a null sink and level off, not
/// registered in spdlog's global registry. Thread-safe. Do not change its
/// level or sinks: it is shared by every component that was given no logger.
std::shared_ptr<spdlog::logger> null_logger();

/// Builds a logger from options: validates them, resolves the level, opens the
/// destination and wraps the sink so credentials are masked before formatting.
/// The logger is not registered in spdlog's global registry (the caller may
/// call spdlog::register_logger itself).
///
/// Returns errc::invalid_options for bad options, errc::invalid_log_level for
/// a bad level_env value and errc::log_file_open_failed when the file cannot
/// be opened (the context names the file).
///
/// Thread safety: the returned logger may be used from any number of threads.
result<std::shared_ptr<spdlog::logger>> make_logger(const logger_options& options);

/// Wraps any spdlog sink so that each record's text is redacted before the
/// inner sink formats and writes it. Use it to add redaction to sinks an
/// application builds itself. The wrapper forwards set_pattern, set_formatter
/// and flush to the inner sink and is as thread-safe as the inner sink.
///
/// Requires: inner is not null (throws std::invalid_argument otherwise).
/// Throws std::invalid_argument when options fail validate().
std::shared_ptr<spdlog::sinks::sink> make_redacting_sink(std::shared_ptr<spdlog::sinks::sink> inner,
                                                         redaction_options options = {});

/// Parses a level name: trace, debug, info, warn (or warning), error,
/// critical, off; case-insensitive, surrounding spaces ignored.
/// Returns errc::invalid_log_level for anything else.
result<log_level> parse_log_level(std::string_view name);

/// The lower-case name of a level ("warn" for warn).
std::string_view to_string(log_level level) noexcept;

/// Escapes text as the contents of a JSON string (without the quotes) and
/// appends it to out: `"` and `\` are escaped, control bytes become \n, \t, ...
/// or \u00XX, and bytes that are not valid UTF-8 become \ufffd. This is the
/// escaping the json_lines format uses.
void append_json_escaped(std::string_view text, std::string& out);

}  // namespace grove::obs
