// The guarded remote call shared by the chat providers and the embeddings
// client (see remote.hpp).

#include "remote.hpp"

#include <cstdio>
#include <stdexcept>

#include <spdlog/logger.h>

#include "grove/core/hash.hpp"
#include "grove/obs/log.hpp"
#include "grove/runtime/guarded_call.hpp"
#include "internal.hpp"

namespace grove::llm::detail {
namespace {

using std::chrono::steady_clock;

std::vector<std::pair<std::string, std::string>> header_pairs(const http::header_map& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(headers.size());
  for (const http::header_field& field : headers) {
    out.emplace_back(field.name, field.value);
  }
  return out;
}

// The outcome label of the requests metric: "ok" or the errc name.
std::string outcome_label(const grove::error& e) {
  if (e.code.category() == llm_category()) {
    std::string_view id = to_identifier(static_cast<errc>(e.code.value()));
    id.remove_prefix(std::string_view("grove.llm.").size());
    return std::string(id);
  }
  return "other";
}

}  // namespace

runtime::failure_class failure_class_of(const grove::error& e) {
  using runtime::failure_class;
  if (e.code.category() != llm_category()) {
    return runtime::classify_error(e);
  }
  switch (static_cast<errc>(e.code.value())) {
    case errc::rate_limited:
      return failure_class::rate_limited;
    case errc::overloaded:
    case errc::server_error:
      return failure_class::server_error;
    case errc::timeout:
      return failure_class::timeout;
    case errc::network:
      return failure_class::connection;
    case errc::cancelled:
    case errc::circuit_open:
      return failure_class::rejected;
    case errc::invalid_response:
      // A server that answers garbage is unhealthy (the breaker should see
      // it), but the same garbage would come back: not retried.
      return failure_class::unknown;
    default:
      return failure_class::client_error;
  }
}

std::string key_id(const secret& key) {
  if (key.empty()) {
    return "none";
  }
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx",
                static_cast<unsigned long long>(core::hash_bytes(key.reveal(), 0x9e3779b9)));
  return std::string(buffer, 12);
}

