#include "grove/storage/detail/codec.hpp"

#include <catch2/catch.hpp>

#include <random>

#include "grove/storage/error.hpp"

using grove::storage::errc;
namespace detail = grove::storage::detail;

TEST_CASE("codec: gzip and zstd round trips, whole and in pieces", "[storage]") {
  std::mt19937 rng(1);
  std::string text;
  while (text.size() < 300'000) text += "tree node " + std::to_string(rng() % 100) + " ";

  for (auto e : {detail::encoding::gzip, detail::encoding::zstd, detail::encoding::identity}) {
    DYNAMIC_SECTION(detail::encoding_name(e)) {
      auto packed = detail::encode(e, 0, text);
      REQUIRE(packed);
      if (e != detail::encoding::identity) CHECK(packed->size() < text.size() / 3);
      CHECK(*detail::decode(e, *packed) == text);

      // Fed in uneven pieces, with an empty final call, as downloads arrive.
      auto encoder = detail::make_encoder(e, 0);
      std::string streamed;
      for (std::size_t pos = 0; pos < text.size(); pos += 7777) {
        REQUIRE(encoder->feed(std::string_view(text).substr(pos, 7777), false, streamed));
      }
      REQUIRE(encoder->feed({}, true, streamed));
      auto decoder = detail::make_decoder(e);
      std::string back;
      for (std::size_t pos = 0; pos < streamed.size(); pos += 1000) {
        REQUIRE(decoder->feed(std::string_view(streamed).substr(pos, 1000), false, back));
      }
      REQUIRE(decoder->feed({}, true, back));
      CHECK(back == text);
    }
  }
}

TEST_CASE("codec: truncated or corrupt streams are errors", "[storage]") {
  for (auto e : {detail::encoding::gzip, detail::encoding::zstd}) {
    DYNAMIC_SECTION(detail::encoding_name(e)) {
      auto packed = detail::encode(e, 0, std::string(100'000, 'x') + "end");
      REQUIRE(packed);
      auto truncated = detail::decode(e, packed->substr(0, packed->size() / 2));
      REQUIRE_FALSE(truncated);
      CHECK(truncated.error().code == errc::codec_error);
      CHECK(truncated.error().message.find("truncated") != std::string::npos);

      auto garbage = detail::decode(e, "this is not compressed");
      REQUIRE_FALSE(garbage);
      CHECK(garbage.error().code == errc::codec_error);
    }
  }
  CHECK(detail::parse_encoding("br").error().code == errc::codec_error);
  CHECK(*detail::parse_encoding("zstd") == detail::encoding::zstd);
}
