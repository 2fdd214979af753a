#include "reason_storage.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "grove/llm/embedder.hpp"
#include "grove/storage/filesystem_object_store.hpp"
#include "grove/storage/hnsw_vector_store.hpp"
#include "grove/storage/s3_object_store.hpp"

namespace grove::reason {
namespace {

std::string env_or(const char* name, std::string fallback = {}) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : std::move(fallback);
}

// Question ids come from the input file: keep them readable but safe as keys.
std::string key_part(const std::string& id) {
  std::string out = id.empty() ? std::string("_") : id;
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      c = '_';
    }
  }
  if (out == "." || out == "..") {
    out = "_";
  }
  return out;
}

std::string run_name() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  return std::string(stamp) + "-" + std::to_string(::getpid());
}

}  // namespace

grove::result<std::shared_ptr<agents::store_retriever>> open_store_retriever(
    const std::string& store_path, std::shared_ptr<spdlog::logger> logger) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(store_path) / "manifest.json", ec)) {
    return grove::fail(std::make_error_code(std::errc::no_such_file_or_directory),
                       "no vector store there (build one with grove-index DIR --store PATH)",
                       store_path);
  }
  storage::hnsw_vector_store_options options;
  options.directory = store_path;
  options.logger = logger;
  auto store = storage::hnsw_vector_store::open(std::move(options));
  if (!store) {
    return grove::fail(std::move(store).error());
  }
  // The same embedder grove-index uses, at the store's dimension.
  llm::hashing_options hashing;
  hashing.dimension = (*store)->dimension();
  auto embedder = std::make_shared<llm::hashing_embedder>(hashing);
  agents::store_retriever_options retrieval;
  retrieval.logger = std::move(logger);
  return agents::store_retriever::create(std::shared_ptr<storage::vector_store>(std::move(*store)),
                                         std::move(embedder), std::move(retrieval));
}

grove::result<std::unique_ptr<artifact_writer>> artifact_writer::open(const std::string& uri,
                                                                      const s3_settings& s3) {
  if (uri.empty()) {
    return grove::fail(std::make_error_code(std::errc::invalid_argument),
                       "--artifacts needs a directory or s3://bucket[/prefix]", "--artifacts");
  }
  std::unique_ptr<storage::object_store> store;
  std::string prefix;
  std::string root;  // the location without the key prefix
  if (uri.starts_with("s3://")) {
    const std::string rest = uri.substr(5);
    const std::size_t slash = rest.find('/');
    storage::s3_object_store_options options;
    options.bucket = rest.substr(0, slash);
    root = "s3://" + options.bucket + "/";
    if (slash != std::string::npos) {
      prefix = rest.substr(slash + 1);
      if (!prefix.empty() && !prefix.ends_with('/')) {
        prefix += '/';
      }
    }
    options.endpoint = s3.endpoint.empty() ? env_or("AWS_ENDPOINT_URL") : s3.endpoint;
    options.region = !s3.region.empty()
                         ? s3.region
                         : env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", "us-east-1"));
    options.credentials = {
        s3.access_key_id.empty() ? env_or("AWS_ACCESS_KEY_ID") : s3.access_key_id,
        s3.secret_access_key.empty() ? env_or("AWS_SECRET_ACCESS_KEY") : s3.secret_access_key,
        s3.session_token.empty() ? env_or("AWS_SESSION_TOKEN") : s3.session_token};
    options.addressing =
        s3.path_style ? storage::s3_addressing::path_style : storage::s3_addressing::virtual_hosted;
    auto opened = storage::s3_object_store::open(std::move(options));
    if (!opened) {
      return grove::fail(std::move(opened).error());
    }
    store = std::move(*opened);
  } else {
    storage::filesystem_object_store_options options;
    options.root = uri;
    root = uri.ends_with('/') ? uri : uri + "/";
    auto opened = storage::filesystem_object_store::open(std::move(options));
    if (!opened) {
      return grove::fail(std::move(opened).error());
    }
    store = std::move(*opened);
  }
  std::string run_prefix = prefix + run_name() + "/";
  std::string location = root + run_prefix;
  return std::unique_ptr<artifact_writer>(
      new artifact_writer(std::move(store), std::move(run_prefix), std::move(location)));
}

artifact_writer::artifact_writer(std::unique_ptr<storage::object_store> store,
                                 std::string run_prefix, std::string location)
    : store_(std::move(store)),
      run_prefix_(std::move(run_prefix)),
      location_(std::move(location)) {}

artifact_writer::~artifact_writer() = default;

grove::result<void> artifact_writer::save(const std::string& question_id,
                                          const agents::request_result& result,
                                          const agents::request_trace& trace) {
  const std::string base = run_prefix_ + key_part(question_id) + "/";

  agents::run_report report;
  report.request_id = result.request_id;
  report.steps = static_cast<std::uint32_t>(result.steps.size());
  report.elapsed = result.elapsed;
  report.trace = result.steps;
  std::ostringstream trace_json;
  trace.write_json(trace_json, report);
  const std::string tree = result.search
                               ? result.search->dot
                               : std::string(
                                     "digraph \"strategies\" {\n  root [label=\"no strategy search "
                                     "ran\"];\n}\n");

  struct artifact {
    const char* name;
    const char* type;
    std::string body;
  };
  const artifact artifacts[] = {
      {"result.json", "application/json", agents::to_json(result, /*pretty=*/true)},
      {"trace.json", "application/json", trace_json.str()},
      {"tree.dot", "text/vnd.graphviz", tree}};
  grove::result<void> outcome;
  for (const artifact& a : artifacts) {
    storage::object_metadata metadata;
    metadata.content_type = a.type;
    auto put = store_->put(base + a.name, a.body, metadata);
    if (!put && outcome) {
      outcome = grove::fail(std::move(put).error());
    }
  }
  return outcome;
}

}  // namespace grove::reason
