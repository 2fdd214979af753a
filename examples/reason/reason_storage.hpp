// grove-reason's storage options: retrieval from a vector store (--store) and
// artifacts in an object store (--artifacts).
//
// --store PATH opens the embedded vector store that grove-index wrote and
// wires a grove::agents::store_retriever (same feature-hashing embedder, of
// the store's dimension) into the pipeline: HRM and TRM get the top-k chunks
// as context, and the result lists each source as file:begin-end.
//
// --artifacts URI stores, for every answered question (batch mode too),
//   <prefix><run>/<question id>/result.json   the result (to_json)
//   <prefix><run>/<question id>/trace.json    the event trace and node steps
//   <prefix><run>/<question id>/tree.dot      the strategy tree (Graphviz)
// where <run> is the start time in UTC plus the process id
// (20261204T193000Z-1234) and the question id is "1" for a single question,
// the line's id in batch mode (characters other than [A-Za-z0-9._-] become
// '_'). URI is a directory (filesystem_object_store) or
// s3://bucket[/prefix] (s3_object_store; endpoint, region and credentials
// from s3_settings, else AWS_ENDPOINT_URL, AWS_REGION / AWS_DEFAULT_REGION,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "grove/agents/pipeline.hpp"
#include "grove/agents/store_retriever.hpp"
#include "grove/agents/trace.hpp"
#include "grove/runtime/result.hpp"

namespace grove::storage {
class object_store;
}

namespace grove::reason {

/// Opens the vector store directory and returns its retriever. `top_k` is
/// written to pipeline.retrieve_top_k by the caller.
/// Errors: the store cannot be opened (missing, corrupt, locked, empty
/// directory: "run grove-index first"), or the retriever's.
[[nodiscard]] grove::result<std::shared_ptr<agents::store_retriever>> open_store_retriever(
    const std::string& store_path, std::shared_ptr<spdlog::logger> logger = {});

/// S3 settings for --artifacts s3://...; empty fields come from the
/// environment (see the file comment).
struct s3_settings {
  /// Service URL, e.g. http://127.0.0.1:4568. Empty: AWS_ENDPOINT_URL, else AWS.
  std::string endpoint{};
  /// Signing region. Empty: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
  std::string region{};
  std::string access_key_id{};
  std::string secret_access_key{};
  std::string session_token{};
  /// Path-style addressing (self-hosted servers); default virtual-hosted.
  bool path_style = false;
};

/// Where the artifacts of a run go.
///
/// Thread safety: save() may be called from one thread at a time (grove-reason
/// calls it from its event loop).
class artifact_writer {
 public:
  /// Opens the store named by `uri` (see the file comment). Nothing is written.
  /// Errors: an empty or unsupported URI (s3:// without a bucket), the
  /// store's options or open errors.
  [[nodiscard]] static grove::result<std::unique_ptr<artifact_writer>> open(
      const std::string& uri, const s3_settings& s3 = {});

  ~artifact_writer();
  artifact_writer(const artifact_writer&) = delete;
  artifact_writer& operator=(const artifact_writer&) = delete;

  /// Stores the three artifacts of one question. Errors: the store's (the
  /// first failed put; the others are still attempted).
  [[nodiscard]] grove::result<void> save(const std::string& question_id,
                                         const agents::request_result& result,
                                         const agents::request_trace& trace);

  /// The key prefix of this run ("<prefix><run>/").
  const std::string& run_prefix() const noexcept { return run_prefix_; }

  /// Where this run's artifacts go, for people: "DIR/<run>/" or
  /// "s3://bucket/<prefix><run>/".
  const std::string& location() const noexcept { return location_; }

 private:
  artifact_writer(std::unique_ptr<storage::object_store> store, std::string run_prefix,
                  std::string location);
  std::unique_ptr<storage::object_store> store_;
  std::string run_prefix_;
  std::string location_;
};

}  // namespace grove::reason
