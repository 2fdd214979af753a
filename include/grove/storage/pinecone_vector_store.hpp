// grove/storage/pinecone_vector_store.hpp: vector_store over Pinecone's REST
// data plane, with a bounded write buffer for outages.
//
// Requests (JSON, header Api-Key, against the index host):
//   upsert   POST /vectors/upsert        {"vectors": [...], "namespace": ns}
//   query    POST /query                 {"vector", "topK", "namespace", "filter", ...}
//   fetch    GET  /vectors/fetch?ids=..&namespace=..
//   delete   POST /vectors/delete        {"ids": [...]} or {"filter": {...}}
//   stats    POST /describe_index_stats  {}
// Upserts are cut into batches of at most max_batch_vectors records and
// max_batch_bytes of JSON. Every request goes through the runtime guards:
// a token bucket (request rate), a circuit breaker and a retrier (full jitter,
// retry-after honoured, shared retry budget); 429 and 5xx are retried, other
// 4xx fail at once.
//
// Write buffer: when a write cannot be delivered (connection failures,
// timeouts, 5xx or 429 after the retries, an open circuit), upsert() and
// remove() keep it in a buffer bounded by buffer_max_entries records and
// buffer_max_bytes bytes and report success (the write is accepted, not yet
// delivered: see stats()). While the buffer holds anything, new writes queue
// behind it, so the order of writes is kept. flush() (and every later write)
// tries to deliver the buffer in order; what fails stays. When the buffer is
// full, overflow drops the oldest or the newest records (buffer_overflow);
// every dropped record is counted (stats().dropped) and logged at warn, never
// dropped silently. With a spill_file, the buffer is written to that file
// (temporary file, fsync, rename) whenever it changes and read back by open(),
// so a restart loses nothing.
//
// Note: remove_matching() returns 0: Pinecone does not report how many
// records a filtered delete removed. Queries do not see buffered writes.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "grove/runtime/circuit_breaker.hpp"
#include "grove/runtime/retry.hpp"
#include "grove/runtime/token_bucket.hpp"
#include "grove/storage/vector_store.hpp"

namespace spdlog {
class logger;
}
namespace grove::http {
class client;
}

namespace grove::storage {

/// Which records a full write buffer gives up.
enum class buffer_overflow {
  /// Drop the oldest buffered records to make room (keep recent state).
  drop_oldest,
  /// Refuse the new records (keep the earliest writes).
  drop_newest,
};

/// Options of pinecone_vector_store.
struct pinecone_vector_store_options {
  // --- Index ---

  /// Data-plane URL of the index, "https://<index>-<project>.svc.<region>.pinecone.io"
  /// (any http(s) URL; tests use loopback). Required, no trailing path.
  std::string index_host;
  /// API key sent as Api-Key. Required.
  std::string api_key;
  /// Vector dimension of the index; checked locally on every call. Required (> 0).
  std::size_t dimension = 0;
  /// X-Pinecone-API-Version header; empty sends none. Default "2024-07".
  std::string api_version = "2024-07";

  // --- Batching ---

  /// Most records per upsert request. Range 1-1000. Default 100.
  std::size_t max_batch_vectors = 100;
  /// Most JSON bytes per upsert request. Range 1 KiB - 2 MiB (Pinecone's
  /// limit). Default 2 MiB.
  std::size_t max_batch_bytes = std::size_t{2} << 20;

  // --- Guards ---

  /// Request rate limit. Default 100 requests/s, burst 100, starting full.
  runtime::token_bucket_options rate{100.0, 100.0, 100.0, nullptr};
  /// Circuit breaker (defaults: window 50, opens at 50% failures).
  runtime::circuit_breaker_options breaker;
  /// Retries (defaults: 3 attempts, 0.5 s base, 8 s cap). Its classifier is
  /// replaced by the store's (HTTP status and transport errors).
  runtime::retry_options retry;
  /// Total time for one request. Default 30 s.
  std::chrono::milliseconds request_timeout{30'000};

  // --- Write buffer ---

  /// Most records buffered. Range >= 1. Default 10,000.
  std::size_t buffer_max_entries = 10'000;
  /// Most bytes buffered (JSON size of the records). Range >= 1. Default 64 MiB.
  std::size_t buffer_max_bytes = std::size_t{64} << 20;
  /// What a full buffer drops. Default drop_oldest.
  buffer_overflow overflow = buffer_overflow::drop_oldest;
  /// File the buffer is mirrored to; empty: memory only. Default empty.
  std::filesystem::path spill_file;

  /// HTTP client; null: the store makes a libcurl client on its own I/O
  /// thread. When set, the client's executor must be run by a thread that
  /// never calls this store.
  std::shared_ptr<http::client> http;
  /// Logger for drops, buffering and failures. Null: no logging.
  std::shared_ptr<spdlog::logger> logger;

  /// Reports every bad field at once. Errors: errc::invalid_argument.
  [[nodiscard]] result<void> validate() const;
};

/// Counters of the write path.
struct pinecone_write_stats {
  std::size_t delivered = 0;  ///< records (and delete ids) the service accepted
  std::size_t buffered = 0;   ///< records waiting in the buffer now
  std::size_t buffered_bytes = 0;
  std::size_t dropped = 0;   ///< records dropped by overflow, ever
  std::size_t requests = 0;  ///< HTTP requests sent (attempts)
};

/// vector_store over Pinecone (see the file comment).
///
/// Thread safety: all methods may be called concurrently; writes (and the
/// buffer) are serialised by an internal mutex, reads run in parallel.
class pinecone_vector_store final : public vector_store {
 public:
  /// Makes the store and loads the spill file if there is one. No request is
  /// sent. Errors: invalid_argument, corrupt_data (unreadable spill file; it
  /// is left as it is), unavailable (no HTTP client).
  [[nodiscard]] static result<std::unique_ptr<pinecone_vector_store>> open(
      pinecone_vector_store_options options);

  ~pinecone_vector_store() override;
  pinecone_vector_store(const pinecone_vector_store&) = delete;
  pinecone_vector_store& operator=(const pinecone_vector_store&) = delete;

  std::size_t dimension() const override;
  /// Delivered or buffered (see the file comment). Errors: validation errors,
  /// remote_error for a 4xx (not buffered: it would fail again).
  result<void> upsert(std::span<const vector_record> records,
                      std::string_view name_space = {}) override;
  result<std::vector<vector_match>> query(const vector_query& query) override;
  result<std::vector<vector_record>> fetch(std::span<const std::string> ids,
                                           std::string_view name_space = {}) override;
  /// Delivered or buffered, like upsert().
  result<void> remove(std::span<const std::string> ids, std::string_view name_space = {}) override;
  result<std::size_t> remove_matching(const nlohmann::json& filter,
                                      std::string_view name_space = {}) override;
  result<vector_store_stats> stats() override;
  /// Delivers the buffer in order. Errors: unavailable (the buffer keeps what
  /// was not delivered), remote_error (a buffered write was refused with a
  /// 4xx: it is dropped, counted and logged).
  result<void> flush() override;

  pinecone_write_stats write_stats() const;

 private:
  struct impl;
  explicit pinecone_vector_store(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace grove::storage
