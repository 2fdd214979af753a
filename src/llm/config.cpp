// llm_config: validation, description and the environment (see grove/llm/config.hpp).

#include "grove/llm/config.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <ostream>

#include "internal.hpp"

namespace grove::llm {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

bool is_http_url(std::string_view url) {
  const std::string l = lower(url);
  for (std::string_view scheme : {"http://", "https://"}) {
    if (l.starts_with(scheme) && l.size() > scheme.size() && l[scheme.size()] != '/') {
      return true;
    }
  }
  return false;
}

constexpr std::string_view openai_default_url = "https://api.openai.com/v1";
constexpr std::string_view anthropic_default_url = "https://api.anthropic.com";

}  // namespace

std::ostream& operator<<(std::ostream& out, const secret& s) { return out << s.masked(); }

std::string_view to_string(provider_kind p) noexcept {
  switch (p) {
    case provider_kind::offline:
      return "offline";
    case provider_kind::openai:
      return "openai";
    case provider_kind::anthropic:
      return "anthropic";
  }
  return "unknown";
}

result<provider_kind> parse_provider(std::string_view name) {
  const std::string n = lower(trim(name));
  if (n == "offline" || n == "none") {
    return provider_kind::offline;
  }
  if (n == "openai" || n == "openai-compatible" || n == "local" || n == "ollama" || n == "vllm" ||
      n == "llamacpp" || n == "llama.cpp" || n == "lmstudio") {
    return provider_kind::openai;
  }
  if (n == "anthropic" || n == "claude") {
    return provider_kind::anthropic;
  }
  return fail(detail::make_error(
      errc::invalid_config,
      "unknown LLM provider '" + std::string(name) +
          "' (accepted: offline, openai, anthropic; openai-compatible, local, ollama, vllm, "
          "llamacpp, lmstudio mean openai)"));
}

std::string llm_config::effective_base_url() const {
  if (!base_url.empty()) {
    return base_url;
  }
  switch (provider) {
    case provider_kind::openai:
      return std::string(openai_default_url);
    case provider_kind::anthropic:
      return std::string(anthropic_default_url);
    case provider_kind::offline:
      break;
  }
  return {};
}

std::string llm_config::effective_model() const {
  if (!model.empty()) {
    return model;
  }
  switch (provider) {
    case provider_kind::openai:
      return "gpt-4o-mini";
    case provider_kind::anthropic:
      return "claude-sonnet-4-5";
    case provider_kind::offline:
      break;
  }
  return offline.model;
}

result<void> llm_config::validate() const {
  std::vector<std::string> problems;
  auto add = [&problems](std::string text) { problems.push_back(std::move(text)); };
  const bool remote = provider != provider_kind::offline;

  if (remote) {
    if (!base_url.empty() && !is_http_url(base_url)) {
      add("base_url: '" + base_url + "' is not an http:// or https:// URL");
    }
    const std::string url = effective_base_url();
    if (api_key.empty() &&
        (url.starts_with(openai_default_url) || url.starts_with(anthropic_default_url))) {
      add("api_key: " + std::string(llm::to_string(provider)) + " at " + url +
          " needs an API key (OPENAI_API_KEY / ANTHROPIC_API_KEY or GROVE_LLM_API_KEY_FILE)");
    }
    if (api_key.reveal().find_first_of("\r\n") != std::string::npos) {
      add("api_key: contains a line break (a key file with several lines?)");
    }
  }
  if (anthropic_version.empty()) {
    add("anthropic_version: must not be empty");
  }
  if (default_max_tokens < 1 || default_max_tokens > 1'000'000) {
    add("default_max_tokens: " + std::to_string(default_max_tokens) + " is outside 1..1000000");
  }
  if (!(requests_per_minute > 0.0) || !std::isfinite(requests_per_minute)) {
    add("requests_per_minute: must be a positive number");
  }
  if (!(request_burst >= 1.0) || request_burst > requests_per_minute) {
    add("request_burst: must be within 1..requests_per_minute");
  }
  if (!(tokens_per_minute >= 0.0) || !std::isfinite(tokens_per_minute)) {
    add("tokens_per_minute: must be 0 (no limit) or a positive number");
  }
  if (connect_timeout.count() <= 0) {
    add("connect_timeout: must be positive");
  }
  if (request_timeout.count() <= 0) {
    add("request_timeout: must be positive");
  }
  if (idle_timeout.count() <= 0) {
    add("idle_timeout: must be positive");
  }
  if (max_response_bytes == 0) {
    add("max_response_bytes: must be positive");
  }
  if (cache_entries > 0 && cache_bytes == 0) {
    add("cache_bytes: must be positive when the cache is on");
  }
  if (cache_ttl.count() <= 0) {
    add("cache_ttl: must be positive");
  }
  if (auto r = retry.validate(); !r) {
    add("retry: " + r.error().message);
  }
  if (auto b = breaker.validate(); !b) {
    add("breaker: " + b.error().message);
  }
  if (auto o = offline.validate(); !o) {
    add("offline: " + o.error().message);
  }

  if (problems.empty()) {
    return {};
  }
  std::string text = "invalid llm_config: ";
  for (std::size_t i = 0; i < problems.size(); ++i) {
    text += (i == 0 ? "" : "; ") + problems[i];
  }
  return fail(detail::make_error(errc::invalid_config, detail::redact(text, api_key.reveal())));
}

