// The offline provider: deterministic canned answers (see grove/llm/offline.hpp).

// g++ 12 at -O2 reports a false -Wmismatched-new-delete for Asio's coroutine
// frames (they pair a custom operator new with the matching operator delete).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include "grove/llm/offline.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "grove/core/hash.hpp"
#include "grove/core/utf8.hpp"

namespace grove::llm {
namespace {

// Requests whose prompt has more '{' than this are only searched for a JSON
// template among the first ones: each attempt scans to the closing brace, and
// a hostile prompt full of braces must not make a local answer quadratic.
constexpr std::size_t max_template_attempts = 256;

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

bool contains(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

std::string hex64(std::uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

// The text the answer is derived from: every message, with its role, in order.
std::string canonical_prompt(const chat_request& request) {
  std::string text;
  for (const message& m : request.messages) {
    text += to_string(m.role);
    text += '\x1f';
    text += m.content;
    text += '\x1e';
  }
  text += request.json_mode ? "json" : "text";
  return text;
}

// The system messages and the last user message: where instructions live.
std::string instruction_text(const chat_request& request) {
  std::string text;
  const message* last_user = nullptr;
  for (const message& m : request.messages) {
    if (m.role == role::system) {
      text += m.content;
      text += '\n';
    } else if (m.role == role::user) {
      last_user = &m;
    }
  }
  if (last_user != nullptr) {
    text += last_user->content;
  }
  return text;
}

std::string last_user_text(const chat_request& request) {
  for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it) {
    if (it->role == role::user) {
      return it->content;
    }
  }
  return request.messages.empty() ? std::string() : request.messages.back().content;
}

// --- JSON answers ----------------------------------------------------------

enum class value_kind { number, boolean, string, array, object };

struct template_key {
  std::string name;
  value_kind kind = value_kind::string;
};

bool numeric_name(std::string_view name) {
  static constexpr std::array<std::string_view, 21> words = {
      "score",    "rating",    "confidence", "probability", "quality", "relevance", "correct",
      "accuracy", "coherence", "complete",   "feasibility", "novelty", "clarity",   "helpful",
      "value",    "weight",    "grade",      "rank",        "certain", "likelih",   "consistency"};
  return std::any_of(words.begin(), words.end(),
                     [name](std::string_view w) { return contains(name, w); });
}

bool boolean_name(std::string_view name) {
  static constexpr std::array<std::string_view, 11> exact = {
      "valid",  "pass",      "passed", "approved", "accepted",  "agree",
      "agrees", "consensus", "done",   "success",  "is_correct"};
  if (name.starts_with("is_") || name.starts_with("has_") || name.starts_with("should_")) {
    return true;
  }
  return std::find(exact.begin(), exact.end(), name) != exact.end();
}

// What the template's value token says about the type, if anything.
std::optional<value_kind> kind_from_token(std::string_view token) {
  if (token.empty()) {
    return std::nullopt;
  }
  const char c = token.front();
  if (c == '[') {
    return value_kind::array;
  }
  if (c == '{') {
    return value_kind::object;
  }
  if (token.starts_with("true") || token.starts_with("false")) {
    return value_kind::boolean;
  }
  if ((c >= '0' && c <= '9') || c == '-' || c == '.') {
    return value_kind::number;
  }
  if (c == '<') {
    const std::string hint = lowercase(token.substr(0, token.find('>')));
    if (contains(hint, "bool") || contains(hint, "true")) {
      return value_kind::boolean;
    }
    if (contains(hint, "number") || contains(hint, "float") || contains(hint, "int") ||
        contains(hint, "score") ||
        std::any_of(hint.begin(), hint.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      return value_kind::number;
    }
    if (contains(hint, "list") || contains(hint, "array")) {
      return value_kind::array;
    }
  }
  return std::nullopt;
}

value_kind decide_kind(const std::string& name, std::string_view token) {
  const auto from_token = kind_from_token(token);
  if (from_token && *from_token != value_kind::number) {
    return *from_token;
  }
  if (from_token || numeric_name(name)) {
    return value_kind::number;
  }
  if (boolean_name(name)) {
    return value_kind::boolean;
  }
  return value_kind::string;
}

// Parses the brace block starting at text[open] (a '{'). Returns the keys at
// depth one and sets `end` past the closing brace, or returns nothing when the
// block never closes.
std::optional<std::vector<template_key>> read_template(std::string_view text, std::size_t open,
                                                       std::size_t& end) {
  std::vector<template_key> keys;
  int depth = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      std::size_t close = i + 1;
      while (close < text.size() && text[close] != '"') {
        close += text[close] == '\\' ? 2 : 1;
      }
      if (close >= text.size()) {
        return std::nullopt;
      }
      std::size_t after = close + 1;
      while (after < text.size() && (text[after] == ' ' || text[after] == '\t')) {
        ++after;
      }
      if (depth == 1 && after < text.size() && text[after] == ':') {
        std::size_t value = after + 1;
        while (value < text.size() && std::isspace(static_cast<unsigned char>(text[value]))) {
          ++value;
        }
        std::string name(text.substr(i + 1, close - i - 1));
        const std::string lowered = lowercase(name);
        const auto duplicate = std::find_if(keys.begin(), keys.end(),
                                            [&name](const auto& k) { return k.name == name; });
        if (!name.empty() && duplicate == keys.end()) {
          keys.push_back({name, decide_kind(lowered, text.substr(value, 64))});
        }
      }
      i = close;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) {
        end = i + 1;
        return keys;
      }
    }
  }
  return std::nullopt;
}

// The keys of the last JSON template in the text (empty when there is none).
std::vector<template_key> find_template(std::string_view text) {
  std::vector<template_key> found;
  std::size_t attempts = 0;
  std::size_t pos = text.find('{');
  while (pos != std::string_view::npos && attempts++ < max_template_attempts) {
    std::size_t end = pos + 1;
    if (auto keys = read_template(text, pos, end); keys && !keys->empty()) {
      found = std::move(*keys);
      pos = text.find('{', end);
    } else {
      pos = text.find('{', pos + 1);
    }
  }
  return found;
}

struct number_range {
  double low = 0.0;
  double high = 1.0;
  bool integral = false;
};

number_range find_range(std::string_view lowered) {
  auto any = [lowered](std::initializer_list<std::string_view> needles) {
    return std::any_of(needles.begin(), needles.end(),
                       [lowered](std::string_view n) { return contains(lowered, n); });
  };
  // Wider scales first: "0-10" is a prefix of "0-100".
  if (any({"0-100", "0 to 100", "out of 100", "/100", "1-100", "1 to 100"})) {
    return {0.0, 100.0, true};
  }
  if (any({"1-10", "1 to 10", "out of 10", "/10"})) {
    return {1.0, 10.0, true};
  }
  if (any({"0-10", "0 to 10"})) {
    return {0.0, 10.0, true};
  }
  if (any({"1-5", "1 to 5", "out of 5", "/5"})) {
    return {1.0, 5.0, true};
  }
  return {};
}

bool wants_json(const chat_request& request, std::string_view lowered,
                const std::vector<template_key>& keys) {
  if (request.json_mode) {
    return true;
  }
  return contains(lowered, "json") && (!keys.empty() || contains(lowered, "score"));
}

std::string json_answer(std::vector<template_key> keys, std::string_view lowered_instructions,
                        std::uint64_t digest) {
  if (keys.empty()) {
    keys = {{"score", value_kind::number},
            {"confidence", value_kind::number},
            {"reasoning", value_kind::string}};
  }
  const number_range range = find_range(lowered_instructions);
  const std::string tag = hex64(digest).substr(0, 8);
  nlohmann::ordered_json answer = nlohmann::ordered_json::object();
  for (const template_key& key : keys) {
    const std::uint64_t h = core::hash_combine(digest, core::hash_bytes(key.name));
    // 53 random bits -> [0, 1); scores land in the middle 60% of the range so
    // they look like a judge's, never a degenerate 0 or 1.
    const double unit = static_cast<double>(h >> 11) * 0x1.0p-53;
    switch (key.kind) {
      case value_kind::number: {
        const double value = range.low + (range.high - range.low) * (0.3 + 0.6 * unit);
        answer[key.name] = range.integral ? std::round(value) : std::round(value * 100.0) / 100.0;
        break;
      }
      case value_kind::boolean:
        answer[key.name] = unit >= 0.3;
        break;
      case value_kind::array:
        answer[key.name] = {"[offline] " + key.name + " item 1 (prompt " + tag + ")",
                            "[offline] " + key.name + " item 2 (prompt " + tag + ")"};
        break;
      case value_kind::object:
        answer[key.name] = nlohmann::ordered_json::object();
        break;
      case value_kind::string:
        answer[key.name] =
            "[offline] canned " + key.name + "; no model was called (prompt " + tag + ")";
        break;
    }
  }
  return answer.dump();
}

// --- plain-text answers ------------------------------------------------------

bool is_stop_word(std::string_view word) {
  static constexpr std::array<std::string_view, 40> words = {
      "this",  "that",   "with",  "from",  "have",  "what", "which", "when",  "where", "would",
      "could", "should", "there", "their", "they",  "them", "then",  "than",  "your",  "about",
      "into",  "will",   "were",  "been",  "being", "does", "doing", "some",  "such",  "only",
      "also",  "more",   "most",  "very",  "just",  "each", "other", "these", "those", "answer"};
  return std::find(words.begin(), words.end(), word) != words.end();
}

std::vector<std::string> key_terms(std::string_view text, std::size_t count) {
  struct term {
    std::size_t frequency = 0;
    std::size_t first = 0;
  };
  std::map<std::string, term> terms;
  std::size_t index = 0;
  std::string word;
  auto flush = [&] {
    if (word.size() >= 4 && !is_stop_word(word)) {
      auto [it, inserted] = terms.try_emplace(word, term{0, index});
      ++it->second.frequency;
    }
    word.clear();
    ++index;
  };
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80) {
      word += ascii_lower(c);
    } else if (!word.empty()) {
      flush();
    }
  }
  if (!word.empty()) {
    flush();
  }
  std::vector<std::pair<std::string, term>> ranked(terms.begin(), terms.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second.frequency != b.second.frequency ? a.second.frequency > b.second.frequency
                                                    : a.second.first < b.second.first;
  });
  std::vector<std::string> out;
  for (std::size_t i = 0; i < ranked.size() && i < count; ++i) {
    out.push_back(ranked[i].first);
  }
  return out;
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
    } else {
      if (space) {
        out += ' ';
      }
      out += c;
      space = false;
    }
  }
  return out;
}

