#include "grove/storage/indexer.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "grove/storage/error.hpp"
#include "grove/storage/sigv4.hpp"

namespace grove::storage {
namespace fs = std::filesystem;
namespace {

bool wanted(const fs::path& path, const std::vector<std::string>& extensions) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(extensions.begin(), extensions.end(), ext) != extensions.end();
}

// Chunk settings as stored with each chunk: other settings mean "re-chunk".
std::string chunking_tag(const chunk_options& c) {
  return std::to_string(c.max_chars) + "/" + std::to_string(c.overlap_chars);
}

// Indexes one file's chunks; `source` is its path relative to the directory.
result<std::size_t> index_file(const std::string& source, const std::string& content,
                               const std::string& hash, vector_store& store,
                               const embed_function& embed, const index_options& options) {
  auto chunks = chunk_text(content, options.chunking);
  if (!chunks) return fail(chunks.error());

  if (auto removed = store.remove_matching({{"source", source}}, options.name_space); !removed) {
    return fail(removed.error());
  }
  for (std::size_t first = 0; first < chunks->size(); first += options.embed_batch) {
    const std::size_t last = std::min(chunks->size(), first + options.embed_batch);
    std::vector<std::string> texts;
    for (std::size_t i = first; i < last; ++i) texts.push_back((*chunks)[i].text);
    auto vectors = embed(texts);
    if (!vectors) return fail(vectors.error());
    if (vectors->size() != texts.size()) {
      return fail(errc::invalid_argument, "the embedder returned a wrong number of vectors",
                  source);
    }
    std::vector<vector_record> records;
    for (std::size_t i = first; i < last; ++i) {
      const text_chunk& c = (*chunks)[i];
      records.push_back({source + "#" + std::to_string(i),
                         std::move((*vectors)[i - first]),
                         {{"source", source},
                          {"sha256", hash},
                          {"chunking", chunking_tag(options.chunking)},
                          {"chunk", i},
                          {"chunks", chunks->size()},
                          {"begin", c.begin},
                          {"end", c.end},
                          {"text", c.text}}});
    }
    if (auto ok = store.upsert(records, options.name_space); !ok) return fail(ok.error());
  }
  return chunks->size();
}

}  // namespace

result<index_report> index_directory(const fs::path& directory, vector_store& store,
                                     const embed_function& embed, const index_options& options) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    return fail(errc::invalid_argument, "not a directory", directory.string());
  }
  if (auto ok = options.chunking.validate(); !ok) return fail(ok.error());
  if (options.embed_batch < 1) {
    return fail(errc::invalid_argument, "embed_batch must be >= 1", "index_options.embed_batch");
  }

  // 1. The files, in a stable order.
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(directory, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_regular_file(ec) && wanted(it->path(), options.extensions)) {
      files.push_back(it->path());
    }
  }
  if (ec) return fail(errc::io_error, "cannot list: " + ec.message(), directory.string());
  std::sort(files.begin(), files.end());

  // 2. Each file: skip when unchanged, else replace its chunks.
  const std::string chunking = chunking_tag(options.chunking);
  index_report report;
  for (const fs::path& file : files) {
    ++report.files_seen;
    std::ifstream in(file, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (!in && !in.eof()) return fail(errc::io_error, "cannot read", file.string());
    const std::string content = buffer.str();
    const std::string source = file.lexically_relative(directory).generic_string();
    const std::string hash = sigv4::sha256_hex(std::string_view(content));

    auto first = store.fetch(std::vector<std::string>{source + "#0"}, options.name_space);
    if (!first) return fail(first.error());
    const bool unchanged = !first->empty() && first->front().metadata.is_object() &&
                           first->front().metadata.value("sha256", std::string()) == hash &&
                           first->front().metadata.value("chunking", std::string()) == chunking;
    if (unchanged) {
      ++report.files_unchanged;
    } else {
      auto written = index_file(source, content, hash, store, embed, options);
      if (!written) return fail(written.error());
      ++report.files_indexed;
      report.chunks_written += *written;
    }
    if (options.progress) options.progress(report.files_seen, files.size(), file);
  }
  if (auto ok = store.flush(); !ok) return fail(ok.error());
  return report;
}

}  // namespace grove::storage
