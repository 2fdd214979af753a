#include "storage_flags.hpp"

#include <CLI/CLI.hpp>

namespace grove::reason {

void add_storage_flags(CLI::App& app, storage_flags& flags) {
  app.add_option("--store", flags.store_path,
                 "Retrieve context from this vector store (built by grove-index)");
  app.add_option("--top-k", flags.top_k, "Passages retrieved per question (1..64, default 4)");
  app.add_option("--artifacts", flags.artifacts_uri,
                 "Store result, trace and strategy tree per question: DIR or s3://bucket/prefix");
  app.add_option("--s3-endpoint", flags.s3.endpoint,
                 "S3 endpoint URL (default AWS_ENDPOINT_URL, else AWS)");
  app.add_option("--s3-region", flags.s3.region, "S3 region (default AWS_REGION or us-east-1)");
  app.add_flag("--s3-path-style", flags.s3.path_style,
               "S3 path-style addressing (self-hosted servers)");
}

grove::result<std::unique_ptr<artifact_writer>> apply_storage_flags(
    const storage_flags& flags, agents::pipeline_options& pipeline) {
  if (flags.top_k && flags.store_path.empty()) {
    return grove::fail(std::make_error_code(std::errc::invalid_argument),
                       "--top-k needs --store PATH", "--top-k");
  }
  if (!flags.store_path.empty()) {
    auto retriever = open_store_retriever(flags.store_path, pipeline.logger);
    if (!retriever) {
      return grove::fail(std::move(retriever).error());
    }
    pipeline.retrieve = (*retriever)->as_retriever();
    if (flags.top_k) {
      pipeline.retrieve_top_k = *flags.top_k;
    }
  }
  if (flags.artifacts_uri.empty()) {
    return std::unique_ptr<artifact_writer>();
  }
  return artifact_writer::open(flags.artifacts_uri, flags.s3);
}

}  // namespace grove::reason
