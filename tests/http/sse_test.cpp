#include "grove/http/sse.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "grove/http/error.hpp"

using namespace std::string_literals;

namespace {

using grove::http::sse_event;
using grove::http::sse_limits;
using grove::http::sse_parser;

std::string read(const std::string& relative) {
  std::ifstream in(std::filesystem::path(GROVE_TEST_DATA_DIR) / relative, std::ios::binary);
  REQUIRE(in);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Feeds `stream` in pieces of the given sizes (the rest in one piece), then
// finishes the stream; returns every event.
std::vector<sse_event> parse_pieces(std::string_view stream, const std::vector<std::size_t>& sizes,
                                    sse_parser& parser) {
  std::vector<sse_event> events;
  auto collect = [&](sse_event& e) { events.push_back(std::move(e)); };
  std::size_t at = 0;
  for (std::size_t size : sizes) {
    if (at >= stream.size()) {
      break;
    }
    REQUIRE(parser.feed(stream.substr(at, size), collect));
    at += size;
  }
  if (at < stream.size()) {
    REQUIRE(parser.feed(stream.substr(at), collect));
  }
  REQUIRE(parser.finish(collect));
  return events;
}

std::vector<sse_event> parse_whole(std::string_view stream) {
  sse_parser parser;
  return parse_pieces(stream, {}, parser);
}

std::vector<sse_event> parse_bytewise(std::string_view stream) {
  sse_parser parser;
  return parse_pieces(stream, std::vector<std::size_t>(stream.size(), 1), parser);
}

std::vector<sse_event> parse_random(std::string_view stream, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> size(0, 17);  // zero-length feeds too
  std::vector<std::size_t> sizes;
  for (std::size_t total = 0; total < stream.size();) {
    sizes.push_back(size(rng));
    total += sizes.back();
  }
  sse_parser parser;
  return parse_pieces(stream, sizes, parser);
}

const char* const recorded[] = {
    "llm-streams/openai/chat_text_stop.sse",       "llm-streams/openai/chat_tool_call.sse",
    "llm-streams/openai/chat_length_cutoff.sse",   "llm-streams/anthropic/basic_response.txt",
    "llm-streams/anthropic/tool_use_response.txt", "llm-streams/anthropic/refusal_response.txt",
};

}  // namespace

TEST_CASE("sse: recorded streams give the same events whole, byte by byte and split randomly",
          "[http]") {
  for (const char* file : recorded) {
    CAPTURE(file);
    std::string stream = read(file);
    std::vector<sse_event> whole = parse_whole(stream);
    REQUIRE_FALSE(whole.empty());
    CHECK(parse_bytewise(stream) == whole);
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      CAPTURE(seed);
      CHECK(parse_random(stream, seed) == whole);
    }
  }
}

TEST_CASE("sse: OpenAI stream has 34 data events ending with [DONE]", "[http]") {
  std::vector<sse_event> events = parse_whole(read("llm-streams/openai/chat_text_stop.sse"));
  REQUIRE(events.size() == 34);
  for (const sse_event& e : events) {
    CHECK(e.type == "message");
    CHECK(e.id.empty());
    CHECK_FALSE(e.retry.has_value());
  }
  CHECK(events.front().data.rfind(R"({"id":"chatcmpl-)", 0) == 0);
  CHECK(events.back().data == "[DONE]");
}

TEST_CASE("sse: Anthropic stream without a final newline keeps its last event at finish",
          "[http]") {
  std::string stream = read("llm-streams/anthropic/basic_response.txt");
  REQUIRE(stream.back() != '\n');

  sse_parser parser;
  std::vector<sse_event> events;
  auto collect = [&](sse_event& e) { events.push_back(e); };
  REQUIRE(parser.feed(stream, collect));
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().type != "message_stop");  // not yet: the last line is unterminated
  CHECK(parser.in_event());
  REQUIRE(parser.finish(collect));
  CHECK_FALSE(parser.in_event());

  std::vector<std::string> types;
  for (const sse_event& e : events) {
    types.push_back(e.type);
    // Each Anthropic event's JSON names its own type.
    bool named = e.data.find("\"type\":\"" + e.type + "\"") != std::string::npos ||
                 e.data.find("\"type\": \"" + e.type + "\"") != std::string::npos;
    CHECK(named);
  }
  CHECK(types.front() == "message_start");
  CHECK(types.back() == "message_stop");
  CHECK(std::count(types.begin(), types.end(), "ping") == 1);
}

