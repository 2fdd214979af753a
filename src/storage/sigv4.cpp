#include "grove/storage/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <stdexcept>
#include <utility>

#include "grove/storage/error.hpp"

namespace grove::storage::sigv4 {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view unsigned_payload_literal = "UNSIGNED-PAYLOAD";

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0x0f]);
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Trims each line of a (possibly folded) header value, collapses inner runs of
// spaces to one and joins the lines with ','.
std::string canonical_header_value(std::string_view value) {
  std::string out;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find('\n', start);
    if (end == std::string_view::npos) end = value.size();
    std::string_view line = trim(value.substr(start, end - start));
    if (!line.empty()) {
      if (!out.empty()) out.push_back(',');
      bool in_space = false;
      for (char c : line) {
        if (is_space(c)) {
          if (!in_space) out.push_back(' ');
          in_space = true;
        } else {
          out.push_back(c);
          in_space = false;
        }
      }
    }
    start = end + 1;
  }
  return out;
}

// RFC 3986 dot-segment removal plus collapsing of empty segments, as the
// generic SigV4 signer does. A trailing '/' (or a trailing "." / "..") keeps
// the result a directory path.
std::string normalize(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 1;
  bool trailing_slash = false;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    bool last = end == path.size();
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      trailing_slash = last;
    } else if (segment == "." || segment.empty()) {
      trailing_slash = last ? true : trailing_slash;
    } else {
      segments.push_back(segment);
      trailing_slash = false;
    }
    start = end + 1;
  }
  std::string out;
  for (std::string_view segment : segments) {
    out.push_back('/');
    out.append(segment);
  }
  if (out.empty() || trailing_slash) out.push_back('/');
  return out;
}

std::string canonical_uri(std::string_view path, const options& opts) {
  if (opts.mode == path_mode::s3) {
    return uri_encode(uri_decode(path), /*keep_slash=*/true);
  }
  std::string source = opts.normalize_path ? normalize(path) : std::string(path);
  return uri_encode(source, /*keep_slash=*/true);
}

using param_list = std::vector<std::pair<std::string, std::string>>;

param_list parse_query(std::string_view query) {
  param_list params;
  std::size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view piece = query.substr(start, end - start);
    if (!piece.empty()) {
      std::size_t eq = piece.find('=');
      std::string_view name = piece.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : piece.substr(eq + 1);
      params.emplace_back(uri_encode(uri_decode(name), false),
                          uri_encode(uri_decode(value), false));
    }
    start = end + 1;
  }
  return params;
}

