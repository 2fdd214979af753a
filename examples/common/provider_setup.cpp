#include "provider_setup.hpp"

#include <cstdlib>

#include "grove/agents/query.hpp"

namespace grove::examples {
namespace {

std::optional<std::string> read_variable(const llm::environment_lookup& lookup,
                                         std::string_view name) {
  if (lookup) {
    return lookup(name);
  }
  const char* value = std::getenv(std::string(name).c_str());
  return value == nullptr ? std::nullopt : std::optional<std::string>(value);
}

}  // namespace

grove::result<provider_setup> resolve_provider(const provider_flags& flags,
                                               const llm::environment_lookup& lookup) {
  auto config = llm::config_from_environment(lookup);
  if (!config) {
    return grove::fail(std::move(config).error());
  }
  provider_setup setup;
  const auto from_environment = read_variable(lookup, "GROVE_LLM_PROVIDER");
  bool named = from_environment.has_value() && !from_environment->empty();

  // 1. Which provider: the flag, else a base URL flag means an
  //    OpenAI-compatible server (unless the environment named a remote
  //    provider), else the environment's.
  if (!flags.provider.empty()) {
    auto kind = llm::parse_provider(flags.provider);
    if (!kind) {
      return grove::fail(std::move(kind).error());
    }
    config->provider = *kind;
    named = true;
  } else if (!flags.base_url.empty() && config->provider == llm::provider_kind::offline) {
    config->provider = llm::provider_kind::openai;
  }
  if (!flags.base_url.empty()) {
    config->base_url = flags.base_url;
  }
  if (!flags.model.empty()) {
    config->model = flags.model;
  }

  // 2. The key: given explicitly, else the chosen provider's own variable.
  if (!flags.api_key.empty()) {
    config->api_key = llm::secret(flags.api_key);
  } else if (config->api_key.empty()) {
    const char* variable = config->provider == llm::provider_kind::anthropic ? "ANTHROPIC_API_KEY"
                           : config->provider == llm::provider_kind::openai  ? "OPENAI_API_KEY"
                                                                             : nullptr;
    if (variable != nullptr) {
      if (auto key = read_variable(lookup, variable); key && !key->empty()) {
        config->api_key = llm::secret(std::move(*key));
      }
    }
  }
  setup.offline_requested = named && config->provider == llm::provider_kind::offline;
  setup.config = std::move(*config);
  return setup;
}

std::string provider_notice(const provider_setup& setup, std::string_view program) {
  const std::string prefix = std::string(program) + ": ";
  const auto& c = setup.config;
  if (c.provider != llm::provider_kind::offline) {
    return prefix + "provider " + std::string(llm::to_string(c.provider)) + " at " +
           c.effective_base_url() + ", model " + c.effective_model();
  }
  if (setup.offline_requested) {
    return prefix +
           "running on the offline provider, as asked (canned, deterministic answers, no "
           "model).";
  }
  return prefix +
         "no LLM provider configured; running on the offline provider (canned, deterministic "
         "answers, no model). Set GROVE_LLM_PROVIDER and GROVE_LLM_BASE_URL to use a model.";
}

grove::result<void> check_prompt(std::string_view prompt, std::size_t max_chars) {
  auto checked = agents::validate_query(prompt, {.max_chars = max_chars});
  if (!checked) {
    return grove::fail(std::move(checked).error());
  }
  return {};
}

}  // namespace grove::examples
