// provider_setup.hpp: the provider choice shared by the LLM example programs
// (grove-chat, grove-reason).
//
// The configuration comes from grove::llm::config_from_environment
// (GROVE_LLM_PROVIDER, GROVE_LLM_BASE_URL, GROVE_LLM_MODEL,
// GROVE_LLM_API_KEY_FILE, OPENAI_API_KEY / ANTHROPIC_API_KEY, rate limits),
// then the program's flags (or config file) override it:
//   - a provider flag replaces the environment's provider;
//   - a base URL with no provider flag means an OpenAI-compatible server,
//     unless the environment named a remote provider;
//   - a key given explicitly wins; otherwise a provider chosen by flag takes
//     the key of its own variable (OPENAI_API_KEY or ANTHROPIC_API_KEY),
//     which config_from_environment reads only for the provider it chose.
// The first line a program prints says which provider answers and why
// (offline because nothing was configured, or because it was asked for).
#pragma once

#include <string>
#include <string_view>

#include "grove/llm/config.hpp"
#include "grove/runtime/result.hpp"

namespace grove::examples {

/// Provider settings from a command line or a config file; empty = not given.
struct provider_flags {
  /// offline | openai | anthropic (and the aliases of llm::parse_provider).
  std::string provider{};
  std::string base_url{};
  std::string model{};
  /// The API key itself (from a config file's api_key_env, say). Never printed.
  std::string api_key{};
};

/// The resolved configuration and how it was chosen.
struct provider_setup {
  llm::llm_config config{};
  /// The offline provider was named explicitly (flag, config file or
  /// GROVE_LLM_PROVIDER), rather than used because nothing was configured.
  bool offline_requested = false;
};

/// Builds the configuration (see the file comment). `lookup` reads the
/// environment (the process's when empty).
/// Errors: llm::errc::invalid_config for an unknown provider name or anything
/// config_from_environment rejects (the message never contains a key).
[[nodiscard]] grove::result<provider_setup> resolve_provider(
    const provider_flags& flags, const llm::environment_lookup& lookup = {});

/// The first line of a program's output: which provider answers, where, with
/// which model, or that it runs offline and why. Starts with "<program>: ".
std::string provider_notice(const provider_setup& setup, std::string_view program);

/// Checks a prompt before any call: not empty or whitespace only, valid
/// UTF-8, no NUL byte, at most `max_chars` code points (see
/// grove::agents::validate_query). Errors: agents::errc::invalid_query with
/// what is wrong and where.
[[nodiscard]] grove::result<void> check_prompt(std::string_view prompt,
                                               std::size_t max_chars = 1'000'000);

}  // namespace grove::examples
