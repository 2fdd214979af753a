// Tests for grove/obs/redact.hpp: every kind of secret-bearing line is masked,
// ordinary text passes through byte for byte.
#include "grove/obs/redact.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "grove/obs/errc.hpp"

namespace {

struct secret_line {
  const char* kind;
  std::string input;
  std::vector<std::string> secrets;  // none of these may survive
  std::string expected;              // the whole redacted line
};

// One line per kind of credential grove may see in a log message.
std::vector<secret_line> secret_lines() {
  return {
      {"OpenAI legacy key",
       "using key sk-abcdefghijklmnopqrstuvwxyz0123456789 now",
       {"abcdefghijklmnopqrstuvwxyz0123456789"},
       "using key [REDACTED] now"},
      {"OpenAI project key",
       "OPENAI key=sk-proj-Ab3dEfGhIjKlMnOpQrStUvWxYz_0123-456789",
       {"Ab3dEfGhIjKlMnOpQrStUvWxYz_0123-456789"},
       "OPENAI key=[REDACTED]"},
      {"Anthropic key",
       "anthropic key (sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-xyzAA)",
       {"api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"},
       "anthropic key ([REDACTED])"},
      {"Authorization Bearer header",
       "Authorization: Bearer "
       "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9",
       {"eyJhbGciOiJIUzI1NiJ9", "dozjgNryP4J3jVmNHl0w5N"},
       "Authorization: Bearer [REDACTED]"},
      {"Proxy-Authorization Basic header",
       "proxy-authorization: Basic dXNlcjpwYXNzd29yZA==",
       {"dXNlcjpwYXNzd29yZA"},
       "proxy-authorization: Basic [REDACTED]"},
      {"x-api-key header",
       "> x-api-key: 0123456789abcdef0123456789abcdef",
       {"0123456789abcdef0123456789abcdef"},
       "> x-api-key: [REDACTED]"},
      {"Azure api-key header",
       "api-key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0 (azure)",
       {"9f8e7d6c5b4a39281706f5e4d3c2b1a0"},
       "api-key: [REDACTED] (azure)"},
      {"bearer token in free text",
       "retrying with bearer abc123def456ghi789 after 429",
       {"abc123def456ghi789"},
       "retrying with bearer [REDACTED] after 429"},
      {"AWS access key id",
       "aws creds AKIAIOSFODNN7EXAMPLE loaded",
       {"AKIAIOSFODNN7EXAMPLE"},
       "aws creds [REDACTED] loaded"},
      {"AWS secret as a pair",
       "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
       {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "bPxRfiCY"},
       "aws_secret_access_key=[REDACTED]"},
      {"AWS secret standalone",
       "loaded wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY from env",
       {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "bPxRfiCY"},
       "loaded [REDACTED] from env"},
      {"password in a query string",
       "GET /login?user=alice&password=hunter2&next=/home",
       {"hunter2"},
       "GET /login?user=alice&password=[REDACTED]&next=/home"},
      {"client_secret in a query string",
       "callback?code=abc&client_secret=s3cr3tValue42&state=x",
       {"s3cr3tValue42"},
       "callback?code=abc&client_secret=[REDACTED]&state=x"},
      {"token in a query string",
       "GET /stream?token=tok_9d8c7b6a5f4e&format=sse",
       {"tok_9d8c7b6a5f4e"},
       "GET /stream?token=[REDACTED]&format=sse"},
      {"JSON password with escaped quotes",
       R"({"user": "bob", "password": "p@ss \"w0rd\" x"})",
       {"p@ss", "w0rd"},
       R"({"user": "bob", "password": "[REDACTED]"})"},
      {"JSON api_key",
       R"({"api_key":"abcd1234efgh5678","model":"gpt-4o"})",
       {"abcd1234efgh5678"},
       R"({"api_key":"[REDACTED]","model":"gpt-4o"})"},
      {"JSON inside a JSON string",
       R"(body={\"refresh_token\":\"rt-998877665544\",\"scope\":\"read\"})",
       {"rt-998877665544"},
       R"(body={\"refresh_token\":\"[REDACTED]\",\"scope\":\"read\"})"},
      {"password in a URL",
       "connecting to postgres://grove:Sup3rS3cret@db.local:5432/app",
       {"Sup3rS3cret"},
       "connecting to postgres://grove:[REDACTED]@db.local:5432/app"},
      {"YAML-style db_password",
       "db_password: correct-horse-battery",
       {"correct-horse-battery", "horse"},
       "db_password: [REDACTED]"},
      {"presigned S3 URL",
       "PUT https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261204%2Fus"
       "-east-1%2Fs3%2Faws4_request&X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe",
       {"AKIAIOSFODNN7EXAMPLE", "fe5f80f77d5fa3beca038a248ff027d0445342fe", "20261204"},
       "PUT https://b.s3.amazonaws.com/k?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]"},
      {"JSON Authorization header",
       R"({"Authorization": "Bearer ya29.a0AfH6SMBx3xyz"})",
       {"ya29.a0AfH6SMBx3xyz"},
       R"({"Authorization": "Bearer [REDACTED]"})"},
      {"environment variable with a GitHub token",
       "export GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789",
       {"abcdefghijklmnopqrstuvwxyz0123456789"},
       "export GITHUB_TOKEN=[REDACTED]"},
      {"Google API key",
       "x-goog-api-key: AIzaSyA-1234567890abcdefghijklmnopqrstu",
       {"AIzaSyA-1234567890abcdefghijklmnopqrstu", "1234567890abcdef"},
       "x-goog-api-key: [REDACTED]"},
      {"camelCase JSON accessToken",
       R"({"accessToken":"abc.def.ghi","expiresIn":3600})",
       {"abc.def.ghi"},
       R"({"accessToken":"[REDACTED]","expiresIn":3600})"},
      {"Slack bot token",
       "notify via xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
       {"123456789012-1234567890123", "AbCdEfGhIjKlMnOpQrStUvWx"},
       "notify via [REDACTED]"},
      {"Python dict with single quotes",
       "headers={'x-api-key': 'k-12345-abcde', 'accept': '*/*'}",
       {"k-12345-abcde"},
       "headers={'x-api-key': '[REDACTED]', 'accept': '*/*'}"},
  };
}

