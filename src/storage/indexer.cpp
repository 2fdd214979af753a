#include "grove/storage/indexer.hpp"

#include <algorithm>
#include <fstream>
#include <set>
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

// The sources file: {"<namespace>": ["path", ...], ...}. Missing: empty.
result<nlohmann::json> read_sources(const fs::path& file) {
  std::error_code ec;
  if (file.empty() || !fs::exists(file, ec)) return nlohmann::json::object();
  std::ifstream in(file, std::ios::binary);
  nlohmann::json sources = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!sources.is_object()) {
    return fail(errc::corrupt_data,
                "the sources file does not parse (delete it to stop tracking deleted files)",
                file.string());
  }
  return sources;
}

result<void> write_sources(const fs::path& file, const nlohmann::json& sources) {
  fs::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << sources.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
    out.close();
    if (!out) return fail(errc::io_error, "cannot write the sources file", tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec)
    return fail(errc::io_error, "cannot replace the sources file: " + ec.message(), file.string());
  return {};
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

  auto previous = read_sources(options.sources_file);
  if (!previous) return fail(previous.error());

  // 2. Each file: skip when unchanged, else replace its chunks.
  const std::string chunking = chunking_tag(options.chunking);
  index_report report;
  std::set<std::string> current;
  for (const fs::path& file : files) {
    ++report.files_seen;
    std::ifstream in(file, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (!in && !in.eof()) return fail(errc::io_error, "cannot read", file.string());
    const std::string content = buffer.str();
    const std::string source = file.lexically_relative(directory).generic_string();
    const std::string hash = sigv4::sha256_hex(std::string_view(content));
    current.insert(source);

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
  // 3. Sources of the previous run that are gone lose their chunks.
  if (const auto listed = previous->find(options.name_space);
      listed != previous->end() && listed->is_array()) {
    for (const auto& entry : *listed) {
      if (!entry.is_string() || current.contains(entry.get<std::string>())) continue;
      const std::string source = entry.get<std::string>();
      auto removed = store.remove_matching({{"source", source}}, options.name_space);
      if (!removed) return fail(removed.error());
      report.removed_sources.push_back(source);
      report.chunks_removed += *removed;
    }
  }
  if (auto ok = store.flush(); !ok) return fail(ok.error());

  // 4. Then this run's sources replace the previous list.
  if (!options.sources_file.empty()) {
    (*previous)[options.name_space] = current;
    if (auto ok = write_sources(options.sources_file, *previous); !ok) return fail(ok.error());
  }
  return report;
}

}  // namespace grove::storage