std::string text_answer(const chat_request& request, std::uint64_t digest) {
  const std::string question = collapse_whitespace(last_user_text(request));
  std::string text =
      "[offline] Canned answer from grove's offline provider; no language model was called. "
      "Prompt digest " +
      hex64(digest) + ".";
  const auto terms = key_terms(question, 5);
  if (!terms.empty()) {
    text += " Key terms:";
    for (std::size_t i = 0; i < terms.size(); ++i) {
      text += (i == 0 ? " " : ", ") + terms[i];
    }
    text += '.';
  }
  if (!question.empty()) {
    const std::string_view shown = core::utf8_prefix(question, 160);
    text +=
        " Question: \"" + std::string(shown) + (shown.size() < question.size() ? "...\"" : "\"");
  }
  return text;
}

std::uint64_t estimate_tokens(std::size_t bytes) { return (bytes + 3) / 4; }

}  // namespace

result<void> offline_options::validate() const {
  std::string problems;
  if (model.empty()) {
    problems += "model: must not be empty";
  }
  if (stream_chunk_chars < 1 || stream_chunk_chars > 65536) {
    problems += std::string(problems.empty() ? "" : "; ") +
                "stream_chunk_chars: " + std::to_string(stream_chunk_chars) +
                " is outside 1..65536";
  }
  if (problems.empty()) {
    return {};
  }
  return fail(errc::invalid_config, "invalid offline_options: " + problems);
}

