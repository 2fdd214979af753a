#include "grove/storage/indexer.hpp"

#include <catch2/catch.hpp>

#include <fstream>

#include "grove/llm/embedder.hpp"
#include "grove/storage/error.hpp"
#include "grove/storage/hnsw_vector_store.hpp"
#include "storage_test_util.hpp"

namespace fs = std::filesystem;
using grove::storage::chunk_options;
using grove::storage::chunk_text;
using grove::storage::errc;

namespace {

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string paragraphs(int count, const std::string& word) {
  std::string text;
  for (int p = 0; p < count; ++p) {
    for (int s = 0; s < 4; ++s) {
      text +=
          "The " + word + " sentence " + std::to_string(p) + "." + std::to_string(s) + " is here. ";
    }
    text += "\n\n";
  }
  return text;
}

}  // namespace

TEST_CASE("chunker: chunks respect size, boundaries, offsets and overlap", "[storage]") {
  const std::string text = paragraphs(12, "alpha");
  chunk_options options;
  options.max_chars = 300;
  options.overlap_chars = 120;
  auto chunks = chunk_text(text, options);
  REQUIRE(chunks);
  REQUIRE(chunks->size() > 3);
  for (std::size_t i = 0; i < chunks->size(); ++i) {
    const auto& c = (*chunks)[i];
    CHECK(c.text.size() <= 300);
    CHECK(text.substr(c.begin, c.end - c.begin) == c.text);
    CHECK(c.text.back() == '.');  // ends on a sentence boundary
    if (i > 0) {
      CHECK(c.begin > (*chunks)[i - 1].begin);  // always advances
      CHECK(c.begin < (*chunks)[i - 1].end);    // overlaps the previous chunk
    }
  }
  CHECK(chunks->back().end == text.find_last_not_of(" \n") + 1);  // nothing lost at the end

  SECTION("no overlap: chunks tile the text") {
    options.overlap_chars = 0;
    auto tiles = chunk_text(text, options);
    REQUIRE(tiles);
    for (std::size_t i = 1; i < tiles->size(); ++i) CHECK((*tiles)[i].begin >= (*tiles)[i - 1].end);
  }
  SECTION("a word longer than a chunk is cut hard, UTF-8 kept whole") {
    std::string word;
    for (int i = 0; i < 40; ++i) word += "\xc3\xa9";  // 80 bytes of 'é'
    options.max_chars = 16;
    options.overlap_chars = 0;
    auto cut = chunk_text(word, options);
    REQUIRE(cut);
    std::string joined;
    for (const auto& c : *cut) {
      CHECK(c.text.size() <= 16);
      CHECK(c.text.size() % 2 == 0);
      joined += c.text;
    }
    CHECK(joined == word);
  }
  CHECK(chunk_text("  \n\n  ", options)->empty());
  options.overlap_chars = 1000;
  CHECK(chunk_text(text, options).error().code == errc::invalid_argument);
}

