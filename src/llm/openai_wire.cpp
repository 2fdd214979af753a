// The OpenAI Chat Completions wire format (see grove/llm/wire.hpp).

#include <utility>

#include "grove/llm/wire.hpp"
#include "internal.hpp"

namespace grove::llm::wire {
namespace {

using detail::count_or_zero;
using detail::find;
using detail::string_or_empty;
using nlohmann::json;

finish_reason map_finish(std::string_view raw) {
  if (raw == "stop") {
    return finish_reason::stop;
  }
  if (raw == "length") {
    return finish_reason::length;
  }
  if (raw == "tool_calls" || raw == "function_call") {
    return finish_reason::tool_calls;
  }
  if (raw == "content_filter") {
    return finish_reason::content_filter;
  }
  return finish_reason::other;
}

json schema_or_empty(const json& parameters) {
  if (parameters.is_object() && !parameters.empty()) {
    return parameters;
  }
  return json{{"type", "object"}, {"properties", json::object()}};
}

json encode_message(const message& m) {
  json out = {{"role", to_string(m.role)}};
  if (m.role == role::assistant && !m.tool_calls.empty()) {
    out["content"] = m.content.empty() ? json(nullptr) : json(m.content);
    json calls = json::array();
    for (const tool_call& call : m.tool_calls) {
      calls.push_back({{"id", call.id},
                       {"type", "function"},
                       {"function", {{"name", call.name}, {"arguments", call.arguments.dump()}}}});
    }
    out["tool_calls"] = std::move(calls);
  } else {
    out["content"] = m.content;
  }
  if (m.role == role::tool) {
    out["tool_call_id"] = m.tool_call_id;
  }
  return out;
}

// Whether a response whose content was null or absent still answers: with
// tool calls, or with a refusal or content filter in place of the text.
bool has_answer(const chat_response& response) {
  return !response.tool_calls.empty() || response.finish_reason == finish_reason::content_filter;
}

// The message for a response that carries no answer at all.
std::string no_answer_text(std::string_view where, const chat_response& response) {
  return std::string(where) + " is null or absent and there are no tool_calls (finish_reason '" +
         response.raw_finish_reason +
         "'): the response carries no answer (an empty answer is the string \"\")";
}

// OpenAI usage -> grove usage; false when the object is not there.
bool read_usage(const json& body, usage& out) {
  const json* u = find(body, "usage");
  if (u == nullptr || !u->is_object()) {
    return false;
  }
  out.prompt_tokens = count_or_zero(*u, "prompt_tokens");
  out.completion_tokens = count_or_zero(*u, "completion_tokens");
  out.total_tokens = count_or_zero(*u, "total_tokens");
  if (out.total_tokens == 0) {
    out.total_tokens = out.prompt_tokens + out.completion_tokens;
  }
  out.estimated = false;
  return true;
}

grove::error shape_error(std::string what) {
  return detail::make_error(errc::invalid_response, "openai: unexpected response shape: " + what);
}

result<json> parse_body(std::string_view body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return fail(detail::make_error(errc::invalid_response, "openai: response is not JSON"));
  }
  return doc;
}

}  // namespace

json encode_openai_request(const chat_request& request, std::string_view model, bool stream,
                           openai_max_tokens_field field) {
  json body = {{"model", request.model.empty() ? std::string(model) : request.model}};
  json messages = json::array();
  for (const message& m : request.messages) {
    messages.push_back(encode_message(m));
  }
  body["messages"] = std::move(messages);
  if (request.temperature) {
    body["temperature"] = *request.temperature;
  }
  if (request.max_tokens) {
    body[field == openai_max_tokens_field::max_tokens ? "max_tokens" : "max_completion_tokens"] =
        *request.max_tokens;
  }
  if (!request.stop.empty()) {
    body["stop"] = request.stop;
  }
  if (request.json_mode) {
    body["response_format"] = {{"type", "json_object"}};
  }
  if (!request.tools.empty()) {
    json tools = json::array();
    for (const tool_definition& tool : request.tools) {
      json function = {{"name", tool.name}};
      if (!tool.description.empty()) {
        function["description"] = tool.description;
      }
      function["parameters"] = schema_or_empty(tool.parameters);
      tools.push_back({{"type", "function"}, {"function", std::move(function)}});
    }
    body["tools"] = std::move(tools);
  }
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  return body;
}

