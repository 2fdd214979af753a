// The grove.llm error category and the one place where a failed HTTP exchange
// becomes a grove::llm::errc (see grove/llm/errc.hpp).

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <locale>
#include <sstream>

#include <nlohmann/json.hpp>

#include "grove/llm/errc.hpp"

namespace grove::llm {
namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "grove.llm"; }
  std::string message(int value) const override {
    return std::string(to_identifier(static_cast<errc>(value)));
  }
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

const std::string* find_header(const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && lower(key) == name) {
      return &value;
    }
  }
  return nullptr;
}

// A decimal number such as "1.5" or "20"; nullopt for anything else.
std::optional<double> parse_number(std::string_view text) {
  text = trim(text);
  if (text.empty()) {
    return std::nullopt;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// IMF-fixdate, the form RFC 9110 requires of senders ("Sun, 06 Nov 1994 08:49:37 GMT").
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  std::tm tm{};
  std::istringstream in{std::string(trim(text))};
  in.imbue(std::locale::classic());
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
  if (in.fail()) {
    return std::nullopt;
  }
  const std::time_t seconds = timegm(&tm);
  if (seconds == static_cast<std::time_t>(-1)) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(seconds);
}

// RFC 3339 ("2024-05-01T12:00:30Z", "2024-05-01T12:00:30.5+02:00"), as sent in
// Anthropic's anthropic-ratelimit-*-reset headers.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  text = trim(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  auto number = [&text](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > text.size()) {
      return false;
    }
    const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
    return ec == std::errc() && end == text.data() + pos + len;
  };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':' || !number(0, 4, year) || !number(5, 2, month) || !number(8, 2, day) ||
      !number(11, 2, hour) || !number(14, 2, minute) || !number(17, 2, second)) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  double fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    std::size_t end = pos + 1;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) {
      ++end;
    }
    if (auto value = parse_number("0" + std::string(text.substr(pos, end - pos)))) {
      fraction = *value;
    }
    pos = end;
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') &&
             text[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (!number(pos + 1, 2, oh) || !number(pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t seconds = timegm(&tm);
  if (seconds == static_cast<std::time_t>(-1)) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(seconds) - std::chrono::minutes(offset_minutes) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             std::chrono::duration<double>(fraction));
}

std::chrono::milliseconds clamp_hint(double millis, std::chrono::milliseconds cap) {
  if (millis <= 0) {
    return std::chrono::milliseconds(0);
  }
  const double capped = std::min(millis, static_cast<double>(cap.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(capped)));
}

// The provider's error object, in whichever of the shapes seen in the wild:
//   OpenAI:    {"error": {"message", "type", "code", "param"}}
//   Anthropic: {"type": "error", "error": {"type", "message"}}
//   vLLM:      {"object": "error", "message", "type", "code"}
//   Ollama:    {"error": "text"}
struct error_object {
  bool present = false;
  std::string type;
  std::string code;
  std::string message;
};

std::string json_text(const nlohmann::json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_number_integer()) {
    return std::to_string(value.get<std::int64_t>());
  }
  return {};
}

bool is_string_equal(const nlohmann::json& object, const char* key, std::string_view expected) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() && it->get_ref<const std::string&>() == expected;
}

error_object find_error_object(std::string_view body) {
  error_object out;
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return out;
  }
  auto read = [&out](const nlohmann::json& object) {
    out.present = true;
    if (auto it = object.find("type"); it != object.end()) {
      out.type = json_text(*it);
    }
    if (auto it = object.find("code"); it != object.end()) {
      out.code = json_text(*it);
    }
    if (auto it = object.find("message"); it != object.end()) {
      out.message = json_text(*it);
    }
  };
  if (auto it = doc.find("error"); it != doc.end()) {
    if (it->is_object()) {
      read(*it);
    } else if (it->is_string()) {
      out.present = true;
      out.message = it->get<std::string>();
    }
  } else if (is_string_equal(doc, "object", "error") || is_string_equal(doc, "type", "error")) {
    read(doc);
  }
  return out;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && lower(text.substr(0, prefix.size())) == prefix;
}

bool is_context_length(dialect wire, const error_object& e) {
  if (e.code == "context_length_exceeded" || e.type == "context_length_exceeded" ||
      e.type == "exceed_context_size_error") {
    return true;
  }
  // Anthropic has no dedicated code for this: it answers 400
  // invalid_request_error with one of two fixed phrases at the start of the
  // message. Matching those phrases (and only at the start) keeps any other
  // 400 that happens to talk about tokens a plain bad_request.
  return wire == dialect::anthropic && e.type == "invalid_request_error" &&
         (starts_with_ci(e.message, "prompt is too long") ||
          starts_with_ci(e.message, "input length and `max_tokens` exceed context limit"));
}

}  // namespace

const std::error_category& llm_category() noexcept {
  static const category_impl instance;
  return instance;
}

