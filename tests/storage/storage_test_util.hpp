// Helpers shared by the storage tests (not a test support library: only this
// suite uses them).
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "grove/llm/embedder.hpp"
#include "grove/storage/hnsw_vector_store.hpp"
#include "grove/storage/indexer.hpp"

namespace grove::test {

/// A fresh directory under the system temp dir, removed with its content on
/// destruction.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "grove-storage-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// An embedded store in `directory` and the hashing embedder at the same
/// dimension, paired the way grove-index pairs them, with the batch function
/// index_directory() takes. Fsync is off: the tests do not crash the machine.
struct hashed_store {
  hashed_store(const std::filesystem::path& directory, std::size_t dimension)
      : embedder(hashing_at(dimension)) {
    grove::storage::hnsw_vector_store_options options;
    options.directory = directory;
    options.dimension = dimension;
    options.fsync = false;
    auto opened = grove::storage::hnsw_vector_store::open(options);
    REQUIRE(opened);
    store = std::move(*opened);
  }

  grove::storage::embed_function embed_function() const {
    return
        [this](
            std::span<const std::string> texts) -> grove::result<std::vector<std::vector<float>>> {
          std::vector<std::vector<float>> out;
          for (const auto& text : texts) out.push_back(embedder.embed(text));
          return out;
        };
  }

  grove::llm::hashing_embedder embedder;
  std::unique_ptr<grove::storage::hnsw_vector_store> store;

 private:
  static grove::llm::hashing_options hashing_at(std::size_t dimension) {
    grove::llm::hashing_options options;
    options.dimension = dimension;
    return options;
  }
};

}  // namespace grove::test
