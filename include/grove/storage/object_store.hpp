// grove/storage/object_store.hpp: the object store interface (blobs by key).
//
// An object store keeps byte strings under '/'-separated keys with a content
// type and user metadata, like S3. Two implementations ship with grove:
//   - filesystem_object_store (filesystem_object_store.hpp), the default: a
//     directory tree, no network;
//   - s3_object_store (s3_object_store.hpp): any S3-compatible service.
// Agents store artifacts (result JSON, traces, search trees) through it.
//
// Keys: 1 to 1024 bytes of UTF-8, segments separated by '/'. Rejected with
// errc::invalid_key: an empty key, a leading or trailing '/', an empty segment
// ("a//b"), a "." or ".." segment, a backslash, a NUL or other control byte,
// and segments starting with ".grove" (reserved for the filesystem store's
// temporary, metadata and lock files). Every store applies the same rule, so
// a key accepted by one is accepted by all.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "grove/runtime/result.hpp"

namespace grove::storage {

/// Metadata stored with an object.
struct object_metadata {
  /// MIME type, e.g. "application/json". Default "application/octet-stream".
  std::string content_type = "application/octet-stream";
  /// User metadata (S3 x-amz-meta-*). Names: lowercase [a-z0-9-_], values:
  /// printable ASCII; at most 2 KiB in total (S3's limit).
  std::map<std::string, std::string> user;
};

/// What a store knows about one object.
struct object_info {
  std::string key;
  /// Size in bytes of the object as the caller wrote it (before any
  /// compression the store applies).
  std::uint64_t size = 0;
  /// Entity tag: changes whenever the content changes (S3's ETag; the
  /// filesystem store uses the hex SHA-256 of the content).
  std::string etag;
  std::chrono::system_clock::time_point last_modified{};
  object_metadata metadata;
};

/// An object read into memory.
struct object {
  object_info info;
  /// The content; binary-safe.
  std::string data;
};

/// Parameters of object_store::list().
struct list_options {
  /// Only keys starting with this string (no validation: any prefix). Default "".
  std::string prefix;
  /// Most keys in one page. Range 1-1000. Default 1000.
  std::size_t max_keys = 1000;
  /// Resume after this point: the next_token of the previous page, or "" for
  /// the first page.
  std::string continuation_token;
};

/// One page of a listing, in ascending byte order of keys.
struct list_page {
  std::vector<object_info> objects;
  /// Non-empty when more keys follow; pass it as list_options::continuation_token.
  std::string next_token;
};

/// A store of objects by key.
///
/// Thread safety: every method may be called concurrently from any thread;
/// a reader never sees a half-written object or metadata from another write.
/// Calls block the calling thread until the operation ends (local I/O or a
/// network round trip); async callers should run them off their event loop.
class object_store {
 public:
  virtual ~object_store() = default;

  /// Stores `data` under `key`, replacing any previous object atomically.
  /// Returns the new object's info.
  /// Errors: invalid_key, invalid_argument (bad metadata), io_error,
  /// remote_error, unavailable.
  [[nodiscard]] virtual result<object_info> put(std::string_view key, std::string_view data,
                                                const object_metadata& metadata = {}) = 0;

  /// Stores the content of `file`, streamed (never read into memory whole).
  /// Errors: as put(), plus not_found when `file` does not exist.
  [[nodiscard]] virtual result<object_info> put_file(std::string_view key,
                                                     const std::filesystem::path& file,
                                                     const object_metadata& metadata = {}) = 0;

  /// Reads an object into memory.
  /// Errors: invalid_key, not_found, io_error, corrupt_data, codec_error,
  /// remote_error, unavailable.
  [[nodiscard]] virtual result<object> get(std::string_view key) = 0;

  /// Streams an object into `file` (created or replaced atomically: written to
  /// a temporary file beside it, then renamed). Returns the object's info.
  /// Errors: as get().
  [[nodiscard]] virtual result<object_info> get_to_file(std::string_view key,
                                                        const std::filesystem::path& file) = 0;

  /// The object's info without its content. Errors: as get().
  [[nodiscard]] virtual result<object_info> head(std::string_view key) = 0;

  /// Deletes an object. Deleting a missing key succeeds (as in S3), so a
  /// retried delete is harmless. Errors: invalid_key, io_error, remote_error,
  /// unavailable.
  [[nodiscard]] virtual result<void> remove(std::string_view key) = 0;

  /// One page of the keys starting with options.prefix, in ascending byte order.
  /// Errors: invalid_argument (max_keys out of range), io_error, remote_error,
  /// unavailable.
  [[nodiscard]] virtual result<list_page> list(const list_options& options) = 0;
};

/// Checks `key` against the rule in the file comment.
/// Returns errc::invalid_key with the reason and the key as context.
[[nodiscard]] result<void> validate_key(std::string_view key);

/// Checks user metadata names and values (see object_metadata::user).
/// Errors: errc::invalid_argument listing every bad entry.
[[nodiscard]] result<void> validate_metadata(const object_metadata& metadata);

}  // namespace grove::storage
