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
//   4. an event's type is never empty, and ids contain no CR, LF or NUL.
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
