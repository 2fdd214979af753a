// Tests for grove/obs/log.hpp: the null logger, the factory (text and JSON
// lines, stream and file destinations, level resolution) and redaction before
// any sink.
#include "grove/obs/log.hpp"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "grove/obs/errc.hpp"

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// A fresh folder under the system temp folder, removed at the end of scope.
struct temp_folder {
  std::filesystem::path path;
  temp_folder() {
    path = std::filesystem::temp_directory_path() /
           ("grove_obs_log_test_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~temp_folder() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

TEST_CASE("log: null_logger is one shared logger that discards everything", "[obs]") {
  auto first = grove::obs::null_logger();
  auto second = grove::obs::null_logger();
  REQUIRE(first != nullptr);
  CHECK(first == second);
  CHECK(first->name() == "grove");
  CHECK(first->level() == spdlog::level::off);
  CHECK_FALSE(first->should_log(spdlog::level::critical));
  first->critical("this goes nowhere {}", 1);
}

TEST_CASE("log: text logger writes redacted lines to a stream", "[obs]") {
  std::ostringstream out;
  auto log = grove::obs::make_logger({.name = "grove.test",
                                      .level = grove::obs::log_level::debug,
                                      .destination = grove::obs::log_destination::stream,
                                      .stream = &out});
  REQUIRE(log);
  (*log)->debug("calling {} with key {}", "openai", "sk-abcdefghijklmnopqrstuvwxyz0123");
  (*log)->trace("below the level");
  (*log)->flush();
  const auto lines = split_lines(out.str());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("[grove.test] [debug] calling openai with key [REDACTED]") !=
        std::string::npos);
  CHECK(lines[0].find("abcdefghij") == std::string::npos);
}

TEST_CASE("log: redaction can be switched off", "[obs]") {
  std::ostringstream out;
  auto log = grove::obs::make_logger({.level = grove::obs::log_level::info,
                                      .destination = grove::obs::log_destination::stream,
                                      .stream = &out,
                                      .redact = false});
  REQUIRE(log);
  (*log)->info("password=plain");
  (*log)->flush();
  CHECK(out.str().find("password=plain") != std::string::npos);
}

TEST_CASE("log: JSON lines parse, escape and redact", "[obs]") {
  std::ostringstream out;
  auto log = grove::obs::make_logger({.name = "grove \"q\"",
                                      .level = grove::obs::log_level::trace,
                                      .format = grove::obs::log_format::json_lines,
                                      .destination = grove::obs::log_destination::stream,
                                      .stream = &out});
  REQUIRE(log);

  // Each message and what the parsed "message" member must be.
  const std::vector<std::pair<std::string, std::string>> messages = {
      {"plain text", "plain text"},
      {R"(quotes " and backslash \ inside)", R"(quotes " and backslash \ inside)"},
      {"two\nlines\r\nand a\ttab", "two\nlines\r\nand a\ttab"},
      {std::string("control \x01\x02\x1f\x7f bytes and NUL \0 end", 33),
       std::string("control \x01\x02\x1f\x7f bytes and NUL \0 end", 33)},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\xb3", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\xb3"},
      {"bad utf-8 \xff\xfe and \xc3 cut",
       "bad utf-8 \xef\xbf\xbd\xef\xbf\xbd and \xef\xbf\xbd cut"},
      {"surrogate \xed\xa0\x80 overlong \xc0\xaf",
       "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
       "overlong \xef\xbf\xbd\xef\xbf\xbd"},
      {R"(body {"password": "hunter2", "n": 1})", R"(body {"password": "[REDACTED]", "n": 1})"},
      {"Authorization: Bearer abcdef0123456789\nnext", "Authorization: Bearer [REDACTED]\nnext"},
  };
  for (const auto& [message, expected] : messages) {
    (*log)->info("{}", message);
  }
  (*log)->warn("with source");
  (*log)->flush();

  const auto lines = split_lines(out.str());
  REQUIRE(lines.size() == messages.size() + 1);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    INFO("line " << i << ": " << lines[i]);
    nlohmann::json record;
    REQUIRE_NOTHROW(record = nlohmann::json::parse(lines[i]));
    CHECK(record.at("message").get<std::string>() == messages[i].second);
    CHECK(record.at("level") == "info");
    CHECK(record.at("logger") == "grove \"q\"");
    CHECK(record.at("thread").is_number_unsigned());
    const std::string time = record.at("time").get<std::string>();
    CHECK(time.size() == 27);  // 2026-12-04T16:30:00.123456Z
    CHECK(time[10] == 'T');
    CHECK(time.back() == 'Z');
  }
  CHECK(nlohmann::json::parse(lines.back()).at("level") == "warn");
  CHECK(out.str().find("hunter2") == std::string::npos);
}

