// grove/http/error.hpp: the error codes of grove's HTTP layer.
//
// Every failure of an HTTP transfer reaches the caller as a grove::error whose
// code is a grove::http::errc (category "grove.http"). The code says what kind
// of failure it was, so retry and circuit-breaker policies can decide without
// parsing text; the error's message carries the details (libcurl's own text,
// the URL, the limit that was hit).
//
// An HTTP status is not an error here: a 404 or a 503 is a successful transfer
// that returned a response. Status classification belongs to the layers above
// (for example the LLM clients).
#pragma once

#include <string_view>
#include <system_error>

namespace grove::http {

/// Why an HTTP transfer or an SSE parse failed. Values are stable.
enum class errc {
  /// The whole transfer took longer than its total timeout, or no body bytes
  /// arrived for longer than its idle timeout. Retryable.
  timeout = 1,
  /// No connection could be established within the connect timeout. Retryable.
  connect_timeout,
  /// The host was reached but refused or dropped the connection attempt
  /// (ECONNREFUSED, unreachable network). Retryable.
  connect_failed,
  /// The host name could not be resolved.
  resolve_failed,
  /// The connection broke after it was established: a reset while sending or
  /// receiving, or a close before any response arrived. Retryable.
  connection_reset,
  /// The connection closed before the whole body arrived (fewer bytes than
  /// Content-Length, or a chunked body without its final chunk). The response
  /// is incomplete and must not be used as if it were whole. Retryable.
  truncated,
  /// The response body is larger than the allowed maximum. Not retryable.
  too_large,
  /// The caller cancelled the request (Asio per-operation cancellation).
  cancelled,
  /// The client was closed (async_close() or destruction) while the request
  /// was pending, or a request was made after close.
  closed,
  /// TLS handshake or certificate verification failed, or the CA file could
  /// not be read. Not retryable without a configuration change.
  tls,
  /// The URL is malformed or uses a scheme other than http or https.
  invalid_url,
  /// The request itself is invalid: a bad method, a header name or value with
  /// control characters, or invalid per-request options.
  invalid_request,
  /// The server broke the HTTP protocol (a malformed status line or headers,
  /// a bad chunk encoding or content encoding, an HTTP/2 framing error), or an
  /// event stream violated a parser limit.
  protocol,
  /// More redirects than allowed (only when redirects are enabled).
  too_many_redirects,
  /// The request's body callback returned false.
  aborted_by_callback,
  /// Any other libcurl failure (out of memory, a failed setup call). The
  /// message holds libcurl's text.
  other,
};

/// The category of grove::http::errc. Its name is "grove.http"; message(v)
/// gives a stable identifier followed by a sentence, for example
/// "grove.http.timeout: the transfer timed out".
const std::error_category& error_category() noexcept;

/// Makes errc usable as a std::error_code (found by argument-dependent lookup).
std::error_code make_error_code(errc e) noexcept;

/// The stable identifier of a code, for example "grove.http.too_large".
/// Unknown values give "grove.http.unknown".
std::string_view to_string(errc e) noexcept;

/// True for codes that describe a transient network condition, where the
/// same request may succeed when tried again: timeout, connect_timeout,
/// connect_failed, connection_reset and truncated. Policies may still decide
/// not to retry (for example after streamed bytes reached the caller).
bool is_transient(errc e) noexcept;

}  // namespace grove::http

template <>
struct std::is_error_code_enum<grove::http::errc> : std::true_type {};
