// grove/llm/wire.hpp: the two wire formats, as pure functions.
//
// The HTTP-facing clients (openai.hpp, anthropic.hpp) are thin: they send what
// these functions encode and feed what comes back into these decoders. Kept
// public so tests, cassette tools and other transports can use the exact same
// encoding without a network.
//
// OpenAI Chat Completions (POST {base}/chat/completions; also what llama.cpp
// server, vLLM, Ollama and LM Studio speak):
//   request  {"model", "messages":[{"role","content"[,"tool_calls"|"tool_call_id"]}],
//             ["temperature"], [max tokens field], ["stop"], ["response_format"],
//             ["tools":[{"type":"function","function":{name,description,parameters}}]],
//             ["stream":true,"stream_options":{"include_usage":true}]}
//   response {"id","model","choices":[{"message":{"content","tool_calls"},
//             "finish_reason"}],"usage":{prompt_tokens,completion_tokens,total_tokens}}
//   stream   `data: <chunk>` events ending with `data: [DONE]`; chunk choices[0].delta
//            carries content and tool_calls fragments (joined per index); a last
//            chunk with empty choices may carry usage.
//
// Anthropic Messages (POST {base}/v1/messages):
//   request  {"model","max_tokens","messages":[{"role":"user"|"assistant","content"}],
//             ["system"],["temperature"],["stop_sequences"],
//             ["tools":[{name,description,input_schema}]],["stream":true]}
//            Consecutive messages of one role are merged (the API requires
//            alternation); tool results travel as `tool_result` blocks in a
//            user message, assistant tool calls as `tool_use` blocks.
//   response {"id","model","content":[{"type":"text"|"tool_use",...}],
//             "stop_reason","usage":{input_tokens,output_tokens,...}}
//   stream   message_start, content_block_start/delta/stop per block,
//            message_delta, message_stop; ping ignored; `error` events fail.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "grove/llm/chat.hpp"

namespace grove::llm::wire {

// --- OpenAI-compatible -----------------------------------------------------

/// How the OpenAI request names the output limit: "max_tokens" (accepted by
/// every compatible server) or "max_completion_tokens" (required by OpenAI's
/// reasoning models).
enum class openai_max_tokens_field { max_tokens, max_completion_tokens };

/// The JSON body of a Chat Completions request. `model` is used when
/// request.model is empty. With `stream`, asks for SSE and for the usage chunk.
/// Requires: validate(request) succeeded.
nlohmann::json encode_openai_request(
    const chat_request& request, std::string_view model, bool stream,
    openai_max_tokens_field field = openai_max_tokens_field::max_tokens);

/// Decodes a complete (non-streaming) Chat Completions body.
/// Errors: invalid_response for non-JSON, a wrong shape, an error object
/// (classified like a 200-with-error body), tool arguments that are not JSON,
/// or no answer at all: message.content null or absent with no tool_calls,
/// no refusal and no content_filter finish. An empty string content is a
/// valid, empty answer (text "").
/// Usage missing from the body leaves zeros with usage.estimated set.
result<chat_response> decode_openai_response(std::string_view body);

/// Rebuilds a response from the data of a Chat Completions SSE stream, one
/// event at a time. Not thread-safe (one stream, one decoder).
class openai_stream_decoder {
 public:
  /// Feeds the `data` of one event. Returns the text delta it carried (empty
  /// for most non-text events). Errors: invalid_response for data that is
  /// not JSON or not a chunk; a mid-stream error object is classified (e.g.
  /// server_error). After an error the decoder must not be used again.
  result<std::string> on_event(std::string_view data);
  /// True once `[DONE]` was seen.
  bool done() const noexcept { return done_; }
  /// Call when the body ended cleanly. The stream is complete when `[DONE]`
  /// arrived or the choice carried a finish_reason (some compatible servers
  /// omit `[DONE]`); otherwise invalid_response ("stream ended early").
  /// A complete stream that never carried delta.content (not even "") nor
  /// tool calls, a refusal or a content_filter finish is invalid_response
  /// too, as for decode_openai_response().
  result<chat_response> finish();

 private:
  struct partial_call {
    std::string id;
    std::string name;
    std::string arguments;
  };
  chat_response response_;
  std::string refusal_;
  std::map<std::int64_t, partial_call> calls_;
  bool done_ = false;
  bool finished_choice_ = false;
  bool usage_seen_ = false;
  bool content_seen_ = false;  // a delta.content string arrived (even "")
};

// --- Anthropic Messages ----------------------------------------------------

/// The JSON body of a Messages request. `model` is used when request.model is
/// empty; `default_max_tokens` when request.max_tokens is unset (the API
/// requires the field). System messages become the top-level `system` string
/// (joined with blank lines); json_mode adds a sentence asking for one JSON
/// object to it. Errors: bad_request for temperature above 1 (Anthropic's
/// range is 0..1). Requires: validate(request) succeeded.
result<nlohmann::json> encode_anthropic_request(const chat_request& request, std::string_view model,
                                                std::uint32_t default_max_tokens, bool stream);

/// Decodes a complete (non-streaming) Messages body. Errors as for
/// decode_openai_response; "no answer" here means content blocks of which
/// none is `text` or `tool_use` (only thinking blocks, for example). An empty
/// content array is a valid, empty answer: the API documents it (stop_reason
/// end_turn with nothing to add, e.g. after an assistant prefill).
result<chat_response> decode_anthropic_response(std::string_view body);

/// Rebuilds a response from a Messages SSE stream, one event at a time.
/// Not thread-safe (one stream, one decoder).
class anthropic_stream_decoder {
 public:
  /// Feeds one event: its `event:` name (may be empty; the JSON `type` is used
  /// then) and its data. Returns the text delta it carried. Errors:
  /// invalid_response for data that is not the expected JSON or events out of
  /// order; an `error` event is classified (overloaded_error -> overloaded).
  result<std::string> on_event(std::string_view event, std::string_view data);
  /// True once `message_stop` was seen.
  bool done() const noexcept { return done_; }
  /// Call when the body ended cleanly: the response, or invalid_response when
  /// `message_stop` never arrived or when the stream had content blocks but
  /// none of type text or tool_use (see decode_anthropic_response()).
  result<chat_response> finish();

 private:
  struct block {
    std::string type;
    std::string text;
    std::string id;
    std::string name;
    std::string partial_json;
    bool has_input = false;
    nlohmann::json input;
  };
  chat_response response_;
  std::map<std::int64_t, block> blocks_;
  bool started_ = false;
  bool done_ = false;
  std::uint64_t input_tokens_ = 0;
};

/// A mid-stream error object (OpenAI `data: {"error":...}` or Anthropic
/// `event: error`), classified: the error's type or code decides (e.g.
/// overloaded_error -> overloaded, rate_limit_error -> rate_limited); an
/// unknown one is server_error, since the server gave up after sending 200.
grove::error stream_error(dialect wire, std::string_view data);

}  // namespace grove::llm::wire
