#include "grove/storage/pinecone_vector_store.hpp"

#include <catch2/catch.hpp>

#include <fstream>

#include "grove/storage/error.hpp"
#include "storage_test_util.hpp"
#include "support/fake_pinecone_server.hpp"

namespace fs = std::filesystem;
using grove::storage::buffer_overflow;
using grove::storage::errc;
using grove::storage::pinecone_vector_store;
using grove::storage::pinecone_vector_store_options;
using grove::storage::vector_record;

namespace {

constexpr std::size_t dim = 4;

pinecone_vector_store_options options_for(const grove::test::fake_pinecone_server& server) {
  pinecone_vector_store_options options;
  options.index_host = server.endpoint();
  options.api_key = "pc-test-key";
  options.dimension = dim;
  options.retry.base_delay = std::chrono::milliseconds(1);
  options.retry.max_delay = std::chrono::milliseconds(5);
  options.retry.max_server_hint = std::chrono::milliseconds(50);
  options.request_timeout = std::chrono::milliseconds(5000);
  return options;
}

std::unique_ptr<pinecone_vector_store> open_store(const pinecone_vector_store_options& options) {
  auto store = pinecone_vector_store::open(options);
  REQUIRE(store);
  return std::move(*store);
}

std::vector<vector_record> records(int first, int count, float tag = 1.0f) {
  std::vector<vector_record> out;
  for (int i = first; i < first + count; ++i) {
    out.push_back({"id" + std::to_string(i),
                   {tag, static_cast<float>(i), 1.0f, 0.5f},
                   {{"i", i}, {"even", i % 2 == 0}}});
  }
  return out;
}

}  // namespace

TEST_CASE("pinecone_vector_store: upsert, query, fetch, delete and stats", "[storage]") {
  grove::test::fake_pinecone_server server("pc-test-key", dim);
  auto store = open_store(options_for(server));

  REQUIRE(store->upsert(records(0, 10)));
  REQUIRE(store->upsert(records(100, 2), "other"));
  CHECK(server.count() == 10);
  CHECK(server.count("other") == 2);

  grove::storage::vector_query q;
  q.vector = {1, 3, 1, 0.5f};
  q.top_k = 3;
  q.filter = {{"even", true}};
  auto matches = store->query(q);
  REQUIRE(matches);
  REQUIRE(matches->size() == 3);
  for (const auto& m : *matches) CHECK(m.metadata["even"] == true);

  auto fetched = store->fetch(std::vector<std::string>{"id3", "missing", "id 4?"});
  REQUIRE(fetched);
  REQUIRE(fetched->size() == 1);
  CHECK(fetched->front().values[1] == 3.0f);
  CHECK(fetched->front().metadata["i"] == 3);

  REQUIRE(store->remove(std::vector<std::string>{"id0", "id1"}));
  auto removed = store->remove_matching({{"even", true}});
  REQUIRE(removed);
  auto stats = store->stats();
  INFO((stats ? std::string() : stats.error().describe()));
  REQUIRE(stats);
  CHECK(stats->namespaces.at("") == 4);  // id3, id5, id7, id9
  CHECK(stats->namespaces.at("other") == 2);
  CHECK(stats->total_vectors == 6);

  auto bad = store->upsert(std::vector<vector_record>{{"x", {1, 2}, nullptr}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::dimension_mismatch);
  q.vector = {1, 2};
  CHECK(store->query(q).error().code == errc::dimension_mismatch);
}

TEST_CASE("pinecone_vector_store: upserts are cut by count and by bytes", "[storage]") {
  grove::test::fake_pinecone_server server("pc-test-key", dim);
  auto options = options_for(server);
  SECTION("count") {
    options.max_batch_vectors = 100;
    auto store = open_store(options);
    REQUIRE(store->upsert(records(0, 250)));
    auto sizes = server.upsert_sizes();
    REQUIRE(sizes.size() == 3);
    CHECK(sizes[0].first == 100);
    CHECK(sizes[2].first == 50);
  }
  SECTION("bytes") {
    options.max_batch_bytes = 1024;
    auto store = open_store(options);
    REQUIRE(store->upsert(records(0, 100)));
    auto sizes = server.upsert_sizes();
    CHECK(sizes.size() > 5);
    for (const auto& [count, bytes] : sizes) CHECK(bytes <= 1024 + 64);  // + the envelope
  }
  CHECK(server.count() >= 100);
}

TEST_CASE("pinecone_vector_store: wrong API key is an error, never buffered", "[storage]") {
  grove::test::fake_pinecone_server server("pc-test-key", dim);
  auto options = options_for(server);
  options.api_key = "wrong";
  auto store = open_store(options);
  auto put = store->upsert(records(0, 3));
  REQUIRE_FALSE(put);
  CHECK(put.error().code == errc::remote_error);
  CHECK(put.error().message.find("401") != std::string::npos);
  CHECK(store->write_stats().buffered == 0);
  CHECK(store->write_stats().requests == 1);  // 4xx: not retried
}

// Property: while the service is down, writes are accepted into the buffer in
// order, nothing is delivered, and flush() keeps everything; once it is up,
// flush() delivers all of it and later writes win over earlier ones.
TEST_CASE("pinecone_vector_store: outage buffers writes, flush delivers them", "[storage]") {
  grove::test::fake_pinecone_server server("pc-test-key", dim);
  auto store = open_store(options_for(server));
  server.set_outage(true);

  REQUIRE(store->upsert(records(0, 5, /*tag=*/1.0f)));
  REQUIRE(store->upsert(records(0, 2, /*tag=*/9.0f)));  // newer values for id0, id1
  REQUIRE(store->remove(std::vector<std::string>{"id4"}));
  CHECK(store->write_stats().buffered == 8);
  CHECK(server.count() == 0);

  auto failed = store->flush();
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == errc::unavailable);
  CHECK(store->write_stats().buffered == 8);  // flush keeps what failed

  server.set_outage(false);
  REQUIRE(store->flush());
  CHECK(store->write_stats().buffered == 0);
  CHECK(store->write_stats().dropped == 0);
  CHECK(server.count() == 4);
  CHECK(server.values("id0")[0] == 9.0f);
  CHECK(server.values("id2")[0] == 1.0f);
  CHECK(server.values("id4").empty());
}

