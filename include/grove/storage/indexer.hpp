// grove/storage/indexer.hpp: indexing a directory of text and Markdown files
// into a vector store (what grove-index runs).
//
// For each .txt and .md file under the directory (recursively, in path
// order): read it, hash it (SHA-256), and compare the hash and the chunk
// settings with those stored in the metadata of its first chunk. An unchanged
// file (same content, same settings) is skipped. A new or changed
// file is chunked (chunker.hpp), its old chunks are removed (remove_matching
// on its source path) and the new ones are embedded and upserted with ids
// "<path>#<n>" and metadata
//   {"source": path relative to the directory, "sha256": file hash,
//    "chunking": "<max_chars>/<overlap_chars>",
//    "chunk": n, "chunks": count, "begin": byte offset, "end": byte offset,
//    "text": the chunk}.
// Files that were indexed by the previous run but are gone now (deleted,
// renamed, or no longer matching the extensions) lose their chunks: the
// sources of each run are kept in options.sources_file (JSON, per
// namespace), and every source listed there but not seen now is removed with
// remove_matching({"source": path}). The store is flushed, then the sources
// file is replaced (temporary file + rename), so a crash in between only
// repeats the removal next time. Without a sources file (empty option, or
// the first run) nothing is removed.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "grove/storage/chunker.hpp"
#include "grove/storage/vector_store.hpp"

namespace grove::storage {

/// Turns texts into vectors of the store's dimension (for example
/// grove::llm::hashing_embedder::embed applied to each text).
using embed_function =
    std::function<result<std::vector<std::vector<float>>>(std::span<const std::string> texts)>;

/// Options of index_directory().
struct index_options {
  /// Chunk sizes.
  chunk_options chunking;
  /// File name suffixes indexed (compared case-insensitively). Default .txt, .md.
  std::vector<std::string> extensions = {".txt", ".md"};
  /// Namespace written. Default "".
  std::string name_space;
  /// Texts per embed call. Range >= 1. Default 64.
  std::size_t embed_batch = 64;
  /// Where the sources of the last run are kept (see the file comment);
  /// grove-index uses "<store directory>/grove-index-sources.json". Empty:
  /// chunks of deleted files are not tracked. Default empty.
  std::filesystem::path sources_file;
  /// Called after each file with (files done, files in total, path).
  std::function<void(std::size_t, std::size_t, const std::filesystem::path&)> progress;
};

/// What index_directory() did.
struct index_report {
  std::size_t files_seen = 0;
  std::size_t files_indexed = 0;    ///< new or changed
  std::size_t files_unchanged = 0;  ///< skipped: same hash as stored
  std::size_t chunks_written = 0;
  /// Sources of the previous run that are gone, whose chunks were removed.
  std::vector<std::string> removed_sources;
  std::size_t chunks_removed = 0;
};

/// Indexes `directory` into `store` (see the file comment).
/// Errors: invalid_argument (not a directory, bad options), io_error (a file
/// cannot be read, the sources file cannot be written), corrupt_data (the
/// sources file does not parse; nothing is indexed), and any error of the embedder or the store
/// (files indexed before the error stay indexed).
[[nodiscard]] result<index_report> index_directory(const std::filesystem::path& directory,
                                                   vector_store& store, const embed_function& embed,
                                                   const index_options& options = {});

}  // namespace grove::storage
