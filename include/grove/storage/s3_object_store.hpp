// grove/storage/s3_object_store.hpp: object_store over any S3-compatible
// service (AWS S3, MinIO, Ceph RGW, s3rver...), signed with SigV4.
//
// Requests:
//   put         PUT /<key> (single request up to multipart_threshold bytes)
//   large put   POST ?uploads, PUT ?partNumber=N&uploadId=U per part_size
//               bytes, POST ?uploadId=U with the part list; any failure sends
//               DELETE ?uploadId=U so no orphaned parts stay billed
//   get / head  GET / HEAD /<key>
//   remove      DELETE /<key>
//   list        GET /?list-type=2&prefix=..&max-keys=..&continuation-token=..
// Addressing: virtual-hosted (https://<bucket>.<endpoint host>/<key>) or
// path-style (https://<endpoint host>/<bucket>/<key>, needed by most
// self-hosted servers and by bucket names with dots).
//
// Compression: a body of at least compression_threshold bytes is compressed
// with the configured codec (gzip through zlib, or zstd) and stored with the
// user metadata "grove-encoding" (the codec) and "grove-size" (the original
// size); get(), get_to_file() and head() undo it, so callers always see the
// bytes and size they wrote. Smaller bodies are stored as they are (the old
// default of 1 KiB compressed objects too small to gain). No Content-Encoding
// header is set, so no HTTP layer decodes the body behind the store's back.
//
// Guards: every request goes through the runtime's token bucket, circuit
// breaker and retrier: transport failures, 5xx and 429/503 SlowDown are
// retried (re-signed) with full-jitter backoff, honouring retry-after; other
// 4xx fail at once. A multipart part is retried on its own, not the upload.
//
// Note: list() reports each object's stored size (compressed objects count
// their compressed bytes) and no user metadata, as ListObjectsV2 returns
// them; head() gives the logical size and metadata.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "grove/runtime/circuit_breaker.hpp"
#include "grove/runtime/retry.hpp"
#include "grove/runtime/token_bucket.hpp"
#include "grove/storage/detail/codec.hpp"
#include "grove/storage/object_store.hpp"
#include "grove/storage/sigv4.hpp"

namespace spdlog {
class logger;
}
namespace grove::http {
class client;
}

namespace grove::storage {

/// How the bucket appears in request URLs.
enum class s3_addressing { virtual_hosted, path_style };

/// Compression codec for large bodies.
using s3_compression = detail::encoding;

/// Options of s3_object_store.
struct s3_object_store_options {
  // --- Where ---

  /// Service URL, scheme and host[:port], no path. Empty: AWS,
  /// "https://s3.<region>.amazonaws.com". Tests always set a loopback URL.
  std::string endpoint;
  /// Bucket name. Required; 3-63 characters of [a-z0-9.-].
  std::string bucket;
  /// Signing region. Default "us-east-1".
  std::string region = "us-east-1";
  /// Bucket addressing. Default virtual_hosted (AWS's preferred form).
  s3_addressing addressing = s3_addressing::virtual_hosted;
  /// Prefix prepended to every key ("runs/" stores key "a" as "runs/a").
  /// Default "". Must be "" or end with '/'.
  std::string key_prefix;

  // --- Credentials ---

  /// Access key, secret and optional session token (STS). Required.
  sigv4::credentials credentials;
  /// Sign bodies as UNSIGNED-PAYLOAD instead of hashing them (only over TLS).
  /// Default false.
  bool unsigned_payload = false;

  // --- Large objects ---

  /// Bodies of more than this many (stored) bytes use multipart upload.
  /// Range >= part_size. Default 8 MiB.
  std::size_t multipart_threshold = std::size_t{8} << 20;
  /// Size of each multipart part but the last. Range 5 MiB (S3's minimum) to
  /// 5 GiB. Default 8 MiB.
  std::size_t part_size = std::size_t{8} << 20;

  // --- Compression ---

  /// Codec for bodies of at least compression_threshold bytes; identity
  /// turns compression off. Default gzip.
  s3_compression compression = s3_compression::gzip;
  /// Smallest body that is compressed, in bytes. Default 4 KiB.
  std::size_t compression_threshold = 4096;
  /// Codec level (gzip 1-9, zstd 1-19); 0 = codec default. Default 0.
  int compression_level = 0;

  // --- Transport ---

  /// Request rate limit. Default 100 requests/s, burst 100, starting full.
  runtime::token_bucket_options rate{100.0, 100.0, 100.0, nullptr};
  /// Circuit breaker (defaults: window 50, opens at 50% failures).
  runtime::circuit_breaker_options breaker;
  /// Retries (defaults: 3 attempts, 0.5 s base, 8 s cap). Its classifier is
  /// replaced by the store's (HTTP status and transport errors).
  runtime::retry_options retry;
  /// Total time allowed for one request. Default 300 s.
  std::chrono::milliseconds request_timeout{300'000};
  /// HTTP client to use. Null: the store creates a libcurl client on its own
  /// I/O thread. When set, the client's executor must be run by a thread that
  /// never calls this store (the store blocks waiting for it).
  std::shared_ptr<http::client> http;

  /// Logger for requests that fail or are retried. Null: no logging.
  std::shared_ptr<spdlog::logger> logger;

  /// Reports every bad field at once. Errors: errc::invalid_argument.
  [[nodiscard]] result<void> validate() const;
};

/// Counters since the store was created (for tests and metrics).
struct s3_object_store_stats {
  std::size_t requests = 0;           ///< HTTP requests sent, retries included
  std::size_t retries = 0;            ///< requests that were retries
  std::size_t multipart_uploads = 0;  ///< multipart uploads completed
  std::size_t multipart_aborts = 0;   ///< multipart uploads aborted after a failure
  std::size_t compressed_puts = 0;    ///< objects stored compressed
};

/// object_store over S3 (see the file comment).
///
/// Thread safety: all methods may be called concurrently from any thread;
/// each call blocks until its requests complete.
class s3_object_store final : public object_store {
 public:
  /// Makes the store. No request is sent.
  /// Errors: invalid_argument (options), unavailable (the HTTP client could
  /// not be created).
  [[nodiscard]] static result<std::unique_ptr<s3_object_store>> open(
      s3_object_store_options options);

  ~s3_object_store() override;
  s3_object_store(const s3_object_store&) = delete;
  s3_object_store& operator=(const s3_object_store&) = delete;

  result<object_info> put(std::string_view key, std::string_view data,
                          const object_metadata& metadata = {}) override;
  /// Reads the file part by part (at most part_size bytes in memory, plus
  /// the compressor's output).
  result<object_info> put_file(std::string_view key, const std::filesystem::path& file,
                               const object_metadata& metadata = {}) override;
  result<object> get(std::string_view key) override;
  result<object_info> get_to_file(std::string_view key, const std::filesystem::path& file) override;
  result<object_info> head(std::string_view key) override;
  result<void> remove(std::string_view key) override;
  result<list_page> list(const list_options& options) override;

  s3_object_store_stats stats() const;

 private:
  struct impl;
  explicit s3_object_store(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

/// A content-addressed key: "<prefix>/YYYY/MM/DD/<name>_<h>" where the date is
/// `when` in UTC and h the first 12 hex digits of SHA-256(content). `prefix`
/// may be empty (then the key starts with the year). The same content on the
/// same day always gets the same key, so a repeated upload is idempotent.
/// Errors: errc::invalid_key when the result is not a valid key.
[[nodiscard]] result<std::string> make_content_key(std::string_view prefix, std::string_view name,
                                                   std::string_view content,
                                                   std::chrono::system_clock::time_point when);

}  // namespace grove::storage