// Lines that look a little like secrets but are not; they must pass unchanged.
std::vector<std::string> ordinary_lines() {
  return {
      "search finished: 1200 simulations, 35000 sims/s, max_tokens=512, prompt_tokens=87",
      "task-queue drained; desk-top skipped; sk-learn model loaded",
      "the bearer of bad news arrived",
      "GET https://api.example.com/v1/chat/completions?stream=true&model=gpt-4o 200 in 0.42s",
      R"({"model":"gpt-4o","usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}})",
      "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 matched",
      "token bucket refilled: 60 tokens per minute",
      "password reset email sent to user 42",
      "\xc3\x9c"
      "ber na\xc3\xafve caf\xc3\xa9: unicode stays, tabs\tstay",
      "path /var/lib/grove/cache/state.bin size=4096 mode=fast",
      "circuit breaker opened after 25 of 50 calls failed; retry-after: 30",
      "authorization failed for request 7",
      "secret_count=3 token_count=9 tokens: 512",
      "",
      "https://example.com:8443/path?q=1#frag user@example.com",
      "AKIA is a prefix, AKIASHORT is not a key, ASIA is a continent",
  };
}

}  // namespace

TEST_CASE("redact: none of 26 kinds of secret survives", "[obs]") {
  const grove::obs::redactor redactor;
  for (const secret_line& line : secret_lines()) {
    INFO(line.kind << ": " << line.input);
    std::string out;
    CHECK(redactor.redact_to(line.input, out));
    for (const std::string& secret : line.secrets) {
      CHECK(out.find(secret) == std::string::npos);
    }
    CHECK(out == line.expected);
  }
}

TEST_CASE("redact: ordinary text is unchanged", "[obs]") {
  const grove::obs::redactor redactor;
  for (const std::string& line : ordinary_lines()) {
    INFO(line);
    std::string out = "prefix|";
    CHECK_FALSE(redactor.redact_to(line, out));
    CHECK(out == "prefix|" + line);
  }
}

TEST_CASE("redact: several secrets on one line", "[obs]") {
  CHECK(grove::obs::redact("a password=x1 b token=y2 c Bearer zzzzzzzz9 d") ==
        "a password=[REDACTED] b token=[REDACTED] c Bearer [REDACTED] d");
  CHECK(grove::obs::redact("password=") == "password=");
  CHECK(grove::obs::redact("\"password\": \"unterminated") == "\"password\": \"[REDACTED]");
}

TEST_CASE("redact: options change the mask and add keys", "[obs]") {
  const grove::obs::redactor redactor(
      grove::obs::redaction_options{.mask = "***", .extra_keys = {"session", "X-Tenant-Code"}});
  CHECK(redactor.redact("session=abc x_tenant_code: t-1 other=ok password=p") ==
        "session=*** x_tenant_code: *** other=ok password=***");
  CHECK(redactor.redact("tenant_code=t-1") == "tenant_code=t-1");
  CHECK(redactor.redact("user_session=9") == "user_session=***");
}

TEST_CASE("redact: invalid options are reported all at once", "[obs]") {
  grove::obs::redaction_options options{.mask = "", .extra_keys = {"ok", "bad key", ""}};
  const auto valid = options.validate();
  REQUIRE_FALSE(valid);
  CHECK(valid.error().code == grove::obs::errc::invalid_options);
  CHECK(valid.error().message.find("mask") != std::string::npos);
  CHECK(valid.error().message.find("extra_keys[1]") != std::string::npos);
  CHECK(valid.error().message.find("extra_keys[2]") != std::string::npos);
  CHECK_THROWS_AS(grove::obs::redactor(options), std::invalid_argument);
}

TEST_CASE("redact: random bytes never crash and redaction is idempotent", "[obs]") {
  // Property: for any input, redacting the output again changes nothing, and
  // no masked output is longer than the input plus one mask per input byte.
  std::mt19937 rng(42);
  const std::string alphabet =
      "abcsk-_=:\"' \\/@&;ABKIAbearer0123456789tokenpassword\n\t\x01\xff{}[]";
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<std::size_t> length(0, 200);
  const grove::obs::redactor redactor;
  for (int round = 0; round < 5000; ++round) {
    std::string input;
    const std::size_t size = length(rng);
    for (std::size_t i = 0; i < size; ++i) {
      input += alphabet[pick(rng)];
    }
    const std::string once = redactor.redact(input);
    INFO(input);
    REQUIRE(redactor.redact(once) == once);
    REQUIRE(once.size() <= input.size() * 11 + 1);
  }
}
