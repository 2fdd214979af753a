// grove/llm/chat.hpp: the one chat interface every LLM provider implements.
//
// A chat_request holds the conversation (system, user, assistant and tool
// messages), the sampling settings, optional tools and an optional streaming
// callback. chat_client::async_chat sends it to a provider and returns either a
// chat_response (text, tool calls, usage, which provider and model answered)
// or a grove::error whose code is a grove::llm::errc (see errc.hpp).
//
// Providers (see factory.hpp): OpenAI-compatible servers, Anthropic Messages,
// and `offline`, a deterministic local provider that needs no network.
//
// Example:
//   grove::llm::chat_request request;
//   request.messages = {grove::llm::message::system("Answer in one line."),
//                       grove::llm::message::user("What is MCTS?")};
//   request.max_tokens = 200;
//   auto answer = co_await client.async_chat(std::move(request));
//   if (answer) use(answer->text, answer->usage.total_tokens);
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "grove/llm/errc.hpp"
#include "grove/runtime/result.hpp"

namespace grove::llm {

/// Who wrote a message.
enum class role {
  system,     ///< instructions; Anthropic receives these as the top-level `system` field
  user,       ///< the human or the calling program
  assistant,  ///< an earlier answer of the model (may carry tool calls)
  tool,       ///< the result of a tool call; `tool_call_id` names the call
};

/// "system", "user", "assistant" or "tool".
std::string_view to_string(role r) noexcept;

/// One function call the model asked for.
struct tool_call {
  /// The provider's id for the call (`call_...`, `toolu_...`); a tool message
  /// answering the call must quote it in `tool_call_id`.
  std::string id{};
  /// The tool's name, as declared in chat_request::tools.
  std::string name{};
  /// The arguments, decoded from the JSON the model produced (an object for
  /// well-behaved models). A call whose arguments are not valid JSON makes the
  /// whole chat call fail with errc::invalid_response.
  nlohmann::json arguments = nlohmann::json::object();
};

/// One message of the conversation.
struct message {
  llm::role role = llm::role::user;
  /// The text. May be empty for an assistant message that only calls tools.
  std::string content{};
  /// role::assistant only: the tool calls the model made in that turn.
  std::vector<tool_call> tool_calls{};
  /// role::tool only: the id of the tool call this message answers (required).
  std::string tool_call_id{};

