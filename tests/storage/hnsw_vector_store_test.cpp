#include "grove/storage/hnsw_vector_store.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <random>

#include "grove/storage/error.hpp"
#include "grove/storage/sigv4.hpp"
#include "storage_test_util.hpp"

namespace fs = std::filesystem;
using grove::storage::errc;
using grove::storage::hnsw_vector_store;
using grove::storage::vector_metric;
using grove::storage::vector_query;
using grove::storage::vector_record;

namespace {

std::unique_ptr<hnsw_vector_store> open_store(std::size_t dimension, fs::path dir = {},
                                              vector_metric metric = vector_metric::cosine) {
  grove::storage::hnsw_vector_store_options options;
  options.directory = std::move(dir);
  options.dimension = dimension;
  options.metric = metric;
  options.fsync = false;
  options.initial_capacity = 4;  // forces several resizes in the tests
  auto store = hnsw_vector_store::open(options);
  REQUIRE(store);
  return std::move(*store);
}

std::vector<float> random_vector(std::mt19937& rng, std::size_t dim) {
  std::normal_distribution<float> normal;
  std::vector<float> v(dim);
  for (float& x : v) x = normal(rng);
  return v;
}

vector_query query_for(std::vector<float> v, std::size_t k) {
  vector_query q;
  q.vector = std::move(v);
  q.top_k = k;
  return q;
}

// prefix + i, built without `const char* + std::string&&`, which makes
// g++ 12 -O3 report a false -Wrestrict (GCC bug 105329).
std::string numbered(const char* prefix, int i) {
  std::string id(prefix);
  id += std::to_string(i);
  return id;
}

std::string file_digest(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return grove::storage::sigv4::sha256_hex(std::string_view(bytes));
}

fs::path file_with_suffix(const fs::path& dir, std::string_view suffix) {
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().ends_with(suffix)) return e.path();
  }
  FAIL("no file ending in " << suffix);
  return {};
}

}  // namespace

TEST_CASE("hnsw_vector_store: upsert, query, fetch, stats", "[storage]") {
  auto store = open_store(3);
  std::vector<vector_record> records = {
      {"a", {1, 0, 0}, {{"source", "a.md"}, {"n", 1}}},
      {"b", {0, 2, 0}, {{"source", "b.md"}}},
      {"c", {0, 0, 3}, nullptr},
      {"ab", {1, 1, 0}, {{"source", "a.md"}}},
  };
  REQUIRE(store->upsert(records));

  auto matches = store->query(query_for({0.9f, 0.1f, 0}, 2));
  REQUIRE(matches);
  REQUIRE(matches->size() == 2);
  CHECK((*matches)[0].id == "a");
  CHECK((*matches)[1].id == "ab");
  CHECK((*matches)[0].score > (*matches)[1].score);
  CHECK((*matches)[0].metadata["source"] == "a.md");
  CHECK((*matches)[0].values.empty());

  auto fetched = store->fetch(std::vector<std::string>{"b", "missing"});
  REQUIRE(fetched);
  REQUIRE(fetched->size() == 1);
  CHECK(fetched->front().values[1] == Approx(2.0f));  // original length restored

  auto stats = store->stats();
  REQUIRE(stats);
  CHECK(stats->dimension == 3);
  CHECK(stats->total_vectors == 4);
  CHECK(stats->namespaces.at("") == 4);

  SECTION("an upsert of an existing id replaces vector and metadata") {
    REQUIRE(store->upsert(std::vector<vector_record>{{"a", {0, 0, -1}, {{"v", 2}}}}));
    auto top = store->query(query_for({0, 0, -1}, 1));
    REQUIRE(top);
    CHECK(top->front().id == "a");
    CHECK(top->front().score == Approx(1.0f));
    CHECK(top->front().metadata == nlohmann::json{{"v", 2}});
    CHECK(store->stats()->total_vectors == 4);
  }
  SECTION("removed ids disappear and their slots are reused") {
    REQUIRE(store->remove(std::vector<std::string>{"a", "nope"}));
    auto top = store->query(query_for({1, 0, 0}, 4));
    REQUIRE(top);
    CHECK(top->size() == 3);
    CHECK(std::none_of(top->begin(), top->end(), [](const auto& m) { return m.id == "a"; }));
    REQUIRE(store->upsert(std::vector<vector_record>{{"d", {1, 0, 0.1f}, nullptr}}));
    CHECK(store->query(query_for({1, 0, 0}, 1))->front().id == "d");
    CHECK(store->stats()->total_vectors == 4);
  }
  SECTION("include_values and no metadata") {
    vector_query q = query_for({0, 0, 1}, 1);
    q.include_values = true;
    q.include_metadata = false;
    auto top = store->query(q);
    REQUIRE(top);
    REQUIRE(top->front().values.size() == 3);
    CHECK(top->front().values[2] == Approx(3.0f));
    CHECK(top->front().metadata.is_null());
  }
}

