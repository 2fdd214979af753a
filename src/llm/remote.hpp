// The machinery every remote LLM call goes through (chat and embeddings):
// HTTP, rate limiter, circuit breaker, retry, response cache, error
// classification, logging and metrics. Internal; not installed.
//
// One remote_service per client. call() runs one logical call:
//
//   cache (deterministic requests only; concurrent identical calls coalesce)
//     retry (runtime::retrier; llm::errc decides what is retryable)
//       breaker (one permit per attempt)
//         limiter (one request + estimated tokens per attempt)
//           HTTP POST, then the exchange turns the answer into a payload
//
// The payload is a string (a serialised chat_response, or an embeddings
// body) so the runtime's string response cache can hold it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "grove/http/client.hpp"
#include "grove/llm/config.hpp"
#include "grove/obs/metrics.hpp"
#include "grove/runtime/circuit_breaker.hpp"
#include "grove/runtime/multi_limiter.hpp"
#include "grove/runtime/response_cache.hpp"
#include "grove/runtime/retry.hpp"

namespace grove::llm::detail {

/// The protocol half of one HTTP attempt: consumes a streamed body and turns
/// a 2xx answer into the payload. A new exchange is made for every attempt.
class exchange {
 public:
  virtual ~exchange() = default;
  /// Streaming only: one piece of a 2xx body. Return false to abort the
  /// transfer (the reason is then reported by finish()).
  virtual bool on_chunk(std::string_view chunk) = 0;
  /// The 2xx response (its body is empty when it was streamed). Returns the
  /// payload, or the error that makes this attempt fail.
  virtual result<std::string> finish(const http::response& response) = 0;
  /// The error that made on_chunk() abort, if any.
  virtual std::optional<grove::error> abort_reason() const = 0;
  /// True once bytes of the answer reached the caller (no retry after that).
  virtual bool delivered() const = 0;
};

/// One logical call.
struct call_spec {
  std::string path;   ///< appended to the endpoint root, e.g. "/chat/completions"
  std::string body;   ///< the JSON request
  std::string model;  ///< for limits, logs and metrics
  double estimated_tokens = 0.0;
  bool stream = false;
  /// Empty: not cacheable.
  std::string cache_key{};
  std::function<std::unique_ptr<exchange>()> make_exchange{};
};

/// What call() returns besides the payload.
struct call_result {
  std::string payload;
  std::uint32_t attempts = 0;  ///< 0 when the cache answered
  bool from_cache = false;
};

/// See the file comment. Thread safety: call() may run concurrently on any
/// executors; every guard is thread-safe.
class remote_service {
 public:
  /// `wire` selects the error dialect and `kind` the provider label. Throws
  /// std::invalid_argument for options the runtime rejects (callers validate
  /// the llm_config first).
  remote_service(const llm_config& config, dialect wire, std::string provider, std::string root_url,
                 http::header_map auth_headers, boost::asio::any_io_executor executor);
  ~remote_service();

  boost::asio::awaitable<result<call_result>> call(call_spec spec);

  /// Records the tokens a finished call used (metrics, and what the limiter
  /// is charged beyond the estimate on the next call).
  void record_usage(const std::string& model, double estimated, const usage& used);

  boost::asio::awaitable<void> async_close();

  const std::string& provider() const noexcept { return provider_; }
  const std::string& root_url() const noexcept { return root_url_; }
  const std::shared_ptr<spdlog::logger>& logger() const noexcept { return logger_; }
  const secret& key() const noexcept { return api_key_; }

 private:
  boost::asio::awaitable<result<std::string>> attempt(const call_spec& spec,
                                                      runtime::attempt_context& at);
  grove::error transport_error(const grove::error& e) const;

  dialect wire_;
  std::string provider_;
  std::string root_url_;
  http::header_map headers_;
  secret api_key_;
  std::string key_id_;
  llm_config config_;
  std::shared_ptr<http::client> http_;
  bool owns_http_ = false;
  std::shared_ptr<runtime::multi_limiter> limiter_;
  std::unique_ptr<runtime::circuit_breaker> breaker_;
  std::unique_ptr<runtime::retrier> retry_;
  std::unique_ptr<runtime::response_cache> cache_;
  std::shared_ptr<spdlog::logger> logger_;
  std::atomic<double> token_debt_{0.0};
  std::atomic<bool> closed_{false};

  // Metric families; absent when the registry refused them (logged once).
  std::optional<obs::counter_family> requests_;
  std::optional<obs::counter_family> tokens_;
  std::optional<obs::histogram_family> duration_;
};

/// Maps an error to the runtime's failure class (used by retry and breaker).
runtime::failure_class failure_class_of(const grove::error& e);

/// Short hex id of a key for limiter keys and logs ("none" when empty); not
/// reversible.
std::string key_id(const secret& key);

/// 32 hex digits (XXH3-128) of the parts, for cache keys.
std::string digest128(std::initializer_list<std::string_view> parts);

}  // namespace grove::llm::detail
