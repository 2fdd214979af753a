// tests/support/fake_http_server.hpp: an in-process HTTP/1.1 server with
// scripted responses and faults, for tests of anything that speaks HTTP.
//
// The server listens on 127.0.0.1 on a port the kernel picks, runs its own
// io_context on its own thread, and answers each request with the next entry
// of a script (a FIFO of fake_response values), or with a handler function,
// or with a default response. Every request it receives is recorded (method,
// target, headers, body, connection) for assertions.
//
// A fake_response is a normal HTTP response plus optional faults: a stall
// before the headers, a stall in the middle of the body, a connection reset
// or a clean close part-way through the body (a truncated response), a
// connection dropped before any response, and a body sent in pieces at chosen
// split points with delays (chunked or Content-Length framing). The helpers in
// namespace grove::test::responses build the common cases: JSON, 429 with
// retry-after / retry-after-ms, 5xx, server-sent events from a file with
// arbitrary splits, large bodies.
//
// Example:
//   grove::test::fake_http_server server;
//   server.enqueue(grove::test::responses::rate_limited(/*retry_after_s=*/2));
//   server.enqueue(grove::test::responses::json(200, R"({"ok":true})"));
//   ... point the client at server.base_url() + "/v1/chat/completions" ...
//   REQUIRE(server.requests().size() == 2);
//   CHECK(server.requests()[1].headers.get("content-type") == "application/json");
//
// Thread safety: every public method may be called from any thread while the
// server runs. Handlers run on the server's thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grove/http/message.hpp"

namespace grove::test {

/// One request as the server received it.
struct recorded_request {
  std::string method;               ///< for example "POST"
  std::string target;               ///< path and query, for example "/v1/models?x=1"
  http::header_map headers;         ///< as received, in order
  std::string body;                 ///< decoded from Content-Length or chunked framing
  std::uint64_t connection_id = 0;  ///< 1 for the first accepted connection, 2 next...
  std::uint64_t sequence = 0;       ///< 0 for the first request received, 1 next...
};

/// How the server answers one request: a response plus optional faults.
/// Faults apply in this order: drop_before_headers, stall_before_headers,
/// headers, body pieces (with stall_at_byte, reset_at_byte, close_at_byte).
struct fake_response {
  int status = 200;
  /// Reason phrase; empty uses the standard one ("OK", "Too Many Requests"...).
  std::string reason;
  /// Header fields to send. Content-Length or Transfer-Encoding is added by
  /// the server (unless you set one yourself, which then wins).
  http::header_map headers;
  std::string body;

  // --- Framing ---

  /// Send the body with Transfer-Encoding: chunked, one chunk per piece.
  /// Otherwise Content-Length framing, one socket write per piece.
  bool chunked = false;
  /// Byte offsets into `body` where it is cut into pieces (sorted or not,
  /// duplicates and offsets >= body.size() ignored). Empty: one piece.
  std::vector<std::size_t> split_points;
  /// Pause before each piece after the first.
  std::chrono::milliseconds delay_between_pieces{0};

  // --- Faults ---

  /// Close the connection with a reset (RST) as soon as the request is read,
  /// sending nothing.
  bool drop_before_headers = false;
  /// Wait this long before sending anything (a stall before the headers).
  std::chrono::milliseconds stall_before_headers{0};
  /// After this many body bytes were sent, wait `stall_for` (a stall
  /// mid-stream); then continue.
  std::optional<std::size_t> stall_at_byte;
  std::chrono::milliseconds stall_for{0};
  /// After this many body bytes were sent, reset the connection (RST).
  std::optional<std::size_t> reset_at_byte;
  /// After this many body bytes were sent, close the connection cleanly (FIN)
  /// although the framing promised more: a truncated body.
  std::optional<std::size_t> close_at_byte;
  /// Send Connection: close and close the connection after this response.
  bool close_connection = false;
};

/// Builders for common responses.
namespace responses {

/// `status` with `body` and the given content type.
fake_response text(int status, std::string body, std::string content_type = "text/plain");

/// `status` with a JSON body (content-type: application/json).
fake_response json(int status, std::string body);

/// 429 Too Many Requests with optional retry-after (seconds) and
/// retry-after-ms headers and a JSON error body.
fake_response rate_limited(std::optional<int> retry_after_s = std::nullopt,
                           std::optional<int> retry_after_ms = std::nullopt,
                           std::string body = R"({"error":{"type":"rate_limit_error"}})");

/// A 5xx (500, 502, 503, 529...) with a JSON error body.
fake_response server_error(int status, std::string body = R"({"error":{"type":"server_error"}})");

/// A text/event-stream response, chunked, with the body cut at `split_points`
/// and `delay` between pieces.
fake_response sse(std::string stream, std::vector<std::size_t> split_points = {},
                  std::chrono::milliseconds delay = std::chrono::milliseconds{0});

/// Like sse(), cut into pieces of 1..max_piece bytes chosen by a generator
/// seeded with `seed` (the same seed gives the same cuts).
fake_response sse_random_splits(std::string stream, std::uint64_t seed, std::size_t max_piece,
                                std::chrono::milliseconds delay = std::chrono::milliseconds{0});

/// A 200 with `bytes` bytes of a repeating printable pattern.
fake_response large_body(std::size_t bytes, std::string content_type = "application/octet-stream");

}  // namespace responses

/// The whole content of a file (for SSE fixtures). Throws std::runtime_error
/// when it cannot be read.
std::string read_file(const std::filesystem::path& path);

/// The server. Listens on construction, stops on destruction.
class fake_http_server {
 public:
  /// Builds a response for a request; runs on the server's thread.
  using handler = std::function<fake_response(const recorded_request&)>;

  /// Binds 127.0.0.1:0 and starts serving on a new thread.
  /// Throws std::system_error when it cannot bind.
  fake_http_server();
  ~fake_http_server();
  fake_http_server(const fake_http_server&) = delete;
  fake_http_server& operator=(const fake_http_server&) = delete;

  /// The port the kernel assigned.
  unsigned short port() const noexcept;

  /// "http://127.0.0.1:<port>", with no trailing slash.
  std::string base_url() const;

  /// Appends to the script: the next request without an earlier script entry
  /// gets this response.
  void enqueue(fake_response response);

  /// Used for requests when the script is empty (and no handler is set).
  /// Default: 500 with body "no scripted response".
  void set_default(fake_response response);

  /// Used for requests when the script is empty, before the default.
  /// Pass an empty function to remove it.
  void set_handler(handler h);

  /// Copies of every request received so far, in arrival order.
  std::vector<recorded_request> requests() const;

  /// How many requests were received so far.
  std::size_t request_count() const;

  /// How many connections were accepted so far (to check connection reuse).
  std::uint64_t connections_accepted() const;

  /// How many connections are open now.
  std::size_t open_connections() const;

  /// How many script entries are left.
  std::size_t script_left() const;

  /// Blocks until at least `count` requests were received or `timeout`
  /// passed; returns whether the count was reached.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const;

  /// Closes the listener and every connection (interrupting stalls) and joins
  /// the thread. Idempotent; the destructor calls it.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace grove::test
