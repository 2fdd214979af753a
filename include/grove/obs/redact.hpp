// grove/obs/redact.hpp: masking credentials in log text.
//
// Algorithm. One left-to-right pass over the text; no regular expressions and
// no allocation beyond the output string. At every word start (a position
// whose previous byte is not `[A-Za-z0-9_]`) the scanner tries, in order:
//
//  1. Key prefixes. A run of `[A-Za-z0-9_-]` that starts with a known key
//     prefix and is long enough to be a key is masked whole: `sk-` (OpenAI,
//     `sk-proj-`, Anthropic `sk-ant-`, OpenRouter `sk-or-`), `ghp_`/`gho_`/
//     `github_pat_` (GitHub), `xoxb-`/`xoxp-` (Slack), `AIza` (Google),
//     `AKIA`/`ASIA` + 16 upper-case letters or digits (AWS access key ids).
//  2. Key/value pairs. A key (`[A-Za-z0-9_.-]+`, optionally quoted with `"`,
//     `'` or `\"` as in JSON embedded in a string) followed by optional spaces,
//     `=` or `:` (not `://`), optional spaces, and a value. The key is
//     sensitive when, lower-cased with `-`, `.` and camelCase humps turned into
//     `_`, it equals or ends in `_` + one of: password, passwd, passphrase,
//     secret, token, api_key, apikey, private_key, secret_key, signature,
//     credential, credentials, authorization, cookie, session_id; or is one of
//     auth, pwd; or is listed in redaction_options::extra_keys. A quoted value
//     is masked between its quotes (escaped quotes inside are honoured); an
//     unquoted one up to whitespace or one of `&,;"'<>()[]{}`. For
//     authorization keys a leading scheme word (Bearer, Basic, Token, ...) is
//     kept and only the credential after it is masked.
//  3. Bearer tokens in free text: `bearer` (any case), spaces, then a token68
//     credential of at least 8 characters or containing a digit.
//  4. AWS-style secrets: a standalone run of exactly 40 `[A-Za-z0-9/+]` with an
//     upper-case letter, a lower-case letter and a digit (secret access keys
//     have that shape; hex digests, being lower-case, do not).
//  5. Passwords in URLs: `scheme://user:password@host` masks the password.
//
// Anything else is copied unchanged, so ordinary text ("max_tokens=512",
// "task-queue", "the bearer of the news") passes through byte for byte.
//
// Note: an unquoted value ends at the first space or delimiter, so a password
// containing `,` or `;` written unquoted is masked only up to that byte.
// `<key>: <word>` is always treated as a pair, so a sentence such as
// "invalid token: expired" loses the word after the colon; erring on that
// side is deliberate.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "grove/runtime/result.hpp"

namespace grove::obs {

/// How secrets are masked.
struct redaction_options {
  /// Text written in place of each secret. Default "[REDACTED]". Must be
  /// 1..64 bytes and must not itself look like a secret.
  std::string mask = "[REDACTED]";

  /// More key names whose values are secret, in addition to the built-in
  /// list (see the header comment), e.g. {"session", "x-goog-api-key"}.
  /// Matched after the same normalisation as the built-in names (lower case,
  /// `-` and `.` become `_`), by equality or as an `_`-separated suffix. Each
  /// must be 1..64 bytes of `[A-Za-z0-9_.-]`. Default empty.
  std::vector<std::string> extra_keys{};

  /// Reports every bad field at once (errc::invalid_options).
  result<void> validate() const;
};

/// Masks credentials in text (see the header comment for the rules).
///
/// Thread safety: immutable after construction; redact() may be called from
/// any number of threads at once.
class redactor {
 public:
  /// Builds a redactor with the default options.
  redactor();

  /// Throws std::invalid_argument with the validate() message when options
  /// are invalid (a programmer error: options come from code or config that
  /// was validated).
  explicit redactor(redaction_options options);

  /// Returns text with every secret replaced by the mask.
  std::string redact(std::string_view text) const;

  /// Appends the redacted form of text to out (out is not cleared). Returns
  /// true when at least one secret was masked; when it returns false the
  /// appended bytes equal text.
  bool redact_to(std::string_view text, std::string& out) const;

  const redaction_options& options() const noexcept { return options_; }

 private:
  redaction_options options_;
  std::vector<std::string> extra_keys_;  // normalised extra_keys
};

/// redactor{}.redact(text): masks with the default options.
std::string redact(std::string_view text);

}  // namespace grove::obs
