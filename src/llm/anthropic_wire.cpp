// The Anthropic Messages wire format (see grove/llm/wire.hpp).

#include <algorithm>
#include <utility>

#include "grove/llm/wire.hpp"
#include "internal.hpp"

namespace grove::llm::wire {
namespace {

using detail::count_or_zero;
using detail::find;
using detail::string_or_empty;
using nlohmann::json;

// Added to the system prompt in JSON mode: the Messages API has no
// response_format switch, so the request is made in words.
constexpr std::string_view json_instruction =
    "Respond with a single JSON object and nothing else: no prose, no code fences.";

finish_reason map_stop(std::string_view raw) {
  if (raw == "end_turn" || raw == "stop_sequence") {
    return finish_reason::stop;
  }
  if (raw == "max_tokens") {
    return finish_reason::length;
  }
  if (raw == "tool_use") {
    return finish_reason::tool_calls;
  }
  if (raw == "refusal") {
    return finish_reason::content_filter;
  }
  return finish_reason::other;
}

std::optional<std::int64_t> index_of(const json& event) {
  const json* index = find(event, "index");
  if (index == nullptr || !index->is_number_integer()) {
    return std::nullopt;
  }
  return index->get<std::int64_t>();
}

// Input tokens are split three ways when prompt caching is involved; the
// prompt is their sum.
std::uint64_t input_tokens(const json& u) {
  return count_or_zero(u, "input_tokens") + count_or_zero(u, "cache_creation_input_tokens") +
         count_or_zero(u, "cache_read_input_tokens");
}

grove::error shape_error(std::string what) {
  return detail::make_error(errc::invalid_response,
                            "anthropic: unexpected response shape: " + what);
}

// Whether a content array holds a block that answers: text or tool_use.
bool has_answer_block(const json& content) {
  return std::any_of(content.begin(), content.end(), [](const json& block) {
    const std::string type = string_or_empty(block, "type");
    return type == "text" || type == "tool_use";
  });
}

// The message for content blocks none of which answers (only thinking, say).
std::string no_answer_text(std::size_t blocks) {
  return "content has " + std::to_string(blocks) +
         " block(s) but no text or tool_use block: the response carries no answer (an empty "
         "answer is an empty content array or a text block with \"\")";
}

json schema_or_empty(const json& parameters) {
  if (parameters.is_object() && !parameters.empty()) {
    return parameters;
  }
  return json{{"type", "object"}, {"properties", json::object()}};
}

}  // namespace

result<json> encode_anthropic_request(const chat_request& request, std::string_view model,
                                      std::uint32_t default_max_tokens, bool stream) {
  if (request.temperature && *request.temperature > 1.0) {
    return fail(detail::make_error(errc::bad_request, "anthropic: temperature " +
                                                          std::to_string(*request.temperature) +
                                                          " is outside Anthropic's range 0..1"));
  }
  json body = {{"model", request.model.empty() ? std::string(model) : request.model},
               {"max_tokens", request.max_tokens ? *request.max_tokens : default_max_tokens}};

  std::string system;
  struct turn {
    std::string role;
    json blocks = json::array();
  };
  std::vector<turn> turns;
  for (const message& m : request.messages) {
    if (m.role == role::system) {
      system += (system.empty() ? "" : "\n\n") + m.content;
      continue;
    }
    json blocks = json::array();
    if (m.role == role::tool) {
      blocks.push_back(
          {{"type", "tool_result"}, {"tool_use_id", m.tool_call_id}, {"content", m.content}});
    } else {
      if (!m.content.empty() || m.tool_calls.empty()) {
        blocks.push_back({{"type", "text"}, {"text", m.content}});
      }
      for (const tool_call& call : m.tool_calls) {
        blocks.push_back({{"type", "tool_use"},
                          {"id", call.id},
                          {"name", call.name},
                          {"input", call.arguments}});
      }
    }
    const std::string turn_role = m.role == role::assistant ? "assistant" : "user";
    // The API wants user and assistant turns to alternate: a tool result
    // followed by a user question, or two tool results, share one user turn.
    if (turns.empty() || turns.back().role != turn_role) {
      turns.push_back(turn{turn_role});
    }
    for (json& block : blocks) {
      turns.back().blocks.push_back(std::move(block));
    }
  }
  json messages = json::array();
  for (turn& t : turns) {
    const bool plain = t.blocks.size() == 1 && t.blocks[0]["type"] == "text";
    messages.push_back(
        {{"role", t.role}, {"content", plain ? t.blocks[0]["text"] : std::move(t.blocks)}});
  }
  body["messages"] = std::move(messages);

  if (request.json_mode) {
    system += (system.empty() ? "" : "\n\n") + std::string(json_instruction);
  }
  if (!system.empty()) {
    body["system"] = system;
  }
  if (request.temperature) {
    body["temperature"] = *request.temperature;
  }
  if (!request.stop.empty()) {
    body["stop_sequences"] = request.stop;
  }
  if (!request.tools.empty()) {
    json tools = json::array();
    for (const tool_definition& tool : request.tools) {
      json out = {{"name", tool.name}, {"input_schema", schema_or_empty(tool.parameters)}};
      if (!tool.description.empty()) {
        out["description"] = tool.description;
      }
      tools.push_back(std::move(out));
    }
    body["tools"] = std::move(tools);
  }
  if (stream) {
    body["stream"] = true;
  }
  return body;
}

result<chat_response> decode_anthropic_response(std::string_view body) {
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return fail(detail::make_error(errc::invalid_response, "anthropic: response is not JSON"));
  }
  if (!doc.is_object()) {
    return fail(shape_error("not a JSON object"));
  }
  if (doc.contains("error") || string_or_empty(doc, "type") == "error") {
    return fail(detail::from_classified(classify_http_failure(dialect::anthropic, 200, {}, body),
                                        "anthropic", 200));
  }
  const json* content = find(doc, "content");
  if (content == nullptr || !content->is_array()) {
    return fail(shape_error("content is not an array"));
  }

