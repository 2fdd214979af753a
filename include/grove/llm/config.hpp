// grove/llm/config.hpp: choosing and configuring an LLM provider.
//
// llm_config says which provider to talk to (offline, an OpenAI-compatible
// server, or Anthropic), where, with which model and key, and how the calls
// are guarded (rate limits, retries, circuit breaker, response cache,
// timeouts). make_chat_client() turns it into a chat_client;
// config_from_environment() fills it from GROVE_LLM_* variables.
//
// Without any configuration the provider is `offline`: nothing is sent
// anywhere until a provider or a base URL is set explicitly.
//
// Example:
//   auto config = grove::llm::config_from_environment();
//   if (!config) die(config.error().describe());
//   auto client = grove::llm::make_chat_client(*config, io.get_executor());
//   auto answer = co_await (*client)->async_chat(request);
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "grove/llm/chat.hpp"
#include "grove/llm/offline.hpp"
#include "grove/runtime/circuit_breaker.hpp"
#include "grove/runtime/clock.hpp"
#include "grove/runtime/retry.hpp"

namespace spdlog {
class logger;
}

namespace grove::http {
class client;
}

namespace grove::runtime {
class multi_limiter;
}

namespace grove::obs {
class metrics_registry;
}

namespace grove::llm {

/// A credential that never shows itself: streaming it, or any to_string()
/// that contains it, prints "[redacted]" (or "[unset]"). reveal() is the only
/// way to the value, and only the HTTP layer calls it.
class secret {
 public:
  secret() = default;
  explicit secret(std::string value) : value_(std::move(value)) {}

  bool empty() const noexcept { return value_.empty(); }
  /// The value itself. Do not log it.
  const std::string& reveal() const noexcept { return value_; }
  /// "[redacted]" or "[unset]".
  std::string_view masked() const noexcept { return empty() ? "[unset]" : "[redacted]"; }

  friend std::ostream& operator<<(std::ostream& out, const secret& s);

 private:
  std::string value_;
};

/// Which service answers.
enum class provider_kind {
  offline,    ///< offline_chat_client; no network (the default)
  openai,     ///< any OpenAI-compatible Chat Completions server
  anthropic,  ///< the Anthropic Messages API
};

/// "offline", "openai" or "anthropic".
std::string_view to_string(provider_kind p) noexcept;

/// Parses a provider name, case-insensitive; "openai-compatible", "local" and
/// "ollama"/"vllm"/"llamacpp"/"lmstudio" are accepted as openai.
/// Errors: errc::invalid_config listing the accepted names.
result<provider_kind> parse_provider(std::string_view name);

/// Everything make_chat_client() needs. See docs/llm.md for recipes.
struct llm_config {
  // --- Provider ---

  /// Default offline.
  provider_kind provider = provider_kind::offline;
  /// Root of the API. Empty: https://api.openai.com/v1 for openai,
  /// https://api.anthropic.com for anthropic. For openai the client appends
  /// /chat/completions (and /v1 first when the URL has no path at all, so
  /// "http://127.0.0.1:8080" works for llama.cpp server); for anthropic it
  /// appends /v1/messages (or /messages when the URL already ends in /v1).
  /// Must be http:// or https://.
  std::string base_url{};
  /// Model used when a request names none. Empty: gpt-4o-mini (openai),
  /// claude-sonnet-4-5 (anthropic), grove-offline (offline). Local servers
  /// usually need the name of the model they loaded.
  std::string model{};
  /// API key: Authorization: Bearer (openai) or x-api-key (anthropic).
  /// Required for the providers' own endpoints; may be empty for local servers.
  secret api_key{};
  /// OpenAI only: OpenAI-Organization and OpenAI-Project headers, sent when
  /// non-empty.
  std::string organization{};
  std::string project{};
  /// Anthropic only: the anthropic-version header. Default "2023-06-01".
  std::string anthropic_version = "2023-06-01";
  /// Anthropic only: max_tokens sent when a request leaves it unset (the API
  /// requires it). Default 1024; range 1..1,000,000.
  std::uint32_t default_max_tokens = 1024;
  /// OpenAI only: send the limit as max_completion_tokens (needed by OpenAI's
  /// reasoning models) instead of max_tokens (understood by every compatible
  /// server). Default false.
  bool use_max_completion_tokens = false;

  // --- Rate limits (per provider, model and key) ---

  /// Requests per minute. Default 60 (DESIGN: the default outgoing LLM
  /// limit); range > 0.
  double requests_per_minute = 60.0;
  /// Requests that may go out back to back. Default 1; range
  /// 1..requests_per_minute.
  double request_burst = 1.0;
  /// Tokens per minute; 0 (the default) means no token limit. Each call is
  /// charged its estimated prompt plus max_tokens before it goes out; what the
  /// provider reports beyond that estimate is charged to the next call.
  double tokens_per_minute = 0.0;

