// grove/http/sse.hpp: an incremental parser for server-sent events.
//
// Algorithm (the event-stream format of the WHATWG HTML standard, section
// "Server-sent events", https://html.spec.whatwg.org/multipage/server-sent-events.html):
//   - The stream is UTF-8 text; one leading byte-order mark (EF BB BF) is
//     dropped.
//   - Lines end with CRLF, LF or a lone CR. A CR at the end of one chunk and an
//     LF at the start of the next are one line break.
//   - A line starting with ':' is a comment and is ignored.
//   - Any other line is a field: the name runs up to the first ':', the value
//     is the rest with one leading space removed. A line without ':' is a
//     field with that name and an empty value.
//   - Fields: "data" appends the value and a '\n' to the data buffer; "event"
//     sets the event type; "id" sets the last event id (unless the value
//     contains NUL); "retry" sets the reconnection time when the value is all
//     ASCII digits. Other field names are ignored.
//   - An empty line dispatches the event: when the data buffer is not empty,
//     its final '\n' is removed and an event is emitted with the type
//     ("message" when no event field was seen), the data and the last event
//     id. The data buffer and the type are then reset; the last event id
//     persists across events, as the standard says.
//
// End of stream: the standard drops an event that is not followed by an empty
// line. grove keeps it: finish() treats the end of the stream as the end of
// the last line and of the last event, because real servers (and the recorded
// fixtures in tests/data/llm-streams) end without the final blank line. The
// caller can tell a clean end from a cut one with in_event() before calling
// finish(): a stream that stopped mid-event is usually a broken connection.
//
// Chunking never changes the result: feeding a stream whole or split at any
// byte boundaries gives the same events (the tests and the fuzz target check
// this).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "grove/runtime/result.hpp"

namespace grove::http {

/// One dispatched event.
struct sse_event {
  /// The event type: the last "event:" value, or "message" when none was given.
  std::string type = "message";
  /// The data lines joined with '\n' (no trailing newline).
  std::string data;
  /// The last event id seen so far in the stream (empty when none).
  std::string id;
  /// The last valid "retry:" value seen so far in the stream, if any.
  std::optional<std::chrono::milliseconds> retry;

  friend bool operator==(const sse_event&, const sse_event&) = default;
};

/// Limits that keep a hostile or broken stream from growing memory without
/// bound. Exceeding one fails the parse with errc::protocol.
struct sse_limits {
  /// Longest accepted line in bytes (without its line break). Range: > 0.
  /// Default 4 MiB.
  std::size_t max_line_bytes = std::size_t{4} << 20;
  /// Largest accepted data buffer of one event in bytes. Range: > 0.
  /// Default 16 MiB.
  std::size_t max_event_bytes = std::size_t{16} << 20;

  /// Checks both fields (errc::invalid_request lists every bad one).
  result<void> validate() const;
};

/// Called once per dispatched event. The event may be moved from.
using sse_handler = std::function<void(sse_event& event)>;

/// Incremental SSE parser: feed it bytes as they arrive, in any split.
///
/// Ownership: owns a buffer of at most one partial line and one partial event.
/// Thread safety: none; use one parser per stream.
class sse_parser {
 public:
  /// Requires: limits.validate() succeeds (throws std::invalid_argument
  /// otherwise).
  explicit sse_parser(sse_limits limits = {});

  /// Parses `bytes` and calls `on_event` for each event they complete, in
  /// stream order. Bytes of an unfinished line or event are kept for the next
  /// call.
  ///
  /// Errors: errc::protocol when a line or an event exceeds the limits. After
  /// an error the parser stays failed and every later call returns the same
  /// error; reset() clears it.
  result<void> feed(std::string_view bytes, const sse_handler& on_event);

  /// Ends the stream: an unterminated last line counts as complete and a
  /// pending event is dispatched (see the header comment). The parser is then
  /// reset, ready for a new stream (the last event id is kept, as for a
  /// reconnection). Errors: as feed().
  result<void> finish(const sse_handler& on_event);

  /// Whether bytes of an unfinished line or event are buffered: true means
  /// the stream so far does not end on an event boundary.
  bool in_event() const noexcept;

  /// The last event id seen (empty when none).
  const std::string& last_event_id() const noexcept { return last_id_; }

  /// The last valid retry value seen, if any.
  std::optional<std::chrono::milliseconds> retry() const noexcept { return retry_; }

  /// Forgets everything, including the last event id and a failure.
  void reset();

 private:
  result<void> process_line(std::string_view line, const sse_handler& on_event);
  void dispatch(const sse_handler& on_event);
  result<void> fail_with(std::string message);

  sse_limits limits_;
  std::string line_;     // bytes of the current, unfinished line
  std::string data_;     // data buffer of the current event
  std::string type_;     // event type of the current event
  std::string last_id_;  // last event id (persists across events)
  std::optional<std::chrono::milliseconds> retry_;
  std::size_t bom_bytes_seen_ = 0;  // leading bytes matched against the BOM
  bool at_stream_start_ = true;     // no byte seen yet besides BOM bytes
  bool skip_lf_ = false;            // last byte was CR: a following LF is the same break
  bool has_fields_ = false;         // a field line was seen since the last dispatch
  std::optional<std::string> failure_;
};

}  // namespace grove::http
