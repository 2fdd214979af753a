// tests/support/handler_http_server.hpp: a minimal threaded HTTP/1.1 server
// on Boost.Beast that answers every request with a handler function. The
// storage fakes (fake_s3_server, fake_pinecone_server) are built on it.
//
// Listens on 127.0.0.1 on a kernel-chosen port; one thread accepts, each
// connection is served by its own thread with keep-alive, so a handler may
// block (to simulate a slow server) without stalling other connections. A
// handler may also ask for the connection to be dropped without a response
// (an outage as the client sees it: a reset or an early close).
// Thread safety: the handler runs on connection threads, concurrently.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <memory>
#include <string>

namespace grove::test {

class handler_http_server {
 public:
  using request = boost::beast::http::request<boost::beast::http::string_body>;
  using response = boost::beast::http::response<boost::beast::http::string_body>;

  /// What the handler returns: a response, or drop = true to close the
  /// connection without answering.
  struct reply {
    response res;
    bool drop = false;
  };
  using handler = std::function<reply(const request&)>;

  /// Binds 127.0.0.1:0 and starts serving. Throws std::system_error on failure.
  explicit handler_http_server(handler h);
  ~handler_http_server();
  handler_http_server(const handler_http_server&) = delete;
  handler_http_server& operator=(const handler_http_server&) = delete;

  unsigned short port() const;
  /// "http://127.0.0.1:<port>".
  std::string endpoint() const;
  /// Closes the listener and every connection, joins the threads. Idempotent.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace grove::test
