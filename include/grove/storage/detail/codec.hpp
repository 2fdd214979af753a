// grove/storage/detail/codec.hpp: internal streaming gzip (zlib) and zstd
// compressors used by s3_object_store. Not part of the API: include
// grove/storage/s3_object_store.hpp instead.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "grove/runtime/result.hpp"

namespace grove::storage::detail {

/// Encodings an object body may have.
enum class encoding { identity, gzip, zstd };

/// "identity", "gzip" or "zstd".
std::string_view encoding_name(encoding e);
/// Parses encoding_name()'s output. Errors: errc::codec_error for other names.
result<encoding> parse_encoding(std::string_view name);

/// A streaming encoder or decoder. feed() appends its output to `out`.
/// Not thread-safe.
class stream_codec {
 public:
  virtual ~stream_codec() = default;
  /// Processes `input`; `last` marks the end of the stream.
  /// Errors: errc::codec_error (corrupt input, a stream that ends early).
  virtual result<void> feed(std::string_view input, bool last, std::string& out) = 0;
};

/// A compressor for `e` at `level` (gzip 1-9, zstd 1-19; 0 = the codec's
/// default). identity copies.
std::unique_ptr<stream_codec> make_encoder(encoding e, int level);
/// A decompressor for `e`.
std::unique_ptr<stream_codec> make_decoder(encoding e);

/// One-shot helpers over the streaming codecs.
result<std::string> encode(encoding e, int level, std::string_view data);
result<std::string> decode(encoding e, std::string_view data);

}  // namespace grove::storage::detail