std::string digest128(std::initializer_list<std::string_view> parts) {
  XXH3_state_t state;
  XXH3_128bits_reset(&state);
  for (std::string_view part : parts) {
    XXH3_128bits_update(&state, part.data(), part.size());
    XXH3_128bits_update(&state, "\x1f", 1);
  }
  const XXH128_hash_t h = XXH3_128bits_digest(&state);
  char buffer[33];
  std::snprintf(buffer, sizeof(buffer), "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buffer;
}

remote_service::remote_service(const llm_config& config, dialect wire, std::string provider,
                               std::string root_url, http::header_map auth_headers,
                               boost::asio::any_io_executor executor)
    : wire_(wire),
      provider_(std::move(provider)),
      root_url_(std::move(root_url)),
      headers_(std::move(auth_headers)),
      api_key_(config.api_key),
      key_id_(key_id(config.api_key)),
      config_(config),
      logger_(config.logger ? config.logger : obs::null_logger()) {
  if (config.http) {
    http_ = config.http;
  } else {
    http::client_options options;
    options.connect_timeout = config.connect_timeout;
    options.timeout = config.request_timeout;
    options.idle_timeout = config.idle_timeout;
    options.max_response_bytes = config.max_response_bytes;
    options.logger = logger_;
    http_ = http::make_curl_client(std::move(executor), std::move(options));
    owns_http_ = true;
  }

  if (config.limiter) {
    limiter_ = config.limiter;
  } else {
    runtime::multi_limiter_options options;
    options.default_limit = runtime::rate_limit{.requests_per_minute = config.requests_per_minute,
                                                .request_burst = config.request_burst,
                                                .tokens_per_minute = config.tokens_per_minute,
                                                .token_burst = 0.0};
    options.time_source = config.time_source;
    limiter_ = std::make_shared<runtime::multi_limiter>(std::move(options));
  }

  runtime::circuit_breaker_options breaker = config.breaker;
  if (breaker.name.empty() || breaker.name == "default") {
    breaker.name = "llm/" + provider_;
  }
  if (!breaker.time_source) {
    breaker.time_source = config.time_source;
  }
  if (!breaker.logger) {
    breaker.logger = logger_;
  }
  breaker_ = std::make_unique<runtime::circuit_breaker>(std::move(breaker));

  runtime::retry_options retry = config.retry;
  retry.classifier = failure_class_of;
  if (!retry.time_source) {
    retry.time_source = config.time_source;
  }
  retry_ = std::make_unique<runtime::retrier>(std::move(retry));

  if (config.cache_entries > 0) {
    cache_ = std::make_unique<runtime::response_cache>(
        runtime::response_cache_options{.max_entries = config.cache_entries,
                                        .max_bytes = config.cache_bytes,
                                        .ttl = config.cache_ttl,
                                        .time_source = config.time_source});
  }

  obs::metrics_registry& registry =
      config.metrics != nullptr ? *config.metrics : obs::default_registry();
  if (auto family = registry.add_counter(
          {.name = "grove_llm_requests_total",
           .help = "LLM and embedding calls by provider, model and outcome (ok or error code).",
           .labels = {"provider", "model", "outcome"}})) {
    requests_ = *family;
  } else {
    logger_->warn("llm metrics: {}", family.error().describe());
  }
  if (auto family = registry.add_counter(
          {.name = "grove_llm_tokens_total",
           .help = "Tokens used by LLM calls, by provider, model and kind (prompt, completion).",
           .labels = {"provider", "model", "kind"}})) {
    tokens_ = *family;
  } else {
    logger_->warn("llm metrics: {}", family.error().describe());
  }
  if (auto family = registry.add_histogram(
          {.name = "grove_llm_request_duration_seconds",
           .help = "Wall time of LLM calls, retries and waits included, by provider.",
           .labels = {"provider"},
           .buckets = obs::latency_buckets_seconds()})) {
    duration_ = *family;
  } else {
    logger_->warn("llm metrics: {}", family.error().describe());
  }
}

remote_service::~remote_service() = default;

grove::error remote_service::transport_error(const grove::error& e) const {
  errc code = errc::network;
  if (e.code.category() == http::error_category()) {
    switch (static_cast<http::errc>(e.code.value())) {
      case http::errc::timeout:
      case http::errc::connect_timeout:
        code = errc::timeout;
        break;
      case http::errc::too_large:
      case http::errc::protocol:
        code = errc::invalid_response;
        break;
      case http::errc::cancelled:
      case http::errc::closed:
      case http::errc::aborted_by_callback:
        code = errc::cancelled;
        break;
      case http::errc::invalid_url:
        code = errc::invalid_config;
        break;
      case http::errc::invalid_request:
        code = errc::bad_request;
        break;
      default:
        code = errc::network;
        break;
    }
  } else if (e.code == std::errc::operation_canceled) {
    code = errc::cancelled;
  }
  return make_error(code, redact(provider_ + ": " + e.describe(), api_key_.reveal()));
}

boost::asio::awaitable<result<std::string>> remote_service::attempt(const call_spec& spec,
                                                                    runtime::attempt_context& at) {
  http::request request;
  request.method = "POST";
  request.url = root_url_ + spec.path;
  request.headers = headers_;
  request.headers.set("content-type", "application/json");
  request.headers.set("accept", spec.stream ? "text/event-stream" : "application/json");
  request.body = spec.body;
  const std::unique_ptr<exchange> ex = spec.make_exchange();
  if (spec.stream) {
    request.on_body = [raw = ex.get()](std::string_view chunk) { return raw->on_chunk(chunk); };
  }

  auto response = co_await http_->async_request(std::move(request));
  if (ex->delivered()) {
    at.mark_streamed();
  }
  if (!response) {
    if (auto reason = ex->abort_reason()) {
      co_return fail(*reason);
    }
    co_return fail(transport_error(response.error()));
  }
  if (!response->ok()) {
    classified_failure failure = classify_http_failure(
        wire_, response->status, header_pairs(response->headers), response->body);
    if (failure.retry_after) {
      at.set_retry_after(*failure.retry_after);
    }
    failure.message = redact(std::move(failure.message), api_key_.reveal());
    co_return fail(from_classified(failure, provider_, response->status));
  }
  auto payload = ex->finish(*response);
  if (ex->delivered()) {
    at.mark_streamed();
  }
  if (!payload) {
    grove::error e = std::move(payload).error();
    e.message = redact(std::move(e.message), api_key_.reveal());
    co_return fail(std::move(e));
  }
  co_return payload;
}

boost::asio::awaitable<result<call_result>> remote_service::call(call_spec spec) {
  const auto start = steady_clock::now();
  if (closed_.load()) {
    co_return fail(make_error(errc::cancelled, provider_ + ": the client was closed"));
  }

  const runtime::limiter_key limit_key{provider_, spec.model, key_id_};
  const runtime::rate_limit limit = limiter_->limit_for(limit_key);
  double tokens = 0.0;
  if (limit.tokens_per_minute > 0.0) {
    const double burst = limit.token_burst > 0.0 ? limit.token_burst : limit.tokens_per_minute;
    const double debt = token_debt_.exchange(0.0);
    tokens = std::max(1.0, std::min(burst, spec.estimated_tokens + debt));
  }

  std::uint32_t attempts = 0;
  runtime::call_guards guards;
  guards.limiter = limiter_.get();
  guards.limiter_id = limit_key;
  guards.limiter_tokens = tokens;
  guards.breaker = breaker_.get();
  guards.retry = retry_.get();
  guards.cache = cache_.get();
  guards.cache_key = spec.cache_key;
  guards.cacheable = cache_ != nullptr && !spec.cache_key.empty();
  guards.classifier = failure_class_of;

  auto outcome = co_await runtime::guarded_call(
      std::move(guards),
      [this, &spec,
       &attempts](runtime::attempt_context& at) -> boost::asio::awaitable<result<std::string>> {
        attempts = static_cast<std::uint32_t>(at.number());
        auto result = co_await attempt(spec, at);
        if (!result) {
          logger_->debug("llm {} attempt {} failed: {}", provider_, at.number(),
                         result.error().describe());
        }
        co_return result;
      });

  const double seconds = std::chrono::duration<double>(steady_clock::now() - start).count();
  if (duration_) {
    duration_->with({provider_}).observe(seconds);
  }
  if (!outcome) {
    grove::error e = std::move(outcome).error();
    if (e.code.category() == runtime::runtime_category()) {
      switch (static_cast<runtime::errc>(e.code.value())) {
        case runtime::errc::circuit_open:
          e = make_error(errc::circuit_open, provider_ + ": " + e.message);
          break;
        case runtime::errc::cancelled:
        case runtime::errc::closed:
          e = make_error(errc::cancelled, provider_ + ": " + e.describe());
          break;
        default:
          e = make_error(errc::bad_request, provider_ + ": " + e.describe());
          break;
      }
    }
    if (requests_) {
      requests_->with({provider_, spec.model, outcome_label(e)}).inc();
    }
    logger_->info("llm call provider={} model={} outcome={} attempts={} seconds={:.3f}: {}",
                  provider_, spec.model, outcome_label(e), attempts, seconds, e.message);
    co_return fail(std::move(e));
  }
  if (requests_) {
    requests_->with({provider_, spec.model, "ok"}).inc();
  }
  logger_->info("llm call provider={} model={} outcome=ok attempts={} cached={} seconds={:.3f}",
                provider_, spec.model, attempts, attempts == 0, seconds);
  co_return call_result{
      .payload = std::move(*outcome), .attempts = attempts, .from_cache = attempts == 0};
}

void remote_service::record_usage(const std::string& model, double estimated, const usage& used) {
  if (tokens_) {
    tokens_->with({provider_, model, "prompt"}).inc(used.prompt_tokens);
    tokens_->with({provider_, model, "completion"}).inc(used.completion_tokens);
  }
  const double extra = static_cast<double>(used.total_tokens) - estimated;
  if (config_.tokens_per_minute > 0.0 && extra > 0.0) {
    token_debt_.fetch_add(extra);
  }
}

boost::asio::awaitable<void> remote_service::async_close() {
  if (closed_.exchange(true)) {
    co_return;
  }
  if (cache_) {
    cache_->close();
  }
  if (!config_.limiter) {
    limiter_->close();
  }
  if (owns_http_) {
    co_await http_->async_close();
  }
}

}  // namespace grove::llm::detail
