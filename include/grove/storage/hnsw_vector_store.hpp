// grove/storage/hnsw_vector_store.hpp: the embedded default vector store, an
// HNSW graph index (hnswlib) per namespace, persisted to a directory.
//
// Algorithm: Hierarchical Navigable Small World graphs (Malkov and Yashunin,
// https://arxiv.org/abs/1603.09320). Each vector is a node on a random number
// of layers (geometric distribution); each layer links a node to about `m`
// near neighbours (2m on layer 0). A query descends greedily from the top
// layer and then runs a best-first search on layer 0 keeping the `ef_search`
// closest candidates; larger ef_search raises recall and latency. Cosine is
// computed as the inner product of normalised vectors (each record keeps its
// original norm so fetch() returns the values as given, up to float rounding).
// Deletes mark nodes deleted; their slots are reused by later inserts.
// Metadata filters are applied to the graph's candidates; when too few pass,
// the search widens (doubling k) up to the whole namespace, so a selective
// filter costs up to a full scan of the namespace.
//
// Directory layout (generation G increases with every save):
//   manifest.json          format, dimension, metric, graph parameters, and
//                          for every namespace its files with their byte
//                          sizes and SHA-256 checksums
//   ns<i>.<G>.hnsw         the hnswlib graph and vectors of namespace i
//   ns<i>.<G>.records      JSON: id, slot, norm and metadata of each record
//   .grove-lock            flock held while the store is open (one process)
// flush() writes the new generation's files to temporary names, fsyncs and
// renames them, then replaces manifest.json the same way and removes the
// previous generation: a crash at any point leaves a complete index. open()
// verifies every size and checksum before loading anything, so a truncated
// or corrupt index fails with errc::corrupt_data and is never modified.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "grove/storage/vector_store.hpp"

namespace spdlog {
class logger;
}

namespace grove::storage {

/// Options of hnsw_vector_store::open().
struct hnsw_vector_store_options {
  // --- Storage ---

  /// Directory of the index. Empty: in memory only (flush() does nothing).
  /// Created if missing.
  std::filesystem::path directory;
  /// fsync files and the directory on flush(). Default true.
  bool fsync = true;

  // --- Index shape (used when creating; an existing index keeps its own) ---

  /// Values per vector. Range 1-65,536. 0 when opening an existing index
  /// means "whatever it has"; a non-zero value that differs from the stored
  /// one is errc::dimension_mismatch. Default 0.
  std::size_t dimension = 0;
  /// Similarity measure. Default cosine.
  vector_metric metric = vector_metric::cosine;
  /// Links per node and layer (hnswlib M). Range 2-128. Default 32.
  /// With ef_construction 300 and ef_search 2048 this reaches recall@10 0.98
  /// on 100,000 random 384-dimensional vectors (docs/benchmarks/storage.md);
  /// M 16 needs ef_search about 8192 for 0.95 there.
  std::size_t m = 32;
  /// Candidate list size while inserting. Range >= m. Default 300.
  std::size_t ef_construction = 300;
  /// Seed of the level generator, for reproducible graphs. Default 100.
  std::uint64_t seed = 100;
  /// Slots allocated up front per namespace; the index doubles when full.
  /// Range >= 1. Default 1024.
  std::size_t initial_capacity = 1024;
  /// Threads that insert the vectors of one upsert() call (batches of fewer
  /// than 128 records use one). 1 builds the same graph for the same seed
  /// and input every time; more builds faster on more cores, but the graph
  /// then depends on thread timing (queries stay correct, results may
  /// differ slightly between builds). Range 1-64. Default 1.
  std::size_t insert_threads = 1;

  // --- Search ---

  /// Candidate list size while searching (at least top_k is used). The
  /// default is sized for recall@10 >= 0.95 on the hardest data (random
  /// vectors, 100,000 x 384: 0.98 at 2048, 0.89 at 1024), where a query
  /// costs about as much as an exact scan. Data with structure (clusters, low
  /// intrinsic dimension) usually needs far less: a large store may lower it
  /// after measuring its own recall (ef 64 is about 40x cheaper here; not
  /// measured on real embeddings). Range 1-100,000. Default 2048.
  std::size_t ef_search = 2048;

  /// Logger for open/flush events. Null: no logging.
  std::shared_ptr<spdlog::logger> logger;

  /// Reports every bad field at once. Errors: errc::invalid_argument.
  [[nodiscard]] result<void> validate() const;
};

/// vector_store over hnswlib (see the file comment).
///
/// Thread safety: all methods may be called concurrently; queries, fetches
/// and stats share a reader lock, writes and flush() take it exclusively.
/// One process at a time may open a directory.
class hnsw_vector_store final : public vector_store {
 public:
  /// Opens the index in options.directory, or creates an empty one.
  /// Errors: invalid_argument (options; dimension 0 for a new index),
  /// dimension_mismatch, corrupt_data (a file missing, truncated, failing its
  /// checksum or not parsing; nothing is modified), io_error (including a
  /// directory already open in another process).
  [[nodiscard]] static result<std::unique_ptr<hnsw_vector_store>> open(
      hnsw_vector_store_options options);

  ~hnsw_vector_store() override;
  hnsw_vector_store(const hnsw_vector_store&) = delete;
  hnsw_vector_store& operator=(const hnsw_vector_store&) = delete;

  std::size_t dimension() const override;
  result<void> upsert(std::span<const vector_record> records,
                      std::string_view name_space = {}) override;
  result<std::vector<vector_match>> query(const vector_query& query) override;
  result<std::vector<vector_record>> fetch(std::span<const std::string> ids,
                                           std::string_view name_space = {}) override;
  result<void> remove(std::span<const std::string> ids, std::string_view name_space = {}) override;
  result<std::size_t> remove_matching(const nlohmann::json& filter,
                                      std::string_view name_space = {}) override;
  result<vector_store_stats> stats() override;
  /// Saves to the directory (see the file comment). Unsaved writes are lost
  /// when the store is destroyed without flush().
  result<void> flush() override;

  /// Changes ef_search for later queries. Requires: ef >= 1.
  void set_ef_search(std::size_t ef);

  /// Bytes held by the graphs and vectors (hnswlib allocations, estimated
  /// from its layout), for memory reporting.
  std::size_t index_bytes() const;

 private:
  struct impl;
  explicit hnsw_vector_store(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace grove::storage
