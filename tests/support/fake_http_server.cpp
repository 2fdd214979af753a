// The scripted HTTP/1.1 fake server (see fake_http_server.hpp).
//
// Requests are read with Boost.Beast's parser. Responses are written as raw
// bytes rather than through Beast's serializer, because the faults need control
// Beast does not give: a body cut at chosen offsets, a chunked body that stops
// without its last chunk, a reset in the middle of the body.
#include "fake_http_server.hpp"

// g++ 12 at -O2 reports a false -Wmismatched-new-delete for Asio's coroutine
// frames (they pair a custom operator new with the matching operator delete).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace grove::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string reason_for(int status) {
  switch (status) {
    case 529:
      return "Site Overloaded";
    default: {
      std::string_view reason =
          beast::http::obsolete_reason(static_cast<beast::http::status>(status));
      return reason == "<unknown-status>" ? "Status" : std::string(reason);
    }
  }
}

std::string hex(std::size_t value) {
  std::ostringstream out;
  out << std::hex << value;
  return out.str();
}

// Closes with a TCP reset: SO_LINGER with a zero timeout makes close() send
// RST instead of FIN.
void reset(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

void close_cleanly(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

asio::awaitable<void> pause(std::chrono::milliseconds duration) {
  if (duration.count() <= 0) {
    co_return;
  }
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(use_tuple);
}

// Completes when the peer closes or resets the connection. Data the peer sends
// meanwhile (it should not, while waiting for a response) is left unread.
asio::awaitable<void> peer_gone(tcp::socket& socket) {
  for (;;) {
    char byte = 0;
    auto [ec, n] =
        co_await socket.async_receive(asio::buffer(&byte, 1), tcp::socket::message_peek, use_tuple);
    if (ec || n == 0) {
      co_return;
    }
    co_await pause(std::chrono::milliseconds{10});
  }
}

// Waits `duration` like a stalled server, but gives up early when the client
// goes away; returns whether the connection is still usable.
asio::awaitable<bool> stall(tcp::socket& socket, std::chrono::milliseconds duration) {
  using namespace asio::experimental::awaitable_operators;
  if (duration.count() <= 0) {
    co_return true;
  }
  auto outcome = co_await (pause(duration) || peer_gone(socket));
  co_return outcome.index() == 0;
}

}  // namespace

// ---------------------------------------------------------------------------
// Builders

namespace responses {

fake_response text(int status, std::string body, std::string content_type) {
  fake_response r;
  r.status = status;
  r.headers.add("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

fake_response json(int status, std::string body) {
  return text(status, std::move(body), "application/json");
}

fake_response rate_limited(std::optional<int> retry_after_s, std::optional<int> retry_after_ms,
                           std::string body) {
  fake_response r = json(429, std::move(body));
  if (retry_after_s) {
    r.headers.add("retry-after", std::to_string(*retry_after_s));
  }
  if (retry_after_ms) {
    r.headers.add("retry-after-ms", std::to_string(*retry_after_ms));
  }
  return r;
}

fake_response server_error(int status, std::string body) { return json(status, std::move(body)); }

fake_response sse(std::string stream, std::vector<std::size_t> split_points,
                  std::chrono::milliseconds delay) {
  fake_response r = text(200, std::move(stream), "text/event-stream");
  r.headers.add("Cache-Control", "no-cache");
  r.chunked = true;
  r.split_points = std::move(split_points);
  r.delay_between_pieces = delay;
  return r;
}

fake_response sse_random_splits(std::string stream, std::uint64_t seed, std::size_t max_piece,
                                std::chrono::milliseconds delay) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> piece(1, std::max<std::size_t>(max_piece, 1));
  std::vector<std::size_t> cuts;
  for (std::size_t at = piece(rng); at < stream.size(); at += piece(rng)) {
    cuts.push_back(at);
  }
  return sse(std::move(stream), std::move(cuts), delay);
}

fake_response large_body(std::size_t bytes, std::string content_type) {
  static constexpr std::string_view pattern = "0123456789abcdefghijklmnopqrstuvwxyz\n";
  std::string body;
  body.reserve(bytes);
  while (body.size() < bytes) {
    body.append(pattern.substr(0, std::min(pattern.size(), bytes - body.size())));
  }
  return text(200, std::move(body), std::move(content_type));
}

}  // namespace responses

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path.string());
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// ---------------------------------------------------------------------------
// The server

struct fake_http_server::impl {
  impl() {
    io.emplace();
    acceptor.emplace(*io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = acceptor->local_endpoint().port();
    default_response = responses::text(500, "no scripted response");
  }

  // Records the request and picks its response: the script, then the
  // handler, then the default.
  fake_response respond_to(recorded_request request) {
    std::unique_lock lock(mutex);
    request.sequence = requests.size();
    requests.push_back(request);
    arrived.notify_all();
    if (!script.empty()) {
      fake_response next = std::move(script.front());
      script.pop_front();
      return next;
    }
    if (handler) {
      fake_http_server::handler h = handler;
      lock.unlock();
      return h(request);
    }
    return default_response;
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
      if (ec) {
        if (!acceptor->is_open() || ec == asio::error::operation_aborted) {
          co_return;
        }
        continue;  // a transient accept failure (out of descriptors...)
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::uint64_t id = connections.fetch_add(1) + 1;
      asio::co_spawn(*io, serve(std::move(socket), id), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket, std::uint64_t connection_id) {
    std::size_t now_open = open.fetch_add(1) + 1;
    for (std::size_t peak = peak_open.load(); now_open > peak;) {
      if (peak_open.compare_exchange_weak(peak, now_open)) {
        break;
      }
    }
    struct close_count {
      std::atomic<std::size_t>& open;
      ~close_count() { open.fetch_sub(1); }
    } on_exit{open};

    beast::flat_buffer buffer;
    for (;;) {
      beast::http::request_parser<beast::http::string_body> parser;
      parser.body_limit(std::uint64_t{64} << 20);
      auto [ec, bytes] = co_await beast::http::async_read(socket, buffer, parser, use_tuple);
      if (ec) {
        co_return;  // the client closed, or sent something that is not HTTP
      }
      const auto& message = parser.get();
      recorded_request request;
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      for (const auto& field : message) {
        request.headers.add(std::string(field.name_string()), std::string(field.value()));
      }
      request.body = message.body();
      request.connection_id = connection_id;
      bool head = message.method() == beast::http::verb::head;
      bool keep_alive = message.keep_alive();

      fake_response response = respond_to(std::move(request));
      if (!co_await send(socket, response, keep_alive, head)) {
        co_return;
      }
    }
  }

  // Writes one response with its faults; false when the connection is done.
  asio::awaitable<bool> send(tcp::socket& socket, const fake_response& r, bool keep_alive,
                             bool head) {
    if (r.drop_before_headers) {
      reset(socket);
      co_return false;
    }
    if (!co_await stall(socket, r.stall_before_headers)) {
      co_return false;
    }

    keep_alive = keep_alive && !r.close_connection;
    std::string head_bytes = "HTTP/1.1 " + std::to_string(r.status) + " " +
                             (r.reason.empty() ? reason_for(r.status) : r.reason) + "\r\n";
    for (const http::header_field& field : r.headers) {
      head_bytes += field.name + ": " + field.value + "\r\n";
    }
    bool chunked = r.chunked && !r.headers.contains("content-length");
    if (!r.headers.contains("content-length") && !r.headers.contains("transfer-encoding")) {
      head_bytes += chunked ? "Transfer-Encoding: chunked\r\n"
                            : "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    }
    if (!keep_alive) {
      head_bytes += "Connection: close\r\n";
    }
    head_bytes += "\r\n";
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(head_bytes), use_tuple);
    if (ec) {
      co_return false;
    }
    std::string_view body = head ? std::string_view{} : std::string_view(r.body);

    // Cut points: the requested splits plus the fault offsets, so every fault
    // happens exactly at its byte.
    std::vector<std::size_t> cuts;
    for (std::size_t at : r.split_points) {
      if (at > 0 && at < body.size()) {
        cuts.push_back(at);
      }
    }
    for (const auto& fault : {r.stall_at_byte, r.reset_at_byte, r.close_at_byte}) {
      if (fault && *fault < body.size()) {
        cuts.push_back(*fault);
      }
    }
    cuts.push_back(body.size());
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

    std::size_t sent = 0;
    bool first = true;
    for (std::size_t cut : cuts) {
      // Faults that trigger once `sent` body bytes are out.
      if (r.reset_at_byte && *r.reset_at_byte == sent) {
        reset(socket);
        co_return false;
      }
      if (r.close_at_byte && *r.close_at_byte == sent) {
        close_cleanly(socket);
        co_return false;
      }
      if (r.stall_at_byte && *r.stall_at_byte == sent && !co_await stall(socket, r.stall_for)) {
        co_return false;
      }
      if (!first) {
        co_await pause(r.delay_between_pieces);
      }
      first = false;
      if (cut == sent) {
        continue;  // an empty body: nothing to write
      }

      std::string_view piece = body.substr(sent, cut - sent);
      std::string framed;
      if (chunked) {
        framed = hex(piece.size()) + "\r\n";
        framed.append(piece);
        framed += "\r\n";
        piece = framed;
      }
      auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(piece), use_tuple);
      if (write_ec) {
        co_return false;
      }
      sent = cut;
    }
    if (r.reset_at_byte && *r.reset_at_byte >= body.size()) {
      reset(socket);
      co_return false;
    }
    if (r.close_at_byte && *r.close_at_byte >= body.size()) {
      close_cleanly(socket);
      co_return false;
    }
    if (chunked) {
      auto [end_ec, end_n] =
          co_await asio::async_write(socket, asio::buffer("0\r\n\r\n", 5), use_tuple);
      if (end_ec) {
        co_return false;
      }
    }
    if (!keep_alive) {
      close_cleanly(socket);
    }
    co_return keep_alive;
  }

  std::optional<asio::io_context> io;
  std::optional<tcp::acceptor> acceptor;
  unsigned short port = 0;
  std::thread thread;

  mutable std::mutex mutex;
  mutable std::condition_variable arrived;
  std::deque<fake_response> script;
  fake_response default_response;
  fake_http_server::handler handler;
  std::vector<recorded_request> requests;

  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> peak_open{0};
};

fake_http_server::fake_http_server() : impl_(std::make_unique<impl>()) {
  asio::co_spawn(*impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io->run(); });
}

fake_http_server::~fake_http_server() { stop(); }

void fake_http_server::stop() {
  if (!impl_->io) {
    return;
  }
  impl_->io->stop();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
  // Destroying the context destroys the suspended connection coroutines and
  // their sockets, which closes every connection.
  impl_->acceptor.reset();
  impl_->io.reset();
}

unsigned short fake_http_server::port() const noexcept { return impl_->port; }

std::string fake_http_server::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

void fake_http_server::enqueue(fake_response response) {
  std::lock_guard lock(impl_->mutex);
  impl_->script.push_back(std::move(response));
}

void fake_http_server::set_default(fake_response response) {
  std::lock_guard lock(impl_->mutex);
  impl_->default_response = std::move(response);
}

void fake_http_server::set_handler(handler h) {
  std::lock_guard lock(impl_->mutex);
  impl_->handler = std::move(h);
}

std::vector<recorded_request> fake_http_server::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::size_t fake_http_server::request_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests.size();
}

std::uint64_t fake_http_server::connections_accepted() const { return impl_->connections.load(); }

std::size_t fake_http_server::open_connections() const { return impl_->open.load(); }

std::size_t fake_http_server::peak_open_connections() const { return impl_->peak_open.load(); }

std::size_t fake_http_server::script_left() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->script.size();
}

bool fake_http_server::wait_for_requests(std::size_t count,
                                         std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->arrived.wait_for(lock, timeout, [&] { return impl_->requests.size() >= count; });
}

}  // namespace grove::test
