#include "grove/core/utf8.hpp"

#include <catch2/catch.hpp>
#include <string>

using grove::core::utf8_prefix;

TEST_CASE("utf8: a prefix never ends inside a character", "[core]") {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";  // a, e-acute, euro, emoji, z
  CHECK(utf8_prefix(text, 100) == text);
  CHECK(utf8_prefix(text, 0).empty());
  CHECK(utf8_prefix(text, 1) == "a");
  CHECK(utf8_prefix(text, 2) == "a");  // would split the 2-byte e-acute
  CHECK(utf8_prefix(text, 3) == "a\xC3\xA9");
  CHECK(utf8_prefix(text, 5) == "a\xC3\xA9");  // would split the 3-byte euro sign
  CHECK(utf8_prefix(text, 6) == "a\xC3\xA9\xE2\x82\xAC");
  CHECK(utf8_prefix(text, 9) == "a\xC3\xA9\xE2\x82\xAC");  // would split the 4-byte emoji
  CHECK(utf8_prefix(text, 10) == "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}