TEST_CASE("sse: line endings CRLF, LF and lone CR are equivalent", "[http]") {
  std::vector<sse_event> lf = parse_whole("event: a\ndata: 1\ndata: 2\n\ndata: 3\n\n");
  REQUIRE(lf.size() == 2);
  CHECK(lf[0].type == "a");
  CHECK(lf[0].data == "1\n2");
  CHECK(lf[1].type == "message");
  CHECK(lf[1].data == "3");

  CHECK(parse_whole("event: a\r\ndata: 1\r\ndata: 2\r\n\r\ndata: 3\r\n\r\n") == lf);
  CHECK(parse_whole("event: a\rdata: 1\rdata: 2\r\rdata: 3\r\r") == lf);
  CHECK(parse_whole("event: a\r\ndata: 1\rdata: 2\n\r\ndata: 3\r\r") == lf);
  CHECK(parse_bytewise("event: a\r\ndata: 1\rdata: 2\n\r\ndata: 3\r\r") == lf);
}

TEST_CASE("sse: a CR at the end of one chunk and an LF at the start of the next are one break",
          "[http]") {
  sse_parser parser;
  std::vector<sse_event> events;
  auto collect = [&](sse_event& e) { events.push_back(e); };
  REQUIRE(parser.feed("data: a\r", collect));
  REQUIRE(parser.feed("\ndata: b\r", collect));
  REQUIRE(parser.feed("\n", collect));
  CHECK(events.empty());  // no blank line yet: CR LF was not read as two breaks
  REQUIRE(parser.feed("\r\n", collect));
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "a\nb");
}