std::string_view to_identifier(errc e) noexcept {
  switch (e) {
    case errc::authentication:
      return "grove.llm.authentication";
    case errc::permission:
      return "grove.llm.permission";
    case errc::not_found:
      return "grove.llm.not_found";
    case errc::bad_request:
      return "grove.llm.bad_request";
    case errc::context_length_exceeded:
      return "grove.llm.context_length_exceeded";
    case errc::rate_limited:
      return "grove.llm.rate_limited";
    case errc::quota_exhausted:
      return "grove.llm.quota_exhausted";
    case errc::overloaded:
      return "grove.llm.overloaded";
    case errc::server_error:
      return "grove.llm.server_error";
    case errc::timeout:
      return "grove.llm.timeout";
    case errc::network:
      return "grove.llm.network";
    case errc::invalid_response:
      return "grove.llm.invalid_response";
    case errc::circuit_open:
      return "grove.llm.circuit_open";
    case errc::invalid_config:
      return "grove.llm.invalid_config";
    case errc::cancelled:
      return "grove.llm.cancelled";
  }
  return "grove.llm.unknown";
}

bool is_retryable(errc e) noexcept {
  switch (e) {
    case errc::rate_limited:
    case errc::overloaded:
    case errc::server_error:
    case errc::timeout:
    case errc::network:
      return true;
    default:
      return false;
  }
}

bool counts_as_breaker_failure(errc e) noexcept {
  switch (e) {
    case errc::overloaded:
    case errc::server_error:
    case errc::timeout:
    case errc::network:
      return true;
    default:
      return false;
  }
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    const std::vector<std::pair<std::string, std::string>>& headers,
    std::chrono::system_clock::time_point now, std::chrono::milliseconds cap) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  if (const std::string* value = find_header(headers, "retry-after-ms")) {
    if (auto millis = parse_number(*value); millis && *millis >= 0) {
      return clamp_hint(*millis, cap);
    }
  }
  if (const std::string* value = find_header(headers, "retry-after")) {
    if (auto seconds = parse_number(*value); seconds && *seconds >= 0) {
      return clamp_hint(*seconds * 1000.0, cap);
    }
    if (auto when = parse_http_date(*value)) {
      return clamp_hint(static_cast<double>(duration_cast<milliseconds>(*when - now).count()), cap);
    }
  }
  // Without a retry-after, Anthropic's per-limit reset times tell when the
  // exhausted limit refills. Which limit was hit is not stated, so take the
  // earliest future reset: an early retry costs one more 429 with a fresh hint,
  // a late one idles the caller.
  std::optional<milliseconds> earliest;
  for (const auto& [key, value] : headers) {
    const std::string name = lower(key);
    if (name.rfind("anthropic-ratelimit-", 0) != 0 || name.size() < 6 ||
        name.compare(name.size() - 6, 6, "-reset") != 0) {
      continue;
    }
    if (auto when = parse_rfc3339(value)) {
      const auto wait = duration_cast<milliseconds>(*when - now);
      if (wait.count() > 0 && (!earliest || wait < *earliest)) {
        earliest = wait;
      }
    }
  }
  if (earliest) {
    return clamp_hint(static_cast<double>(earliest->count()), cap);
  }
  return std::nullopt;
}

classified_failure classify_http_failure(
    dialect wire, int status, const std::vector<std::pair<std::string, std::string>>& headers,
    std::string_view body) {
  classified_failure out;
  const error_object e = find_error_object(body);
  out.provider_code =
      !e.code.empty() && !std::isdigit(static_cast<unsigned char>(e.code[0])) ? e.code : e.type;
  out.message = e.message;

  if (status >= 200 && status < 300) {
    // Some local servers answer 200 with an error object instead of a status.
    // Only a specific code is trusted; anything else is a broken answer.
    out.code = e.present && is_context_length(wire, e) ? errc::context_length_exceeded
                                                       : errc::invalid_response;
    if (out.message.empty()) {
      out.message = e.present ? "error object in a 2xx answer" : "unexpected answer";
    }
    return out;
  }

  const bool quota = e.code == "insufficient_quota" || e.type == "insufficient_quota";
  if (e.type == "overloaded_error" || status == 529) {
    out.code = errc::overloaded;
  } else if (is_context_length(wire, e)) {
    out.code = errc::context_length_exceeded;
  } else if (quota) {
    out.code = errc::quota_exhausted;
  } else if (status == 429 || e.type == "rate_limit_error" || e.code == "rate_limit_exceeded") {
    out.code = errc::rate_limited;
  } else if (status == 401 || e.type == "authentication_error" || e.code == "invalid_api_key") {
    out.code = errc::authentication;
  } else if (status == 403 || e.type == "permission_error") {
    out.code = errc::permission;
  } else if (status == 404 || e.type == "not_found_error" || e.code == "model_not_found") {
    out.code = errc::not_found;
  } else if (status == 408 || status == 504) {
    out.code = errc::timeout;
  } else if (status >= 500 || status == 409) {
    // 409 is OpenAI's "conflict, try again"; like a 5xx it is worth a retry.
    out.code = errc::server_error;
  } else if (status >= 400) {
    out.code = errc::bad_request;
  } else {
    out.code = errc::invalid_response;
  }

  if (out.code == errc::rate_limited || out.code == errc::overloaded ||
      out.code == errc::server_error) {
    out.retry_after = parse_retry_after(headers);
  }
  if (out.message.empty()) {
    out.message = "HTTP " + std::to_string(status);
  }
  return out;
}

}  // namespace grove::llm
