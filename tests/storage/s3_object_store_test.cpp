#include "grove/storage/s3_object_store.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <set>

#include "grove/storage/error.hpp"
#include "s3rver_fixture.hpp"
#include "storage_test_util.hpp"
#include "support/fake_s3_server.hpp"

namespace fs = std::filesystem;
using grove::storage::errc;
using grove::storage::s3_addressing;
using grove::storage::s3_compression;
using grove::storage::s3_object_store;
using grove::storage::s3_object_store_options;

namespace {

s3_object_store_options s3rver_options(const grove::test::s3rver_process& server) {
  s3_object_store_options options;
  options.endpoint = server.endpoint();
  options.bucket = grove::test::s3rver_process::bucket;
  options.addressing = s3_addressing::path_style;
  options.credentials = {grove::test::s3rver_process::access_key,
                         grove::test::s3rver_process::secret_key, ""};
  options.retry.base_delay = std::chrono::milliseconds(10);
  options.retry.max_delay = std::chrono::milliseconds(50);
  options.request_timeout = std::chrono::milliseconds(60'000);
  return options;
}

std::unique_ptr<s3_object_store> open_store(const s3_object_store_options& options) {
  auto store = s3_object_store::open(options);
  REQUIRE(store);
  return std::move(*store);
}

// Compressible but not trivial: words from a small vocabulary.
std::string text_of(std::size_t bytes, unsigned seed) {
  static const char* words[] = {"grove ", "search ", "tree ", "node ", "value ", "agent "};
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < bytes) out += words[rng() % 6];
  out.resize(bytes);
  return out;
}

std::string random_bytes(std::size_t bytes, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(bytes, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

}  // namespace

TEST_CASE("s3_object_store: options are validated with every problem listed", "[storage]") {
  s3_object_store_options options;
  options.bucket = "Bad_Bucket";
  options.endpoint = "ftp://x";
  options.key_prefix = "no-slash";
  options.part_size = 1024;
  options.retry.max_attempts = 0;
  auto store = s3_object_store::open(options);
  REQUIRE_FALSE(store);
  CHECK(store.error().code == errc::invalid_argument);
  for (const char* field :
       {"endpoint", "bucket", "key_prefix", "credentials", "part_size", "max_attempts"}) {
    CHECK(store.error().message.find(field) != std::string::npos);
  }
}

TEST_CASE("s3_object_store: content-hash keys", "[storage]") {
  const auto when = std::chrono::system_clock::from_time_t(1796400000);  // 2026-12-04 UTC
  auto key = grove::storage::make_content_key("artifacts", "result.json", "hello", when);
  REQUIRE(key);
  // sha256("hello") = 2cf24dba5fb0a30e...
  CHECK(*key == "artifacts/2026/12/04/result.json_2cf24dba5fb0");
  CHECK(*grove::storage::make_content_key("", "x", "hello", when) == "2026/12/04/x_2cf24dba5fb0");
  CHECK(grove::storage::make_content_key("p", "../x", "", when).error().code == errc::invalid_key);
}

TEST_CASE("s3_object_store: against s3rver: put, get, head, delete, metadata", "[storage]") {
  grove::test::s3rver_process server;
  auto store = open_store(s3rver_options(server));

  grove::storage::object_metadata meta;
  meta.content_type = "application/json";
  meta.user = {{"run-id", "7"}};
  const std::string small = R"({"answer": 42})";
  auto put = store->put("runs/a b/result.json", small, meta);
  REQUIRE(put);
  CHECK_FALSE(put->etag.empty());

  auto got = store->get("runs/a b/result.json");
  REQUIRE(got);
  CHECK(got->data == small);
  CHECK(got->info.metadata.content_type == "application/json");
  CHECK(got->info.metadata.user == meta.user);

  auto head = store->head("runs/a b/result.json");
  REQUIRE(head);
  CHECK(head->size == small.size());
  CHECK(head->etag == got->info.etag);

  const std::string binary = random_bytes(1000, 1);
  REQUIRE(store->put("bin/1", binary));
  CHECK(store->get("bin/1")->data == binary);

  REQUIRE(store->remove("runs/a b/result.json"));
  CHECK(store->get("runs/a b/result.json").error().code == errc::not_found);
  CHECK(store->head("runs/a b/result.json").error().code == errc::not_found);
  CHECK(store->remove("runs/a b/result.json"));  // idempotent
  CHECK(store->put("../x", "v").error().code == errc::invalid_key);
  CHECK(store->stats().compressed_puts == 0);
}

TEST_CASE("s3_object_store: against s3rver: compressed round trips", "[storage]") {
  grove::test::s3rver_process server;
  for (auto codec : {s3_compression::gzip, s3_compression::zstd}) {
    DYNAMIC_SECTION("codec " << grove::storage::detail::encoding_name(codec)) {
      auto options = s3rver_options(server);
      options.compression = codec;
      auto store = open_store(options);
      const std::string big = text_of(200'000, 3);
      const std::string tiny = text_of(4095, 4);  // below the 4 KiB threshold
      REQUIRE(store->put("c/big.txt", big));
      REQUIRE(store->put("c/tiny.txt", tiny));
      CHECK(store->stats().compressed_puts == 1);

      // Stored bytes are smaller than the logical size; get undoes it.
      auto listed = store->list({});
      REQUIRE(listed);
      for (const auto& o : listed->objects) {
        if (o.key == "c/big.txt") CHECK(o.size < big.size() / 2);
        if (o.key == "c/tiny.txt") CHECK(o.size == tiny.size());
      }
      CHECK(store->get("c/big.txt")->data == big);
      CHECK(store->head("c/big.txt")->size == big.size());
      CHECK(store->get("c/tiny.txt")->data == tiny);
      CHECK(store->head("c/big.txt")->metadata.user.empty());  // markers are hidden

      grove::test::temp_dir dir;
      auto to_file = store->get_to_file("c/big.txt", dir.path() / "big.txt");
      REQUIRE(to_file);
      std::ifstream in(dir.path() / "big.txt", std::ios::binary);
      std::string read((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      CHECK(read == big);
    }
  }
}

TEST_CASE("s3_object_store: against s3rver: list 2,500 keys with pagination", "[storage]") {
  grove::test::s3rver_process server;
  auto options = s3rver_options(server);
  options.key_prefix = "tenant/";
  auto store = open_store(options);
  std::set<std::string> written;
  for (int i = 0; i < 2500; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "many/%04d", i);
    REQUIRE(store->put(key, std::to_string(i)));
    written.insert(key);
  }
  REQUIRE(store->put("other", "x"));

  std::set<std::string> seen;
  grove::storage::list_options page_options;
  page_options.prefix = "many/";
  int pages = 0;
  do {
    auto page = store->list(page_options);
    REQUIRE(page);
    ++pages;
    for (const auto& o : page->objects) CHECK(seen.insert(o.key).second);
    page_options.continuation_token = page->next_token;
  } while (!page_options.continuation_token.empty());
  CHECK(pages == 3);
  CHECK(seen == written);

  page_options = {};
  page_options.prefix = "many/";
  page_options.max_keys = 1001;
  CHECK(store->list(page_options).error().code == errc::invalid_argument);
}

TEST_CASE("s3_object_store: against s3rver: multipart upload of 40 MiB", "[storage]") {
  grove::test::s3rver_process server;
  auto options = s3rver_options(server);
  options.compression = s3_compression::identity;
  auto store = open_store(options);
  grove::test::temp_dir dir;
  const std::string content = random_bytes(40u << 20, 5);
  {
    std::ofstream out(dir.path() / "big.bin", std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  auto put = store->put_file("large/big.bin", dir.path() / "big.bin");
  REQUIRE(put);
  CHECK(put->size == content.size());
  CHECK(store->stats().multipart_uploads == 1);
  CHECK(store->stats().multipart_aborts == 0);

  auto head = store->head("large/big.bin");
  REQUIRE(head);
  CHECK(head->size == content.size());
  auto got = store->get_to_file("large/big.bin", dir.path() / "copy.bin");
  REQUIRE(got);
  std::ifstream in(dir.path() / "copy.bin", std::ios::binary);
  std::string read((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(read == content);  // parts were joined in order

  SECTION("a compressed upload that still needs multipart round-trips") {
    auto zstd_options = s3rver_options(server);
    zstd_options.compression = s3_compression::zstd;
    auto zstd_store = open_store(zstd_options);
    const std::string noise = random_bytes(20u << 20, 6);  // incompressible: stays > 8 MiB
    REQUIRE(zstd_store->put("large/noise", noise));
    CHECK(zstd_store->stats().multipart_uploads == 1);
    CHECK(zstd_store->stats().compressed_puts == 1);
    CHECK(zstd_store->get("large/noise")->data == noise);
  }
}

// ---------------------------------------------------------------------------
// Against the fake S3 in tests/support, which verifies every signature.

namespace {

s3_object_store_options fake_options(const grove::test::fake_s3_server& server) {
  s3_object_store_options options;
  options.endpoint = server.endpoint();
  options.bucket = "grove-test";
  options.addressing = s3_addressing::path_style;
  options.credentials = {"AKIDFAKES3", "fake/secret/key", ""};
  options.retry.base_delay = std::chrono::milliseconds(1);
  options.retry.max_delay = std::chrono::milliseconds(5);
  options.request_timeout = std::chrono::milliseconds(30'000);
  return options;
}

}  // namespace

TEST_CASE("s3_object_store: fake S3 accepts correct signatures in every mode", "[storage]") {
  grove::test::fake_s3_server server;
  auto options = fake_options(server);

  SECTION("path-style, hashed payload") {}
  SECTION("UNSIGNED-PAYLOAD") { options.unsigned_payload = true; }
  SECTION("key prefix and keys that need encoding") { options.key_prefix = "a b/"; }
  SECTION("virtual-hosted (bucket in the Host, *.localhost resolves to loopback)") {
    options.addressing = s3_addressing::virtual_hosted;
    options.endpoint = "http://localhost:" + std::to_string(server.port());
  }

  auto store = open_store(options);
  const std::string key = "dir/ü ~+=&?.txt";
  const std::string body = text_of(10'000, 8);
  REQUIRE(store->put(key, body));
  auto got = store->get(key);
  REQUIRE(got);
  CHECK(got->data == body);
  REQUIRE(store->head(key));
  auto page = store->list({});
  REQUIRE(page);
  REQUIRE(page->objects.size() == 1);
  CHECK(page->objects.front().key == key);
  REQUIRE(store->remove(key));
  CHECK(server.objects() == 0);
  CHECK(server.signature_failures() == 0);
  if (options.addressing == s3_addressing::virtual_hosted) {
    CHECK(server.virtual_hosted_requests() == server.requests());
  }
}

TEST_CASE("s3_object_store: fake S3 rejects a wrong secret with S3's XML error", "[storage]") {
  grove::test::fake_s3_server server;
  auto options = fake_options(server);
  options.credentials.secret_access_key = "wrong";
  auto store = open_store(options);
  auto put = store->put("k", "v");
  REQUIRE_FALSE(put);
  CHECK(put.error().code == errc::remote_error);
  CHECK(put.error().message.find("403 SignatureDoesNotMatch") != std::string::npos);
  CHECK(server.signature_failures() == 1);  // a 4xx is not retried
  CHECK(store->stats().retries == 0);

  options.credentials = {"AKIDOTHER", "fake/secret/key", ""};
  auto other = open_store(options);
  CHECK(other->get("k").error().message.find("InvalidAccessKeyId") != std::string::npos);
}

TEST_CASE("s3_object_store: fake S3 requires the session token", "[storage]") {
  grove::test::fake_s3_server::options server_options;
  server_options.session_token = "session/token+value==";
  grove::test::fake_s3_server server(server_options);
  auto options = fake_options(server);
  auto without = open_store(options);
  CHECK(without->put("k", "v").error().message.find("InvalidToken") != std::string::npos);

  options.credentials.session_token = server_options.session_token;
  auto with = open_store(options);
  REQUIRE(with->put("k", "v"));
  CHECK(with->get("k")->data == "v");
}

TEST_CASE("s3_object_store: 5xx and SlowDown are retried, then reported", "[storage]") {
  grove::test::fake_s3_server server;
  auto store = open_store(fake_options(server));
  server.inject("PUT", "", 503, 2);
  REQUIRE(store->put("k", "v"));
  CHECK(store->stats().retries == 2);

  server.inject("GET", "", 500, 3);
  auto got = store->get("k");
  REQUIRE_FALSE(got);
  CHECK(got.error().code == errc::remote_error);
  CHECK(got.error().message.find("500 InternalError") != std::string::npos);
  CHECK(store->get("k")->data == "v");
}

TEST_CASE("s3_object_store: a failed multipart upload is aborted, no parts left", "[storage]") {
  grove::test::fake_s3_server server;
  auto options = fake_options(server);
  options.compression = s3_compression::identity;
  auto store = open_store(options);
  const std::string big = random_bytes(20u << 20, 9);  // 3 parts of 8 MiB

  SECTION("a part keeps failing") { server.inject("PUT", "partNumber=2", 500, 3); }
  SECTION("completion fails") { server.inject("POST", "uploadId=", 500, 3); }

  auto put = store->put("big", big);
  REQUIRE_FALSE(put);
  CHECK(store->stats().multipart_aborts == 1);
  CHECK(server.open_uploads() == 0);
  CHECK(server.objects() == 0);

  // A part failing once is retried on its own and the upload succeeds.
  server.inject("PUT", "partNumber=3", 500, 1);
  REQUIRE(store->put("big", big));
  CHECK(server.stored_body("big") == big);
  CHECK(server.open_uploads() == 0);
}
