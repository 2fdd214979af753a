// grove-index: index the .txt and .md files of a directory into the embedded
// vector store, for retrieval by grove-reason --store.
//
//   grove-index DIR --store PATH [--chunk-size N] [--overlap N] [--dimension N]
//
// Files are chunked on paragraph and sentence boundaries, embedded with the
// local feature-hashing embedder (no network) and stored with their source
// path and byte offsets. Re-running skips unchanged files, replaces the
// chunks of changed ones and removes those of files deleted since the last
// run (the list of indexed files is kept in
// PATH/grove-index-sources.json). A progress bar is drawn only when stderr is a
// terminal.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "command_line.hpp"
#include "grove/llm/embedder.hpp"
#include "grove/storage/hnsw_vector_store.hpp"
#include "grove/storage/indexer.hpp"

namespace {

void draw_progress(std::size_t done, std::size_t total) {
  constexpr int width = 30;
  const int filled = total == 0 ? width : static_cast<int>(width * done / total);
  std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu files", filled, "##############################",
               width - filled, "", done, total);
  if (done == total) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Index the .txt and .md files of a directory into a grove vector store.",
               "grove-index"};
  std::string directory;
  std::string store_path;
  std::size_t chunk_size = 1000;
  std::size_t overlap = 150;
  std::size_t dimension = 384;
  app.add_option("DIR", directory, "Directory to index (recursively)")->required();
  app.add_option("--store", store_path, "Vector store directory (created if missing)")->required();
  app.add_option("--chunk-size", chunk_size, "Most bytes per chunk (16-1000000)")
      ->capture_default_str();
  app.add_option("--overlap", overlap, "Bytes repeated between chunks (<= chunk-size / 2)")
      ->capture_default_str();
  app.add_option("--dimension", dimension, "Embedding dimension of a new store")
      ->capture_default_str();
  if (auto exit_code = grove::examples::parse_command_line(app, argc, argv)) {
    return *exit_code;
  }

  grove::storage::hnsw_vector_store_options store_options;
  store_options.directory = store_path;
  store_options.dimension = dimension;
  auto store = grove::storage::hnsw_vector_store::open(store_options);
  if (!store) {
    std::cerr << "grove-index: " << store.error().describe() << "\n";
    return 1;
  }

  grove::llm::hashing_options embed_options;
  embed_options.dimension = (*store)->dimension();  // an existing store keeps its own
  const grove::llm::hashing_embedder embedder(embed_options);
  auto embed =
      [&](std::span<const std::string> texts) -> grove::result<std::vector<std::vector<float>>> {
    std::vector<std::vector<float>> vectors;
    for (const std::string& text : texts) vectors.push_back(embedder.embed(text));
    return vectors;
  };

  grove::storage::index_options options;
  options.chunking.max_chars = chunk_size;
  options.chunking.overlap_chars = overlap;
  options.sources_file = std::filesystem::path(store_path) / "grove-index-sources.json";
  if (::isatty(STDERR_FILENO) == 1) {
    options.progress = [](std::size_t done, std::size_t total, const std::filesystem::path&) {
      draw_progress(done, total);
    };
  }
  auto report = grove::storage::index_directory(directory, **store, embed, options);
  if (!report) {
    std::cerr << "grove-index: " << report.error().describe() << "\n";
    return 1;
  }
  auto stats = (*store)->stats();
  std::cout << "files: " << report->files_seen << " (" << report->files_indexed << " indexed, "
            << report->files_unchanged << " unchanged)\nchunks written: " << report->chunks_written
            << "\n";
  if (!report->removed_sources.empty()) {
    std::cout << "removed (deleted since the last run): " << report->removed_sources.size()
              << " files, " << report->chunks_removed << " chunks\n";
    for (const std::string& source : report->removed_sources) std::cout << "  " << source << "\n";
  }
  std::cout << "vectors in store: " << (stats ? stats->total_vectors : 0) << "\n";
  return 0;
}