std::string join_query(param_list params) {
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

bool never_signed(std::string_view lower_name) {
  static constexpr std::string_view names[] = {"authorization",   "user-agent",
                                               "expect",          "connection",
                                               "x-amzn-trace-id", "transfer-encoding"};
  return std::find(std::begin(names), std::end(names), lower_name) != std::end(names);
}

void set_header(std::vector<header>& headers, std::string_view name, std::string value) {
  std::string wanted = lower(name);
  std::erase_if(headers, [&](const header& h) { return lower(h.name) == wanted; });
  headers.push_back({std::string(name), std::move(value)});
}

result<void> check(const request& req, const options& opts) {
  std::string problems;
  auto add = [&](std::string_view text) {
    if (!problems.empty()) problems += "; ";
    problems += text;
  };
  if (opts.credentials.access_key_id.empty()) add("credentials.access_key_id is empty");
  if (opts.credentials.secret_access_key.empty()) add("credentials.secret_access_key is empty");
  if (opts.region.empty()) add("region is empty");
  if (opts.service.empty()) add("service is empty");
  if (req.method.empty()) add("method is empty");
  if (req.path.empty() || req.path.front() != '/') add("path must start with '/'");
  bool has_host = std::any_of(req.headers.begin(), req.headers.end(),
                              [](const header& h) { return lower(h.name) == "host"; });
  if (!has_host) add("the Host header is missing");
  if (!problems.empty()) {
    return fail(errc::invalid_argument, "cannot sign request: " + problems, "sigv4");
  }
  return {};
}

struct canonical_parts {
  std::string headers;  // "name:value\n" lines
  std::string signed_names;
};

canonical_parts canonical_headers(const std::vector<header>& headers, const options& opts,
                                  bool host_only) {
  std::map<std::string, std::string> merged;
  for (const header& h : headers) {
    std::string name = lower(trim(h.name));
    if (never_signed(name)) continue;
    if (host_only && name != "host") continue;
    bool excluded = std::any_of(opts.unsigned_headers.begin(), opts.unsigned_headers.end(),
                                [&](const std::string& u) { return lower(u) == name; });
    if (excluded) continue;
    auto [it, inserted] = merged.try_emplace(name, canonical_header_value(h.value));
    if (!inserted) {
      it->second += ',';
      it->second += canonical_header_value(h.value);
    }
  }
  canonical_parts parts;
  for (const auto& [name, value] : merged) {
    parts.headers += name + ':' + value + '\n';
    if (!parts.signed_names.empty()) parts.signed_names.push_back(';');
    parts.signed_names += name;
  }
  return parts;
}

std::string scope_of(const std::string& amz_date, const options& opts) {
  return amz_date.substr(0, 8) + '/' + opts.region + '/' + opts.service + "/aws4_request";
}

std::string signature_of(const std::string& string_to_sign, const std::string& amz_date,
                         const options& opts) {
  std::string key = hmac_sha256("AWS4" + opts.credentials.secret_access_key, amz_date.substr(0, 8));
  key = hmac_sha256(key, opts.region);
  key = hmac_sha256(key, opts.service);
  key = hmac_sha256(key, "aws4_request");
  std::string raw = hmac_sha256(key, string_to_sign);
  return to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string string_to_sign_of(const std::string& canonical_request, const std::string& amz_date,
                              const std::string& scope) {
  std::string out(algorithm);
  out += '\n' + amz_date + '\n' + scope + '\n' + sha256_hex(canonical_request);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------

result<signature> sign(request& req, std::span<const std::byte> body, const options& opts,
                       std::chrono::system_clock::time_point now) {
  if (auto ok = check(req, opts); !ok) return fail(ok.error());

  signature out;
  out.amz_date = format_amz_date(now);
  std::string payload_hash;
  if (opts.unsigned_payload) {
    payload_hash = unsigned_payload_literal;
  } else if (!opts.payload_hash.empty()) {
    payload_hash = opts.payload_hash;
  } else {
    payload_hash = sha256_hex(body);
  }

  // 1. Headers the signature covers.
  set_header(req.headers, "X-Amz-Date", out.amz_date);
  if (opts.mode == path_mode::s3 && opts.content_sha256_header) {
    set_header(req.headers, "x-amz-content-sha256", payload_hash);
  }
  const std::string& token = opts.credentials.session_token;
  if (!token.empty() && opts.sign_session_token) {
    set_header(req.headers, "X-Amz-Security-Token", token);
  }

  // 2. Canonical request and string to sign.
  canonical_parts parts = canonical_headers(req.headers, opts, /*host_only=*/false);
  out.signed_headers = parts.signed_names;
  out.canonical_request = req.method + '\n' + canonical_uri(req.path, opts) + '\n' +
                          join_query(parse_query(req.query)) + '\n' + parts.headers + '\n' +
                          parts.signed_names + '\n' + payload_hash;
  std::string scope = scope_of(out.amz_date, opts);
  out.string_to_sign = string_to_sign_of(out.canonical_request, out.amz_date, scope);

  // 3. Signature and the headers added after signing.
  out.signature = signature_of(out.string_to_sign, out.amz_date, opts);
  out.authorization = std::string(algorithm) + " Credential=" + opts.credentials.access_key_id +
                      '/' + scope + ", SignedHeaders=" + parts.signed_names +
                      ", Signature=" + out.signature;
  if (!token.empty() && !opts.sign_session_token) {
    set_header(req.headers, "X-Amz-Security-Token", token);
  }
  set_header(req.headers, "Authorization", out.authorization);
  return out;
}

result<signature> presign(const request& req, const options& opts,
                          std::chrono::system_clock::time_point now, std::chrono::seconds expires) {
  if (auto ok = check(req, opts); !ok) return fail(ok.error());
  if (expires < std::chrono::seconds(1) || expires > std::chrono::hours(24 * 7)) {
    return fail(errc::invalid_argument,
                "presign expiry must be between 1 s and 604800 s (7 days), got " +
                    std::to_string(expires.count()) + " s",
                "sigv4");
  }

  signature out;
  out.amz_date = format_amz_date(now);
  std::string scope = scope_of(out.amz_date, opts);
  canonical_parts parts = canonical_headers(req.headers, opts, /*host_only=*/true);
  out.signed_headers = parts.signed_names;

  // The X-Amz-* parameters join the request's own query, in the order the
  // URL carries them; the canonical form sorts them with the rest.
  param_list added = {
      {"X-Amz-Algorithm", std::string(algorithm)},
      {"X-Amz-Credential", uri_encode(opts.credentials.access_key_id + '/' + scope, false)},
      {"X-Amz-Date", out.amz_date},
      {"X-Amz-Expires", std::to_string(expires.count())},
      {"X-Amz-SignedHeaders", uri_encode(parts.signed_names, false)},
  };
  if (!opts.credentials.session_token.empty()) {
    added.emplace_back("X-Amz-Security-Token", uri_encode(opts.credentials.session_token, false));
  }
  param_list params = parse_query(req.query);
  params.insert(params.end(), added.begin(), added.end());

  std::string payload_hash = opts.mode == path_mode::s3 ? std::string(unsigned_payload_literal)
                                                        : sha256_hex(std::string_view{});
  out.canonical_request = req.method + '\n' + canonical_uri(req.path, opts) + '\n' +
                          join_query(params) + '\n' + parts.headers + '\n' + parts.signed_names +
                          '\n' + payload_hash;
  out.string_to_sign = string_to_sign_of(out.canonical_request, out.amz_date, scope);
  out.signature = signature_of(out.string_to_sign, out.amz_date, opts);

  out.presigned_query = req.query;
  for (const auto& [name, value] : added) {
    if (!out.presigned_query.empty()) out.presigned_query.push_back('&');
    out.presigned_query += name + '=' + value;
  }
  out.presigned_query += "&X-Amz-Signature=" + out.signature;
  return out;
}

// ---------------------------------------------------------------------------

sha256::sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr ||
      EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("grove.storage: OpenSSL could not initialise SHA-256");
  }
}

sha256::~sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

sha256::sha256(sha256&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

sha256& sha256::operator=(sha256&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

void sha256::update(std::span<const std::byte> data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

void sha256::update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

std::string sha256::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest, &size);
  return to_hex(digest, size);
}

std::string sha256_hex(std::span<const std::byte> data) {
  sha256 hasher;
  hasher.update(data);
  return hasher.hex_digest();
}

std::string sha256_hex(std::string_view data) {
  sha256 hasher;
  hasher.update(data);
  return hasher.hex_digest();
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &size);
  return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0x0f]);
    }
  }
  return out;
}

std::string uri_decode(std::string_view text) {
  auto hex_value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string format_amz_date(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &utc);
  return buffer;
}

}  // namespace grove::storage::sigv4
