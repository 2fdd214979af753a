// Loggers: the null logger, the factory, the redacting sink wrapper and the
// JSON-lines formatter. spdlog's sink headers stay in this file.
#include "grove/obs/log.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <utility>

#include "grove/obs/errc.hpp"

namespace grove::obs {
namespace {

spdlog::level::level_enum to_spdlog(log_level level) {
  switch (level) {
    case log_level::trace:
      return spdlog::level::trace;
    case log_level::debug:
      return spdlog::level::debug;
    case log_level::info:
      return spdlog::level::info;
    case log_level::warn:
      return spdlog::level::warn;
    case log_level::error:
      return spdlog::level::err;
    case log_level::critical:
      return spdlog::level::critical;
    case log_level::off:
      return spdlog::level::off;
  }
  return spdlog::level::off;
}

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

std::string_view view(spdlog::string_view_t text) { return {text.data(), text.size()}; }

// Hands every record to an inner sink with its text redacted first.
class redacting_sink final : public spdlog::sinks::sink {
 public:
  redacting_sink(std::shared_ptr<spdlog::sinks::sink> inner, redaction_options options)
      : inner_(std::move(inner)), redactor_(std::move(options)) {}

  void log(const spdlog::details::log_msg& msg) override {
    if (!inner_->should_log(msg.level)) {
      return;
    }
    // One buffer per thread: the inner sink formats the record before log()
    // returns, so the view into the buffer does not outlive it.
    thread_local std::string buffer;
    buffer.clear();
    if (!redactor_.redact_to(view(msg.payload), buffer)) {
      inner_->log(msg);
      return;
    }
    spdlog::details::log_msg redacted = msg;
    redacted.payload = spdlog::string_view_t(buffer.data(), buffer.size());
    inner_->log(redacted);
  }

  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
  redactor redactor_;
};

// One JSON object per record; see log_format::json_lines.
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    thread_local std::string line;
    line.clear();
    line += "{\"time\":\"";
    append_time(msg.time, line);
    line += "\",\"level\":\"";
    line += level_name(msg.level);
    line += "\",\"logger\":\"";
    append_json_escaped(view(msg.logger_name), line);
    line += "\",\"thread\":";
    line += std::to_string(msg.thread_id);
    line += ",\"message\":\"";
    append_json_escaped(view(msg.payload), line);
    line += '"';
    if (!msg.source.empty()) {
      line += ",\"source\":\"";
      append_json_escaped(msg.source.filename, line);
      line += ':';
      line += std::to_string(msg.source.line);
      line += '"';
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }

 private:
  // ISO 8601 in UTC with microseconds: 2026-12-04T16:30:00.123456Z.
  static void append_time(spdlog::log_clock::time_point time, std::string& out) {
    using namespace std::chrono;
    const auto since_epoch = time.time_since_epoch();
    const auto whole = floor<seconds>(since_epoch);
    const auto micros = duration_cast<microseconds>(since_epoch - whole).count();
    const std::time_t seconds_since_epoch = static_cast<std::time_t>(whole.count());
    std::tm utc{};
    gmtime_r(&seconds_since_epoch, &utc);
    std::array<char, 40> text{};
    const std::size_t size = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%S", &utc);
    out.append(text.data(), size);
    std::array<char, 16> fraction{};
    const int written =
        std::snprintf(fraction.data(), fraction.size(), ".%06lldZ", static_cast<long long>(micros));
    out.append(fraction.data(), static_cast<std::size_t>(written));
  }
};

// Length of the valid UTF-8 sequence at text[i], or 0 when it is not one.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    low = lead == 0xE0 ? 0xA0 : 0x80;   // no overlong forms
    high = lead == 0xED ? 0x9F : 0xBF;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    low = lead == 0xF0 ? 0x90 : 0x80;
    high = lead == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) {
    return 0;
  }
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return length;
}

}  // namespace

void append_json_escaped(std::string_view text, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
}

