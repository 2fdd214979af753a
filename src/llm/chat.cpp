// The value types of grove/llm/chat.hpp and request validation.

#include "grove/llm/chat.hpp"

#include <set>
#include <utility>

namespace grove::llm {

std::string_view to_string(role r) noexcept {
  switch (r) {
    case role::system:
      return "system";
    case role::user:
      return "user";
    case role::assistant:
      return "assistant";
    case role::tool:
      return "tool";
  }
  return "unknown";
}

std::string_view to_string(finish_reason r) noexcept {
  switch (r) {
    case finish_reason::stop:
      return "stop";
    case finish_reason::length:
      return "length";
    case finish_reason::tool_calls:
      return "tool_calls";
    case finish_reason::content_filter:
      return "content_filter";
    case finish_reason::other:
      return "other";
  }
  return "other";
}

message message::system(std::string text) {
  return message{.role = role::system, .content = std::move(text)};
}

message message::user(std::string text) {
  return message{.role = role::user, .content = std::move(text)};
}

message message::assistant(std::string text, std::vector<tool_call> calls) {
  return message{
      .role = role::assistant, .content = std::move(text), .tool_calls = std::move(calls)};
}

message message::tool_result(std::string call_id, std::string text) {
  return message{
      .role = role::tool, .content = std::move(text), .tool_call_id = std::move(call_id)};
}

boost::asio::awaitable<void> chat_client::async_close() { co_return; }

namespace {

bool valid_tool_name(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

}  // namespace

result<void> validate(const chat_request& request) {
  std::vector<std::string> problems;
  auto add = [&problems](std::string text) { problems.push_back(std::move(text)); };

  bool has_conversation = false;
  for (std::size_t i = 0; i < request.messages.size(); ++i) {
    const message& m = request.messages[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (m.role != role::system) {
      has_conversation = true;
    }
    if (m.role == role::tool && m.tool_call_id.empty()) {
      add(where + ".tool_call_id: a tool message must name the tool call it answers");
    }
    if (m.role != role::tool && !m.tool_call_id.empty()) {
      add(where + ".tool_call_id: only tool messages may carry a tool_call_id");
    }
    if (m.role != role::assistant && !m.tool_calls.empty()) {
      add(where + ".tool_calls: only assistant messages may carry tool calls");
    }
    for (std::size_t c = 0; c < m.tool_calls.size(); ++c) {
      const tool_call& call = m.tool_calls[c];
      const std::string call_where = where + ".tool_calls[" + std::to_string(c) + "]";
      if (call.id.empty()) {
        add(call_where + ".id: empty (the matching tool message needs it)");
      }
      if (!valid_tool_name(call.name)) {
        add(call_where + ".name: '" + call.name + "' is not 1-64 of [a-zA-Z0-9_-]");
      }
    }
  }
  if (!has_conversation) {
    add("messages: needs at least one user, assistant or tool message");
  }
  if (request.temperature && !(*request.temperature >= 0.0 && *request.temperature <= 2.0)) {
    add("temperature: " + std::to_string(*request.temperature) + " is outside 0..2");
  }
  if (request.max_tokens && *request.max_tokens == 0) {
    add("max_tokens: must be at least 1 (leave it unset for the provider default)");
  }
  for (std::size_t i = 0; i < request.stop.size(); ++i) {
    if (request.stop[i].empty()) {
      add("stop[" + std::to_string(i) + "]: empty stop sequence");
    }
  }
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < request.tools.size(); ++i) {
    const tool_definition& tool = request.tools[i];
    const std::string where = "tools[" + std::to_string(i) + "]";
    if (!valid_tool_name(tool.name)) {
      add(where + ".name: '" + tool.name + "' is not 1-64 of [a-zA-Z0-9_-]");
    } else if (!names.insert(tool.name).second) {
      add(where + ".name: '" + tool.name + "' is declared twice");
    }
    if (!tool.parameters.is_object()) {
      add(where + ".parameters: a JSON Schema must be a JSON object, got " +
          std::string(tool.parameters.type_name()));
    }
  }

  if (problems.empty()) {
    return {};
  }
  std::string text = "invalid chat request: ";
  for (std::size_t i = 0; i < problems.size(); ++i) {
    text += (i == 0 ? "" : "; ") + problems[i];
  }
  return fail(errc::bad_request, std::move(text), "grove.llm.bad_request");
}

}  // namespace grove::llm