  static message system(std::string text);
  static message user(std::string text);
  static message assistant(std::string text, std::vector<tool_call> calls = {});
  static message tool_result(std::string call_id, std::string text);
};

/// A tool (function) the model may call.
struct tool_definition {
  /// Name the model uses; providers accept [a-zA-Z0-9_-]{1,64}.
  std::string name{};
  /// What the tool does, for the model.
  std::string description{};
  /// JSON Schema of the arguments; must be a JSON object (an empty schema
  /// means "no arguments" and is sent as {"type":"object","properties":{}}).
  nlohmann::json parameters = nlohmann::json::object();
};

/// Called with each piece of answer text as it arrives (streaming). The
/// pieces, concatenated, equal chat_response::text. Called on the executor
/// that runs async_chat, never concurrently with itself; it must not block.
using text_callback = std::function<void(std::string_view delta)>;

/// Everything needed for one chat call. Unset optional fields are omitted from
/// the wire request so the provider's defaults apply.
struct chat_request {
  /// The conversation, oldest first. Requires: at least one non-system message.
  std::vector<message> messages{};
  /// Model name; empty means the client's configured model.
  std::string model{};
  /// Sampling temperature, 0 to 2 (Anthropic accepts 0 to 1). Unset: provider
  /// default. 0 makes the request deterministic, hence cacheable.
  std::optional<double> temperature{};
  /// Upper bound on generated tokens, >= 1. Unset: omitted for OpenAI; for
  /// Anthropic, which requires the field, the client's default_max_tokens.
  std::optional<std::uint32_t> max_tokens{};
  /// Stop sequences (at most 4 for OpenAI); empty means none.
  std::vector<std::string> stop{};
  /// Ask for a JSON object as the answer (OpenAI `response_format`
  /// json_object; for Anthropic, which has no such switch, an instruction is
  /// added to the system prompt). The answer is not validated as JSON.
  bool json_mode = false;
  /// Tools the model may call; empty means none.
  std::vector<tool_definition> tools{};
  /// Set to stream the answer: called with each text delta as it arrives.
  /// Once a delta reached the callback, a failed call is not retried (the
  /// caller has already seen part of an answer) and fails with the error.
  text_callback on_text{};
  /// Allow the response cache to serve and store this request even though its
  /// temperature is not 0. Requests with temperature 0 are cacheable anyway.
  bool cacheable = false;
};

/// Why the model stopped.
enum class finish_reason {
  stop,            ///< natural end or a stop sequence
  length,          ///< hit max_tokens
  tool_calls,      ///< wants tool results before going on
  content_filter,  ///< refused or filtered by the provider
  other,           ///< anything else the provider reported (see raw text)
};

/// "stop", "length", "tool_calls", "content_filter" or "other".
std::string_view to_string(finish_reason r) noexcept;

/// Token counts of one call. Remote providers report them; the offline
/// provider estimates them (about 4 characters per token) and sets estimated.
struct usage {
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  /// prompt_tokens + completion_tokens unless the provider said otherwise.
  std::uint64_t total_tokens = 0;
  /// True when the numbers are grove's estimate, not the provider's count
  /// (offline provider, or a stream that did not include usage).
  bool estimated = false;
};

/// A successful answer.
struct chat_response {
  /// The answer text (all text blocks joined); may be empty when the model
  /// only called tools.
  std::string text{};
  /// Tool calls, in the order the model made them.
  std::vector<tool_call> tool_calls{};
  llm::finish_reason finish_reason = llm::finish_reason::stop;
  /// The provider's own reason string ("stop", "end_turn", "tool_use", ...).
  std::string raw_finish_reason{};
  llm::usage usage;
  /// "openai", "anthropic" or "offline".
  std::string provider{};
  /// The model that answered, as the provider reported it.
  std::string model{};
  /// The provider's response id, when it sent one.
  std::string id{};
  /// True when no model was involved (the offline provider).
  bool offline = false;
  /// True when the answer came from the response cache (usage is the usage of
  /// the original call; no tokens were spent this time).
  bool from_cache = false;
  /// How many HTTP attempts this answer took (1 without retries; 0 for the
  /// offline provider and cache hits).
  std::uint32_t attempts = 0;
};

/// A chat model behind some provider.
///
/// Implementations hold their configuration and, for remote providers, a
/// handle to the HTTP client and the runtime guards (rate limiter, breaker,
/// retry, cache) shared by all calls. Thread safety: async_chat may be called
/// concurrently from any number of coroutines, on any threads; the accessors
/// are immutable after construction.
class chat_client {
 public:
  virtual ~chat_client() = default;

  /// Sends one chat request and returns the answer.
  ///
  /// Returns the response, or an error with a grove::llm::errc code:
  /// bad_request for an invalid request (checked before anything is sent),
  /// the classified provider failure otherwise (after the retries the client's
  /// retry policy allows), circuit_open when the breaker refuses the call,
  /// cancelled on Asio cancellation. A stream that breaks off is an error,
  /// never a partial answer.
  ///
  /// Cancellation: per-operation cancellation of the awaiting coroutine
  /// aborts the HTTP transfer at once. The request is taken by value so the
  /// coroutine owns it.
  virtual boost::asio::awaitable<result<chat_response>> async_chat(chat_request request) = 0;

  /// "openai", "anthropic" or "offline".
  virtual std::string_view provider() const noexcept = 0;
  /// The model used when a request leaves chat_request::model empty.
  virtual std::string_view model() const noexcept = 0;
  /// True for a client that never touches the network.
  virtual bool offline() const noexcept = 0;
  /// One line for logs: provider, model and base URL; never the API key.
  virtual std::string to_string() const = 0;

  /// Stops the client: calls in flight complete (with an error if they were
  /// still waiting on the network), later calls fail, and the HTTP client the
  /// chat client created is closed. Idempotent. The default does nothing
  /// (for clients without background work, such as offline).
  virtual boost::asio::awaitable<void> async_close();
};

/// Checks a request before it is sent: at least one non-system message, tool
/// messages carry a tool_call_id, temperature within 0..2, max_tokens >= 1,
/// tool names valid and unique, tool schemas JSON objects, stop sequences
/// non-empty. Reports every problem at once (errc::bad_request; the message
/// lists each field).
result<void> validate(const chat_request& request);

}  // namespace grove::llm
