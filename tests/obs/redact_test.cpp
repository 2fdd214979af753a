// Tests for grove/obs/redact.hpp: every kind of secret is masked, ordinary text
// passes through unchanged.
#include "grove/obs/redact.hpp"

#include <catch2/catch.hpp>

TEST_CASE("redact: masks an OpenAI key", "[obs]") {
  CHECK(grove::obs::redact("key sk-abcdefghijklmnopqrstuvwxyz012345 used") ==
        "key [REDACTED] used");
}
