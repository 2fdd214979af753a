// grove/storage/sigv4.hpp: AWS Signature Version 4 request signing.
//
// Algorithm (AWS SigV4, HMAC-SHA256):
//   1. Canonical request: six parts joined by '\n':
//        METHOD
//        canonical URI   (path, URI-encoded per segment; see path_mode)
//        canonical query (name=value pairs, each URI-encoded once, sorted by
//                         name then value, joined by '&')
//        canonical headers, one "lowercase-name:value\n" per signed header,
//                         sorted by name; values trimmed, inner runs of spaces
//                         collapsed, repeated headers joined with ','
//        signed headers  (the lowercase names joined by ';')
//        payload hash    (hex SHA-256 of the body, or "UNSIGNED-PAYLOAD")
//   2. String to sign: "AWS4-HMAC-SHA256\n<amz-date>\n<scope>\n<hex sha256 of 1>",
//      scope = "<yyyymmdd>/<region>/<service>/aws4_request".
//   3. Signing key: HMAC chain keyed first by "AWS4"+secret over the date, then
//      the region, the service and "aws4_request".
//   4. Signature: lowercase hex HMAC-SHA256(signing key, string to sign), sent
//      in the Authorization header or, for presigned URLs, as X-Amz-Signature.
//
// Path handling differs between S3 and every other service:
//   - generic: dot segments and repeated slashes are removed (optional) and
//     the path is URI-encoded as given, so an already percent-encoded path is
//     encoded a second time ('%' becomes "%25");
//   - s3: the path is never normalised (a key "a//b/../c" is signed as is) and
//     it is encoded once: percent escapes are decoded first, then encoded.
//
// Folded (multi-line, obs-fold) header values: the lines are trimmed and
// joined with ',' (the classic AWS test-suite convention; aws-c-auth joins
// them with spaces instead).
//
// Reference: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "grove/runtime/result.hpp"

namespace grove::storage::sigv4 {

/// AWS credentials. A non-empty session_token is sent as
/// X-Amz-Security-Token (temporary STS credentials).
struct credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

/// One HTTP header as the caller will send it. Names compare case-insensitively.
struct header {
  std::string name;
  std::string value;
};

/// The request to sign.
struct request {
  /// HTTP method, upper case ("GET", "PUT"...).
  std::string method = "GET";
  /// Path as written in the request line, starting with '/'. Raw bytes
  /// (spaces, UTF-8) and percent escapes are both accepted.
  std::string path = "/";
  /// Query string without the leading '?', possibly empty. Parameters are
  /// decoded and re-encoded, so raw and percent-encoded forms sign the same.
  std::string query;
  /// Headers to send; must contain Host. sign() adds X-Amz-Date,
  /// x-amz-content-sha256 (s3 mode), X-Amz-Security-Token and Authorization.
  std::vector<header> headers;
};

/// How the canonical URI is built (see the file comment).
enum class path_mode { generic, s3 };

/// Signing parameters.
struct options {
  /// Credentials; access_key_id and secret_access_key must be non-empty.
  sigv4::credentials credentials;
  /// Region, e.g. "us-east-1". Non-empty.
  std::string region = "us-east-1";
  /// Service name in the scope, e.g. "s3". Non-empty.
  std::string service = "s3";
  /// Path handling. Default s3.
  path_mode mode = path_mode::s3;
  /// Remove "." / ".." segments and repeated slashes (generic mode only; s3
  /// mode never normalises). Default true.
  bool normalize_path = true;
  /// Sign the payload as the literal "UNSIGNED-PAYLOAD" instead of its
  /// SHA-256 (S3 only accepts this over TLS or for presigned URLs). Default false.
  bool unsigned_payload = false;
  /// Hex SHA-256 of the body computed by the caller (e.g. streamed from a
  /// file). When empty and unsigned_payload is false, sign() hashes `body`.
  std::string payload_hash;
  /// Send the payload hash in an x-amz-content-sha256 header and sign it (S3
  /// requires it). Default true.
  bool content_sha256_header = true;
  /// Sign X-Amz-Security-Token (true) or add it after signing (false, for
  /// services that expect it unsigned). Default true.
  bool sign_session_token = true;
  /// Headers left out of the signature (case-insensitive names) besides the
  /// ones never signed (authorization, user-agent, expect...).
  std::vector<std::string> unsigned_headers;
};

/// Everything sign() computed; exposed for tests and debugging.
struct signature {
  std::string canonical_request;
  std::string string_to_sign;
  /// Lowercase hex HMAC-SHA256, 64 characters.
  std::string signature;
  /// The full Authorization header value (empty for presign()).
  std::string authorization;
  /// "x-amz-date" value, yyyymmddThhmmssZ.
  std::string amz_date;
  /// Signed header names joined by ';'.
  std::string signed_headers;
  /// Presigned query string (presign() only): the request's query plus the
  /// X-Amz-* parameters and X-Amz-Signature.
  std::string presigned_query;
};

/// Signs `req` in place: sets X-Amz-Date (replacing any), and in s3 mode
/// x-amz-content-sha256, the session token header and Authorization.
/// Returns the intermediate strings.
/// Errors: errc::invalid_argument when the Host header, credentials, region or
/// service are missing, or the path does not start with '/'.
[[nodiscard]] result<signature> sign(request& req, std::span<const std::byte> body,
                                     const options& opts,
                                     std::chrono::system_clock::time_point now);

/// Presigned-URL form: signs only `host` (plus any x-amz-* headers present)
/// into the query string, valid for `expires` (1 s to 7 days). The payload is
/// "UNSIGNED-PAYLOAD" in s3 mode and the empty-body hash otherwise.
/// Returns the signature with presigned_query set; `req` is not modified.
/// Errors: as sign(), plus errc::invalid_argument for `expires` out of range.
[[nodiscard]] result<signature> presign(const request& req, const options& opts,
                                        std::chrono::system_clock::time_point now,
                                        std::chrono::seconds expires);

/// Incremental SHA-256 (OpenSSL EVP). Not thread-safe; movable.
class sha256 {
 public:
  sha256();
  ~sha256();
  sha256(sha256&& other) noexcept;
  sha256& operator=(sha256&& other) noexcept;
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;

  void update(std::span<const std::byte> data);
  void update(std::string_view data);
  /// The 32-byte digest as 64 lowercase hex characters. Ends this hasher;
  /// Requires: called once.
  std::string hex_digest();

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so OpenSSL stays out of this header.
};

/// Hex SHA-256 of `data`.
std::string sha256_hex(std::span<const std::byte> data);
std::string sha256_hex(std::string_view data);

/// Raw HMAC-SHA256 of `data` under `key` (32 bytes).
std::string hmac_sha256(std::string_view key, std::string_view data);

/// Percent-encodes per SigV4: unreserved characters (A-Z a-z 0-9 - _ . ~) stay,
/// everything else becomes %XX with uppercase hex; '/' stays when keep_slash.
std::string uri_encode(std::string_view text, bool keep_slash);

/// Decodes %XX escapes; malformed escapes are kept literally.
std::string uri_decode(std::string_view text);

/// "yyyymmddThhmmssZ" for `t` in UTC.
std::string format_amz_date(std::chrono::system_clock::time_point t);

}  // namespace grove::storage::sigv4
