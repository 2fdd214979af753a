// Helpers shared by the LLM sources; not installed, not part of the API.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "grove/llm/chat.hpp"
#include "grove/llm/errc.hpp"

namespace grove::llm::detail {

/// The member `key` of `object`, or null when `object` is not an object, has
/// no such member, or the member is JSON null. The pointer is valid while
/// `object` is neither modified nor destroyed.
const nlohmann::json* find(const nlohmann::json& object, const char* key);

/// The string member `key` of `object`, or "" when it is absent, null or not
/// a string.
std::string string_or_empty(const nlohmann::json& object, const char* key);

/// The unsigned integer member `key` of `object` (a token count), or 0 when
/// it is absent, null, negative or not an integer.
std::uint64_t count_or_zero(const nlohmann::json& object, const char* key);

/// An error whose context is the code's stable identifier ("grove.llm.x").
grove::error make_error(errc code, std::string message);

/// The error for a classified HTTP or stream failure:
/// "<provider>: HTTP <status> <provider_code>: <message> (retry after N ms)".
/// Status 0 leaves out the "HTTP <status>" part.
grove::error from_classified(const classified_failure& failure, std::string_view provider,
                             int status);

/// Decodes tool-call arguments; "" means no arguments ({}). Errors:
/// invalid_response naming the tool and the parse failure.
result<nlohmann::json> parse_tool_arguments(std::string_view tool, std::string_view text);

/// The usage grove estimates when a provider reports none: about 4 bytes per
/// token of every message and of the answer.
usage estimate_usage(const chat_request& request, std::string_view answer);

/// Replaces every occurrence of `secret` in `text` with "[redacted]" (no-op
/// for an empty secret). Used on every message built from a provider's body.
std::string redact(std::string text, std::string_view secret);

/// The root of an OpenAI-compatible API: `base` without trailing slashes,
/// with "/v1" appended when the URL has no path at all ("http://host:8080").
std::string openai_root_url(std::string base);

}  // namespace grove::llm::detail