TEST_CASE("indexer: indexes, skips unchanged files and replaces changed ones", "[storage]") {
  grove::test::temp_dir dir;
  const fs::path docs = dir.path() / "docs";
  write_file(docs / "alpha.md", paragraphs(10, "alpha"));
  write_file(docs / "sub/beta.txt", paragraphs(3, "beta"));
  write_file(docs / "ignored.bin", "not text");

  grove::test::hashed_store hashed(dir.path() / "store", 64);
  auto& store = hashed.store;
  const auto& embedder = hashed.embedder;
  const auto embed = hashed.embed_function();
  grove::storage::index_options options;
  options.chunking.max_chars = 200;
  options.chunking.overlap_chars = 50;
  std::size_t progress_calls = 0;
  options.progress = [&](std::size_t, std::size_t total, const fs::path&) {
    ++progress_calls;
    CHECK(total == 2);
  };

  auto first = grove::storage::index_directory(docs, *store, embed, options);
  REQUIRE(first);
  CHECK(first->files_seen == 2);
  CHECK(first->files_indexed == 2);
  CHECK(progress_calls == 2);
  const std::size_t total = store->stats()->total_vectors;
  CHECK(total == first->chunks_written);

  // Retrieval finds the file a query is about, with offsets into it.
  grove::storage::vector_query q;
  q.vector = embedder.embed("The beta sentence 1.2 is here.");
  q.top_k = 1;
  auto hit = store->query(q);
  REQUIRE(hit);
  REQUIRE(hit->size() == 1);
  CHECK(hit->front().metadata["source"] == "sub/beta.txt");
  const std::string beta = paragraphs(3, "beta");
  const auto begin = hit->front().metadata["begin"].get<std::size_t>();
  const auto end = hit->front().metadata["end"].get<std::size_t>();
  CHECK(beta.substr(begin, end - begin) == hit->front().metadata["text"]);

  SECTION("unchanged files are skipped") {
    auto again = grove::storage::index_directory(docs, *store, embed, options);
    REQUIRE(again);
    CHECK(again->files_unchanged == 2);
    CHECK(again->chunks_written == 0);
    CHECK(store->stats()->total_vectors == total);
  }
  SECTION("a changed file's chunks are replaced, not added") {
    write_file(docs / "alpha.md", paragraphs(1, "gamma"));
    auto again = grove::storage::index_directory(docs, *store, embed, options);
    REQUIRE(again);
    CHECK(again->files_indexed == 1);
    CHECK(again->files_unchanged == 1);
    CHECK(store->stats()->total_vectors < total);  // ten paragraphs became one
    q.vector = embedder.embed("The alpha sentence 7.1 is here.");
    q.top_k = 50;
    q.filter = {{"source", "alpha.md"}};
    auto alpha = store->query(q);
    REQUIRE(alpha);
    CHECK(alpha->size() == again->chunks_written);
    for (const auto& m : *alpha)
      CHECK(m.metadata["text"].get<std::string>().find("gamma") != std::string::npos);
  }
  CHECK(grove::storage::index_directory(dir.path() / "missing", *store, embed, options)
            .error()
            .code == errc::invalid_argument);
}

TEST_CASE("indexer: reindexing removes the chunks of deleted files", "[storage]") {
  grove::test::temp_dir dir;
  const fs::path docs = dir.path() / "docs";
  write_file(docs / "keep.md", paragraphs(3, "keep"));
  write_file(docs / "gone.md", paragraphs(4, "gone"));
  write_file(docs / "sub/also-gone.txt", paragraphs(2, "also"));

  grove::test::hashed_store hashed(dir.path() / "store", 64);
  auto& store = hashed.store;
  const auto& embedder = hashed.embedder;
  const auto embed = hashed.embed_function();
  grove::storage::index_options options;
  options.chunking.max_chars = 200;
  options.chunking.overlap_chars = 0;
  options.sources_file = dir.path() / "store/grove-index-sources.json";

  auto first = grove::storage::index_directory(docs, *store, embed, options);
  REQUIRE(first);
  CHECK(first->removed_sources.empty());
  auto count_of = [&](const std::string& source) {
    grove::storage::vector_query q;
    q.vector = embedder.embed("sentence");
    q.top_k = 1000;
    q.filter = {{"source", source}};
    return store->query(q)->size();
  };
  const std::size_t gone_chunks = count_of("gone.md") + count_of("sub/also-gone.txt");
  REQUIRE(gone_chunks > 0);
  const std::size_t total = store->stats()->total_vectors;

  fs::remove(docs / "gone.md");
  fs::remove_all(docs / "sub");
  auto second = grove::storage::index_directory(docs, *store, embed, options);
  REQUIRE(second);
  CHECK(second->removed_sources == std::vector<std::string>{"gone.md", "sub/also-gone.txt"});
  CHECK(second->chunks_removed == gone_chunks);
  CHECK(second->files_unchanged == 1);
  CHECK(count_of("gone.md") == 0);
  CHECK(count_of("sub/also-gone.txt") == 0);
  CHECK(store->stats()->total_vectors == total - gone_chunks);

  // The removal was saved, and the next run has nothing more to remove.
  store.reset();  // closes the store, releasing its directory lock
  store = std::move(grove::test::hashed_store(dir.path() / "store", 64).store);
  CHECK(store->stats()->total_vectors == total - gone_chunks);
  auto third = grove::storage::index_directory(docs, *store, embed, options);
  REQUIRE(third);
  CHECK(third->removed_sources.empty());

  // A damaged sources file stops the run before anything changes.
  write_file(options.sources_file, "{not json");
  auto damaged = grove::storage::index_directory(docs, *store, embed, options);
  REQUIRE_FALSE(damaged);
  CHECK(damaged.error().code == errc::corrupt_data);
}