std::string llm_config::to_string() const {
  std::string text = "llm provider=" + std::string(llm::to_string(provider));
  text += " model=" + effective_model();
  if (provider != provider_kind::offline) {
    text += " base_url=" + effective_base_url();
    text += " api_key=" + std::string(api_key.masked());
    text += " rpm=" + std::to_string(requests_per_minute);
    if (tokens_per_minute > 0) {
      text += " tpm=" + std::to_string(tokens_per_minute);
    }
  }
  return text;
}

result<llm_config> config_from_environment(environment_lookup lookup) {
  if (!lookup) {
    lookup = [](std::string_view name) -> std::optional<std::string> {
      const char* value = std::getenv(std::string(name).c_str());
      if (value == nullptr) {
        return std::nullopt;
      }
      return std::string(value);
    };
  }
  auto get = [&lookup](std::string_view name) -> std::optional<std::string> {
    auto value = lookup(name);
    if (!value || trim(*value).empty()) {
      return std::nullopt;
    }
    return std::string(trim(*value));
  };

  llm_config config;
  const auto base_url = get("GROVE_LLM_BASE_URL");
  if (auto name = get("GROVE_LLM_PROVIDER")) {
    auto provider = parse_provider(*name);
    if (!provider) {
      return fail(std::move(provider).error());
    }
    config.provider = *provider;
  } else if (base_url) {
    config.provider = provider_kind::openai;
  }
  if (base_url) {
    config.base_url = *base_url;
  }
  if (auto model = get("GROVE_LLM_MODEL")) {
    config.model = *model;
  }

  if (auto path = get("GROVE_LLM_API_KEY_FILE")) {
    std::ifstream in(*path);
    std::string line;
    if (!in || !std::getline(in, line) || trim(line).empty()) {
      return fail(detail::make_error(
          errc::invalid_config,
          "GROVE_LLM_API_KEY_FILE: cannot read a key from '" + *path + "' (missing or empty)"));
    }
    config.api_key = secret(std::string(trim(line)));
  } else if (config.provider == provider_kind::openai) {
    if (auto key = get("OPENAI_API_KEY")) {
      config.api_key = secret(*key);
    }
  } else if (config.provider == provider_kind::anthropic) {
    if (auto key = get("ANTHROPIC_API_KEY")) {
      config.api_key = secret(*key);
    }
  }
  if (auto org = get("OPENAI_ORG_ID")) {
    config.organization = *org;
  }
  if (auto project = get("OPENAI_PROJECT_ID")) {
    config.project = *project;
  }

  auto number = [&get](std::string_view name, double& out) -> result<void> {
    auto text = get(name);
    if (!text) {
      return {};
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size()) {
      return fail(detail::make_error(errc::invalid_config,
                                     std::string(name) + ": '" + *text + "' is not a number"));
    }
    out = value;
    return {};
  };
  if (auto r = number("GROVE_LLM_RPM", config.requests_per_minute); !r) {
    return fail(std::move(r).error());
  }
  if (auto r = number("GROVE_LLM_TPM", config.tokens_per_minute); !r) {
    return fail(std::move(r).error());
  }

  if (auto valid = config.validate(); !valid) {
    return fail(std::move(valid).error());
  }
  return config;
}

}  // namespace grove::llm
