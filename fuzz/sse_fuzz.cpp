// Fuzz target for grove::http::sse_parser.
//
// Input layout: the first byte picks the limits (small ones so the limit paths
// are reached), the second seeds the split points; the rest is the stream.
// Invariants checked on every input:
//   1. feeding the stream whole and feeding it in pieces (sizes derived from
//      the seed, zero-length pieces included) give the same events, the same
//      failure state, and the same last id and retry, even when a limit
//      fails the parse part-way;
//   2. after a failure every later call fails too;
//   3. every event's data stays within max_event_bytes and contains no CR;
//   4. an event's type is never empty, and ids contain no CR, LF or NUL;
//   5. without a limit failure, the events equal those of a naive reference
//      parser that splits the whole stream into lines first.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "grove/http/sse.hpp"

namespace {

using grove::http::sse_event;
using grove::http::sse_limits;
using grove::http::sse_parser;

struct outcome {
  std::vector<sse_event> events;
  bool failed = false;
  std::string last_id;
  std::optional<std::chrono::milliseconds> retry;
};

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

// A second, deliberately naive implementation of the same rules: split the
// whole stream into lines first, then apply the field rules line by line.
std::vector<sse_event> reference(std::string_view stream) {
  if (stream.substr(0, 3) == "\xEF\xBB\xBF") {
    stream.remove_prefix(3);
  }
  std::vector<std::string> lines;
  std::string line;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    char c = stream[i];
    if (c == '\r' || c == '\n') {
      lines.push_back(line);
      line.clear();
      if (c == '\r' && i + 1 < stream.size() && stream[i + 1] == '\n') {
        ++i;
      }
    } else {
      line.push_back(c);
    }
  }
  if (!line.empty()) {
    lines.push_back(line);
  }
  lines.emplace_back();  // the end of the stream ends the last event

  std::vector<sse_event> events;
  std::string data;
  std::string type;
  std::string id;
  std::optional<std::chrono::milliseconds> retry;
  for (const std::string& l : lines) {
    if (l.empty()) {
      if (!data.empty()) {
        sse_event e;
        e.data = data.substr(0, data.size() - 1);
        if (!type.empty()) {
          e.type = type;
        }
        e.id = id;
        e.retry = retry;
        events.push_back(e);
      }
      data.clear();
      type.clear();
      continue;
    }
    if (l[0] == ':') {
      continue;
    }
    std::size_t colon = l.find(':');
    std::string name = l.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : l.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') {
      value.erase(0, 1);
    }
    if (name == "data") {
      data += value + "\n";
    } else if (name == "event") {
      type = value;
    } else if (name == "id" && value.find('\0') == std::string::npos) {
      id = value;
    } else if (name == "retry" && !value.empty() && value.size() <= 18 &&
               value.find_first_not_of("0123456789") == std::string::npos) {
      retry = std::chrono::milliseconds(std::stoll(value));
    }
  }
  return events;
}

outcome parse(std::string_view stream, const sse_limits& limits,
              const std::vector<std::size_t>& pieces) {
  sse_parser parser(limits);
  outcome out;
  auto collect = [&](sse_event& e) { out.events.push_back(e); };
  std::size_t at = 0;
  for (std::size_t size : pieces) {
    if (at > stream.size()) {
      break;
    }
    std::size_t take = std::min(size, stream.size() - at);
    if (!parser.feed(stream.substr(at, take), collect)) {
      out.failed = true;
      // A failed parser stays failed.
      check(!parser.feed("data: x\n\n", collect));
      check(!parser.finish(collect));
      break;
    }
    at += take;
  }
  if (!out.failed) {
    if (at < stream.size() && !parser.feed(stream.substr(at), collect)) {
      out.failed = true;
    } else if (!parser.finish(collect)) {
      out.failed = true;
    }
  }
  out.last_id = parser.last_event_id();
  out.retry = parser.retry();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  sse_limits limits;
  if ((data[0] & 1) != 0) {
    limits.max_line_bytes = 1 + (data[0] >> 1) % 64;
    limits.max_event_bytes = 1 + (data[0] >> 3) % 128;
  }
  std::uint32_t seed = data[1] * 2654435761u + 1;
  std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  std::vector<std::size_t> pieces;
  for (std::size_t total = 0; total < stream.size();) {
    seed = seed * 1664525u + 1013904223u;
    std::size_t piece = (seed >> 24) % 9;  // 0..8 bytes, zero-length feeds included
    pieces.push_back(piece);
    total += piece;
  }

  outcome whole = parse(stream, limits, {});
  outcome split = parse(stream, limits, pieces);

  // Splitting changes nothing: not the events, not whether (and after which
  // events) a limit failed the parse.
  check(whole.failed == split.failed);
  check(whole.events == split.events);
  check(whole.last_id == split.last_id);
  check(whole.retry == split.retry);
  // Without a limit failure, the incremental parser agrees with the naive one.
  if (!whole.failed) {
    check(whole.events == reference(stream));
  }
  for (const outcome* o : {&whole, &split}) {
    for (const sse_event& e : o->events) {
      check(e.data.size() < limits.max_event_bytes);
      check(e.data.find('\r') == std::string::npos);
      check(!e.type.empty());
      check(e.type.find_first_of(std::string_view("\r\n", 2)) == std::string::npos);
      check(e.id.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
    }
  }
  return 0;
}