TEST_CASE("hnsw_vector_store: dimensions are checked on every call", "[storage]") {
  auto store = open_store(4);
  auto bad = store->upsert(
      std::vector<vector_record>{{"ok", {1, 2, 3, 4}, nullptr}, {"short", {1, 2, 3}, nullptr}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::dimension_mismatch);
  CHECK(bad.error().message.find("3 values") != std::string::npos);
  CHECK(bad.error().context.find("records[1] id \"short\"") != std::string::npos);
  CHECK(store->stats()->total_vectors == 0);  // nothing from the failed batch

  auto q = store->query(query_for({1, 2}, 1));
  REQUIRE_FALSE(q);
  CHECK(q.error().code == errc::dimension_mismatch);

  CHECK(store->upsert(std::vector<vector_record>{{"z", {0, 0, 0, 0}, nullptr}}).error().code ==
        errc::invalid_argument);
  CHECK(store->upsert(std::vector<vector_record>{{"n", {NAN, 0, 0, 1}, nullptr}}).error().code ==
        errc::invalid_argument);
  CHECK(store->upsert(std::vector<vector_record>{{"", {1, 0, 0, 1}, nullptr}}).error().code ==
        errc::invalid_argument);
  CHECK(store->upsert(std::vector<vector_record>{{"m", {1, 0, 0, 1}, nlohmann::json::array()}})
            .error()
            .code == errc::invalid_argument);
  CHECK(store->query(query_for({1, 0, 0, 0}, 0)).error().code == errc::invalid_argument);

  grove::storage::hnsw_vector_store_options none;
  auto no_dimension = hnsw_vector_store::open(none);
  REQUIRE_FALSE(no_dimension);
  CHECK(no_dimension.error().message.find("dimension") != std::string::npos);
  none.m = 1;
  none.ef_search = 0;
  auto bad_options = hnsw_vector_store::open(none);
  REQUIRE_FALSE(bad_options);
  CHECK(bad_options.error().message.find("m must be") != std::string::npos);
  CHECK(bad_options.error().message.find("ef_search") != std::string::npos);
}

TEST_CASE("hnsw_vector_store: namespaces and metadata filters", "[storage]") {
  auto store = open_store(2);
  REQUIRE(store->upsert(std::vector<vector_record>{{"x1", {1, 0}, {{"kind", "x"}, {"n", 1}}},
                                                   {"y1", {1, 0.1f}, {{"kind", "y"}, {"n", 1}}},
                                                   {"y2", {1, 0.2f}, {{"kind", "y"}, {"n", 2}}}}));
  REQUIRE(store->upsert(std::vector<vector_record>{{"x1", {0, 1}, {{"kind", "other"}}}}, "ns2"));

  vector_query q = query_for({1, 0}, 10);
  q.filter = {{"kind", "y"}};
  auto ys = store->query(q);
  REQUIRE(ys);
  REQUIRE(ys->size() == 2);
  CHECK((*ys)[0].id == "y1");

  q.filter = {{"kind", {{"$eq", "y"}}}, {"n", 2}};
  auto y2 = store->query(q);
  REQUIRE(y2);
  REQUIRE(y2->size() == 1);
  CHECK(y2->front().id == "y2");

  q.filter = {{"n", {{"$gt", 1}}}};
  auto unsupported = store->query(q);
  REQUIRE_FALSE(unsupported);
  CHECK(unsupported.error().message.find("only equality") != std::string::npos);

  q.filter = nullptr;
  q.name_space = "ns2";
  auto other = store->query(q);
  REQUIRE(other);
  REQUIRE(other->size() == 1);
  CHECK(other->front().metadata["kind"] == "other");
  q.name_space = "missing";
  CHECK(store->query(q)->empty());

  auto removed = store->remove_matching({{"kind", "y"}});
  REQUIRE(removed);
  CHECK(*removed == 2);
  CHECK(store->stats()->namespaces.at("") == 1);
  CHECK(store->stats()->namespaces.at("ns2") == 1);
}

TEST_CASE("hnsw_vector_store: a selective filter still finds its matches", "[storage]") {
  // 500 vectors, 3 of them tagged: the filtered search must widen past the
  // first candidates until it finds all three.
  auto store = open_store(16);
  std::mt19937 rng(3);
  std::vector<vector_record> records;
  for (int i = 0; i < 500; ++i) {
    nlohmann::json meta = {{"tag", i % 200 == 7 ? "rare" : "common"}};
    records.push_back({numbered("v", i), random_vector(rng, 16), meta});
  }
  REQUIRE(store->upsert(records));
  vector_query q = query_for(random_vector(rng, 16), 5);
  q.filter = {{"tag", "rare"}};
  auto rare = store->query(q);
  REQUIRE(rare);
  CHECK(rare->size() == 3);
}

TEST_CASE("hnsw_vector_store: inner product scores are dot products", "[storage]") {
  auto store = open_store(2, {}, vector_metric::inner_product);
  REQUIRE(
      store->upsert(std::vector<vector_record>{{"a", {2, 0}, nullptr}, {"b", {1, 1}, nullptr}}));
  auto top = store->query(query_for({3, 0}, 2));
  REQUIRE(top);
  CHECK(top->front().id == "a");
  CHECK(top->front().score == Approx(6.0f));
  CHECK((*top)[1].score == Approx(3.0f));
}

TEST_CASE("hnsw_vector_store: recall against brute force on random vectors", "[storage]") {
  constexpr std::size_t dim = 32;
  constexpr int n = 3000;
  auto store = open_store(dim);
  std::mt19937 rng(11);
  std::vector<vector_record> records;
  for (int i = 0; i < n; ++i) records.push_back({std::to_string(i), random_vector(rng, dim), {}});
  REQUIRE(store->upsert(records));

  auto cosine = [&](const std::vector<float>& a, const std::vector<float>& b) {
    double dot = 0, na = 0, nb = 0;
    for (std::size_t d = 0; d < dim; ++d) {
      dot += a[d] * b[d];
      na += a[d] * a[d];
      nb += b[d] * b[d];
    }
    return dot / std::sqrt(na * nb);
  };
  int hits = 0;
  const int queries = 50;
  for (int qi = 0; qi < queries; ++qi) {
    std::vector<float> v = random_vector(rng, dim);
    std::vector<std::pair<double, int>> exact;
    for (int i = 0; i < n; ++i) exact.emplace_back(-cosine(v, records[i].values), i);
    std::partial_sort(exact.begin(), exact.begin() + 10, exact.end());
    auto found = store->query(query_for(v, 10));
    REQUIRE(found);
    for (int j = 0; j < 10; ++j) {
      std::string id = std::to_string(exact[j].second);
      hits += std::any_of(found->begin(), found->end(), [&](const auto& m) { return m.id == id; });
    }
  }
  CHECK(hits >= queries * 10 * 9 / 10);  // recall@10 >= 0.9
}

TEST_CASE("hnsw_vector_store: several insert threads build one searchable graph", "[storage]") {
  grove::storage::hnsw_vector_store_options options;
  options.dimension = 16;
  options.insert_threads = 4;
  options.initial_capacity = 8;
  auto opened = hnsw_vector_store::open(options);
  REQUIRE(opened);
  auto& store = *opened;
  std::mt19937 rng(5);
  std::vector<vector_record> records;
  for (int i = 0; i < 2000; ++i) records.push_back({numbered("t", i), random_vector(rng, 16), {}});
  REQUIRE(store->upsert(records));
  // Replacing half of them (updates in place) also runs on several threads.
  for (int i = 0; i < 1000; ++i) records[i].values = random_vector(rng, 16);
  REQUIRE(store->upsert(std::span(records).first(1000)));
  CHECK(store->stats()->total_vectors == 2000);

  int found_itself = 0;
  for (const auto& r : records) {
    auto top = store->query(query_for(r.values, 1));
    REQUIRE(top);
    found_itself += !top->empty() && top->front().id == r.id;
  }
  CHECK(found_itself >= 1980);  // each vector is its own nearest neighbour

  options.insert_threads = 0;
  CHECK_FALSE(hnsw_vector_store::open(options));
}

TEST_CASE("hnsw_vector_store: flush persists and reopen restores", "[storage]") {
  grove::test::temp_dir dir;
  std::mt19937 rng(5);
  std::vector<float> probe = random_vector(rng, 8);
  std::vector<std::string> before;
  {
    auto store = open_store(8, dir.path());
    std::vector<vector_record> records;
    for (int i = 0; i < 100; ++i) {
      records.push_back({numbered("id", i), random_vector(rng, 8), {{"i", i}}});
    }
    REQUIRE(store->upsert(records));
    REQUIRE(store->upsert(std::vector<vector_record>{{"other", probe, nullptr}}, "second"));
    REQUIRE(store->remove(std::vector<std::string>{"id3", "id4"}));
    REQUIRE(store->flush());
    REQUIRE(store->flush());  // a second generation replaces the first

    SECTION("a second opener of the directory is refused") {
      grove::storage::hnsw_vector_store_options same;
      same.directory = dir.path();
      auto second = hnsw_vector_store::open(same);
      REQUIRE_FALSE(second);
      CHECK(second.error().message.find("another process") != std::string::npos);
    }
    auto top = store->query(query_for(probe, 10));
    REQUIRE(top);
    for (const auto& m : *top) before.push_back(m.id);
  }
  int hnsw_files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    hnsw_files += e.path().extension() == ".hnsw";
    CHECK(e.path().extension() != ".tmp");
  }
  CHECK(hnsw_files == 2);  // one per namespace, old generation removed

  grove::storage::hnsw_vector_store_options options;
  options.directory = dir.path();  // dimension 0: take it from the index
  auto reopened = hnsw_vector_store::open(options);
  REQUIRE(reopened);
  auto& store = **reopened;
  CHECK(store.dimension() == 8);
  CHECK(store.stats()->namespaces.at("") == 98);
  std::vector<std::string> after;
  auto top = store.query(query_for(probe, 10));
  REQUIRE(top);
  for (const auto& m : *top) after.push_back(m.id);
  CHECK(after == before);
  CHECK(store.fetch(std::vector<std::string>{"id5"})->front().metadata["i"] == 5);
  CHECK(store.fetch(std::vector<std::string>{"other"}, "second")->size() == 1);
  // Deleted slots come back as free slots: an insert reuses one.
  REQUIRE(store.upsert(std::vector<vector_record>{{"new", probe, nullptr}}));
  CHECK(store.stats()->namespaces.at("") == 99);
  reopened->reset();

  options.dimension = 9;
  auto wrong = hnsw_vector_store::open(options);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == errc::dimension_mismatch);
}

