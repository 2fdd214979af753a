#include "grove/runtime/errors.hpp"

#include <set>
#include <string>
#include <system_error>

#include <catch2/catch.hpp>

namespace rt = grove::runtime;

TEST_CASE("errors: runtime codes plug into std::error_code with stable ids", "[runtime]") {
  STATIC_REQUIRE(std::is_error_code_enum_v<rt::errc>);

  const std::error_code code = rt::errc::circuit_open;
  CHECK(code.category() == rt::runtime_category());
  CHECK(std::string(code.category().name()) == "grove.runtime");
  CHECK(code.message().rfind("grove.runtime.circuit_open: ", 0) == 0);
  CHECK(rt::message_id(rt::errc::circuit_open) == "grove.runtime.circuit_open");
  CHECK(rt::message_id(static_cast<rt::errc>(999)) == "grove.runtime.unknown");
  CHECK(code != std::error_code(6, std::generic_category()));

  SECTION("every enumerator has its own id") {
    std::set<std::string_view> ids;
    for (int value = 1; value <= 8; ++value) {
      const auto id = rt::message_id(static_cast<rt::errc>(value));
      CHECK(id != "grove.runtime.unknown");
      ids.insert(id);
    }
    CHECK(ids.size() == 8);
  }

  SECTION("fail() builds a result carrying the code, message and context") {
    grove::result<int> failed = rt::fail(rt::errc::closed, "bucket closed", "limits/openai");
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == rt::errc::closed);
    CHECK(failed.error().describe() == "bucket closed (limits/openai) [grove.runtime:5]");
  }
}

TEST_CASE("errors: HTTP statuses map to failure classes", "[runtime]") {
  using rt::failure_class;
  CHECK(rt::classify_http_status(500) == failure_class::server_error);
  CHECK(rt::classify_http_status(503) == failure_class::server_error);
  CHECK(rt::classify_http_status(529) == failure_class::server_error);
  CHECK(rt::classify_http_status(408) == failure_class::timeout);
  CHECK(rt::classify_http_status(429) == failure_class::rate_limited);
  CHECK(rt::classify_http_status(400) == failure_class::client_error);
  CHECK(rt::classify_http_status(401) == failure_class::client_error);
  CHECK(rt::classify_http_status(404) == failure_class::client_error);
  CHECK(rt::classify_http_status(302) == failure_class::unknown);
  CHECK(rt::to_string(failure_class::rate_limited) == "rate_limited");
}

TEST_CASE("errors: the default classifier knows system and runtime codes", "[runtime]") {
  using rt::failure_class;
  auto classify = [](std::error_code code) {
    return rt::classify_error(grove::error{code, {}, {}});
  };
  CHECK(classify(std::make_error_code(std::errc::timed_out)) == failure_class::timeout);
  CHECK(classify(std::make_error_code(std::errc::connection_reset)) == failure_class::connection);
  CHECK(classify(std::make_error_code(std::errc::connection_refused)) == failure_class::connection);
  CHECK(classify(std::error_code(ECONNRESET, std::system_category())) == failure_class::connection);
  CHECK(classify(std::make_error_code(std::errc::operation_canceled)) == failure_class::rejected);
  CHECK(classify(rt::errc::circuit_open) == failure_class::rejected);
  CHECK(classify(rt::errc::cancelled) == failure_class::rejected);
  CHECK(classify(rt::errc::deadline_exceeded) == failure_class::timeout);
  CHECK(classify(std::make_error_code(std::errc::invalid_argument)) == failure_class::unknown);
}
