// grove/runtime/multi_limiter.hpp: request and token rate limits per
// (provider, model, key).
//
// LLM providers limit both requests per minute (RPM) and tokens per minute
// (TPM), per model and per API key. A multi_limiter keeps one pair of
// token_buckets for each (provider, model, key) it sees, created on first use
// from the most specific configured limit, and acquire() waits on the request
// bucket (cost 1) and then on the token bucket (cost = the call's tokens).
//
// Limits are looked up as: exact (provider, model), then (provider, "*"),
// then the default limit (60 requests per minute, no token limit).
//
// Example:
//   grove::runtime::multi_limiter limits({.limits = {{{"openai", "*"},
//                                         {.requests_per_minute = 500,
//                                          .tokens_per_minute = 200'000}}}});
//   co_await limits.acquire({"openai", "gpt-4o", "key-1"}, /*tokens=*/1200);
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "grove/runtime/clock.hpp"
#include "grove/runtime/result.hpp"
#include "grove/runtime/token_bucket.hpp"

namespace grove::runtime {

/// Limits for one (provider, model).
struct rate_limit {
  /// Requests per minute. Range: > 0. Default 60 (DESIGN: the default
  /// outgoing LLM limit).
  double requests_per_minute = 60.0;

  /// Requests that may go out back to back. Range: [1, requests_per_minute].
  /// Default 1 (evenly spaced requests).
  double request_burst = 1.0;

  /// Tokens per minute; 0 means no token limit. Range: >= 0. Default 0.
  double tokens_per_minute = 0.0;

  /// Tokens that may be spent back to back, and the largest single call.
  /// 0 means tokens_per_minute. Range: 0 or [1, tokens_per_minute].
  double token_burst = 0.0;

  /// Every bad field, in one errc::invalid_options error; `where` prefixes
  /// field names (e.g. "limits[openai/*].").
  result<void> validate(const std::string& where = {}) const;
};

/// Identity of one rate-limited stream of calls. `key` names the credential
/// (an id or a hash of it), never the secret itself: it may appear in logs.
struct limiter_key {
  std::string provider;
  std::string model;
  std::string key;

  friend auto operator<=>(const limiter_key&, const limiter_key&) = default;
};

/// Configuration of a multi_limiter.
struct multi_limiter_options {
  /// Limit for (provider, model) pairs without a more specific entry.
  rate_limit default_limit{};

  /// Per (provider, model) limits; model "*" matches every model of the
  /// provider. Default: none.
  std::map<std::pair<std::string, std::string>, rate_limit> limits;

  /// Most distinct limiter_keys tracked at once; acquire() for a new key
  /// beyond it fails with errc::too_many_keys. Range: >= 1. Default 4096.
  std::size_t max_keys = 4096;

  /// Time source shared by every bucket; null means real_clock().
  std::shared_ptr<clock> time_source;

  result<void> validate() const;
};

/// RPM + TPM limiting per limiter_key.
///
/// Ownership: owns its buckets; must outlive every acquire() in progress.
/// Thread safety: every member may be called from any thread.
class multi_limiter {
 public:
  /// Throws std::invalid_argument (validate()'s message) on bad options.
  explicit multi_limiter(multi_limiter_options options = {});
  ~multi_limiter();

  multi_limiter(const multi_limiter&) = delete;
  multi_limiter& operator=(const multi_limiter&) = delete;

  /// Waits for one request slot, then for `tokens` tokens (skipped when the
  /// limit has no token budget or tokens == 0), in FIFO order per bucket.
  /// Completes: success; errc::cost_exceeds_capacity at once when `tokens`
  /// exceeds the token burst (checked before any slot is taken);
  /// errc::invalid_argument for empty provider or tokens < 0;
  /// errc::too_many_keys; errc::closed; errc::cancelled.
  /// Note: a request slot taken before a cancelled token wait is not given
  /// back (it was spent, as if the call had gone out).
  boost::asio::awaitable<result<void>> acquire(const limiter_key& key, double tokens = 0.0);

  /// The limit that applies to `key` (after the lookup described above).
  rate_limit limit_for(const limiter_key& key) const;

  /// Number of limiter_keys with buckets.
  std::size_t size() const;

  /// Closes every bucket (waiters complete with errc::closed) and refuses
  /// later calls. Idempotent.
  void close();

 private:
  struct buckets {
    std::unique_ptr<token_bucket> requests;
    std::unique_ptr<token_bucket> tokens;  // null: no token limit
  };

  result<buckets*> buckets_for(const limiter_key& key);

  multi_limiter_options options_;
  std::shared_ptr<clock> clock_;
  mutable std::mutex mutex_;
  std::map<limiter_key, buckets> buckets_;
  bool closed_ = false;
};

}  // namespace grove::runtime
