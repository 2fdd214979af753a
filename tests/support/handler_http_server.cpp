#include "handler_http_server.hpp"

#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <mutex>
#include <thread>
#include <vector>

namespace grove::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct handler_http_server::impl {
  handler handle;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  unsigned short port = 0;
  std::thread accept_thread;
  std::mutex mutex;
  std::vector<std::thread> threads;
  std::vector<int> fds;
  bool stopping = false;

  void serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(std::uint64_t{1} << 30);
      bhttp::read(socket, buffer, parser, ec);
      if (ec) break;
      request req = parser.release();
      reply r = handle(req);
      if (r.drop) break;
      response& res = r.res;
      res.version(req.version());
      res.keep_alive(req.keep_alive());
      if (req.method() == bhttp::verb::head) {
        bhttp::response_serializer<bhttp::string_body> serializer(res);
        bhttp::write_header(socket, serializer, ec);
      } else {
        if (!res.has_content_length()) res.prepare_payload();
        bhttp::write(socket, res, ec);
      }
      if (ec || !req.keep_alive()) break;
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  void accept_loop() {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket(io);
      acceptor.accept(socket, ec);
      std::lock_guard lock(mutex);
      if (stopping) return;
      if (ec) continue;
      fds.push_back(socket.native_handle());
      threads.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }
};

handler_http_server::handler_http_server(handler h) : impl_(std::make_unique<impl>()) {
  impl_->handle = std::move(h);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
}

handler_http_server::~handler_http_server() { stop(); }

void handler_http_server::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) return;
    impl_->stopping = true;
    for (int fd : impl_->fds) ::shutdown(fd, SHUT_RDWR);  // unblocks reads
  }
  {
    // Wakes the blocking accept() with one last connection.
    beast::error_code ec;
    tcp::socket poke(impl_->io);
    poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), impl_->port), ec);
  }
  impl_->accept_thread.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mutex);
    threads.swap(impl_->threads);
  }
  for (auto& t : threads) t.join();
}

unsigned short handler_http_server::port() const { return impl_->port; }

std::string handler_http_server::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

}  // namespace grove::test
