// Tests of grove/llm/errc.hpp: the one classifier of failed HTTP exchanges and
// the retry-hint parser.

#include <catch2/catch.hpp>

#include "grove/llm/errc.hpp"

namespace llm = grove::llm;
using headers = std::vector<std::pair<std::string, std::string>>;
using std::chrono::milliseconds;

namespace {

llm::classified_failure openai(int status, std::string_view body, const headers& h = {}) {
  return llm::classify_http_failure(llm::dialect::openai, status, h, body);
}

llm::classified_failure anthropic(int status, std::string_view body, const headers& h = {}) {
  return llm::classify_http_failure(llm::dialect::anthropic, status, h, body);
}

}  // namespace

TEST_CASE("errc: codes have a category, stable identifiers and retry classes", "[llm]") {
  const std::error_code code = llm::errc::rate_limited;
  CHECK(std::string(code.category().name()) == "grove.llm");
  CHECK(code.message() == "grove.llm.rate_limited");
  CHECK(llm::to_identifier(llm::errc::quota_exhausted) == "grove.llm.quota_exhausted");

  CHECK(llm::is_retryable(llm::errc::rate_limited));
  CHECK(llm::is_retryable(llm::errc::overloaded));
  CHECK(llm::is_retryable(llm::errc::server_error));
  CHECK(llm::is_retryable(llm::errc::timeout));
  CHECK(llm::is_retryable(llm::errc::network));
  CHECK_FALSE(llm::is_retryable(llm::errc::quota_exhausted));
  CHECK_FALSE(llm::is_retryable(llm::errc::authentication));
  CHECK_FALSE(llm::is_retryable(llm::errc::context_length_exceeded));
  CHECK_FALSE(llm::is_retryable(llm::errc::invalid_response));

  CHECK(llm::counts_as_breaker_failure(llm::errc::overloaded));
  CHECK(llm::counts_as_breaker_failure(llm::errc::network));
  CHECK_FALSE(llm::counts_as_breaker_failure(llm::errc::rate_limited));
  CHECK_FALSE(llm::counts_as_breaker_failure(llm::errc::bad_request));
}

TEST_CASE("errc: statuses and provider error codes map to one vocabulary", "[llm]") {
  SECTION("OpenAI") {
    CHECK(openai(401, R"({"error":{"message":"Incorrect API key provided","type":
          "invalid_request_error","code":"invalid_api_key"}})")
              .code == llm::errc::authentication);
    CHECK(openai(403, "{}").code == llm::errc::permission);
    CHECK(openai(404, R"({"error":{"code":"model_not_found","message":"no such model"}})").code ==
          llm::errc::not_found);
    CHECK(openai(400, R"({"error":{"type":"invalid_request_error","message":"bad"}})").code ==
          llm::errc::bad_request);
    CHECK(openai(422, "not json").code == llm::errc::bad_request);
    CHECK(openai(500, R"({"error":{"type":"server_error"}})").code == llm::errc::server_error);
    CHECK(openai(502, "<html>bad gateway</html>").code == llm::errc::server_error);
    CHECK(openai(503, "").code == llm::errc::server_error);
    CHECK(openai(504, "").code == llm::errc::timeout);
    CHECK(openai(408, "").code == llm::errc::timeout);
  }
  SECTION("Anthropic") {
    CHECK(anthropic(401, R"({"type":"error","error":{"type":"authentication_error",
          "message":"invalid x-api-key"}})")
              .code == llm::errc::authentication);
    CHECK(anthropic(403, R"({"type":"error","error":{"type":"permission_error"}})").code ==
          llm::errc::permission);
    CHECK(anthropic(404, R"({"type":"error","error":{"type":"not_found_error"}})").code ==
          llm::errc::not_found);
    const auto overloaded = anthropic(
        529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
    CHECK(overloaded.code == llm::errc::overloaded);
    CHECK(overloaded.provider_code == "overloaded_error");
    CHECK(overloaded.message == "Overloaded");
    CHECK(anthropic(500, R"({"type":"error","error":{"type":"api_error"}})").code ==
          llm::errc::server_error);
  }
}

TEST_CASE("errc: 429 is a rate limit unless the quota is gone", "[llm]") {
  const auto limited = openai(429, R"({"error":{"code":"rate_limit_exceeded","message":"slow"}})",
                              {{"retry-after-ms", "1500"}});
  CHECK(limited.code == llm::errc::rate_limited);
  REQUIRE(limited.retry_after);
  CHECK(*limited.retry_after == milliseconds(1500));

  const auto quota = openai(429, R"({"error":{"message":"You exceeded your current quota",
      "type":"insufficient_quota","code":"insufficient_quota"}})",
                            {{"retry-after", "20"}});
  CHECK(quota.code == llm::errc::quota_exhausted);
  CHECK_FALSE(quota.retry_after);
  CHECK_FALSE(llm::is_retryable(quota.code));

  CHECK(anthropic(429, R"({"type":"error","error":{"type":"rate_limit_error"}})").code ==
        llm::errc::rate_limited);
}