TEST_CASE("pinecone_vector_store: a full buffer drops by policy and counts", "[storage]") {
  grove::test::fake_pinecone_server server("pc-test-key", dim);
  auto options = options_for(server);
  options.buffer_max_entries = 5;
  options.retry.max_attempts = 1;
  server.set_outage(true);

  SECTION("drop_oldest keeps the newest five") {
    options.overflow = buffer_overflow::drop_oldest;
    auto store = open_store(options);
    REQUIRE(store->upsert(records(0, 8)));
    CHECK(store->write_stats().buffered == 5);
    CHECK(store->write_stats().dropped == 3);
    server.set_outage(false);
    REQUIRE(store->flush());
    CHECK(server.values("id0").empty());
    CHECK_FALSE(server.values("id7").empty());
  }
  SECTION("drop_newest keeps the first five") {
    options.overflow = buffer_overflow::drop_newest;
    auto store = open_store(options);
    REQUIRE(store->upsert(records(0, 8)));
    CHECK(store->write_stats().dropped == 3);
    server.set_outage(false);
    REQUIRE(store->flush());
    CHECK_FALSE(server.values("id0").empty());
    CHECK(server.values("id7").empty());
  }
  SECTION("the byte bound applies too") {
    options.buffer_max_entries = 1000;
    options.buffer_max_bytes = 300;
    auto store = open_store(options);
    REQUIRE(store->upsert(records(0, 20)));
    CHECK(store->write_stats().buffered_bytes <= 300);
    CHECK(store->write_stats().buffered + store->write_stats().dropped == 20);
  }
}

TEST_CASE("pinecone_vector_store: 429 with retry-after and 5xx are retried", "[storage]") {
  grove::test::fake_pinecone_server server("pc-test-key", dim);
  auto store = open_store(options_for(server));
  server.inject("/vectors/upsert", 429, 1, /*retry_after_s=*/0);
  server.inject("/vectors/upsert", 503, 1);
  REQUIRE(store->upsert(records(0, 3)));
  CHECK(store->write_stats().buffered == 0);
  CHECK(store->write_stats().requests == 3);
  CHECK(server.count() == 3);

  server.inject("/query", 500, 10);
  grove::storage::vector_query q;
  q.vector = {1, 0, 0, 0};
  auto failed = store->query(q);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message.find("HTTP 500") != std::string::npos);
}

TEST_CASE("pinecone_vector_store: slow responses time out into the buffer", "[storage]") {
  grove::test::fake_pinecone_server server("pc-test-key", dim);
  auto options = options_for(server);
  options.request_timeout = std::chrono::milliseconds(100);
  options.retry.max_attempts = 1;
  auto store = open_store(options);
  server.set_delay(std::chrono::milliseconds(400));
  REQUIRE(store->upsert(records(0, 2)));
  CHECK(store->write_stats().buffered == 2);
  server.set_delay(std::chrono::milliseconds(0));
  REQUIRE(store->flush());
  CHECK(store->write_stats().buffered == 0);
}

TEST_CASE("pinecone_vector_store: the spill file survives a restart", "[storage]") {
  grove::test::fake_pinecone_server server("pc-test-key", dim);
  grove::test::temp_dir dir;
  auto options = options_for(server);
  options.spill_file = dir.path() / "pinecone.spill";
  options.retry.max_attempts = 1;
  server.set_outage(true);
  {
    auto store = open_store(options);
    REQUIRE(store->upsert(records(0, 6)));
    CHECK(fs::exists(options.spill_file));
  }
  server.set_outage(false);
  auto restarted = open_store(options);
  CHECK(restarted->write_stats().buffered == 6);
  REQUIRE(restarted->flush());
  CHECK(server.count() == 6);
  CHECK_FALSE(fs::exists(options.spill_file));

  { std::ofstream(options.spill_file) << "{not json\n"; }
  auto corrupt = pinecone_vector_store::open(options);
  REQUIRE_FALSE(corrupt);
  CHECK(corrupt.error().code == errc::corrupt_data);
  CHECK(fs::exists(options.spill_file));
}

TEST_CASE("pinecone_vector_store: options are validated", "[storage]") {
  pinecone_vector_store_options options;
  options.max_batch_vectors = 0;
  auto store = pinecone_vector_store::open(options);
  REQUIRE_FALSE(store);
  for (const char* field : {"index_host", "api_key", "dimension", "max_batch_vectors"}) {
    CHECK(store.error().message.find(field) != std::string::npos);
  }
}
