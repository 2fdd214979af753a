// response_cache: TTL + LRU map bounded in entries and bytes, with
// single-flight loading.
#include "grove/runtime/response_cache.hpp"

#include <exception>
#include <utility>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "clock_timer.hpp"
#include "options_check.hpp"

namespace grove::runtime {

namespace asio = boost::asio;

struct response_cache::entry {
  std::string key;
  value_ptr value;
  clock::time_point expires;
  std::size_t bytes;  // key + value sizes
};

// One upstream fetch in progress for a key, and the callers waiting for it.
struct response_cache::flight {
  std::vector<std::shared_ptr<detail::clock_timer>> waiters;
  bool done = false;
  // The leader went away (cancelled or threw) without an answer: a waiter
  // should take over rather than inherit the leader's cancellation.
  bool abandoned = false;
  result<value_ptr> outcome{value_ptr{}};
};

result<void> response_cache_options::validate() const {
  detail::options_check check("response_cache_options");
  check.require(max_entries >= 1, "max_entries", "must be >= 1");
  check.require(max_bytes >= 1, "max_bytes", "must be >= 1");
  check.require(ttl.count() > 0, "ttl", "must be > 0");
  return check.finish();
}

response_cache::response_cache(response_cache_options options)
    : options_(std::move(options)), clock_(or_real_clock(options_.time_source)) {
  detail::throw_if_invalid(options_.validate());
}

response_cache::~response_cache() = default;

response_cache::value_ptr response_cache::get_locked(std::string_view key, clock::time_point now) {
  const auto found = index_.find(key);
  if (found == index_.end()) {
    return nullptr;
  }
  const auto it = found->second;
  if (it->expires <= now) {
    ++stats_.expirations;
    erase_locked(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it);
  return it->value;
}

response_cache::value_ptr response_cache::put_locked(std::string key, std::string body,
                                                     std::chrono::nanoseconds ttl,
                                                     clock::time_point now) {
  const std::size_t bytes = key.size() + body.size();
  if (bytes > options_.max_bytes) {
    ++stats_.rejected;
    return nullptr;
  }
  if (const auto found = index_.find(key); found != index_.end()) {
    erase_locked(found->second);
  }

  // Evict from the least recently used end until the new entry fits.
  while (!lru_.empty() &&
         (lru_.size() + 1 > options_.max_entries || bytes_ + bytes > options_.max_bytes)) {
    auto victim = std::prev(lru_.end());
    if (victim->expires <= now) {
      ++stats_.expirations;
    } else {
      ++stats_.evictions;
    }
    erase_locked(victim);
  }

  auto value = std::make_shared<const std::string>(std::move(body));
  lru_.push_front(entry{std::move(key), value, now + ttl, bytes});
  index_.emplace(std::string_view(lru_.front().key), lru_.begin());
  bytes_ += bytes;
  return value;
}

void response_cache::erase_locked(lru_list::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(std::string_view(it->key));
  lru_.erase(it);
}

response_cache::value_ptr response_cache::get(std::string_view key) {
  std::lock_guard lock(mutex_);
  auto value = get_locked(key, clock_->now());
  ++(value ? stats_.hits : stats_.misses);
  return value;
}

response_cache::value_ptr response_cache::put(std::string key, std::string body,
                                              std::optional<std::chrono::nanoseconds> ttl) {
  std::lock_guard lock(mutex_);
  return put_locked(std::move(key), std::move(body), ttl.value_or(options_.ttl), clock_->now());
}

bool response_cache::erase(std::string_view key) {
  std::lock_guard lock(mutex_);
  const auto found = index_.find(key);
  if (found == index_.end()) {
    return false;
  }
  erase_locked(found->second);
  return true;
}

void response_cache::clear() {
  std::lock_guard lock(mutex_);
  index_.clear();
  lru_.clear();
  bytes_ = 0;
}

asio::awaitable<result<response_cache::value_ptr>> response_cache::get_or_fetch(
    std::string key, fetch_function fetch) {
  const auto executor = co_await asio::this_coro::executor;
  bool counted = false;
  for (;;) {
    // 1. Cached? Else join the flight for this key, or start one.
    std::shared_ptr<flight> current;
    std::shared_ptr<detail::clock_timer> timer;
    {
      std::lock_guard lock(mutex_);
      if (closed_) {
        co_return fail(errc::closed, "response_cache::get_or_fetch: cache closed");
      }
      if (auto value = get_locked(key, clock_->now())) {
        ++(counted ? stats_.coalesced : stats_.hits);
        co_return value;
      }
      if (!counted) {
        ++stats_.misses;
        counted = true;
      }
      if (auto found = flights_.find(key); found != flights_.end()) {
        current = found->second;
        timer = std::make_shared<detail::clock_timer>(*clock_, executor);
        current->waiters.push_back(timer);
      } else {
        current = std::make_shared<flight>();
        flights_.emplace(key, current);
        ++stats_.fetches;
      }
    }

    // 2a. A waiter: the leader's answer, unless the leader went away.
    if (timer) {
      for (;;) {
        const auto status = co_await timer->wait(std::nullopt);
        std::lock_guard lock(mutex_);
        if (current->done && !current->abandoned) {
          ++stats_.coalesced;
          co_return current->outcome;
        }
        if (current->done) {
          break;  // take over: back to step 1
        }
        if (closed_) {
          co_return fail(errc::closed, "response_cache::get_or_fetch: cache closed");
        }
        if (status == detail::wait_status::cancelled) {
          co_return fail(errc::cancelled, "response_cache::get_or_fetch: cancelled");
        }
      }
      continue;
    }

    // 2b. The leader: fetch, store if cacheable, hand the answer to the waiters.
    // The flight must be settled whatever happens, exceptions included.
    result<fetched_response> fetched{fetched_response{}};
    std::exception_ptr thrown;
    try {
      fetched = co_await fetch();
    } catch (...) {
      thrown = std::current_exception();
    }

    std::vector<std::shared_ptr<detail::clock_timer>> waiters;
    result<value_ptr> answer{value_ptr{}};
    {
      std::lock_guard lock(mutex_);
      if (auto found = flights_.find(key); found != flights_.end() && found->second == current) {
        flights_.erase(found);
      }
      if (thrown || (!fetched && (fetched.error().code == errc::cancelled ||
                                  fetched.error().code == std::errc::operation_canceled))) {
        current->abandoned = true;
      } else if (!fetched) {
        current->outcome = fail(fetched.error());
      } else if (fetched->cacheable && key.size() + fetched->body.size() <= options_.max_bytes) {
        const auto ttl = fetched->ttl.value_or(options_.ttl);
        current->outcome = put_locked(key, std::move(fetched->body), ttl, clock_->now());
      } else {
        // Not cacheable, or too large to store: still the answer of this flight.
        stats_.rejected += fetched->cacheable ? 1 : 0;
        current->outcome = std::make_shared<const std::string>(std::move(fetched->body));
      }
      current->done = true;
      waiters = std::move(current->waiters);
      answer = current->outcome;
    }
    for (auto& waiter : waiters) {
      waiter->wake();
    }
    if (thrown) {
      std::rethrow_exception(thrown);
    }
    if (current->abandoned) {
      co_return fail(fetched.error());
    }
    co_return answer;
  }
}

response_cache_stats response_cache::stats() const {
  std::lock_guard lock(mutex_);
  auto copy = stats_;
  copy.entries = lru_.size();
  copy.bytes = bytes_;
  return copy;
}

void response_cache::close() {
  std::vector<std::shared_ptr<detail::clock_timer>> waiters;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    for (auto& [key, f] : flights_) {
      waiters.insert(waiters.end(), f->waiters.begin(), f->waiters.end());
    }
  }
  for (auto& waiter : waiters) {
    waiter->wake();
  }
}

}  // namespace grove::runtime