TEST_CASE("log: append_json_escaped escapes every control byte", "[obs]") {
  for (int byte = 0; byte < 0x20; ++byte) {
    std::string escaped;
    grove::obs::append_json_escaped(std::string(1, static_cast<char>(byte)), escaped);
    INFO(byte);
    const auto parsed = nlohmann::json::parse("\"" + escaped + "\"");
    CHECK(parsed.get<std::string>() == std::string(1, static_cast<char>(byte)));
  }
}

TEST_CASE("log: JSON lines stay whole when two threads log at once", "[obs]") {
  // Property: records from concurrent threads are never interleaved within a
  // line and each thread's records all arrive. Evidence: every line parses
  // and the per-thread counts are exact.
  std::ostringstream out;
  auto log = grove::obs::make_logger({.level = grove::obs::log_level::info,
                                      .format = grove::obs::log_format::json_lines,
                                      .destination = grove::obs::log_destination::stream,
                                      .stream = &out});
  REQUIRE(log);
  constexpr int per_thread = 2000;
  auto work = [&](int id) {
    for (int i = 0; i < per_thread; ++i) {
      (*log)->info("thread {} record {} token=t{}", id, i, i);
    }
  };
  std::thread first(work, 0);
  std::thread second(work, 1);
  first.join();
  second.join();
  (*log)->flush();

  const auto lines = split_lines(out.str());
  REQUIRE(lines.size() == 2 * per_thread);
  int counts[2] = {0, 0};
  for (const std::string& line : lines) {
    const auto message = nlohmann::json::parse(line).at("message").get<std::string>();
    REQUIRE(message.find("token=[REDACTED]") != std::string::npos);
    ++counts[message.starts_with("thread 0") ? 0 : 1];
  }
  CHECK(counts[0] == per_thread);
  CHECK(counts[1] == per_thread);
}

TEST_CASE("log: file destination appends or truncates", "[obs]") {
  temp_folder folder;
  const auto path = folder.path / "sub" / "grove.log";
  grove::obs::logger_options options{.level = grove::obs::log_level::info,
                                     .format = grove::obs::log_format::json_lines,
                                     .destination = grove::obs::log_destination::file,
                                     .file_path = path.string()};
  for (int run = 0; run < 2; ++run) {
    auto log = grove::obs::make_logger(options);
    REQUIRE(log);
    (*log)->info("run {} secret=abc", run);
  }
  auto read = [&] {
    std::ifstream in(path);
    return split_lines(std::string(std::istreambuf_iterator<char>(in), {}));
  };
  auto lines = read();
  REQUIRE(lines.size() == 2);
  CHECK(nlohmann::json::parse(lines[1]).at("message") == "run 1 secret=[REDACTED]");

  options.truncate = true;
  {
    auto log = grove::obs::make_logger(options);
    REQUIRE(log);
    (*log)->info("fresh");
  }
  lines = read();
  REQUIRE(lines.size() == 1);
  CHECK(nlohmann::json::parse(lines[0]).at("message") == "fresh");
}