offline_chat_client::offline_chat_client(offline_options options) : options_(std::move(options)) {
  if (auto valid = options_.validate(); !valid) {
    throw std::invalid_argument(valid.error().message);
  }
}

std::string offline_chat_client::to_string() const {
  return "offline chat client (model " + options_.model + ", no network)";
}

result<chat_response> offline_chat_client::answer(const chat_request& request) const {
  if (auto valid = validate(request); !valid) {
    return fail(std::move(valid).error());
  }
  const std::string prompt = canonical_prompt(request);
  const std::uint64_t digest = core::hash_bytes(prompt);
  const std::string instructions = instruction_text(request);
  const std::string lowered = lowercase(instructions);

  chat_response response;
  response.provider = "offline";
  response.model = request.model.empty() ? options_.model : request.model;
  response.id = "offline-" + hex64(digest);
  response.offline = true;
  response.attempts = 0;
  response.finish_reason = finish_reason::stop;
  response.raw_finish_reason = "stop";

  auto keys = find_template(instructions);
  if (wants_json(request, lowered, keys)) {
    response.text = json_answer(std::move(keys), lowered, digest);
  } else {
    response.text = text_answer(request, digest);
    std::size_t cut = response.text.size();
    for (const std::string& stop : request.stop) {
      cut = std::min(cut, response.text.find(stop));
    }
    if (cut < response.text.size()) {
      response.text.resize(cut);
    }
    if (request.max_tokens && estimate_tokens(response.text.size()) > *request.max_tokens) {
      response.text =
          std::string(core::utf8_prefix(response.text, std::size_t{*request.max_tokens} * 4));
      response.finish_reason = finish_reason::length;
      response.raw_finish_reason = "length";
    }
  }

  std::uint64_t prompt_tokens = 0;
  for (const message& m : request.messages) {
    prompt_tokens += 4 + estimate_tokens(m.content.size());
  }
  response.usage.prompt_tokens = prompt_tokens;
  response.usage.completion_tokens = estimate_tokens(response.text.size());
  response.usage.total_tokens = response.usage.prompt_tokens + response.usage.completion_tokens;
  response.usage.estimated = true;

  if (request.on_text) {
    std::string_view rest = response.text;
    while (!rest.empty()) {
      std::size_t cut = std::min(options_.stream_chunk_chars, rest.size());
      while (cut < rest.size() && rest[cut - 1] != ' ') {
        ++cut;
      }
      request.on_text(rest.substr(0, cut));
      rest.remove_prefix(cut);
    }
  }
  return response;
}

boost::asio::awaitable<result<chat_response>> offline_chat_client::async_chat(
    chat_request request) {
  co_return answer(request);
}

}  // namespace grove::llm
