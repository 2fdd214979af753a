// Credential masking; the rules are described in grove/obs/redact.hpp.
#include "grove/obs/redact.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "grove/obs/errc.hpp"

namespace grove::obs {
namespace {

// Longest key name (after normalisation) that is checked against the lists.
constexpr std::size_t max_key_bytes = 64;

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_lower(c) || is_upper(c) || is_digit(c); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool is_key_char(char c) { return is_word(c) || c == '.' || c == '-'; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_space(char c) { return is_blank(c) || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

// Characters of an RFC 7235 token68 credential (without the trailing '=').
bool is_token68(char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

// Bytes that end an unquoted value.
bool ends_unquoted_value(char c) {
  switch (c) {
    case '&':
    case ',':
    case ';':
    case '"':
    case '\'':
    case '<':
    case '>':
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
      return true;
    default:
      return is_space(c);
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return to_lower(x) == to_lower(y);
         });
}

// Lower case; '-' and '.' become '_'; a camelCase hump gets a '_' before it.
// Returns the length written, or 0 when the key is too long to be checked.
std::size_t normalise_key(std::string_view key, std::array<char, 2 * max_key_bytes>& out) {
  if (key.size() > max_key_bytes) {
    return 0;
  }
  std::size_t size = 0;
  for (std::size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (is_upper(c) && i > 0 && (is_lower(key[i - 1]) || is_digit(key[i - 1]))) {
      out[size++] = '_';
    }
    out[size++] = (c == '-' || c == '.') ? '_' : to_lower(c);
  }
  return size;
}

std::string normalise_key(std::string_view key) {
  std::array<char, 2 * max_key_bytes> buffer{};
  return std::string(buffer.data(), normalise_key(key, buffer));
}

// True when key equals word or ends in "_" + word.
bool names_word(std::string_view key, std::string_view word) {
  if (key.size() == word.size()) {
    return key == word;
  }
  return key.size() > word.size() && key.substr(key.size() - word.size()) == word &&
         key[key.size() - word.size() - 1] == '_';
}

constexpr std::array<std::string_view, 15> secret_words = {
    "password",   "passwd",      "passphrase",    "secret",     "token",
    "api_key",    "apikey",      "private_key",   "secret_key", "signature",
    "credential", "credentials", "authorization", "cookie",     "session_id",
};
constexpr std::array<std::string_view, 2> secret_exact = {"auth", "pwd"};

// Authorization schemes whose credential follows after one space.
constexpr std::array<std::string_view, 8> auth_schemes = {
    "bearer", "basic", "token", "bot", "apikey", "negotiate", "ntlm", "sso-key",
};

struct key_prefix {
  std::string_view text;
  std::size_t min_length;  // of the whole run, prefix included
};
constexpr std::array<key_prefix, 15> key_prefixes = {{
    {"sk-", 20},
    {"ghp_", 30},
    {"gho_", 30},
    {"ghu_", 30},
    {"ghs_", 30},
    {"ghr_", 30},
    {"github_pat_", 30},
    {"xoxb-", 20},
    {"xoxp-", 20},
    {"xoxa-", 20},
    {"xoxs-", 20},
    {"glpat-", 20},
    {"hf_", 30},
    {"AIza", 30},
    {"npm_", 30},
}};

// A span of the input to replace by the mask: [begin, end).
struct span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

class scanner {
 public:
  scanner(std::string_view text, const std::vector<std::string>& extra_keys)
      : s_(text), extra_keys_(extra_keys) {}

  // Each rule looks at a word start i and, on a match, returns the span to mask
  // and sets resume_ to where scanning continues.
  bool match(std::size_t i, span& out) {
    return prefixed_key(i, out) || key_value(i, out) || bearer(i, out) || aws_secret(i, out);
  }

  // At "://" (i points at ':'): masks the password of user:password@host.
  bool url_password(std::size_t i, span& out) {
    std::size_t p = i + 3;
    std::size_t colon = std::string_view::npos;
    for (; p < s_.size(); ++p) {
      const char c = s_[p];
      if (c == '@') {
        break;
      }
      if (c == '/' || c == '?' || c == '#' || is_space(c) || c == '"' || c == '\'') {
        return false;
      }
      if (c == ':' && colon == std::string_view::npos) {
        colon = p;
      }
    }
    if (p >= s_.size() || colon == std::string_view::npos || colon + 1 == p) {
      return false;
    }
    out = {colon + 1, p};
    resume_ = p;
    return true;
  }

  std::size_t resume() const { return resume_; }

 private:
  std::size_t run_end(std::size_t i, bool (*accept)(char)) const {
    while (i < s_.size() && accept(s_[i])) {
      ++i;
    }
    return i;
  }

  bool prefixed_key(std::size_t i, span& out) {
    const char first = s_[i];
    if (first != 's' && first != 'g' && first != 'x' && first != 'h' && first != 'A' &&
        first != 'n') {
      return false;
    }
    const std::size_t end = run_end(i, [](char c) { return is_alnum(c) || c == '_' || c == '-'; });
    const std::string_view run = s_.substr(i, end - i);
    if (first == 'A' && run.size() == 20 && (run.starts_with("AKIA") || run.starts_with("ASIA")) &&
        std::all_of(run.begin(), run.end(), [](char c) { return is_upper(c) || is_digit(c); })) {
      out = {i, end};
      resume_ = end;
      return true;
    }
    for (const key_prefix& prefix : key_prefixes) {
      if (run.size() >= prefix.min_length && run.starts_with(prefix.text)) {
        out = {i, end};
        resume_ = end;
        return true;
      }
    }
    return false;
  }

  bool is_secret_key(std::string_view key, bool& authorization) const {
    std::array<char, 2 * max_key_bytes> buffer{};
    const std::size_t size = normalise_key(key, buffer);
    if (size == 0) {
      return false;
    }
    const std::string_view name(buffer.data(), size);
    authorization = names_word(name, "authorization");
    if (authorization) {
      return true;
    }
    for (std::string_view word : secret_words) {
      if (names_word(name, word)) {
        return true;
      }
    }
    for (std::string_view word : secret_exact) {
      if (name == word) {
        return true;
      }
    }
    for (const std::string& word : extra_keys_) {
      if (names_word(name, word)) {
        return true;
      }
    }
    return false;
  }

  bool key_value(std::size_t i, span& out) {
    const std::size_t key_end = run_end(i, is_key_char);
    std::size_t p = key_end;
    // The closing quote of a quoted key, matching the opening one.
    if (i >= 2 && s_[i - 1] == '"' && s_[i - 2] == '\\' && s_.substr(p, 2) == "\\\"") {
      p += 2;
    } else if (i >= 1 && (s_[i - 1] == '"' || s_[i - 1] == '\'') && p < s_.size() &&
               s_[p] == s_[i - 1]) {
      ++p;
    }
    p = run_end(p, is_blank);
    if (p >= s_.size() || (s_[p] != '=' && s_[p] != ':')) {
      return false;
    }
    if (s_[p] == ':' && s_.substr(p, 3) == "://") {
      return false;
    }
    bool authorization = false;
    if (!is_secret_key(s_.substr(i, key_end - i), authorization)) {
      return false;
    }
    p = run_end(p + 1, is_blank);
    if (p >= s_.size()) {
      return false;
    }

    span value;
    if (s_.substr(p, 2) == "\\\"") {
      const std::size_t close = s_.find("\\\"", p + 2);
      value = {p + 2, close == std::string_view::npos ? s_.size() : close};
      resume_ = close == std::string_view::npos ? s_.size() : close + 2;
    } else if (s_[p] == '"' || s_[p] == '\'') {
      const char quote = s_[p];
      std::size_t q = p + 1;
      while (q < s_.size() && s_[q] != quote) {
        q += (s_[q] == '\\' && quote == '"' && q + 1 < s_.size()) ? 2 : 1;
      }
      value = {p + 1, std::min(q, s_.size())};
      resume_ = std::min(q + 1, s_.size());
    } else {
      if (authorization) {
        const std::size_t scheme_end = run_end(p, is_key_char);
        if (is_auth_scheme(s_.substr(p, scheme_end - p)) && scheme_end < s_.size() &&
            is_blank(s_[scheme_end])) {
          const std::size_t credential = run_end(scheme_end, is_blank);
          const std::size_t end =
              run_end(credential, [](char c) { return !ends_unquoted_value(c); });
          if (end == credential) {
            return false;
          }
          out = {credential, end};
          resume_ = end;
          return true;
        }
      }
      const std::size_t end = run_end(p, [](char c) { return !ends_unquoted_value(c); });
      value = {p, end};
      resume_ = end;
    }
    if (authorization) {
      // Keep the scheme of a quoted "Bearer xyz".
      const std::size_t scheme_end = run_end(value.begin, is_key_char);
      if (scheme_end < value.end && is_blank(s_[scheme_end]) &&
          is_auth_scheme(s_.substr(value.begin, scheme_end - value.begin))) {
        value.begin = run_end(scheme_end, is_blank);
      }
    }
    if (value.begin >= value.end) {
      return false;
    }
    out = value;
    return true;
  }

  static bool is_auth_scheme(std::string_view word) {
    return std::any_of(auth_schemes.begin(), auth_schemes.end(),
                       [&](std::string_view scheme) { return iequals(word, scheme); });
  }

  bool bearer(std::size_t i, span& out) {
    if (!iequals(s_.substr(i, 6), "bearer") || i + 6 >= s_.size() || !is_blank(s_[i + 6])) {
      return false;
    }
    const std::size_t begin = run_end(i + 6, is_blank);
    std::size_t end = run_end(begin, is_token68);
    const bool has_digit = std::any_of(s_.begin() + static_cast<std::ptrdiff_t>(begin),
                                       s_.begin() + static_cast<std::ptrdiff_t>(end), is_digit);
    if (end - begin < 8 && !(has_digit && end > begin)) {
      return false;
    }
    end = run_end(end, [](char c) { return c == '='; });
    out = {begin, end};
    resume_ = end;
    return true;
  }

  bool aws_secret(std::size_t i, span& out) {
    if (i > 0 && (s_[i - 1] == '/' || s_[i - 1] == '+')) {
      return false;
    }
    const std::size_t end = run_end(i, [](char c) { return is_alnum(c) || c == '/' || c == '+'; });
    if (end - i != 40 || (end < s_.size() && (s_[end] == '=' || s_[end] == '_'))) {
      return false;
    }
    const std::string_view run = s_.substr(i, 40);
    if (!std::any_of(run.begin(), run.end(), is_upper) ||
        !std::any_of(run.begin(), run.end(), is_lower) ||
        !std::any_of(run.begin(), run.end(), is_digit)) {
      return false;
    }
    out = {i, end};
    resume_ = end;
    return true;
  }

  std::string_view s_;
  const std::vector<std::string>& extra_keys_;
  std::size_t resume_ = 0;
};

}  // namespace

result<void> redaction_options::validate() const {
  std::string problems;
  auto add = [&](const std::string& problem) {
    problems += problems.empty() ? "" : "; ";
    problems += problem;
  };
  if (mask.empty() || mask.size() > 64) {
    add("mask must be 1..64 bytes (got " + std::to_string(mask.size()) + ")");
  }
  if (std::any_of(mask.begin(), mask.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    add("mask must not contain control characters");
  }
  for (std::size_t k = 0; k < extra_keys.size(); ++k) {
    const std::string& key = extra_keys[k];
    if (key.empty() || key.size() > 64 || !std::all_of(key.begin(), key.end(), is_key_char)) {
      add("extra_keys[" + std::to_string(k) + "] \"" + key +
          "\" must be 1..64 bytes of [A-Za-z0-9_.-]");
    }
  }
  if (!problems.empty()) {
    return fail(errc::invalid_options, "invalid redaction_options: " + problems,
                "redaction_options");
  }
  return {};
}

redactor::redactor() : redactor(redaction_options{}) {}

redactor::redactor(redaction_options options) : options_(std::move(options)) {
  if (auto valid = options_.validate(); !valid) {
    throw std::invalid_argument(valid.error().describe());
  }
  for (const std::string& key : options_.extra_keys) {
    extra_keys_.push_back(normalise_key(key));
  }
}

std::string redactor::redact(std::string_view text) const {
  std::string out;
  redact_to(text, out);
  return out;
}

bool redactor::redact_to(std::string_view text, std::string& out) const {
  scanner scan(text, extra_keys_);
  bool masked = false;
  std::size_t copied = 0;  // text[0, copied) is already in out
  std::size_t i = 0;
  const auto emit = [&](const span& secret) {
    out.append(text.substr(copied, secret.begin - copied));
    out += options_.mask;
    copied = secret.end;
    i = scan.resume();
    masked = true;
  };

  out.reserve(out.size() + text.size());
  while (i < text.size()) {
    const char c = text[i];
    span secret;
    if (c == ':' && text.substr(i, 3) == "://") {
      if (scan.url_password(i, secret)) {
        emit(secret);
      } else {
        i += 3;
      }
      continue;
    }
    if (!is_word(c) || (i > 0 && is_word(text[i - 1]))) {
      ++i;
      continue;
    }
    if (scan.match(i, secret)) {
      emit(secret);
      continue;
    }
    while (i < text.size() && is_word(text[i])) {
      ++i;
    }
  }
  out.append(text.substr(copied));
  return masked;
}

std::string redact(std::string_view text) {
  static const redactor instance;
  return instance.redact(text);
}

}  // namespace grove::obs
