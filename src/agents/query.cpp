#include "grove/agents/query.hpp"

#include "grove/agents/errc.hpp"

namespace grove::agents {
namespace {

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

std::vector<std::string> query_limits::validate() const {
  std::vector<std::string> problems;
  if (max_chars == 0) {
    problems.push_back("max_chars: 0; accepted: >= 1");
  }
  return problems;
}

grove::result<std::size_t> utf8_length(std::string_view text) {
  std::size_t count = 0;
  std::size_t i = 0;
  const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(text[at]); };
  while (i < text.size()) {
    unsigned char lead = byte(i);
    std::size_t length = 0;
    char32_t min_value = 0;
    char32_t value = 0;
    if (lead < 0x80) {
      ++i;
      ++count;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      min_value = 0x80;
      value = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      min_value = 0x800;
      value = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      min_value = 0x10000;
      value = lead & 0x07;
    } else {
      return grove::fail(errc::invalid_query, "invalid UTF-8: unexpected byte",
                         "byte offset " + std::to_string(i));
    }
    if (i + length > text.size()) {
      return grove::fail(errc::invalid_query, "invalid UTF-8: truncated sequence",
                         "byte offset " + std::to_string(i));
    }
    for (std::size_t k = 1; k < length; ++k) {
      unsigned char next = byte(i + k);
      if ((next & 0xC0) != 0x80) {
        return grove::fail(errc::invalid_query, "invalid UTF-8: bad continuation byte",
                           "byte offset " + std::to_string(i + k));
      }
      value = (value << 6) | (next & 0x3F);
    }
    if (value < min_value || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
      return grove::fail(errc::invalid_query,
                         "invalid UTF-8: overlong form, surrogate or value above U+10FFFF",
                         "byte offset " + std::to_string(i));
    }
    i += length;
    ++count;
  }
  return count;
}

grove::result<std::size_t> validate_query(std::string_view query, const query_limits& limits) {
  if (query.empty()) {
    return grove::fail(errc::invalid_query, "the query is empty; accepted: any non-blank text");
  }
  bool blank = true;
  for (std::size_t i = 0; i < query.size(); ++i) {
    if (query[i] == '\0') {
      return grove::fail(errc::invalid_query, "the query contains a NUL byte",
                         "byte offset " + std::to_string(i));
    }
    blank = blank && is_space(static_cast<unsigned char>(query[i]));
  }
  if (blank) {
    return grove::fail(errc::invalid_query,
                       "the query is whitespace only; accepted: any non-blank text");
  }
  auto length = utf8_length(query);
  if (!length) {
    return length;
  }
  if (*length > limits.max_chars) {
    return grove::fail(errc::invalid_query, "the query has " + std::to_string(*length) +
                                                " characters; accepted: at most " +
                                                std::to_string(limits.max_chars));
  }
  return length;
}

}  // namespace grove::agents
