// The pieces of grove-reason that the command line, the batch runner and the
// tests share: configuration (flags, environment, JSON file), the provider
// choice, GSM8K grading and the text renderings of a result.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "grove/agents/pipeline.hpp"
#include "grove/llm/chat.hpp"
#include "grove/runtime/result.hpp"

namespace grove::reason {

/// Everything grove-reason can be configured with. Precedence: defaults, then
/// the JSON config file, then environment variables, then flags.
struct app_config {
  /// "offline", "openai", "anthropic" or "replay". Empty: from the environment,
  /// else offline.
  std::string provider{};
  std::string base_url{};
  std::string model{};
  std::string api_key{};
  /// Record every LLM call to this cassette (JSON lines) when non-empty.
  std::string record_path{};
  /// Answer from this cassette instead of a provider (provider "replay").
  std::string replay_path{};
  agents::pipeline_options pipeline{};
  /// Questions in flight at once in batch mode. Default 4; range 1..256.
  std::size_t concurrency = 4;
};

/// Applies a JSON config object (keys: provider, base_url, model, api_key_env,
/// record, replay, concurrency, agent_deadline_ms, budget{max_calls,
/// max_tokens, max_wall_time_ms}, consensus{threshold, max_passes},
/// search{max_evaluations, max_in_flight, exploration, seed, temperature,
/// strategies[{name, instruction}]}, hrm{min_subproblems, max_subproblems,
/// max_parallel, temperature, max_tokens}, trm{max_rounds, min_improvement,
/// temperature, max_tokens}, judge{temperature, max_tokens}, max_query_chars).
/// Errors list every unknown key and wrong type at once.
[[nodiscard]] grove::result<void> apply_config_json(const nlohmann::json& json, app_config& config);

/// Reads and applies a JSON config file. Errors: unreadable, not JSON, or
/// apply_config_json's.
[[nodiscard]] grove::result<void> load_config_file(const std::string& path, app_config& config);

/// Fills unset provider fields from GROVE_LLM_PROVIDER, GROVE_LLM_BASE_URL,
/// GROVE_LLM_MODEL, GROVE_LLM_API_KEY_FILE, OPENAI_API_KEY, ANTHROPIC_API_KEY.
void apply_environment(app_config& config);

/// The chat client the configuration asks for.
struct provider_choice {
  std::shared_ptr<llm::chat_client> client;
  bool offline = false;
  /// One line for the first line of output (offline: says so).
  std::string notice;
};

/// Remote providers take their settings from grove::llm::config_from_environment
/// (GROVE_LLM_*, OPENAI_API_KEY / ANTHROPIC_API_KEY, rate limits) overridden by
/// `config`; their HTTP client runs on `executor`.
/// Errors: an unknown provider, an invalid remote configuration (the message
/// never contains the key), an unreadable cassette.
[[nodiscard]] grove::result<provider_choice> make_provider(const app_config& config,
                                                           boost::asio::any_io_executor executor);

/// Writes `text` to `path`, replacing the file.
/// Errors: std::errc::io_error naming the file and the system's reason, when it
/// cannot be opened (a directory, a missing folder, no permission) or written.
[[nodiscard]] grove::result<void> write_text_file(const std::string& path, std::string_view text);

/// The expected final number of a GSM8K answer: the text after the last
/// "#### ", commas removed, or (for a bare number) the number itself.
std::optional<std::string> expected_number(std::string_view answer_field);

/// The number an answer gives: the last number after the last "Answer:" when
/// present, else the last number of the text.
std::string predicted_number(std::string_view answer);

/// Numeric equality of two number strings (tolerance 1e-6); false if either
/// is not a number.
bool same_number(const std::string& a, const std::string& b);

/// A few lines: agents with confidence, strategy visits and means, consensus,
/// calls, tokens, time, budget and synthesis notes.
std::string summary_text(const agents::request_result& result);

/// The strategy tree as indented text, or a line saying no search ran.
std::string strategy_tree_text(const agents::request_result& result);

}  // namespace grove::reason