result<chat_response> decode_openai_response(std::string_view body) {
  auto parsed = parse_body(body);
  if (!parsed) {
    return fail(std::move(parsed).error());
  }
  const json& doc = *parsed;
  if (!doc.is_object()) {
    return fail(shape_error("not a JSON object"));
  }
  if (doc.contains("error") || string_or_empty(doc, "object") == "error") {
    return fail(detail::from_classified(classify_http_failure(dialect::openai, 200, {}, body),
                                        "openai", 200));
  }
  const json* choices = find(doc, "choices");
  if (choices == nullptr || !choices->is_array() || choices->empty()) {
    return fail(shape_error("no choices"));
  }
  const json& choice = (*choices)[0];
  const json* msg = find(choice, "message");
  if (msg == nullptr || !msg->is_object()) {
    return fail(shape_error("choices[0].message missing"));
  }

  chat_response response;
  response.provider = "openai";
  response.id = string_or_empty(doc, "id");
  response.model = string_or_empty(doc, "model");
  const json* content = find(*msg, "content");
  if (content != nullptr) {
    if (!content->is_string()) {
      return fail(shape_error("choices[0].message.content is not a string"));
    }
    response.text = content->get<std::string>();
  }
  if (const json* calls = find(*msg, "tool_calls")) {
    if (!calls->is_array()) {
      return fail(shape_error("choices[0].message.tool_calls is not an array"));
    }
    for (const json& call : *calls) {
      const json* function = find(call, "function");
      if (function == nullptr || !function->is_object()) {
        return fail(shape_error("tool call without function"));
      }
      tool_call out{.id = string_or_empty(call, "id"), .name = string_or_empty(*function, "name")};
      const json* arguments = find(*function, "arguments");
      if (arguments != nullptr && arguments->is_string()) {
        auto decoded = detail::parse_tool_arguments(out.name, arguments->get<std::string>());
        if (!decoded) {
          return fail(std::move(decoded).error());
        }
        out.arguments = std::move(*decoded);
      } else if (arguments != nullptr && arguments->is_object()) {
        // Some compatible servers (older Ollama) send the object itself.
        out.arguments = *arguments;
      }
      response.tool_calls.push_back(std::move(out));
    }
  }
  response.raw_finish_reason = string_or_empty(choice, "finish_reason");
  response.finish_reason = map_finish(response.raw_finish_reason);
  const std::string refusal = string_or_empty(*msg, "refusal");
  if (response.text.empty() && !refusal.empty()) {
    response.text = refusal;
    response.finish_reason = finish_reason::content_filter;
  }
  if (content == nullptr && !has_answer(response)) {
    return fail(shape_error(no_answer_text("choices[0].message.content", response)));
  }
  if (!read_usage(doc, response.usage)) {
    response.usage.estimated = true;
  }
  return response;
}

