// Helpers shared by the LLM sources (see internal.hpp).

#include "internal.hpp"

namespace grove::llm::detail {

const nlohmann::json* find(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) {
    return nullptr;
  }
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string string_or_empty(const nlohmann::json& object, const char* key) {
  const nlohmann::json* value = find(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::uint64_t count_or_zero(const nlohmann::json& object, const char* key) {
  const nlohmann::json* value = find(object, key);
  return value != nullptr && value->is_number_unsigned() ? value->get<std::uint64_t>() : 0;
}

grove::error make_error(errc code, std::string message) {
  return grove::error{code, std::move(message), std::string(to_identifier(code))};
}

grove::error from_classified(const classified_failure& failure, std::string_view provider,
                             int status) {
  std::string text(provider);
  text += ": ";
  if (status != 0) {
    text += "HTTP " + std::to_string(status) + " ";
  }
  if (!failure.provider_code.empty()) {
    text += failure.provider_code + ": ";
  }
  text += failure.message;
  if (failure.retry_after) {
    text += " (retry after " + std::to_string(failure.retry_after->count()) + " ms)";
  }
  return make_error(failure.code, std::move(text));
}

result<nlohmann::json> parse_tool_arguments(std::string_view tool, std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return nlohmann::json::object();
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return fail(make_error(errc::invalid_response,
                           "tool call '" + std::string(tool) +
                               "' has arguments that are not valid JSON: " + e.what()));
  }
}

usage estimate_usage(const chat_request& request, std::string_view answer) {
  usage out;
  for (const message& m : request.messages) {
    out.prompt_tokens += 4 + (m.content.size() + 3) / 4;
  }
  out.completion_tokens = (answer.size() + 3) / 4;
  out.total_tokens = out.prompt_tokens + out.completion_tokens;
  out.estimated = true;
  return out;
}

std::string redact(std::string text, std::string_view secret) {
  if (secret.empty()) {
    return text;
  }
  constexpr std::string_view mask = "[redacted]";
  for (std::size_t pos = text.find(secret); pos != std::string::npos;
       pos = text.find(secret, pos + mask.size())) {
    text.replace(pos, secret.size(), mask);
  }
  return text;
}

std::string openai_root_url(std::string base) {
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  const auto scheme = base.find("://");
  if (scheme != std::string::npos && base.find('/', scheme + 3) == std::string::npos) {
    base += "/v1";
  }
  return base;
}

}  // namespace grove::llm::detail
