#include "grove/http/message.hpp"

#include <catch2/catch.hpp>
#include <system_error>

#include "grove/http/client.hpp"
#include "grove/http/error.hpp"

using grove::http::errc;
using grove::http::header_map;

TEST_CASE("message: header lookup ignores case and keeps duplicates in order", "[http]") {
  header_map headers{{"Content-Type", "application/json"}, {"Set-Cookie", "a=1"}};
  headers.add("set-cookie", "b=2");

  CHECK(headers.find("content-type") == "application/json");
  CHECK(headers.get("CONTENT-TYPE") == "application/json");
  CHECK_FALSE(headers.find("retry-after").has_value());
  CHECK(headers.get("retry-after").empty());
  CHECK(headers.get_all("SET-COOKIE") == std::vector<std::string_view>{"a=1", "b=2"});
  CHECK(headers.size() == 3);

  headers.set("SET-COOKIE", "c=3");
  CHECK(headers.get_all("set-cookie") == std::vector<std::string_view>{"c=3"});
  CHECK(headers.erase("Set-Cookie") == 1);
  CHECK(headers.erase("Set-Cookie") == 0);
  CHECK(headers.size() == 1);
  CHECK(grove::http::iequals("Retry-After-Ms", "retry-after-ms"));
  CHECK_FALSE(grove::http::iequals("retry-after", "retry-after-ms"));
}

TEST_CASE("message: response::ok is true for 2xx only", "[http]") {
  grove::http::response r;
  for (int status : {200, 201, 204, 299}) {
    r.status = status;
    CHECK(r.ok());
  }
  for (int status : {0, 101, 302, 404, 429, 500, 529}) {
    r.status = status;
    CHECK_FALSE(r.ok());
  }
}

TEST_CASE("message: errc plugs into std::error_code with stable identifiers", "[http]") {
  std::error_code code = errc::too_large;
  CHECK(code.category().name() == std::string("grove.http"));
  CHECK(code.message() == "grove.http.too_large: the response body exceeds the allowed size");
  CHECK(code == errc::too_large);
  CHECK(code != errc::timeout);
  CHECK(grove::http::to_string(errc::connection_reset) == "grove.http.connection_reset");
  CHECK(grove::http::to_string(static_cast<errc>(999)) == "grove.http.unknown");

  // Every enumerator has its own identifier.
  for (int v = static_cast<int>(errc::timeout); v <= static_cast<int>(errc::other); ++v) {
    CAPTURE(v);
    CHECK(grove::http::to_string(static_cast<errc>(v)) != "grove.http.unknown");
  }

  CHECK(grove::http::is_transient(errc::timeout));
  CHECK(grove::http::is_transient(errc::connection_reset));
  CHECK(grove::http::is_transient(errc::truncated));
  CHECK_FALSE(grove::http::is_transient(errc::too_large));
  CHECK_FALSE(grove::http::is_transient(errc::cancelled));
  CHECK_FALSE(grove::http::is_transient(errc::tls));
}

TEST_CASE("message: client_options::validate reports every bad field at once", "[http]") {
  CHECK(grove::http::client_options{}.validate());

  grove::http::client_options bad;
  bad.connect_timeout = std::chrono::milliseconds{0};
  bad.timeout = std::chrono::milliseconds{-1};
  bad.max_response_bytes = 0;
  bad.max_redirects = 99;
  bad.user_agent = "x\r\ny";
  auto checked = bad.validate();
  REQUIRE_FALSE(checked);
  CHECK(checked.error().code == errc::invalid_request);
  for (const char* field :
       {"connect_timeout", "timeout must", "max_response_bytes", "max_redirects", "user_agent"}) {
    CAPTURE(field);
    CHECK(checked.error().message.find(field) != std::string::npos);
  }
}
