// grove/runtime/errors.hpp: error codes of the runtime layer and the failure
// classes that the circuit breaker and the retry loop act on.
//
// Two things live here:
//   - grove::runtime::errc, the closed set of failures the runtime pieces
//     themselves report (a rate limit that can never be met, an open circuit,
//     a closed component...). It plugs into std::error_code; every message
//     starts with a stable identifier such as "grove.runtime.circuit_open".
//   - failure_class, the coarse class of a failed *remote* call (server error,
//     timeout, reset, 429, other 4xx...). The breaker counts some classes as
//     failures; the retry loop retries some classes. Adapters map their own
//     error codes and HTTP statuses onto these classes with a classifier
//     callback; classify_http_status() and classify_error() are the defaults.
#pragma once

#include <string_view>
#include <system_error>

#include "grove/runtime/result.hpp"

namespace grove::runtime {

/// Failures reported by the runtime pieces. Values are stable.
enum class errc {
  /// Options failed validate(); the message lists every bad field.
  invalid_options = 1,
  /// An argument outside its documented range (a cost <= 0 or NaN, an empty key).
  invalid_argument = 2,
  /// token_bucket::acquire() asked for more tokens than the bucket can ever
  /// hold; waiting would never end, so it fails at once.
  cost_exceeds_capacity = 3,
  /// A waiting operation was cancelled through Asio per-operation cancellation
  /// (or its owner's task group was closed) before it completed.
  cancelled = 4,
  /// The component was closed (close() / async_close()) before or while the
  /// operation waited.
  closed = 5,
  /// circuit_breaker refused the call: the circuit is open, or it is half-open
  /// and the limit of concurrent probes is reached.
  circuit_open = 6,
  /// A deadline passed before the operation finished (task_group::async_close
  /// with children still running after the grace period).
  deadline_exceeded = 7,
  /// multi_limiter already tracks its maximum number of (provider, model, key)
  /// entries and was asked for a new one.
  too_many_keys = 8,
};

/// The category of errc; name() is "grove.runtime".
const std::error_category& runtime_category() noexcept;

/// Makes errc usable as std::error_code (found by ADL).
std::error_code make_error_code(errc e) noexcept;

/// The stable identifier of an errc, e.g. "grove.runtime.circuit_open".
/// Unknown values give "grove.runtime.unknown".
std::string_view message_id(errc e) noexcept;

/// Shorthand for a failed result carrying a runtime code.
inline unexpected fail(errc e, std::string message = {}, std::string context = {}) {
  return grove::fail(make_error_code(e), std::move(message), std::move(context));
}

/// The class of a failed remote call, as the breaker and the retry loop see it.
enum class failure_class {
  /// HTTP 5xx, including 529 (overloaded) and 503. Breaker failure; retried.
  server_error,
  /// The call or one of its phases timed out (HTTP 408 too). Breaker failure;
  /// retried.
  timeout,
  /// Connection refused, reset, closed early, DNS failure. Breaker failure;
  /// retried.
  connection,
  /// HTTP 429: the server asks us to slow down. Not a breaker failure (the
  /// server is healthy); retried, honouring retry-after hints.
  rate_limited,
  /// Any other 4xx, authentication, quota exhausted, a malformed request: the
  /// same call will fail again. Not a breaker failure; never retried.
  client_error,
  /// The caller cancelled, or a runtime guard refused the call (open circuit,
  /// cost above capacity, closed component). Neither counted nor retried.
  rejected,
  /// Anything the classifier does not recognise. Counted as a breaker failure
  /// (something is wrong) but not retried (it may be a local bug).
  unknown,
};

/// "server_error", "timeout", ... for logs.
std::string_view to_string(failure_class c) noexcept;

/// Class of an HTTP status code. Requires: status >= 400 (a failed call).
/// 408 -> timeout, 429 -> rate_limited, other 4xx -> client_error,
/// 5xx (500..599, 529 included) -> server_error, anything else -> unknown.
failure_class classify_http_status(int status) noexcept;

/// Default classifier for a grove::error. Knows std::errc and Asio/Boost.System
/// codes (timed_out, connection_reset, connection_refused, eof, broken_pipe,
/// host_unreachable, operation_aborted...) and runtime::errc; anything else is
/// unknown. Adapters that carry HTTP statuses supply their own classifier and
/// call classify_http_status().
failure_class classify_error(const error& e) noexcept;

}  // namespace grove::runtime

template <>
struct std::is_error_code_enum<grove::runtime::errc> : std::true_type {};
