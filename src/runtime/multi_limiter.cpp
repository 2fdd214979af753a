// multi_limiter: a request bucket and a token bucket per (provider, model, key).
#include "grove/runtime/multi_limiter.hpp"

#include <cmath>

#include <fmt/format.h>

#include "options_check.hpp"

namespace grove::runtime {

namespace asio = boost::asio;

result<void> rate_limit::validate(const std::string& where) const {
  detail::options_check check(where.empty() ? "rate_limit" : where);
  check.require(detail::positive(requests_per_minute), "requests_per_minute",
                "must be finite and > 0");
  check.require(
      std::isfinite(request_burst) && request_burst >= 1 && !(request_burst > requests_per_minute),
      "request_burst", "must be in [1, requests_per_minute]");
  check.require(std::isfinite(tokens_per_minute) && tokens_per_minute >= 0, "tokens_per_minute",
                "must be finite and >= 0");
  check.require(std::isfinite(token_burst) &&
                    (token_burst == 0 || (token_burst >= 1 && token_burst <= tokens_per_minute)),
                "token_burst", "must be 0 or in [1, tokens_per_minute]");
  return check.finish();
}

result<void> multi_limiter_options::validate() const {
  detail::options_check check("multi_limiter_options");
  check.merge(default_limit.validate("default_limit"));
  for (const auto& [id, limit] : limits) {
    check.require(!id.first.empty(), "limits key", "needs a provider name");
    check.merge(limit.validate(fmt::format("limits[{}/{}]", id.first, id.second)));
  }
  check.require(max_keys >= 1, "max_keys", "must be >= 1");
  return check.finish();
}

multi_limiter::multi_limiter(multi_limiter_options options)
    : options_(std::move(options)), clock_(or_real_clock(options_.time_source)) {
  detail::throw_if_invalid(options_.validate());
}

multi_limiter::~multi_limiter() = default;

rate_limit multi_limiter::limit_for(const limiter_key& key) const {
  if (auto exact = options_.limits.find({key.provider, key.model});
      exact != options_.limits.end()) {
    return exact->second;
  }
  if (auto any_model = options_.limits.find({key.provider, "*"});
      any_model != options_.limits.end()) {
    return any_model->second;
  }
  return options_.default_limit;
}

result<multi_limiter::buckets*> multi_limiter::buckets_for(const limiter_key& key) {
  std::lock_guard lock(mutex_);
  if (closed_) {
    return fail(errc::closed, "multi_limiter closed");
  }
  if (auto found = buckets_.find(key); found != buckets_.end()) {
    return &found->second;
  }
  if (buckets_.size() >= options_.max_keys) {
    return fail(errc::too_many_keys,
                fmt::format("multi_limiter tracks {} keys already (max_keys)", buckets_.size()),
                fmt::format("{}/{}", key.provider, key.model));
  }

  // New key: buckets start full, so a fresh process may send one burst.
  const rate_limit limit = limit_for(key);
  buckets entry;
  auto requests = token_bucket_options::per_minute(limit.requests_per_minute, limit.request_burst);
  requests.time_source = clock_;
  entry.requests = std::make_unique<token_bucket>(std::move(requests));
  if (limit.tokens_per_minute > 0) {
    const double burst = limit.token_burst > 0 ? limit.token_burst : limit.tokens_per_minute;
    auto tokens = token_bucket_options::per_minute(limit.tokens_per_minute, burst);
    tokens.time_source = clock_;
    entry.tokens = std::make_unique<token_bucket>(std::move(tokens));
  }
  return &buckets_.emplace(key, std::move(entry)).first->second;
}

asio::awaitable<result<void>> multi_limiter::acquire(const limiter_key& key, double tokens) {
  if (key.provider.empty() || !std::isfinite(tokens) || tokens < 0) {
    co_return fail(errc::invalid_argument,
                   "multi_limiter::acquire: needs a provider name and finite tokens >= 0",
                   fmt::format("{}/{}", key.provider, key.model));
  }
  auto found = buckets_for(key);
  if (!found) {
    co_return fail(std::move(found).error());
  }
  buckets& b = **found;

  // Reject an impossible token cost before a request slot is spent on it.
  if (b.tokens && tokens > b.tokens->options().capacity) {
    co_return fail(errc::cost_exceeds_capacity,
                   fmt::format("multi_limiter::acquire: {} tokens exceed the token burst {}",
                               tokens, b.tokens->options().capacity),
                   fmt::format("{}/{}", key.provider, key.model));
  }
  if (auto slot = co_await b.requests->acquire(1.0); !slot) {
    co_return slot;
  }
  if (b.tokens && tokens > 0) {
    co_return co_await b.tokens->acquire(tokens);
  }
  co_return result<void>{};
}

std::size_t multi_limiter::size() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

void multi_limiter::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  for (auto& [key, b] : buckets_) {
    b.requests->close();
    if (b.tokens) {
      b.tokens->close();
    }
  }
}

}  // namespace grove::runtime