TEST_CASE("log: a file that cannot be opened is a clear error", "[obs]") {
  temp_folder folder;
  const auto blocker = folder.path / "not_a_folder";
  std::ofstream(blocker) << "x";
  const auto log = grove::obs::make_logger({.destination = grove::obs::log_destination::file,
                                            .file_path = (blocker / "grove.log").string()});
  REQUIRE_FALSE(log);
  CHECK(log.error().code == grove::obs::errc::log_file_open_failed);
  CHECK(log.error().context == (blocker / "grove.log").string());
}

TEST_CASE("log: level comes from the options, then the environment, then info", "[obs]") {
  const char* variable = "GROVE_OBS_TEST_LOG_LEVEL";
  std::ostringstream out;
  grove::obs::logger_options options{
      .level_env = variable, .destination = grove::obs::log_destination::stream, .stream = &out};
  ::unsetenv(variable);
  SECTION("default is info") {
    auto log = grove::obs::make_logger(options);
    REQUIRE(log);
    CHECK((*log)->level() == spdlog::level::info);
  }
  SECTION("environment") {
    ::setenv(variable, " Debug ", 1);
    auto log = grove::obs::make_logger(options);
    REQUIRE(log);
    CHECK((*log)->level() == spdlog::level::debug);
  }
  SECTION("options win over the environment") {
    ::setenv(variable, "debug", 1);
    options.level = grove::obs::log_level::error;
    auto log = grove::obs::make_logger(options);
    REQUIRE(log);
    CHECK((*log)->level() == spdlog::level::err);
  }
  SECTION("a bad environment value is an error naming the variable") {
    ::setenv(variable, "loud", 1);
    auto log = grove::obs::make_logger(options);
    REQUIRE_FALSE(log);
    CHECK(log.error().code == grove::obs::errc::invalid_log_level);
    CHECK(log.error().context == "GROVE_OBS_TEST_LOG_LEVEL=loud");
  }
  ::unsetenv(variable);
}

TEST_CASE("log: parse_log_level and to_string", "[obs]") {
  using grove::obs::log_level;
  CHECK(*grove::obs::parse_log_level("TRACE") == log_level::trace);
  CHECK(*grove::obs::parse_log_level("warning") == log_level::warn);
  CHECK(*grove::obs::parse_log_level(" off\n") == log_level::off);
  CHECK_FALSE(grove::obs::parse_log_level(""));
  CHECK_FALSE(grove::obs::parse_log_level("verbose"));
  CHECK(grove::obs::to_string(log_level::warn) == "warn");
  CHECK(grove::obs::to_string(log_level::error) == "error");
}

TEST_CASE("log: invalid options are reported all at once", "[obs]") {
  grove::obs::logger_options options{
      .name = "", .destination = grove::obs::log_destination::file, .redaction = {.mask = ""}};
  const auto log = grove::obs::make_logger(options);
  REQUIRE_FALSE(log);
  CHECK(log.error().code == grove::obs::errc::invalid_options);
  CHECK(log.error().message.find("name") != std::string::npos);
  CHECK(log.error().message.find("file_path") != std::string::npos);
  CHECK(log.error().message.find("mask") != std::string::npos);

  options = {.destination = grove::obs::log_destination::stream};
  CHECK(grove::obs::make_logger(options).error().message.find("stream") != std::string::npos);
}

TEST_CASE("log: make_redacting_sink adds redaction to an application's sink", "[obs]") {
  std::ostringstream out;
  auto inner = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto sink = grove::obs::make_redacting_sink(inner, {.mask = "<hidden>"});
  sink->set_pattern("%v");
  spdlog::logger log("app", sink);
  log.info("x-api-key: abc123 and password=pw");
  inner->set_level(spdlog::level::err);
  log.info("filtered by the inner sink's level");
  log.flush();
  CHECK(out.str() == "x-api-key: <hidden> and password=<hidden>\n");
  CHECK_THROWS_AS(grove::obs::make_redacting_sink(nullptr), std::invalid_argument);
}
