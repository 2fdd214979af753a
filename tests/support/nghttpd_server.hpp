// tests/support/nghttpd_server.hpp: a real HTTP/2 server over TLS (nghttpd,
// Debian package nghttp2-server) with a throwaway certificate authority, for
// tests of TLS verification, ALPN negotiation and HTTP/2 multiplexing.
//
// The fixture makes a temporary directory holding a fresh CA (P-256, valid for
// two days), a server certificate signed by it for 127.0.0.1 and localhost,
// and a document root. It starts nghttpd on a free 127.0.0.1 port serving
// that document root, waits until the port accepts connections, and stops the
// process by pid (SIGTERM, then SIGKILL) and removes the directory when
// destroyed. The certificates are made with the `openssl` command.
//
// A missing nghttpd or openssl is an error, not a reason to skip: the
// constructor throws std::runtime_error saying what to install, so the test
// fails visibly (scripts/test installs both).
//
// Example:
//   grove::test::nghttpd_server server;
//   server.add_file("hello.txt", "hello");
//   options.ca_file = server.ca_file().string();
//   ... GET server.base_url() + "/hello.txt" ...
//
// Thread safety: none; use it from the test's thread. nghttpd itself is a
// separate process.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace grove::test {

class nghttpd_server {
 public:
  /// Makes the certificates and starts nghttpd. The executable is
  /// $GROVE_NGHTTPD when set, else `nghttpd` on PATH, /usr/sbin or /usr/bin.
  /// Errors: throws std::runtime_error with the command's output when a
  /// certificate cannot be made, nghttpd is missing, exits during start-up or
  /// does not accept connections within 10 s.
  nghttpd_server();

  /// Stops nghttpd and removes the temporary directory.
  ~nghttpd_server();

  nghttpd_server(const nghttpd_server&) = delete;
  nghttpd_server& operator=(const nghttpd_server&) = delete;

  /// "https://127.0.0.1:<port>", without a trailing slash.
  std::string base_url() const;

  /// The port nghttpd listens on (127.0.0.1 only).
  unsigned short port() const noexcept { return port_; }

  /// PEM file of the throwaway CA that signed the server certificate.
  std::filesystem::path ca_file() const { return dir_ / "ca.pem"; }

  /// Writes `content` to `name` (relative, no "..") under the document root;
  /// the server serves it at "/<name>" from then on.
  void add_file(std::string_view name, std::string_view content) const;

 private:
  void make_certificates() const;
  void start();
  void stop() noexcept;

  std::filesystem::path dir_;  // the temporary directory, removed at destruction
  unsigned short port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace grove::test
