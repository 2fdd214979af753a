// grove/runtime/guarded_call.hpp: one remote call behind every runtime guard.
//
// guarded_call(guards, op) wraps any awaitable operation with the pieces a
// remote call needs, each optional, in this order (outermost first):
//
//   cache     get_or_fetch(cache_key): a hit returns at once; concurrent
//             identical calls share one upstream run (T = std::string only).
//   retry     retrier::run: backoff, server hints, the shared budget.
//   breaker   per attempt: allow() before, record(outcome) after; a refused
//             call fails with errc::circuit_open and is not retried.
//   limiter   per attempt: token_bucket::acquire(cost) and/or
//             multi_limiter::acquire(key, tokens) before the call goes out.
//   op        the call itself: `op(attempt_context&)` returning
//             `boost::asio::awaitable<result<T>>`.
//
// Failures are classified once per attempt (guards.classifier, else the
// retrier's, else classify_error(); codes of grove::runtime::errc are always
// classified by classify_error() so a refusal is never counted as a server
// failure). The class decides both the breaker outcome (count_as_failure) and
// whether to retry (is_retryable).
//
// Example (see docs/runtime.md for the full version):
//   grove::runtime::call_guards guards{.bucket = &bucket, .breaker = &breaker,
//                                      .retry = &retry, .cache = &cache,
//                                      .cache_key = key, .cacheable = true};
//   grove::result<std::string> body = co_await grove::runtime::guarded_call(
//       guards, [&](grove::runtime::attempt_context& at) { return fetch(url, at); });
#pragma once

#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "grove/runtime/circuit_breaker.hpp"
#include "grove/runtime/errors.hpp"
#include "grove/runtime/multi_limiter.hpp"
#include "grove/runtime/response_cache.hpp"
#include "grove/runtime/result.hpp"
#include "grove/runtime/retry.hpp"
#include "grove/runtime/token_bucket.hpp"

namespace grove::runtime {

/// Which guards a call goes through. Every pointer is optional (null: that
/// guard is skipped) and non-owning: the pointees must outlive the call.
struct call_guards {
  /// Rate limit: `bucket_cost` tokens from `bucket` per attempt.
  token_bucket* bucket = nullptr;
  double bucket_cost = 1.0;

  /// Rate limit per (provider, model, key): one request and `limiter_tokens`
  /// tokens per attempt.
  multi_limiter* limiter = nullptr;
  limiter_key limiter_id;
  double limiter_tokens = 0.0;

  /// Circuit breaker consulted per attempt.
  circuit_breaker* breaker = nullptr;

  /// Retry loop; null means a single attempt.
  retrier* retry = nullptr;

  /// Response cache; used only when `cacheable` is true, `cache_key` is not
  /// empty and the call returns std::string.
  response_cache* cache = nullptr;
  std::string cache_key;
  bool cacheable = false;

  /// Classifies the op's errors; null means the retrier's classifier, else
  /// classify_error().
  std::function<failure_class(const error&)> classifier;
};

namespace detail {

/// The class of `e` under `guards` (see the file comment).
failure_class classify_for_guards(const call_guards& guards, const error& e);

/// One attempt: breaker, limiters, op, record.
template <class Op>
auto guarded_attempt(const call_guards& guards, Op& op, attempt_context& at)
    -> std::invoke_result_t<Op&, attempt_context&> {
  breaker_permit permit;
  if (guards.breaker != nullptr) {
    auto allowed = guards.breaker->allow();
    if (!allowed) {
      co_return grove::fail(std::move(allowed).error());
    }
    permit = std::move(*allowed);
  }
  if (guards.bucket != nullptr) {
    if (auto ok = co_await guards.bucket->acquire(guards.bucket_cost); !ok) {
      permit.record(call_outcome::ignored);
      co_return grove::fail(std::move(ok).error());
    }
  }
  if (guards.limiter != nullptr) {
    auto ok = co_await guards.limiter->acquire(guards.limiter_id, guards.limiter_tokens);
    if (!ok) {
      permit.record(call_outcome::ignored);
      co_return grove::fail(std::move(ok).error());
    }
  }

  auto outcome = co_await op(at);
  permit.record(outcome ? call_outcome::success
                        : count_as_failure(classify_for_guards(guards, outcome.error())));
  co_return outcome;
}

/// Retry (when configured) around guarded_attempt.
template <class Op>
auto guarded_retry(const call_guards& guards, Op& op)
    -> std::invoke_result_t<Op&, attempt_context&> {
  if (guards.retry == nullptr) {
    attempt_context at(1);
    co_return co_await guarded_attempt(guards, op, at);
  }
  retrier& retry = *guards.retry;
  for (int number = 1;; ++number) {
    retry.on_attempt(number);
    attempt_context at(number);
    auto outcome = co_await guarded_attempt(guards, op, at);
    if (outcome) {
      retry.on_success();
      co_return outcome;
    }
    const auto delay = retry.next_delay(at, classify_for_guards(guards, outcome.error()));
    if (!delay) {
      co_return outcome;
    }
    if (auto slept = co_await retry.time_source()->sleep_for(*delay); !slept) {
      co_return grove::fail(std::move(slept).error());
    }
  }
}

}  // namespace detail

/// Runs `op` behind `guards` (see the file comment).
/// Completes with op's value, op's last error, or a guard's error
/// (errc::circuit_open, errc::cost_exceeds_capacity, errc::closed,
/// errc::cancelled...). Requires: the guards' pointees outlive the call.
template <class Op>
auto guarded_call(call_guards guards, Op op) -> std::invoke_result_t<Op&, attempt_context&> {
  using result_type = typename std::invoke_result_t<Op&, attempt_context&>::value_type;
  using value_type = typename result_type::value_type;

  if constexpr (std::is_same_v<value_type, std::string>) {
    if (guards.cache != nullptr && guards.cacheable && !guards.cache_key.empty()) {
      std::string key = guards.cache_key;
      auto fetch = [&guards, &op]() -> boost::asio::awaitable<result<fetched_response>> {
        auto body = co_await detail::guarded_retry(guards, op);
        if (!body) {
          co_return grove::fail(std::move(body).error());
        }
        co_return fetched_response{.body = std::move(*body), .cacheable = true, .ttl = {}};
      };
      auto cached = co_await guards.cache->get_or_fetch(std::move(key), fetch);
      if (!cached) {
        co_return grove::fail(std::move(cached).error());
      }
      co_return std::string(**cached);
    }
  }
  co_return co_await detail::guarded_retry(guards, op);
}

}  // namespace grove::runtime