  // --- Timeouts and limits per HTTP attempt ---

  /// Connecting (TCP + TLS). Default 10 s; > 0.
  std::chrono::milliseconds connect_timeout{10'000};
  /// A whole attempt, first byte to last. Default 120 s; > 0.
  std::chrono::milliseconds request_timeout{120'000};
  /// Longest silence (no byte) while waiting for headers or in a stream; a
  /// stalled server fails with errc::timeout. Default 30 s; > 0.
  std::chrono::milliseconds idle_timeout{30'000};
  /// Largest accepted response body. Default 8 MiB; > 0.
  std::size_t max_response_bytes = std::size_t{8} << 20;

  // --- Guards ---

  /// Retries: attempts, jitter, server hints, budget (runtime defaults: 3
  /// attempts, base 0.5 s, cap 8 s, hints up to 60 s). The classifier field is
  /// ignored: grove::llm::errc decides what is retryable.
  runtime::retry_options retry{};
  /// Circuit breaker (runtime defaults). name empty or "default" becomes
  /// "llm/<provider>".
  runtime::circuit_breaker_options breaker{};
  /// Response cache entries for deterministic requests (temperature 0 or
  /// chat_request::cacheable). 0 disables the cache. Default 1,000.
  std::size_t cache_entries = 1'000;
  /// Cache bytes. Default 32 MiB; > 0 when the cache is on.
  std::size_t cache_bytes = std::size_t{32} << 20;
  /// Lifetime of a cached answer. Default 1 h; > 0.
  std::chrono::milliseconds cache_ttl{3'600'000};

  // --- Shared pieces (optional) ---

  /// HTTP client to use; null: the client makes its own libcurl client on
  /// the executor given to make_chat_client (and closes it in async_close).
  std::shared_ptr<http::client> http{};
  /// Limiter shared with other clients (so several clients respect one
  /// provider limit); null: a private one built from the rate fields above.
  std::shared_ptr<runtime::multi_limiter> limiter{};
  /// Time source of the limiter, breaker, retry waits and cache; null: real.
  std::shared_ptr<runtime::clock> time_source{};
  /// Where calls are logged (info: one line per call; debug: attempts).
  /// Null: grove::obs::null_logger().
  std::shared_ptr<spdlog::logger> logger{};
  /// Where grove_llm_* metrics go. Null: grove::obs::default_registry().
  obs::metrics_registry* metrics = nullptr;

  /// Settings of the offline provider.
  offline_options offline{};

  /// Checks every field; errc::invalid_config lists each bad one. Also fails
  /// when a remote provider at its default endpoint has no API key.
  result<void> validate() const;

  /// One line for logs: provider, base URL, model, limits; the key appears
  /// only as "[redacted]" or "[unset]".
  std::string to_string() const;

  /// The base URL after defaults (see base_url).
  std::string effective_base_url() const;
  /// The model after defaults (see model).
  std::string effective_model() const;
};

/// Looks up an environment variable; nullopt when unset.
using environment_lookup = std::function<std::optional<std::string>(std::string_view name)>;

/// Builds a configuration from the environment (the process's, or `lookup`
/// for tests):
///   GROVE_LLM_PROVIDER    offline | openai | anthropic (parse_provider). Unset:
///                         openai when GROVE_LLM_BASE_URL is set, else offline.
///   GROVE_LLM_BASE_URL    llm_config::base_url
///   GROVE_LLM_MODEL       llm_config::model
///   GROVE_LLM_API_KEY_FILE  a file whose first line is the key (wins when set)
///   OPENAI_API_KEY / ANTHROPIC_API_KEY   the key of the chosen provider
///   OPENAI_ORG_ID, OPENAI_PROJECT_ID     organization / project headers
///   GROVE_LLM_RPM, GROVE_LLM_TPM         requests / tokens per minute
/// An API key alone never switches the provider away from offline.
/// Errors: errc::invalid_config (unknown provider, unreadable key file, a
/// number that does not parse, or anything validate() rejects); the message
/// never contains the key.
result<llm_config> config_from_environment(environment_lookup lookup = {});

/// Makes the client the configuration asks for. `executor` runs the HTTP
/// client the chat client creates (unused by offline, and when config.http is
/// set). Errors: errc::invalid_config (validate()'s message).
/// Thread safety: the returned client may be used from any thread.
result<std::shared_ptr<chat_client>> make_chat_client(const llm_config& config,
                                                      boost::asio::any_io_executor executor);

}  // namespace grove::llm