TEST_CASE("hnsw_vector_store: a damaged index fails to open and is left as it was", "[storage]") {
  grove::test::temp_dir dir;
  {
    auto store = open_store(4, dir.path());
    std::mt19937 rng(9);
    std::vector<vector_record> records;
    for (int i = 0; i < 50; ++i) records.push_back({std::to_string(i), random_vector(rng, 4), {}});
    REQUIRE(store->upsert(records));
    REQUIRE(store->flush());
  }
  grove::storage::hnsw_vector_store_options options;
  options.directory = dir.path();

  auto expect_corrupt = [&](const fs::path& damaged, const std::string& phrase) {
    const std::string digest = file_digest(damaged);
    const auto size = fs::file_size(damaged);
    auto opened = hnsw_vector_store::open(options);
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code == errc::corrupt_data);
    CHECK(opened.error().message.find(phrase) != std::string::npos);
    CHECK(opened.error().context.find(damaged.filename().string()) != std::string::npos);
    CHECK(fs::file_size(damaged) == size);
    CHECK(file_digest(damaged) == digest);
  };

  SECTION("truncated graph") {
    fs::path graph = file_with_suffix(dir.path(), ".hnsw");
    fs::resize_file(graph, fs::file_size(graph) / 2);
    expect_corrupt(graph, "bytes, the manifest says");
  }
  SECTION("flipped byte in the records") {
    fs::path records = file_with_suffix(dir.path(), ".records");
    std::fstream f(records, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put('#');
    f.close();
    expect_corrupt(records, "checksum");
  }
  SECTION("truncated manifest") {
    fs::path manifest = dir.path() / "manifest.json";
    fs::resize_file(manifest, 20);
    expect_corrupt(manifest, "does not parse");
  }
  SECTION("missing graph file") {
    fs::path graph = file_with_suffix(dir.path(), ".hnsw");
    fs::remove(graph);
    auto opened = hnsw_vector_store::open(options);
    REQUIRE_FALSE(opened);
    CHECK(opened.error().message.find("missing") != std::string::npos);
  }
}
