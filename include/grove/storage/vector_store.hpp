// grove/storage/vector_store.hpp: the vector store interface.
//
// A vector store keeps fixed-dimension float vectors under string ids, each
// with a JSON metadata object, grouped in namespaces, and answers top-k
// similarity queries with an optional metadata filter. Implementations:
//   - hnsw_vector_store (hnsw_vector_store.hpp), the default: an embedded
//     HNSW index persisted to a directory, no network;
//   - pinecone_vector_store (pinecone_vector_store.hpp): Pinecone's REST data
//     plane.
// Retrieval (RAG) for the agents and the grove-index ingestion tool use it.
//
// Scores: higher is more similar. Cosine metric: cosine similarity in [-1, 1];
// inner-product metric: the dot product.
//
// Metadata filter: a JSON object whose members must all equal the record's
// metadata members of the same name, e.g. {"source": "a.md", "lang": "en"}.
// A member may also be written {"$eq": value} (Pinecone's form). Other
// operators are rejected with errc::invalid_argument.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "grove/runtime/result.hpp"

namespace grove::storage {

/// Similarity measure of a store.
enum class vector_metric {
  /// Cosine similarity; vectors are normalised on the way in.
  cosine,
  /// Dot product of the vectors as given.
  inner_product,
};

/// One stored vector.
struct vector_record {
  /// Unique within its namespace; 1-512 bytes.
  std::string id;
  /// Exactly dimension() values; finite.
  std::vector<float> values;
  /// A JSON object (or null for none).
  nlohmann::json metadata;
};

/// Parameters of vector_store::query().
struct vector_query {
  /// The query vector; exactly dimension() values.
  std::vector<float> vector;
  /// Most matches returned. Range 1-10,000. Default 10.
  std::size_t top_k = 10;
  /// Namespace searched. Default "" (the default namespace).
  std::string name_space;
  /// Equality filter on metadata (see the file comment); null for none.
  nlohmann::json filter;
  /// Return each match's values. Default false.
  bool include_values = false;
  /// Return each match's metadata. Default true.
  bool include_metadata = true;
};

/// One query result.
struct vector_match {
  std::string id;
  /// Similarity; higher is closer (see the file comment).
  float score = 0;
  /// Empty unless vector_query::include_values.
  std::vector<float> values;
  /// Null unless vector_query::include_metadata.
  nlohmann::json metadata;
};

/// What a store holds.
struct vector_store_stats {
  std::size_t dimension = 0;
  /// Live vectors across all namespaces.
  std::size_t total_vectors = 0;
  /// Live vectors per namespace.
  std::map<std::string, std::size_t> namespaces;
};

/// A store of vectors by id.
///
/// Thread safety: every method may be called concurrently from any thread.
/// Calls block until done; async callers should run them off their event loop.
class vector_store {
 public:
  virtual ~vector_store() = default;

  /// Number of values in every vector of this store.
  virtual std::size_t dimension() const = 0;

  /// Inserts or replaces `records` in namespace `name_space`.
  /// Errors: dimension_mismatch (names the record), invalid_argument (empty
  /// or duplicate id, non-finite value, metadata not an object, a zero vector
  /// under the cosine metric), capacity_exceeded, io_error, remote_error,
  /// unavailable. On error nothing from this call is stored, except where the
  /// implementation says otherwise (a remote store may have stored earlier
  /// batches).
  [[nodiscard]] virtual result<void> upsert(std::span<const vector_record> records,
                                            std::string_view name_space = {}) = 0;

  /// The top_k records most similar to query.vector that pass the filter,
  /// best first. Fewer when fewer match.
  /// Errors: dimension_mismatch, invalid_argument (top_k out of range, bad
  /// filter), remote_error, unavailable.
  [[nodiscard]] virtual result<std::vector<vector_match>> query(const vector_query& query) = 0;

  /// Records with these ids (missing ids are left out of the result).
  /// Errors: remote_error, unavailable.
  [[nodiscard]] virtual result<std::vector<vector_record>> fetch(
      std::span<const std::string> ids, std::string_view name_space = {}) = 0;

  /// Deletes these ids; missing ids are ignored.
  /// Errors: io_error, remote_error, unavailable.
  [[nodiscard]] virtual result<void> remove(std::span<const std::string> ids,
                                            std::string_view name_space = {}) = 0;

  /// Deletes every record of `name_space` whose metadata passes `filter`
  /// (used to replace the chunks of a re-indexed file).
  /// Errors: invalid_argument (bad filter), io_error, remote_error, unavailable.
  [[nodiscard]] virtual result<std::size_t> remove_matching(const nlohmann::json& filter,
                                                            std::string_view name_space = {}) = 0;

  /// Counts per namespace. Errors: remote_error, unavailable.
  [[nodiscard]] virtual result<vector_store_stats> stats() = 0;

  /// Makes every accepted write durable: the embedded store saves its
  /// directory, a remote store delivers its buffered writes.
  /// Errors: io_error, remote_error, unavailable.
  [[nodiscard]] virtual result<void> flush() = 0;
};

/// True when `metadata` passes `filter` (see the file comment). Requires: the
/// filter was accepted by validate_filter().
bool matches_filter(const nlohmann::json& metadata, const nlohmann::json& filter);

/// Checks a filter's shape. Errors: errc::invalid_argument naming the member.
[[nodiscard]] result<void> validate_filter(const nlohmann::json& filter);

/// Checks dimension, values and ids of records against a store's dimension.
/// Errors: dimension_mismatch or invalid_argument naming the record index and id.
[[nodiscard]] result<void> validate_records(std::span<const vector_record> records,
                                            std::size_t dimension);

}  // namespace grove::storage
