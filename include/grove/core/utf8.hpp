// grove/core/utf8.hpp: cutting UTF-8 text to a byte budget.
//
// Prompts, passages and log echoes are bounded in bytes, but cutting at an
// arbitrary byte can split a multi-byte character and leave invalid UTF-8,
// which JSON encoders and providers reject. The cut below backs up to the
// start of the character that straddles the limit.
#pragma once

#include <cstddef>
#include <string_view>

namespace grove::core {

/// The longest prefix of `text` of at most `max_bytes` bytes that does not end
/// inside a UTF-8 sequence. `text` itself when it already fits. Invalid UTF-8
/// is cut the same way (continuation bytes are never the first byte kept out).
[[nodiscard]] inline std::string_view utf8_prefix(std::string_view text,
                                                  std::size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) {
    return text;
  }
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

}  // namespace grove::core
