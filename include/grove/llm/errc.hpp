// grove/llm/errc.hpp: the error codes of the LLM clients and embedders.
//
// Every failure of a chat or embedding call is reported as a grove::error whose
// code is a grove::llm::errc (category "grove.llm"). The codes are assigned in
// one place, classify_http_failure() (src/llm/errors.cpp), from the HTTP status,
// the response headers and the body, so OpenAI-compatible servers and
// Anthropic map onto the same vocabulary and the retry policy sees one set of
// codes. Messages carry stable identifiers such as `grove.llm.rate_limited`.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace grove::llm {

/// Why an LLM or embedding call failed. Values are stable (they appear in logs).
enum class errc {
  /// 401, or an error object of type `authentication_error` /
  /// `invalid_api_key`: the key is missing, wrong or revoked. Not retryable.
  authentication = 1,
  /// 403 or `permission_error`: the key may not use this model or endpoint.
  /// Not retryable.
  permission = 2,
  /// 404 or `not_found_error` / `model_not_found`: unknown model or wrong
  /// base URL. Not retryable.
  not_found = 3,
  /// 400/413/422 or `invalid_request_error` that is not one of the more
  /// specific codes below; also a request grove refuses to send (no messages,
  /// a tool schema that is not a JSON object). Not retryable.
  bad_request = 4,
  /// The prompt plus max tokens does not fit the model's context window,
  /// recognised by the provider's error code (OpenAI `context_length_exceeded`,
  /// llama.cpp `exceed_context_size_error`) or, for Anthropic, which has no
  /// such code, an `invalid_request_error` whose message starts with one of
  /// its two documented phrases ("prompt is too long", "input length and
  /// `max_tokens` exceed context limit"); never by a body that merely
  /// mentions tokens. Not retryable.
  context_length_exceeded = 5,
  /// 429 that is a rate limit (`rate_limit_exceeded`, `rate_limit_error`).
  /// Retryable after the hint in the error (retry-after-ms, retry-after or the
  /// anthropic-ratelimit-*-reset headers) when the server sent one.
  rate_limited = 6,
  /// 429 with OpenAI's `insufficient_quota`: the account is out of credit.
  /// Not retryable (waiting does not help).
  quota_exhausted = 7,
  /// Anthropic 529 `overloaded_error` (also when sent mid-stream). Retryable,
  /// counts as a failure for the circuit breaker.
  overloaded = 8,
  /// 500 and other 5xx answers (`api_error`, `server_error`). Retryable.
  server_error = 9,
  /// No complete answer within the deadline (connect, first byte or total).
  /// Retryable unless streamed text already reached the caller.
  timeout = 10,
  /// The connection failed or was reset, DNS failed, TLS failed. Retryable
  /// unless streamed text already reached the caller.
  network = 11,
  /// The server answered, but not with what the API promises: a body that is
  /// not JSON, JSON of the wrong shape, a wrong content type, a 200 whose body
  /// is an error object, a stream that ended before its end marker, tool-call
  /// arguments that are not valid JSON, a body larger than the configured
  /// limit. Not retried.
  invalid_response = 12,
  /// The call was refused locally by the circuit breaker (too many recent
  /// failures). Retry later; nothing was sent.
  circuit_open = 13,
  /// The configuration cannot work: unknown provider, missing API key for a
  /// remote provider, malformed base URL, unreadable key file.
  invalid_config = 14,
  /// The call was cancelled by the caller (Asio cancellation).
  cancelled = 15,
};

/// The category of grove::llm::errc; name() is "grove.llm".
const std::error_category& llm_category() noexcept;

/// Makes std::error_code from errc (found by ADL).
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), llm_category()};
}

/// Stable identifier of a code, e.g. "grove.llm.rate_limited".
std::string_view to_identifier(errc e) noexcept;

/// True when waiting and calling again can succeed: rate_limited, overloaded,
/// server_error, timeout, network. circuit_open is not retried by the client
/// itself (the breaker decides when to try again).
bool is_retryable(errc e) noexcept;

/// True for the codes the circuit breaker counts as failures: overloaded,
/// server_error, timeout, network (a 429 or another 4xx is the caller's or the
/// account's problem, not the server's health).
bool counts_as_breaker_failure(errc e) noexcept;

/// The outcome of classifying one failed HTTP exchange.
struct classified_failure {
  errc code = errc::invalid_response;
  /// How long the server asked us to wait, when it said so.
  std::optional<std::chrono::milliseconds> retry_after{};
  /// The provider's own error type or code (e.g. "insufficient_quota"), or empty.
  std::string provider_code{};
  /// Human-readable text: the provider's message when there was one. Never
  /// contains request headers (so never the API key).
  std::string message{};
};

/// Which wire dialect a body is in; the error shapes differ.
enum class dialect { openai, anthropic };

/// Classifies an HTTP answer that is not a success: the one place where status,
/// headers and body become an errc. Also used for 200 answers whose body turns
/// out to be an error object (pass status 200: the result is invalid_response
/// unless the body's error code is more specific, such as
/// context_length_exceeded). Headers are (lower-case name, value) pairs.
/// Never throws; any body is accepted.
classified_failure classify_http_failure(
    dialect wire, int status, const std::vector<std::pair<std::string, std::string>>& headers,
    std::string_view body);

/// Parses the retry hint from headers: `retry-after-ms` (milliseconds),
/// `retry-after` (seconds, fractional allowed, or an HTTP date relative to
/// `now`), and Anthropic's `anthropic-ratelimit-*-reset` RFC 3339 times.
/// Returns the smallest positive hint that makes sense, or nullopt. Values are
/// capped at `cap` (default 60 s): a server may not park us for an hour.
std::optional<std::chrono::milliseconds> parse_retry_after(
    const std::vector<std::pair<std::string, std::string>>& headers,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now(),
    std::chrono::milliseconds cap = std::chrono::seconds(60));

}  // namespace grove::llm

template <>
struct std::is_error_code_enum<grove::llm::errc> : std::true_type {};
