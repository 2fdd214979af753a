// grove/core/lru_cache.hpp: a bounded, sharded least-recently-used cache.
//
// The simulation cache of the engine: leaf evaluations keyed by the 64-bit
// state hash. Capacity is in entries and is never exceeded: it is split over
// the shards (the first `capacity % shards` shards take one more), and a shard
// that is full evicts its least recently used entry before inserting. Each
// shard has its own mutex, so threads working on different keys rarely wait
// for each other. Hits, misses and evictions are counted per shard.
//
// Eviction is least-recently-used within a shard; across shards it is only
// approximately LRU (a key's shard is fixed by its hash).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

namespace grove::core {

/// Counters of a cache, summed over its shards.
struct cache_stats {
  std::uint64_t hits = 0;       ///< get() calls that found their key
  std::uint64_t misses = 0;     ///< get() calls that did not
  std::uint64_t evictions = 0;  ///< entries dropped to make room
  std::uint64_t size = 0;       ///< entries held now
  std::uint64_t capacity = 0;   ///< most entries ever held

  friend bool operator==(const cache_stats&, const cache_stats&) = default;
};

/// A bounded LRU map from K to V, split into independently locked shards.
///
/// Thread safety: every member function may be called from several threads at
/// once (each shard is guarded by its own mutex; stats() locks them in turn, so
/// under concurrent use it is a sum of per-shard snapshots).
template <class K, class V, class Hash = std::hash<K>>
class sharded_lru_cache {
 public:
  /// A cache of at most `capacity` entries in min(shards, capacity) shards
  /// (at least one). Capacity 0 makes a cache that stores nothing and counts
  /// every get() as a miss. Throws std::invalid_argument when shards is 0.
  explicit sharded_lru_cache(std::size_t capacity, std::size_t shards = 16, Hash hash = Hash{})
      : capacity_(capacity), hash_(std::move(hash)) {
    if (shards == 0) {
      throw std::invalid_argument("grove: sharded_lru_cache needs at least one shard");
    }
    const std::size_t count = std::max<std::size_t>(1, std::min(shards, capacity));
    shards_ = std::vector<shard>(count);
    for (std::size_t i = 0; i < count; ++i) {
      shards_[i].capacity = capacity / count + (i < capacity % count ? 1 : 0);
      shards_[i].index.reserve(std::min<std::size_t>(shards_[i].capacity, 1 << 16));
    }
  }

  /// The value stored under key, marking it most recently used; nullopt (a
  /// miss) when absent.
  std::optional<V> get(const K& key) {
    shard& s = shard_for(key);
    std::lock_guard lock(s.mutex);
    const auto found = s.index.find(key);
    if (found == s.index.end()) {
      ++s.misses;
      return std::nullopt;
    }
    ++s.hits;
    s.order.splice(s.order.begin(), s.order, found->second);
    return found->second->second;
  }

  /// Stores value under key as the most recently used entry, replacing any
  /// previous value; evicts the shard's least recently used entry when full.
  void put(const K& key, V value) {
    shard& s = shard_for(key);
    std::lock_guard lock(s.mutex);
    if (s.capacity == 0) {
      return;
    }
    const auto found = s.index.find(key);
    if (found != s.index.end()) {
      found->second->second = std::move(value);
      s.order.splice(s.order.begin(), s.order, found->second);
      return;
    }
    if (s.index.size() >= s.capacity) {
      s.index.erase(s.order.back().first);
      s.order.pop_back();
      ++s.evictions;
    }
    s.order.emplace_front(key, std::move(value));
    s.index.emplace(key, s.order.begin());
  }

  /// True when key is cached; does not count as a hit or change the order.
  bool contains(const K& key) const {
    const shard& s = shard_for(key);
    std::lock_guard lock(s.mutex);
    return s.index.contains(key);
  }

  /// Drops every entry; the counters keep their values.
  void clear() {
    for (shard& s : shards_) {
      std::lock_guard lock(s.mutex);
      s.index.clear();
      s.order.clear();
    }
  }

  /// Counters and size, summed over the shards.
  cache_stats stats() const {
    cache_stats total;
    total.capacity = capacity_;
    for (const shard& s : shards_) {
      std::lock_guard lock(s.mutex);
      total.hits += s.hits;
      total.misses += s.misses;
      total.evictions += s.evictions;
      total.size += s.index.size();
    }
    return total;
  }

  std::size_t size() const { return static_cast<std::size_t>(stats().size); }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t shard_count() const noexcept { return shards_.size(); }

  /// Approximate heap bytes per entry: a list node (two links and the pair)
  /// plus a hash-map node and its bucket pointer.
  static constexpr std::size_t bytes_per_entry =
      (2 * sizeof(void*) + sizeof(std::pair<K, V>)) +
      (sizeof(void*) + sizeof(K) + sizeof(void*) + sizeof(std::size_t)) + sizeof(void*);

  /// Approximate heap bytes held by the entries (size() * bytes_per_entry).
  std::size_t memory_bytes() const { return size() * bytes_per_entry; }

 private:
  struct shard {
    mutable std::mutex mutex;
    std::list<std::pair<K, V>> order;  // front = most recently used
    std::unordered_map<K, typename std::list<std::pair<K, V>>::iterator, Hash> index;
    std::size_t capacity = 0;
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t evictions = 0;
  };

  std::size_t shard_of(const K& key) const {
    // Mix the hash again so keys that differ only in high bits still spread
    // (the identity std::hash of an integer would use only key % shards).
    std::uint64_t h = static_cast<std::uint64_t>(hash_(key));
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return static_cast<std::size_t>(h % shards_.size());
  }
  shard& shard_for(const K& key) { return shards_[shard_of(key)]; }
  const shard& shard_for(const K& key) const { return shards_[shard_of(key)]; }

  std::size_t capacity_;
  Hash hash_;
  std::vector<shard> shards_;
};

}  // namespace grove::core
