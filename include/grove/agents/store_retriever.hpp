// grove/agents/store_retriever.hpp: retrieval (RAG) for the pipeline from a
// vector store and an embedder.
//
// retrieve(question, top_k): embed the question with the embedder, query the
// store for the top_k nearest chunks (namespace and metadata filter from the
// options), and turn each match into a context_passage:
//   text    the chunk's metadata "text", cut to max_passage_bytes (at a UTF-8
//           character boundary) when longer;
//   source  "<metadata source>:<begin>-<end>" (file and byte offsets, as
//           grove-index stores them; storage/indexer.hpp), or the record id
//           when the metadata has no source;
//   score   the store's similarity.
// Matches below min_score and matches without text are left out. The store
// call blocks (vector_store.hpp), so it runs on the retriever's own thread,
// never on the caller's event loop.
//
// Failures (the embedder's or the store's) are returned as errors, logged
// and counted (stats()); the pipeline then answers without context and says
// so in its result (pipeline.hpp).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "grove/agents/pipeline.hpp"
#include "grove/runtime/result.hpp"

namespace spdlog {
class logger;
}
namespace grove::llm {
class embedder;
}
namespace grove::storage {
class vector_store;
}

namespace grove::agents {

/// Settings of store_retriever.
struct store_retriever_options {
  /// Namespace searched. Default "" (the store's default namespace).
  std::string name_space{};
  /// Metadata equality filter (storage/vector_store.hpp); null: none.
  nlohmann::json filter{};
  /// Matches scoring below this are dropped. Default -1 (keep all; cosine
  /// scores are in -1..1). Range: finite.
  double min_score = -1.0;
  /// Longest passage text handed to the agents, in bytes. Default 2,000;
  /// range 16..1,000,000.
  std::size_t max_passage_bytes = 2000;
  /// Failures are logged here as warnings (null: not logged).
  std::shared_ptr<spdlog::logger> logger{};

  /// Every bad field at once (errc::invalid_options of grove::runtime).
  [[nodiscard]] grove::result<void> validate() const;
};

/// Counters of a store_retriever (monotonic).
struct store_retriever_stats {
  std::uint64_t requests = 0;
  /// Requests that returned an error (embedder or store).
  std::uint64_t failures = 0;
  /// Passages returned in total.
  std::uint64_t passages = 0;
};

/// Vector store + embedder -> retriever (see the file comment).
///
/// Ownership: shares the store and the embedder. Thread safety: retrieve()
/// may run concurrently from any number of requests; stats() at any time.
class store_retriever : public std::enable_shared_from_this<store_retriever> {
 public:
  /// Errors: invalid options, a null store or embedder, or an embedder whose
  /// dimension differs from the store's (errc::invalid_options).
  [[nodiscard]] static grove::result<std::shared_ptr<store_retriever>> create(
      std::shared_ptr<storage::vector_store> store, std::shared_ptr<llm::embedder> embedder,
      store_retriever_options options = {});

  ~store_retriever();
  store_retriever(const store_retriever&) = delete;
  store_retriever& operator=(const store_retriever&) = delete;

  /// Up to top_k passages for the question, best first.
  /// Requires: top_k >= 1. Errors: the embedder's or the store's.
  boost::asio::awaitable<grove::result<std::vector<context_passage>>> retrieve(std::string question,
                                                                               std::size_t top_k);

  /// A pipeline_options::retrieve calling retrieve(); it keeps this object alive.
  retriever as_retriever();

  store_retriever_stats stats() const;

 private:
  struct impl;
  explicit store_retriever(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace grove::agents