TEST_CASE("errc: context length comes from provider codes, not from the word token", "[llm]") {
  CHECK(openai(400, R"({"error":{"message":"This model's maximum context length is 8192 tokens",
      "type":"invalid_request_error","code":"context_length_exceeded"}})")
            .code == llm::errc::context_length_exceeded);
  CHECK(openai(400, R"({"error":{"code":400,"message":"request exceeds the available context",
      "type":"exceed_context_size_error"}})")
            .code == llm::errc::context_length_exceeded);
  CHECK(anthropic(400, R"({"type":"error","error":{"type":"invalid_request_error",
      "message":"prompt is too long: 208310 tokens > 200000 maximum"}})")
            .code == llm::errc::context_length_exceeded);
  CHECK(anthropic(400, R"({"type":"error","error":{"type":"invalid_request_error",
      "message":"input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000"}})")
            .code == llm::errc::context_length_exceeded);

  // Bodies that talk about tokens without the code stay what their status says.
  CHECK(openai(400, R"({"error":{"message":"max_tokens is too large: too many tokens",
      "type":"invalid_request_error","code":null}})")
            .code == llm::errc::bad_request);
  CHECK(anthropic(400, R"({"type":"error","error":{"type":"invalid_request_error",
      "message":"max_tokens: the prompt is too long for tokens"}})")
            .code == llm::errc::bad_request);
  CHECK(openai(401, R"({"error":{"message":"invalid token"}})").code == llm::errc::authentication);
}

TEST_CASE("errc: a 200 whose body is an error object is an invalid response", "[llm]") {
  const auto vllm = openai(200, R"({"object":"error","message":"oops","type":"BadRequestError",
      "code":400})");
  CHECK(vllm.code == llm::errc::invalid_response);
  CHECK(vllm.message == "oops");
  CHECK(openai(200, R"({"error":"model 'x' not found, try pulling it first"})").code ==
        llm::errc::invalid_response);
  CHECK(openai(200, R"({"error":{"code":"context_length_exceeded","message":"too long"}})").code ==
        llm::errc::context_length_exceeded);
  CHECK(openai(301, "").code == llm::errc::invalid_response);
}

TEST_CASE("errc: retry hints from every header form, capped", "[llm]") {
  const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);  // 2023-11-14T22:13:20Z

  CHECK(llm::parse_retry_after({{"Retry-After-Ms", "250.5"}}, now) == milliseconds(251));
  CHECK(llm::parse_retry_after({{"retry-after", "2"}}, now) == milliseconds(2000));
  CHECK(llm::parse_retry_after({{"retry-after", "0.5"}}, now) == milliseconds(500));
  // retry-after-ms wins over retry-after.
  CHECK(llm::parse_retry_after({{"retry-after", "9"}, {"retry-after-ms", "100"}}, now) ==
        milliseconds(100));
  // An HTTP-date 3 s after now.
  CHECK(llm::parse_retry_after({{"retry-after", "Tue, 14 Nov 2023 22:13:23 GMT"}}, now) ==
        milliseconds(3000));
  // A date in the past means "now".
  CHECK(llm::parse_retry_after({{"retry-after", "Tue, 14 Nov 2023 22:00:00 GMT"}}, now) ==
        milliseconds(0));
  // Capped at 60 s by default.
  CHECK(llm::parse_retry_after({{"retry-after", "3600"}}, now) == milliseconds(60'000));
  // Anthropic reset times: the earliest future one.
  CHECK(llm::parse_retry_after(
            {{"anthropic-ratelimit-requests-reset", "2023-11-14T22:13:25Z"},
             {"anthropic-ratelimit-tokens-reset", "2023-11-14T22:13:22.5Z"},
             {"anthropic-ratelimit-input-tokens-reset", "2023-11-14T23:13:21+01:00"}},
            now) == milliseconds(1000));
  // Garbage is ignored, not trusted.
  CHECK_FALSE(llm::parse_retry_after({{"retry-after", "soon"}}, now));
  CHECK_FALSE(llm::parse_retry_after({{"retry-after-ms", "-5"}}, now));
  CHECK_FALSE(llm::parse_retry_after({{"anthropic-ratelimit-tokens-reset", "tomorrow"}}, now));
  CHECK_FALSE(llm::parse_retry_after({}, now));
}