  chat_response response;
  response.provider = "anthropic";
  response.id = string_or_empty(doc, "id");
  response.model = string_or_empty(doc, "model");
  for (const json& block : *content) {
    const std::string type = string_or_empty(block, "type");
    if (type == "text") {
      response.text += string_or_empty(block, "text");
    } else if (type == "tool_use") {
      const json* input = find(block, "input");
      response.tool_calls.push_back(tool_call{.id = string_or_empty(block, "id"),
                                              .name = string_or_empty(block, "name"),
                                              .arguments = input ? *input : json::object()});
    }
    // Other block types (thinking, redacted_thinking, server tool results)
    // are not part of the answer text.
  }
  if (!content->empty() && !has_answer_block(*content)) {
    return fail(shape_error(no_answer_text(content->size())));
  }
  response.raw_finish_reason = string_or_empty(doc, "stop_reason");
  response.finish_reason = map_stop(response.raw_finish_reason);
  if (const json* u = find(doc, "usage"); u != nullptr && u->is_object()) {
    response.usage.prompt_tokens = input_tokens(*u);
    response.usage.completion_tokens = count_or_zero(*u, "output_tokens");
    response.usage.total_tokens = response.usage.prompt_tokens + response.usage.completion_tokens;
  } else {
    response.usage.estimated = true;
  }
  return response;
}

