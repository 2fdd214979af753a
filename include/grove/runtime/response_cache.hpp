// grove/runtime/response_cache.hpp: a TTL + LRU cache of response bodies with
// single-flight loading.
//
// Entries map a key (the caller's canonical request, usually a hash of it) to
// an immutable byte string. The cache is bounded twice: at most max_entries
// entries and at most max_bytes bytes (key + value sizes); inserting past
// either bound evicts least-recently-used entries first. Each entry expires
// ttl after it was stored; an expired entry is dropped when it is next looked
// at (and counted as an expiry and a miss).
//
// get_or_fetch() coalesces concurrent identical requests: the first caller for
// a key that is not cached (the leader) runs the fetch; callers that arrive
// while it runs wait for its result instead of calling upstream again. The
// fetch decides cacheability (only deterministic requests should be cached:
// temperature 0 or an explicit opt-in); an uncacheable or failed result is
// still handed to the waiters of that flight, then forgotten. When the leader
// is cancelled, one waiter takes over as the new leader.
//
// Thread safety: every member may be called from any thread; one mutex guards
// the map and the LRU list (get/put are O(1) under it).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>

#include "grove/runtime/clock.hpp"
#include "grove/runtime/errors.hpp"
#include "grove/runtime/result.hpp"

namespace grove::runtime {

/// Configuration of a response_cache.
struct response_cache_options {
  /// Most entries held. Range: >= 1. Default 10,000.
  std::size_t max_entries = 10'000;
  /// Most bytes held (keys + values). Range: >= 1. Default 64 MiB.
  std::size_t max_bytes = std::size_t{64} << 20;
  /// Lifetime of an entry unless put() gives another. Range: > 0. Default 1 h.
  std::chrono::nanoseconds ttl = std::chrono::hours(1);
  /// Time source for TTLs; null means real_clock().
  std::shared_ptr<clock> time_source;

  result<void> validate() const;
};

/// Counters since construction (entries and bytes are current values).
struct response_cache_stats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;       // expired lookups included
  std::uint64_t evictions = 0;    // dropped to respect max_entries / max_bytes
  std::uint64_t expirations = 0;  // dropped because their TTL passed
  std::uint64_t rejected = 0;     // put() of an entry larger than max_bytes
  std::uint64_t fetches = 0;      // upstream fetches started by get_or_fetch
  std::uint64_t coalesced = 0;    // get_or_fetch calls served by another's fetch
  std::size_t entries = 0;
  std::size_t bytes = 0;
};

/// The result of an upstream fetch, as get_or_fetch() expects it.
struct fetched_response {
  std::string body;
  /// Store it? The caller decides (deterministic requests only).
  bool cacheable = false;
  /// TTL for this entry; nullopt means the cache's ttl.
  std::optional<std::chrono::nanoseconds> ttl;
};

/// See the file comment.
class response_cache {
 public:
  using value_ptr = std::shared_ptr<const std::string>;
  using fetch_function = std::function<boost::asio::awaitable<result<fetched_response>>()>;

  /// Throws std::invalid_argument (validate()'s message) on bad options.
  explicit response_cache(response_cache_options options = {});
  ~response_cache();

  response_cache(const response_cache&) = delete;
  response_cache& operator=(const response_cache&) = delete;

  /// The cached body for key, or null on a miss (absent or expired). A hit
  /// makes the entry most recently used.
  value_ptr get(std::string_view key);

  /// Stores body under key (replacing any entry) with `ttl` or the default
  /// one, evicting LRU entries as needed. An entry larger than max_bytes is not
  /// stored (counted as rejected). Returns the stored body, or null if rejected.
  value_ptr put(std::string key, std::string body,
                std::optional<std::chrono::nanoseconds> ttl = std::nullopt);

  /// Removes key; returns whether it was present.
  bool erase(std::string_view key);

  /// Removes every entry (counters are kept).
  void clear();

  /// The cached body for key, or the body fetched by `fetch` (run by at most
  /// one caller per key at a time; see the file comment).
  /// Completes: the body; the fetch's error (shared by every waiter of that
  /// flight); errc::cancelled when this caller's wait was cancelled;
  /// errc::closed after close(). Requires: fetch is not empty.
  boost::asio::awaitable<result<value_ptr>> get_or_fetch(std::string key, fetch_function fetch);

  response_cache_stats stats() const;
  const response_cache_options& options() const noexcept { return options_; }

  /// Refuses later get_or_fetch() calls and fails current waiters with
  /// errc::closed (a running fetch finishes in its caller's coroutine).
  /// get/put keep working. Idempotent.
  void close();

 private:
  struct entry;
  struct flight;
  using lru_list = std::list<entry>;

  value_ptr get_locked(std::string_view key, clock::time_point now);
  value_ptr put_locked(std::string key, std::string body, std::chrono::nanoseconds ttl,
                       clock::time_point now);
  void erase_locked(lru_list::iterator it);

  response_cache_options options_;
  std::shared_ptr<clock> clock_;

  mutable std::mutex mutex_;
  lru_list lru_;                                                    // most recently used first
  std::unordered_map<std::string_view, lru_list::iterator> index_;  // views into lru_ keys
  std::unordered_map<std::string, std::shared_ptr<flight>> flights_;
  std::size_t bytes_ = 0;
  response_cache_stats stats_;
  bool closed_ = false;
};

}  // namespace grove::runtime
