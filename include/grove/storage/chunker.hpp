// grove/storage/chunker.hpp: splitting text into overlapping chunks for
// retrieval.
//
// Algorithm:
//   1. Cut the text into paragraphs at blank lines.
//   2. Cut each paragraph into sentences ('.', '!' or '?' followed by
//      whitespace). A sentence longer than max_chars is cut at the last
//      whitespace before max_chars, or hard at max_chars (never inside a
//      UTF-8 sequence). These sentences are the segments.
//   3. Segments are packed greedily: a chunk takes whole segments while it
//      stays within max_chars, and ends early at a paragraph break when it is
//      at least half full and the next paragraph would not fit whole.
//   4. Each next chunk starts with the last segments of the previous one
//      whose total length is at most overlap_chars (whole sentences only, so
//      the overlap also falls on boundaries), and always advances by at
//      least one segment.
// Chunk text is the exact source text between its offsets, trimmed of
// surrounding whitespace; offsets are byte offsets into the input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "grove/runtime/result.hpp"

namespace grove::storage {

/// Options of chunk_text().
struct chunk_options {
  /// Most bytes per chunk. Range 16-1,000,000. Default 1000.
  std::size_t max_chars = 1000;
  /// Bytes of the previous chunk repeated at the start of the next (whole
  /// segments only). Range 0 to max_chars / 2. Default 150.
  std::size_t overlap_chars = 150;

  /// Reports every bad field at once. Errors: errc::invalid_argument.
  [[nodiscard]] result<void> validate() const;
};

/// One chunk of a text.
struct text_chunk {
  std::size_t begin = 0;  ///< byte offset of the first byte in the input
  std::size_t end = 0;    ///< byte offset one past the last byte
  std::string text;       ///< input[begin, end)
};

/// Splits `text` (see the file comment). Whitespace-only input gives no
/// chunks. Errors: errc::invalid_argument for bad options.
[[nodiscard]] result<std::vector<text_chunk>> chunk_text(std::string_view text,
                                                         const chunk_options& options = {});

}  // namespace grove::storage
