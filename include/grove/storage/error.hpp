// grove/storage/error.hpp: error codes of the storage adapters.
//
// Every failure of an object store, a vector store or the request signer is
// reported as a grove::error whose code is a grove::storage::errc in the
// "grove.storage" category. The message says what failed and the context names
// the key, file or field involved.
#pragma once

#include <system_error>

namespace grove::storage {

/// Closed set of storage failures. Values are stable; new ones go at the end.
enum class errc {
  /// An argument or option is out of its documented range (empty region,
  /// zero dimension, negative top-k...).
  invalid_argument = 1,
  /// An object key is empty, absolute, contains a `..` segment, a NUL byte or
  /// a backslash, or is longer than the store accepts.
  invalid_key,
  /// The object, vector or index does not exist.
  not_found,
  /// A vector's length differs from the dimension of the store.
  dimension_mismatch,
  /// A local file operation failed (open, write, fsync, rename); the context
  /// holds the path and the message the OS error.
  io_error,
  /// A persisted file (index, metadata, spill file) is truncated or does not
  /// parse; the file is left untouched.
  corrupt_data,
  /// The remote service answered with an error status (S3 XML error, Pinecone
  /// JSON error); the message carries the service's code and message.
  remote_error,
  /// The request could not be delivered (connection refused, timeout, reset).
  unavailable,
  /// The store is full (vector index capacity, write buffer bytes or entries).
  capacity_exceeded,
  /// Compression or decompression failed (corrupt gzip/zstd stream).
  codec_error,
};

/// The category of errc ("grove.storage").
const std::error_category& storage_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), storage_category()};
}

}  // namespace grove::storage

template <>
struct std::is_error_code_enum<grove::storage::errc> : std::true_type {};
