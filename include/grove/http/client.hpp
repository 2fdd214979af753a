// grove/http/client.hpp: the asynchronous HTTP client interface and its
// libcurl implementation.
//
// http::client is what every remote adapter (LLM providers, embeddings, vector
// and object stores) talks to. make_curl_client() returns the production
// implementation: one libcurl multi handle driven by the Asio event loop
// (curl_multi_socket_action with socket and timer callbacks), so thousands of
// transfers can be in flight on one thread, with no thread per request.
// Connections are reused across requests (keep-alive) and HTTP/2 is used when
// a TLS server offers it.
//
// Example:
//   auto http = grove::http::make_curl_client(io.get_executor());
//   grove::http::request req{.method = "POST", .url = base + "/v1/chat/completions"};
//   req.headers.add("content-type", "application/json");
//   req.body = payload;
//   grove::result<grove::http::response> res = co_await http->async_request(std::move(req));
//   if (!res) { /* res.error().code is a grove::http::errc */ }
//   else if (res->status == 200) { use(res->body); }
//   co_await http->async_close();
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "grove/http/error.hpp"
#include "grove/http/message.hpp"
#include "grove/runtime/result.hpp"

namespace spdlog {
class logger;
}

namespace grove::http {

/// Counters of a client since it was created. Read them with client::stats().
struct client_stats {
  std::uint64_t requests_started = 0;    ///< async_request calls that began a transfer
  std::uint64_t requests_succeeded = 0;  ///< transfers that produced a response
  std::uint64_t requests_failed = 0;     ///< transfers that ended with an error
  std::uint64_t requests_cancelled = 0;  ///< of the failed: cancelled by the caller
  std::uint64_t connections_opened = 0;  ///< sockets opened (reuse keeps this low)
  std::size_t in_flight = 0;             ///< transfers currently running
  std::size_t queued = 0;                ///< transfers waiting for a slot (see client_options)
};

/// An asynchronous HTTP client.
///
/// Ownership: make_* functions return a shared_ptr; the client keeps its
/// transfers, sockets and timers. Requests in flight when the last reference
/// is dropped complete with errc::closed.
/// Thread safety: the methods may be called from any thread; the
/// implementation serialises its work on its own strand of the executor it was
/// made with. Completion handlers (the awaiting coroutines) resume on their
/// own executor.
class client {
 public:
  virtual ~client() = default;

  /// Sends `req` and waits for the whole response (or, with req.on_body, for
  /// the end of the streamed body).
  ///
  /// Returns the response for any HTTP status, or an error whose code is a
  /// grove::http::errc: timeout, connect_timeout, connect_failed,
  /// resolve_failed, connection_reset, truncated (the body ended early; a
  /// streamed body that stops early is never reported as complete),
  /// too_large, tls, invalid_url, invalid_request, protocol,
  /// too_many_redirects, aborted_by_callback, cancelled, closed or other.
  ///
  /// Cancellation: the awaiting coroutine's cancellation slot is honoured for
  /// every cancellation type. A signal aborts the transfer at once: the
  /// connection is dropped (never returned to the pool half-read), the curl
  /// handle is freed, and the operation completes with errc::cancelled.
  virtual boost::asio::awaitable<result<response>> async_request(request req) = 0;

  /// Stops the client: every pending request completes with errc::closed,
  /// pooled connections are closed, and later requests fail with
  /// errc::closed. Idempotent.
  virtual boost::asio::awaitable<void> async_close() = 0;

  /// A snapshot of the counters. Safe to call from any thread.
  virtual client_stats stats() const = 0;
};

/// Options of make_curl_client(). Every field has a usable default.
struct client_options {
  // --- Connections ---

  /// Most connections open at once to one host (CURLMOPT_MAX_HOST_CONNECTIONS).
  /// Requests beyond it wait in a queue. 0 means no limit. Default 16.
  std::size_t max_connections_per_host = 16;

  /// Most connections open at once in total (CURLMOPT_MAX_TOTAL_CONNECTIONS).
  /// It also caps the transfers that cannot multiplex (all but HTTP/2 over
  /// TLS) running at once: further requests wait in the client's own queue,
  /// oldest first, and their total timeout runs while they wait (a request
  /// whose timeout passes in the queue fails with errc::timeout).
  /// 0 means no limit and no queue. Default 256.
  std::size_t max_total_connections = 256;

  /// Idle connections kept for reuse (CURLMOPT_MAXCONNECTS). 0 lets libcurl
  /// choose (4 per handle). Default 64.
  std::size_t max_idle_connections = 64;

  /// Use HTTP/2 when a TLS server offers it through ALPN; plain http:// stays
  /// on HTTP/1.1. Several requests to one host then share a connection.
  /// Default true.
  bool http2 = true;

  // --- Limits and timeouts (per-request fields override these) ---

  /// Maximum time to connect (TCP and TLS). Range: > 0. Default 10 s.
  std::chrono::milliseconds connect_timeout{10'000};

  /// Maximum time for a whole transfer. 0 means no limit. Default 300 s.
  std::chrono::milliseconds timeout{300'000};

  /// Maximum time without receiving any byte while a transfer runs (a stall
  /// before the headers or mid-stream). 0 means no limit. Default 0.
  std::chrono::milliseconds idle_timeout{0};

  /// Largest accepted response body in bytes. Range: > 0. Default 64 MiB.
  std::size_t max_response_bytes = std::size_t{64} << 20;

  // --- Behaviour ---

  /// Follow 3xx redirects. Default false: a redirect is returned as a response.
  bool follow_redirects = false;

  /// Most redirects followed when follow_redirects is true. Range: 0-50.
  /// Default 5.
  int max_redirects = 5;

  /// Verify the server's TLS certificate and host name. Default true; turn
  /// off only for tests against self-signed loopback servers.
  bool verify_tls = true;

  /// PEM file of trusted CA certificates. Empty: libcurl's built-in default.
  std::string ca_file;

  /// Directory of trusted CA certificates (c_rehash layout). Empty: default.
  std::string ca_path;

  /// User-Agent header sent when a request has none. Empty sends none.
  std::string user_agent = "grove-http/0.1";

  /// Accept gzip/deflate/br/zstd encodings and decode them transparently.
  /// Default true.
  bool accept_compressed = true;

  /// Where the client logs failures (warn) and transfers (debug). Null: no
  /// logging.
  std::shared_ptr<spdlog::logger> logger;

  /// Checks every field; the error (errc::invalid_request) lists every bad
  /// field at once.
  result<void> validate() const;
};

/// Makes the libcurl client. The client runs its work on a strand of
/// `executor`, which must outlive it (for an io_context: keep the context
/// alive and running while the client is used and until async_close()
/// completes).
///
/// Errors: throws std::invalid_argument when options.validate() fails and
/// std::runtime_error when libcurl cannot be initialised.
std::shared_ptr<client> make_curl_client(boost::asio::any_io_executor executor,
                                         client_options options);

/// make_curl_client() with default options.
///
/// Note: an overload, not a `= {}` default argument, on purpose: g++ 12
/// copies a brace-initialised temporary bitwise when it appears in the same
/// full expression as a co_await, which corrupts its std::string members.
std::shared_ptr<client> make_curl_client(boost::asio::any_io_executor executor);

}  // namespace grove::http
