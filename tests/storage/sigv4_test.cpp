#include "grove/storage/sigv4.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "grove/storage/error.hpp"

namespace sigv4 = grove::storage::sigv4;
namespace fs = std::filesystem;

namespace {

const fs::path suite_dir = fs::path(GROVE_TEST_DATA_DIR) / "sigv4";

// 2015-08-30T12:36:00Z, the time every vector was signed at.
const auto vector_time = std::chrono::system_clock::from_time_t(1440938160);

constexpr const char* vector_token =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfp"
    "SPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQ"
    "DYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+s"
    "cqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct parsed_request {
  sigv4::request request;
  std::string body;
};

// Parses the HTTP/1.1-like .req / request.txt format: the target may hold raw
// spaces, lines starting with a space continue the header above (kept with a
// '\n' so the signer's folding rule is what the test exercises).
parsed_request parse_request(const std::string& text) {
  parsed_request out;
  std::size_t line_end = text.find('\n');
  std::string first = text.substr(0, line_end);
  std::size_t space = first.find(' ');
  std::size_t version = first.rfind(" HTTP/");
  out.request.method = first.substr(0, space);
  std::string target = first.substr(space + 1, version - space - 1);
  std::size_t question = target.find('?');
  out.request.path = target.substr(0, question);
  if (question != std::string::npos) out.request.query = target.substr(question + 1);

  std::size_t pos = line_end == std::string::npos ? text.size() : line_end + 1;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) {
      if (pos < text.size()) out.body = text.substr(pos);
      break;
    }
    if (line.front() == ' ' && !out.request.headers.empty()) {
      out.request.headers.back().value += '\n' + line;
      continue;
    }
    std::size_t colon = line.find(':');
    out.request.headers.push_back({line.substr(0, colon), line.substr(colon + 1)});
  }
  return out;
}

sigv4::options vector_options() {
  sigv4::options opts;
  opts.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  opts.region = "us-east-1";
  opts.service = "service";
  return opts;
}

std::span<const std::byte> bytes_of(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

std::string header_value(const sigv4::request& req, std::string_view name) {
  for (const auto& h : req.headers) {
    if (h.name == name) return h.value;
  }
  return "<missing>";
}

}  // namespace

TEST_CASE("sigv4: classic AWS suite (generic mode, normalised paths)", "[storage]") {
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(suite_dir)) {
    const std::string name = entry.path().filename().string();
    const fs::path base = entry.path() / name;
    if (!fs::exists(base.string() + ".req")) continue;
    ++cases;
    DYNAMIC_SECTION(name) {
      parsed_request parsed = parse_request(read_text(base.string() + ".req"));
      sigv4::options opts = vector_options();
      opts.mode = sigv4::path_mode::generic;
      opts.normalize_path = true;
      if (name.starts_with("post-sts-header")) {
        opts.credentials.session_token = vector_token;
        opts.sign_session_token = name == "post-sts-header-before";
      }

      auto signed_parts = sigv4::sign(parsed.request, bytes_of(parsed.body), opts, vector_time);
      REQUIRE(signed_parts);
      CHECK(signed_parts->canonical_request == read_text(base.string() + ".creq"));
      CHECK(signed_parts->string_to_sign == read_text(base.string() + ".sts"));
      CHECK(signed_parts->authorization == read_text(base.string() + ".authz"));
      CHECK(header_value(parsed.request, "Authorization") == signed_parts->authorization);

      // The signed request carries every header of .sreq (the token header is
      // present in both token cases, signed or not).
      parsed_request expected = parse_request(read_text(base.string() + ".sreq"));
      for (const auto& h : expected.request.headers) {
        std::string want = h.name == "Authorization" ? h.value.substr(1) : h.value;
        bool found =
            std::any_of(parsed.request.headers.begin(), parsed.request.headers.end(),
                        [&](const auto& got) { return got.name == h.name && got.value == want; });
        CHECK(found);
      }
    }
  }
  CHECK(cases == 22);
}

TEST_CASE("sigv4: aws-c-auth unnormalised suite (s3 and generic without normalisation)",
          "[storage]") {
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(suite_dir)) {
    const std::string name = entry.path().filename().string();
    const fs::path dir = entry.path();
    if (!fs::exists(dir / "context.json")) continue;
    ++cases;
    for (auto mode : {sigv4::path_mode::s3, sigv4::path_mode::generic}) {
      const bool s3 = mode == sigv4::path_mode::s3;
      DYNAMIC_SECTION(name << (s3 ? " s3" : " generic")) {
        parsed_request parsed = parse_request(read_text(dir / "request.txt"));
        sigv4::options opts = vector_options();
        opts.mode = mode;
        opts.normalize_path = false;
        // These vectors sign no x-amz-content-sha256 header.
        opts.content_sha256_header = false;

        sigv4::request original = parsed.request;
        auto header_form = sigv4::sign(parsed.request, {}, opts, vector_time);
        REQUIRE(header_form);
        CHECK(header_form->canonical_request == read_text(dir / "header-canonical-request.txt"));
        CHECK(header_form->string_to_sign == read_text(dir / "header-string-to-sign.txt"));
        CHECK(header_form->signature == read_text(dir / "header-signature.txt"));
        std::string signed_request = read_text(dir / "header-signed-request.txt");
        CHECK(signed_request.find("Authorization:" + header_form->authorization + "\n") !=
              std::string::npos);

        // Presigned form: the vectors hash the empty body, which is the generic
        // signer's choice (s3 presigns with UNSIGNED-PAYLOAD).
        if (!s3) {
          auto query_form = sigv4::presign(original, opts, vector_time, std::chrono::seconds(3600));
          REQUIRE(query_form);
          CHECK(query_form->canonical_request == read_text(dir / "query-canonical-request.txt"));
          CHECK(query_form->string_to_sign == read_text(dir / "query-string-to-sign.txt"));
          CHECK(query_form->signature == read_text(dir / "query-signature.txt"));
          CHECK(query_form->presigned_query.find("X-Amz-Signature=" + query_form->signature) !=
                std::string::npos);
        }
      }
    }
  }
  CHECK(cases == 6);
}

