// bench/http/bench_server.hpp: a small, fast HTTP/1.1 server for the HTTP
// benchmarks (not a test fixture: no scripting, no recording).
//
// It answers every request with 200 and a short text body, keeps connections
// alive, and runs one coroutine per connection on the io_context it is given.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <string>

namespace grove::bench {

namespace detail {

inline boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket) {
  namespace beast = boost::beast;
  constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
  // A fixed response: status line, headers and a 2-byte body.
  static const std::string reply =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
  boost::system::error_code ignored;
  socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  beast::flat_buffer buffer;
  for (;;) {
    beast::http::request_parser<beast::http::empty_body> parser;
    auto [ec, n] = co_await beast::http::async_read(socket, buffer, parser, use_tuple);
    if (ec) {
      co_return;
    }
    auto [write_ec, written] =
        co_await boost::asio::async_write(socket, boost::asio::buffer(reply), use_tuple);
    if (write_ec || !parser.get().keep_alive()) {
      co_return;
    }
  }
}

inline boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor) {
  constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec) {
      if (!acceptor.is_open()) {
        co_return;
      }
      continue;
    }
    boost::asio::co_spawn(acceptor.get_executor(), serve_connection(std::move(socket)),
                          boost::asio::detached);
  }
}

}  // namespace detail

/// Listens on 127.0.0.1 (port 0: the kernel picks) and serves on `io` once
/// `io` runs. Stop it by stopping `io`.
class bench_server {
 public:
  explicit bench_server(boost::asio::io_context& io, unsigned short port = 0)
      : acceptor_(io, {boost::asio::ip::make_address("127.0.0.1"), port}) {
    acceptor_.listen(1024);
    boost::asio::co_spawn(io, detail::accept_loop(acceptor_), boost::asio::detached);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

 private:
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace grove::bench
