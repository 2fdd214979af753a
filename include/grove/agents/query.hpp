// grove/agents/query.hpp: the checks a question passes before any model call.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "grove/runtime/result.hpp"

namespace grove::agents {

/// What a query may look like.
struct query_limits {
  /// Longest accepted query, in Unicode code points. Default 10,000; range >= 1.
  std::size_t max_chars = 10'000;

  /// One line per bad field ("max_chars: 0; accepted: >= 1"); empty when valid.
  std::vector<std::string> validate() const;
};

/// Checks a user query. Any text is accepted as long as it is valid UTF-8
/// (markup such as `button onclick=` or `x <y> z` is ordinary text here, never
/// rejected), is not empty or whitespace only, contains no NUL byte and has at
/// most limits.max_chars code points.
/// Returns the number of code points, or errc::invalid_query with a message
/// that says what is wrong and where (the byte offset of bad UTF-8) and what
/// is accepted.
[[nodiscard]] grove::result<std::size_t> validate_query(std::string_view query,
                                                        const query_limits& limits = {});

/// Number of code points when `text` is valid UTF-8 (no overlong forms, no
/// surrogates, nothing above U+10FFFF); otherwise the byte offset of the first
/// invalid sequence as an error (errc::invalid_query).
[[nodiscard]] grove::result<std::size_t> utf8_length(std::string_view text);

}  // namespace grove::agents