TEST_CASE("sigv4: s3 mode encodes an already-encoded path once, generic twice", "[storage]") {
  sigv4::options opts = vector_options();
  sigv4::request req;
  req.path = "/bucket/my%20photo//a/../b+c";
  req.headers = {{"Host", "example.amazonaws.com"}};

  opts.mode = sigv4::path_mode::s3;
  sigv4::request s3_req = req;
  auto s3 = sigv4::sign(s3_req, {}, opts, vector_time);
  REQUIRE(s3);
  CHECK(s3->canonical_request.starts_with("GET\n/bucket/my%20photo//a/../b%2Bc\n"));
  // S3 requires the payload hash header and it is signed.
  CHECK(s3->signed_headers == "host;x-amz-content-sha256;x-amz-date");
  CHECK(header_value(s3_req, "x-amz-content-sha256") == sigv4::sha256_hex(std::string_view{}));

  opts.mode = sigv4::path_mode::generic;
  opts.normalize_path = false;
  sigv4::request generic_req = req;
  auto generic = sigv4::sign(generic_req, {}, opts, vector_time);
  REQUIRE(generic);
  CHECK(generic->canonical_request.starts_with("GET\n/bucket/my%2520photo//a/../b%2Bc\n"));
}

TEST_CASE("sigv4: payload hash choices", "[storage]") {
  sigv4::options opts = vector_options();
  sigv4::request req;
  req.method = "PUT";
  req.path = "/bucket/key";
  req.headers = {{"Host", "127.0.0.1:9000"}};
  const std::string body = "hello";

  SECTION("hash of the body") {
    auto s = sigv4::sign(req, bytes_of(body), opts, vector_time);
    REQUIRE(s);
    CHECK(s->canonical_request.ends_with("\n" + sigv4::sha256_hex(std::string_view{body})));
  }
  SECTION("UNSIGNED-PAYLOAD") {
    opts.unsigned_payload = true;
    auto s = sigv4::sign(req, bytes_of(body), opts, vector_time);
    REQUIRE(s);
    CHECK(s->canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
    CHECK(header_value(req, "x-amz-content-sha256") == "UNSIGNED-PAYLOAD");
  }
  SECTION("precomputed hash (streamed body)") {
    opts.payload_hash = std::string(64, 'a');
    auto s = sigv4::sign(req, {}, opts, vector_time);
    REQUIRE(s);
    CHECK(s->canonical_request.ends_with("\n" + std::string(64, 'a')));
  }
  SECTION("signing twice replaces the generated headers") {
    REQUIRE(sigv4::sign(req, bytes_of(body), opts, vector_time));
    REQUIRE(sigv4::sign(req, bytes_of(body), opts, vector_time));
    int authorizations = 0;
    for (const auto& h : req.headers) authorizations += h.name == "Authorization";
    CHECK(authorizations == 1);
  }
}

TEST_CASE("sigv4: invalid requests are rejected with every problem listed", "[storage]") {
  sigv4::options opts;
  sigv4::request req;
  req.path = "relative";
  auto s = sigv4::sign(req, {}, opts, vector_time);
  REQUIRE_FALSE(s);
  CHECK(s.error().code == grove::storage::errc::invalid_argument);
  CHECK(s.error().message.find("access_key_id") != std::string::npos);
  CHECK(s.error().message.find("secret_access_key") != std::string::npos);
  CHECK(s.error().message.find("path must start") != std::string::npos);
  CHECK(s.error().message.find("Host") != std::string::npos);

  req.path = "/";
  req.headers = {{"Host", "h"}};
  auto p = sigv4::presign(req, vector_options(), vector_time, std::chrono::hours(24 * 8));
  REQUIRE_FALSE(p);
  CHECK(p.error().message.find("7 days") != std::string::npos);
}

TEST_CASE("sigv4: helpers", "[storage]") {
  CHECK(sigv4::sha256_hex(std::string_view{"abc"}) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sigv4::uri_encode("a b/c~", true) == "a%20b/c~");
  CHECK(sigv4::uri_encode("a b/c~", false) == "a%20b%2Fc~");
  CHECK(sigv4::uri_decode("a%2Fb%zz%4") == "a/b%zz%4");
  CHECK(sigv4::format_amz_date(vector_time) == "20150830T123600Z");
  sigv4::sha256 streamed;
  streamed.update(std::string_view{"a"});
  streamed.update(std::string_view{"bc"});
  CHECK(streamed.hex_digest() == sigv4::sha256_hex(std::string_view{"abc"}));
}