TEST_CASE("sse: comments, unknown fields and field syntax", "[http]") {
  SECTION("comments and unknown fields are ignored") {
    auto events = parse_whole(": keep-alive\n:\nfoo: bar\ndata: x\n: inside\n\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == "x");
  }
  SECTION("only one space after the colon is removed") {
    auto events = parse_whole("data:x\n\ndata:  y\n\ndata: \n\n");
    REQUIRE(events.size() == 3);
    CHECK(events[0].data == "x");
    CHECK(events[1].data == " y");
    CHECK(events[2].data.empty());
  }
  SECTION("a line without a colon is a field with an empty value") {
    auto events = parse_whole("data\ndata\n\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == "\n");
  }
  SECTION("colons after the first belong to the value") {
    auto events = parse_whole("data: {\"a\": 1}\n\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == "{\"a\": 1}");
  }
  SECTION("an event without data is not dispatched and its type does not leak") {
    auto events = parse_whole("event: lonely\n\ndata: next\n\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].type == "message");
  }
  SECTION("field names are case-sensitive") {
    auto events = parse_whole("Data: x\nDATA: y\n\n");
    CHECK(events.empty());
  }
}

TEST_CASE("sse: id and retry persist across events, and invalid values are ignored", "[http]") {
  auto events = parse_whole(
      "id: 1\nretry: 1500\ndata: a\n\n"
      "data: b\n\n"
      "id: 2\nretry: soon\ndata: c\n\n"
      "id\ndata: d\n\n"
      "id: bad\0id\ndata: e\n\n"s);
  REQUIRE(events.size() == 5);
  CHECK(events[0].id == "1");
  CHECK(events[0].retry == std::chrono::milliseconds(1500));
  CHECK(events[1].id == "1");
  CHECK(events[1].retry == std::chrono::milliseconds(1500));
  CHECK(events[2].id == "2");
  CHECK(events[2].retry == std::chrono::milliseconds(1500));
  CHECK(events[3].id.empty());  // "id" with no value resets it
  CHECK(events[4].id.empty());  // a value with NUL is ignored
}

TEST_CASE("sse: a leading byte-order mark is dropped, even when split", "[http]") {
  std::string stream =
      "\xEF\xBB\xBF"
      "data: x\n\n";
  CHECK(parse_whole(stream) == parse_whole("data: x\n\n"));
  CHECK(parse_bytewise(stream) == parse_whole("data: x\n\n"));

  SECTION("only the first one") {
    auto events = parse_whole(
        "\xEF\xBB\xBF\xEF\xBB\xBF"
        "data: x\n\n");
    CHECK(events.empty());  // the second BOM starts an unknown field name
  }
  SECTION("bytes that only start like a BOM are content") {
    auto events = parse_bytewise(
        "\xEF\xBB"
        "data: x\n\n");
    CHECK(events.empty());  // the field name is "\xEF\xBBdata"
    auto tail = parse_bytewise("\xEF");
    CHECK(tail.empty());
  }
}

TEST_CASE("sse: finish dispatches an unterminated event and resets for a new stream", "[http]") {
  sse_parser parser;
  std::vector<sse_event> events;
  auto collect = [&](sse_event& e) { events.push_back(e); };

  SECTION("the last line has no line break") {
    REQUIRE(parser.feed("id: 7\ndata: tail", collect));
    CHECK(parser.in_event());
    REQUIRE(parser.finish(collect));
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == "tail");
    CHECK(events[0].id == "7");
  }
  SECTION("the last event has no blank line") {
    REQUIRE(parser.feed("data: tail\n", collect));
    REQUIRE(parser.finish(collect));
    REQUIRE(events.size() == 1);
  }
  SECTION("an empty or clean stream gives nothing more") {
    CHECK_FALSE(parser.in_event());
    REQUIRE(parser.finish(collect));
    REQUIRE(parser.feed("data: a\n\n", collect));
    CHECK_FALSE(parser.in_event());
    REQUIRE(parser.finish(collect));
    CHECK(events.size() == 1);
  }
  SECTION("the parser is reusable; the last id survives, like a reconnection") {
    REQUIRE(parser.feed("id: 9\ndata: a", collect));
    REQUIRE(parser.finish(collect));
    REQUIRE(
        parser.feed("\xEF\xBB\xBF"
                    "data: b\n\n",
                    collect));
    REQUIRE(events.size() == 2);
    CHECK(events[1].data == "b");
    CHECK(events[1].id == "9");
  }
}

TEST_CASE("sse: limits fail the parse with a protocol error that sticks until reset", "[http]") {
  sse_parser parser(sse_limits{.max_line_bytes = 16, .max_event_bytes = 20});
  std::vector<sse_event> events;
  auto collect = [&](sse_event& e) { events.push_back(e); };

  SECTION("a long line, even when split") {
    REQUIRE(parser.feed("data: 0123456", collect));
    auto failed = parser.feed("789abcdef", collect);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == grove::http::errc::protocol);
    CHECK(failed.error().message.find("16 bytes") != std::string::npos);
    CHECK_FALSE(parser.feed("\n\n", collect));
    CHECK_FALSE(parser.finish(collect));
    parser.reset();
    REQUIRE(parser.feed("data: ok\n\n", collect));
    CHECK(events.size() == 1);
  }
  SECTION("a large event made of short lines") {
    auto failed = parser.feed("data: 0123456789\ndata: 0123456789\n\n", collect);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == grove::http::errc::protocol);
    CHECK(events.empty());
  }
  SECTION("zero limits are rejected") {
    CHECK_FALSE(sse_limits{.max_line_bytes = 0, .max_event_bytes = 1}.validate());
    CHECK_THROWS_AS(sse_parser(sse_limits{.max_line_bytes = 1, .max_event_bytes = 0}),
                    std::invalid_argument);
  }
}
