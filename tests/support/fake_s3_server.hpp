// tests/support/fake_s3_server.hpp: an in-process S3 server for tests, on
// Boost.Beast, that checks AWS Signature V4 the way S3 does.
//
// Every request must carry a SigV4 Authorization header. The server rebuilds
// the canonical request from what it received (method, path, query, the
// headers named in SignedHeaders, the x-amz-content-sha256 value), signs it
// with its own copy of the secret and compares signatures; a mismatch gets
// S3's 403 SignatureDoesNotMatch XML error, an unknown key
// InvalidAccessKeyId, a body whose hash differs from x-amz-content-sha256
// XAmzContentSHA256Mismatch, and a missing or wrong session token
// InvalidToken. It keeps one bucket in memory and implements PutObject,
// GetObject, HeadObject, DeleteObject, ListObjectsV2 (with continuation
// tokens) and multipart upload (create, upload part, complete, abort), with
// path-style and virtual-hosted addressing (Host: <bucket>.<anything>).
//
// Faults: inject() makes the next N requests that match a method and a query
// substring fail with a chosen status (S3 XML error body).
//
// The server listens on 127.0.0.1 on a kernel-chosen port; each connection
// is served by its own thread (HTTP/1.1 keep-alive). stop() (and the
// destructor) closes everything and joins the threads.
// Thread safety: every public method may be called from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace grove::test {

class fake_s3_server {
 public:
  struct options {
    std::string access_key = "AKIDFAKES3";
    std::string secret_key = "fake/secret/key";
    std::string region = "us-east-1";
    std::string bucket = "grove-test";
    /// When non-empty, every request must carry this X-Amz-Security-Token.
    std::string session_token;
  };

  explicit fake_s3_server(options opts);
  fake_s3_server() : fake_s3_server(options{}) {}
  ~fake_s3_server();
  fake_s3_server(const fake_s3_server&) = delete;
  fake_s3_server& operator=(const fake_s3_server&) = delete;

  /// "http://127.0.0.1:<port>".
  std::string endpoint() const;
  unsigned short port() const;

  /// The next `count` requests whose method equals `method` (empty: any)
  /// and whose query contains `query_part` (empty: any) fail with `status`.
  void inject(std::string method, std::string query_part, int status, std::size_t count);

  std::size_t requests() const;                 ///< requests received
  std::size_t signature_failures() const;       ///< requests rejected for their signature
  std::size_t objects() const;                  ///< objects stored
  std::size_t open_uploads() const;             ///< multipart uploads neither completed nor aborted
  std::size_t virtual_hosted_requests() const;  ///< requests addressed by Host
  /// Stored (as sent) body of a key, or "" when absent.
  std::string stored_body(const std::string& key) const;

  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace grove::test
