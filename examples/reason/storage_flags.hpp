// grove-reason's --store and --artifacts flags (see reason_storage.hpp).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "grove/agents/pipeline.hpp"
#include "grove/runtime/result.hpp"
#include "reason_storage.hpp"

namespace CLI {
class App;
}

namespace grove::reason {

/// The storage flags as parsed.
struct storage_flags {
  std::string store_path{};
  std::optional<std::size_t> top_k{};
  std::string artifacts_uri{};
  s3_settings s3{};
};

/// Adds --store, --top-k, --artifacts and the --s3-* flags to `app`.
void add_storage_flags(CLI::App& app, storage_flags& flags);

/// After parsing: wires retrieval into `pipeline` when --store was given and
/// opens the artifact store when --artifacts was. Returns the artifact writer
/// (null without --artifacts). Errors: the store, the retriever or the
/// artifact store cannot be opened; --top-k without --store.
[[nodiscard]] grove::result<std::unique_ptr<artifact_writer>> apply_storage_flags(
    const storage_flags& flags, agents::pipeline_options& pipeline);

}  // namespace grove::reason