result<void> logger_options::validate() const {
  std::string problems;
  auto add = [&](const std::string& problem) {
    problems += problems.empty() ? "" : "; ";
    problems += problem;
  };
  if (name.empty() || name.size() > 64) {
    add("name must be 1..64 bytes (got " + std::to_string(name.size()) + ")");
  }
  if (destination == log_destination::file && file_path.empty()) {
    add("file_path is required when destination is file");
  }
  if (destination == log_destination::stream && stream == nullptr) {
    add("stream is required when destination is stream");
  }
  if (redact) {
    if (auto valid = redaction.validate(); !valid) {
      add(valid.error().message);
    }
  }
  if (!problems.empty()) {
    return fail(errc::invalid_options, "invalid logger_options: " + problems, "logger_options");
  }
  return {};
}

std::shared_ptr<spdlog::logger> null_logger() {
  static const std::shared_ptr<spdlog::logger> instance = [] {
    auto logger =
        std::make_shared<spdlog::logger>("grove", std::make_shared<spdlog::sinks::null_sink_mt>());
    logger->set_level(spdlog::level::off);
    return logger;
  }();
  return instance;
}

result<std::shared_ptr<spdlog::logger>> make_logger(const logger_options& options) {
  if (auto valid = options.validate(); !valid) {
    return fail(std::move(valid).error());
  }

  log_level level = log_level::info;
  if (options.level) {
    level = *options.level;
  } else if (!options.level_env.empty()) {
    const char* from_env = std::getenv(options.level_env.c_str());
    if (from_env != nullptr && *from_env != '\0') {
      auto parsed = parse_log_level(from_env);
      if (!parsed) {
        return fail(errc::invalid_log_level, parsed.error().message,
                    options.level_env + "=" + from_env);
      }
      level = *parsed;
    }
  }

  std::shared_ptr<spdlog::sinks::sink> sink;
  switch (options.destination) {
    case log_destination::stderr_stream:
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
      break;
    case log_destination::file:
      try {
        sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file_path,
                                                                   options.truncate);
      } catch (const spdlog::spdlog_ex& e) {
        return fail(errc::log_file_open_failed,
                    std::string("cannot open the log file: ") + e.what(), options.file_path);
      }
      break;
    case log_destination::stream:
      sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*options.stream);
      break;
  }

  if (options.format == log_format::json_lines) {
    sink->set_formatter(std::make_unique<json_formatter>());
  } else {
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%e%z [%n] [%l] %v", spdlog::pattern_time_type::utc));
  }
  if (options.redact) {
    sink = std::make_shared<redacting_sink>(std::move(sink), options.redaction);
  }

  auto logger = std::make_shared<spdlog::logger>(options.name, std::move(sink));
  logger->set_level(to_spdlog(level));
  logger->flush_on(to_spdlog(options.flush_level));
  return logger;
}

std::shared_ptr<spdlog::sinks::sink> make_redacting_sink(std::shared_ptr<spdlog::sinks::sink> inner,
                                                         redaction_options options) {
  if (inner == nullptr) {
    throw std::invalid_argument("make_redacting_sink: the inner sink is null");
  }
  return std::make_shared<redacting_sink>(std::move(inner), std::move(options));
}

result<log_level> parse_log_level(std::string_view name) {
  const auto first = name.find_first_not_of(" \t\r\n");
  const auto last = name.find_last_not_of(" \t\r\n");
  const std::string_view trimmed =
      first == std::string_view::npos ? std::string_view{} : name.substr(first, last - first + 1);
  std::string lower(trimmed);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  static constexpr std::array<std::pair<std::string_view, log_level>, 8> names = {{
      {"trace", log_level::trace},
      {"debug", log_level::debug},
      {"info", log_level::info},
      {"warn", log_level::warn},
      {"warning", log_level::warn},
      {"error", log_level::error},
      {"critical", log_level::critical},
      {"off", log_level::off},
  }};
  for (const auto& [text, level] : names) {
    if (lower == text) {
      return level;
    }
  }
  return fail(errc::invalid_log_level,
              "unknown log level \"" + std::string(name) +
                  "\"; accepted: trace, debug, info, warn, error, critical, off",
              "log level");
}

std::string_view to_string(log_level level) noexcept { return level_name(to_spdlog(level)); }

}  // namespace grove::obs