result<std::string> anthropic_stream_decoder::on_event(std::string_view event,
                                                       std::string_view data) {
  if (done_) {
    return std::string();
  }
  const json doc = json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail(detail::make_error(
        errc::invalid_response,
        "anthropic: stream event '" + std::string(event) + "' does not carry a JSON object"));
  }
  const std::string type = event.empty() ? string_or_empty(doc, "type") : std::string(event);
  if (type == "ping") {
    return std::string();
  }
  if (type == "error") {
    return fail(stream_error(dialect::anthropic, data));
  }
  if (type == "message_start") {
    const json* msg = find(doc, "message");
    if (msg == nullptr || !msg->is_object()) {
      return fail(shape_error("message_start without message"));
    }
    started_ = true;
    response_.id = string_or_empty(*msg, "id");
    response_.model = string_or_empty(*msg, "model");
    if (const json* u = find(*msg, "usage")) {
      input_tokens_ = input_tokens(*u);
      response_.usage.completion_tokens = count_or_zero(*u, "output_tokens");
    }
    return std::string();
  }
  if (!started_) {
    return fail(shape_error("event '" + type + "' before message_start"));
  }
  if (type == "content_block_start") {
    const auto index = index_of(doc);
    const json* start = find(doc, "content_block");
    if (!index || start == nullptr || !start->is_object()) {
      return fail(shape_error("content_block_start without index or content_block"));
    }
    block b;
    b.type = string_or_empty(*start, "type");
    b.id = string_or_empty(*start, "id");
    b.name = string_or_empty(*start, "name");
    if (const json* input = find(*start, "input"); input != nullptr && !input->empty()) {
      b.input = *input;
      b.has_input = true;
    }
    std::string text = b.type == "text" ? string_or_empty(*start, "text") : std::string();
    b.text = text;
    blocks_[*index] = std::move(b);
    return text;
  }
  if (type == "content_block_delta") {
    const auto index = index_of(doc);
    const json* delta = find(doc, "delta");
    if (!index || delta == nullptr || !blocks_.contains(*index)) {
      return fail(shape_error("content_block_delta for a block that was not started"));
    }
    block& b = blocks_[*index];
    const std::string delta_type = string_or_empty(*delta, "type");
    if (delta_type == "text_delta") {
      std::string text = string_or_empty(*delta, "text");
      b.text += text;
      return text;
    }
    if (delta_type == "input_json_delta") {
      b.partial_json += string_or_empty(*delta, "partial_json");
    }
    // thinking_delta, signature_delta, citations_delta: not answer text.
    return std::string();
  }
  if (type == "content_block_stop") {
    const auto index = index_of(doc);
    if (!index || !blocks_.contains(*index)) {
      return fail(shape_error("content_block_stop for a block that was not started"));
    }
    block& b = blocks_[*index];
    if (b.type == "tool_use" && !b.partial_json.empty()) {
      auto input = detail::parse_tool_arguments(b.name, b.partial_json);
      if (!input) {
        return fail(std::move(input).error());
      }
      b.input = std::move(*input);
      b.has_input = true;
      b.partial_json.clear();
    }
    return std::string();
  }
  if (type == "message_delta") {
    if (const json* delta = find(doc, "delta")) {
      if (auto reason = string_or_empty(*delta, "stop_reason"); !reason.empty()) {
        response_.raw_finish_reason = std::move(reason);
        response_.finish_reason = map_stop(response_.raw_finish_reason);
      }
    }
    if (const json* u = find(doc, "usage")) {
      // output_tokens is the running total, not an increment.
      if (find(*u, "output_tokens") != nullptr) {
        response_.usage.completion_tokens = count_or_zero(*u, "output_tokens");
      }
      if (find(*u, "input_tokens") != nullptr) {
        input_tokens_ = input_tokens(*u);
      }
    }
    return std::string();
  }
  if (type == "message_stop") {
    done_ = true;
  }
  // Event types added to the API later are ignored, as its versioning asks.
  return std::string();
}

result<chat_response> anthropic_stream_decoder::finish() {
  if (!done_) {
    return fail(detail::make_error(
        errc::invalid_response,
        "anthropic: stream ended before message_stop; the answer is incomplete"));
  }
  const bool answered = std::any_of(blocks_.begin(), blocks_.end(), [](const auto& entry) {
    return entry.second.type == "text" || entry.second.type == "tool_use";
  });
  if (!blocks_.empty() && !answered) {
    return fail(shape_error(no_answer_text(blocks_.size())));
  }
  chat_response out = std::move(response_);
  out.provider = "anthropic";
  out.text.clear();
  for (auto& [index, b] : blocks_) {
    if (b.type == "text") {
      out.text += b.text;
    } else if (b.type == "tool_use") {
      if (!b.partial_json.empty()) {
        auto input = detail::parse_tool_arguments(b.name, b.partial_json);
        if (!input) {
          return fail(std::move(input).error());
        }
        b.input = std::move(*input);
        b.has_input = true;
      }
      out.tool_calls.push_back(
          tool_call{.id = b.id,
                    .name = b.name,
                    .arguments = b.has_input ? std::move(b.input) : json::object()});
    }
  }
  out.usage.prompt_tokens = input_tokens_;
  out.usage.total_tokens = out.usage.prompt_tokens + out.usage.completion_tokens;
  out.usage.estimated = false;
  return out;
}

}  // namespace grove::llm::wire