result<std::string> openai_stream_decoder::on_event(std::string_view data) {
  if (done_) {
    return std::string();
  }
  if (data == "[DONE]") {
    done_ = true;
    return std::string();
  }
  auto parsed = parse_body(data);
  if (!parsed) {
    return fail(detail::make_error(errc::invalid_response, "openai: stream event is not JSON"));
  }
  const json& chunk = *parsed;
  if (!chunk.is_object()) {
    return fail(shape_error("stream event is not a JSON object"));
  }
  if (chunk.contains("error")) {
    return fail(stream_error(dialect::openai, data));
  }
  if (response_.id.empty()) {
    response_.id = string_or_empty(chunk, "id");
  }
  if (response_.model.empty()) {
    response_.model = string_or_empty(chunk, "model");
  }
  if (read_usage(chunk, response_.usage)) {
    usage_seen_ = true;
  }
  const json* choices = find(chunk, "choices");
  if (choices == nullptr) {
    // A usage-only chunk may drop the field instead of sending [].
    if (find(chunk, "usage") != nullptr) {
      return std::string();
    }
    return fail(shape_error("stream chunk without choices"));
  }
  if (!choices->is_array()) {
    return fail(shape_error("stream chunk choices is not an array"));
  }
  std::string text;
  for (const json& choice : *choices) {
    // grove never asks for n > 1; other choices are ignored.
    const json* index = find(choice, "index");
    if (index != nullptr && (!index->is_number_integer() || index->get<std::int64_t>() != 0)) {
      continue;
    }
    const json* delta = find(choice, "delta");
    if (delta != nullptr && delta->is_object()) {
      if (const json* content = find(*delta, "content")) {
        if (!content->is_string()) {
          return fail(shape_error("delta.content is not a string"));
        }
        text += content->get<std::string>();
        content_seen_ = true;
      }
      refusal_ += string_or_empty(*delta, "refusal");
      if (const json* calls = find(*delta, "tool_calls")) {
        if (!calls->is_array()) {
          return fail(shape_error("delta.tool_calls is not an array"));
        }
        for (const json& fragment : *calls) {
          const json* index = find(fragment, "index");
          const std::int64_t key =
              index != nullptr && index->is_number_integer() ? index->get<std::int64_t>() : 0;
          partial_call& call = calls_[key];
          if (auto id = string_or_empty(fragment, "id"); !id.empty()) {
            call.id = std::move(id);
          }
          if (const json* function = find(fragment, "function")) {
            call.name += string_or_empty(*function, "name");
            call.arguments += string_or_empty(*function, "arguments");
          }
        }
      }
    }
    if (auto reason = string_or_empty(choice, "finish_reason"); !reason.empty()) {
      response_.raw_finish_reason = std::move(reason);
      response_.finish_reason = map_finish(response_.raw_finish_reason);
      finished_choice_ = true;
    }
  }
  response_.text += text;
  return text;
}

result<chat_response> openai_stream_decoder::finish() {
  if (!done_ && !finished_choice_) {
    return fail(detail::make_error(errc::invalid_response,
                                   "openai: stream ended early (no finish_reason and no [DONE]); "
                                   "the answer is incomplete"));
  }
  chat_response out = std::move(response_);
  out.provider = "openai";
  for (auto& [index, call] : calls_) {
    auto arguments = detail::parse_tool_arguments(call.name, call.arguments);
    if (!arguments) {
      return fail(std::move(arguments).error());
    }
    out.tool_calls.push_back(
        tool_call{.id = call.id, .name = call.name, .arguments = std::move(*arguments)});
  }
  if (out.text.empty() && !refusal_.empty()) {
    out.text = refusal_;
    out.finish_reason = finish_reason::content_filter;
  }
  if (!content_seen_ && !has_answer(out)) {
    return fail(shape_error(no_answer_text("stream delta.content", out)));
  }
  if (!usage_seen_) {
    out.usage = usage{};
    out.usage.estimated = true;
  }
  return out;
}

grove::error stream_error(dialect wire, std::string_view data) {
  const json doc = json::parse(data, nullptr, /*allow_exceptions=*/false);
  const json* error = find(doc, "error");
  std::string type;
  std::string code;
  if (error != nullptr && error->is_object()) {
    type = string_or_empty(*error, "type");
    code = string_or_empty(*error, "code");
  }
  // The status the same error would have had before the 200 was sent, so the
  // one classifier decides; anything unknown is the server giving up.
  int status = 500;
  if (type == "overloaded_error") {
    status = 529;
  } else if (type == "rate_limit_error" || code == "rate_limit_exceeded" ||
             code == "insufficient_quota" || type == "insufficient_quota") {
    status = 429;
  } else if (type == "invalid_request_error") {
    status = 400;
  } else if (type == "authentication_error") {
    status = 401;
  } else if (type == "permission_error") {
    status = 403;
  } else if (type == "not_found_error") {
    status = 404;
  }
  classified_failure failure = classify_http_failure(wire, status, {}, data);
  if (failure.message.empty() || failure.message.starts_with("HTTP ")) {
    failure.message = "error event in the stream";
  }
  failure.message = "mid-stream error: " + failure.message;
  return detail::from_classified(failure, wire == dialect::openai ? "openai" : "anthropic", 0);
}

}  // namespace grove::llm::wire
