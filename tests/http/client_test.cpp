#include "grove/http/client.hpp"

// g++ 12 at -O2 reports a false -Wmismatched-new-delete for Asio's coroutine
// frames (they pair a custom operator new with the matching operator delete).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "grove/http/sse.hpp"
#include "support/fake_http_server.hpp"
#include "support/nghttpd_server.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using grove::http::errc;
using grove::http::request;
using grove::http::response;
using grove::test::fake_http_server;
namespace responses = grove::test::responses;

namespace {

using test_body = std::function<asio::awaitable<void>()>;

// Runs `body` as a coroutine on a fresh single-threaded io_context and fails
// the test if it has not finished within `deadline`: no test can hang.
void run(const test_body& body, std::chrono::milliseconds deadline = 10s) {
  asio::io_context io;
  bool finished = false;
  std::exception_ptr failure;
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    finished = true;
    failure = e;
  });
  io.run_for(deadline);
  INFO("the test coroutine did not finish within its deadline");
  REQUIRE(finished);
  if (failure) {
    std::rethrow_exception(failure);
  }
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

// No `= {}` default argument on purpose (see make_curl_client in client.hpp).
std::shared_ptr<grove::http::client> make_client(asio::any_io_executor executor,
                                                 grove::http::client_options options) {
  return grove::http::make_curl_client(std::move(executor), std::move(options));
}

std::shared_ptr<grove::http::client> make_client(asio::any_io_executor executor) {
  return grove::http::make_curl_client(std::move(executor));
}

// g++ 12 warns (-Wmissing-field-initializers) about designated initialisers
// that leave fields out, so requests and options are built field by field.
request to(std::string url, std::string method = "GET") {
  request req;
  req.method = std::move(method);
  req.url = std::move(url);
  return req;
}

request get(const fake_http_server& server, std::string target = "/") {
  return to(server.base_url() + target);
}

grove::http::client_options with(const std::function<void(grove::http::client_options&)>& edit) {
  grove::http::client_options options;
  edit(options);
  return options;
}

grove::test::fake_response fault(const std::function<void(grove::test::fake_response&)>& edit) {
  grove::test::fake_response response = grove::test::responses::text(200, "unused");
  edit(response);
  return response;
}

std::string fixture(const char* relative) {
  return grove::test::read_file(std::filesystem::path(GROVE_TEST_DATA_DIR) / relative);
}

// A port with nothing listening: bind, read the port, close.
unsigned short closed_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

errc code_of(const grove::result<response>& r) {
  REQUIRE_FALSE(r);
  return static_cast<errc>(r.error().code.value());
}

}  // namespace

TEST_CASE("client: GET returns status, headers with case-insensitive lookup, and body", "[http]") {
  fake_http_server server;
  auto reply = responses::json(200, R"({"ok":true})");
  reply.headers.add("X-Request-Id", "req-1");
  server.enqueue(reply);

  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor);
    request req = get(server, "/v1/models?limit=2");
    req.headers.add("Authorization", "Bearer test-key");
    auto res = co_await http->async_request(std::move(req));
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->ok());
    CHECK(res->body == R"({"ok":true})");
    CHECK(res->body_bytes == res->body.size());
    CHECK(res->headers.get("content-type") == "application/json");
    CHECK(res->headers.get("x-request-id") == "req-1");
    CHECK(res->http_version == 11);
    co_await http->async_close();
  });

  auto received = server.requests();
  REQUIRE(received.size() == 1);
  CHECK(received[0].method == "GET");
  CHECK(received[0].target == "/v1/models?limit=2");
  CHECK(received[0].headers.get("authorization") == "Bearer test-key");
  CHECK(received[0].headers.get("user-agent") == "grove-http/0.1");
  CHECK(received[0].body.empty());
}

TEST_CASE("client: methods and bodies arrive as sent, without headers libcurl would add",
          "[http]") {
  fake_http_server server;
  server.set_default(responses::text(200, "done"));

  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor);
    std::string big(200'000, 'x');  // large enough for libcurl's Expect: 100-continue
    for (const char* method : {"POST", "PUT", "PATCH", "DELETE"}) {
      request req = get(server, "/items");
      req.method = method;
      req.body = method == std::string("POST") ? big : std::string("{\"m\":1}");
      auto res = co_await http->async_request(std::move(req));
      REQUIRE(res);
      CHECK(res->body == "done");
    }
    request head = get(server, "/items");
    head.method = "HEAD";
    auto res = co_await http->async_request(std::move(head));
    REQUIRE(res);
    CHECK(res->body.empty());

    request typed = get(server, "/typed");
    typed.method = "POST";
    typed.body = "{}";
    typed.headers.add("Content-Type", "application/json");
    res = co_await http->async_request(std::move(typed));
    REQUIRE(res);
    co_await http->async_close();
  });

  auto received = server.requests();
  REQUIRE(received.size() == 6);
  CHECK(received[0].method == "POST");
  CHECK(received[0].body.size() == 200'000);
  CHECK_FALSE(received[0].headers.contains("expect"));
  CHECK_FALSE(received[0].headers.contains("content-type"));
  CHECK(received[1].method == "PUT");
  CHECK(received[1].body == "{\"m\":1}");
  CHECK(received[2].method == "PATCH");
  CHECK(received[3].method == "DELETE");
  CHECK(received[3].body == "{\"m\":1}");
  CHECK(received[4].method == "HEAD");
  CHECK(received[5].headers.get("content-type") == "application/json");
}

TEST_CASE("client: error statuses are responses, with their headers and bodies", "[http]") {
  fake_http_server server;
  server.enqueue(responses::rate_limited(/*retry_after_s=*/2, /*retry_after_ms=*/1500));
  for (int status : {500, 502, 503, 529}) {
    server.enqueue(responses::server_error(status));
  }
  server.enqueue(responses::json(200, R"({"error":{"message":"model not loaded"}})"));
  server.enqueue(responses::text(200, "<html>proxy error</html>", "text/html"));
  auto redirect = responses::text(302, "");
  redirect.headers.add("Location", "/elsewhere");
  server.enqueue(redirect);

  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor);
    auto res = co_await http->async_request(get(server));
    REQUIRE(res);
    CHECK(res->status == 429);
    CHECK(res->headers.get("retry-after") == "2");
    CHECK(res->headers.get("Retry-After-Ms") == "1500");
    CHECK(res->body.find("rate_limit_error") != std::string::npos);

    for (int status : {500, 502, 503, 529}) {
      res = co_await http->async_request(get(server));
      REQUIRE(res);
      CHECK(res->status == status);
      CHECK_FALSE(res->ok());
      CHECK(res->body.find("server_error") != std::string::npos);
    }

    // An error object in a 200 body and a wrong content type are passed
    // through untouched: judging them is the caller's job.
    res = co_await http->async_request(get(server));
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body.find("model not loaded") != std::string::npos);
    res = co_await http->async_request(get(server));
    REQUIRE(res);
    CHECK(res->headers.get("content-type") == "text/html");

    // Redirects are not followed by default.
    res = co_await http->async_request(get(server, "/start"));
    REQUIRE(res);
    CHECK(res->status == 302);
    CHECK(res->headers.get("location") == "/elsewhere");
    co_await http->async_close();
  });
  CHECK(server.request_count() == 8);
}

TEST_CASE("client: redirects are followed when enabled, up to the limit", "[http]") {
  fake_http_server server;
  server.set_handler([](const grove::test::recorded_request& r) {
    if (r.target == "/final") {
      return responses::text(200, "arrived");
    }
    auto hop = responses::text(302, "");
    hop.headers.add("Location", r.target == "/a" ? "/final" : "/loop");
    return hop;
  });

  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor, with([](auto& o) {
                              o.follow_redirects = true;
                              o.max_redirects = 3;
                            }));
    auto res = co_await http->async_request(get(server, "/a"));
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == "arrived");

    res = co_await http->async_request(get(server, "/loop"));
    CHECK(code_of(res) == errc::too_many_redirects);
    co_await http->async_close();
  });
}

TEST_CASE("client: host names go through the resolver", "[http]") {
  // "localhost" makes libcurl use its threaded resolver, whose wake-up socket
  // the client must watch too (a numeric address skips it).
  fake_http_server server;
  server.set_default(responses::text(200, "resolved"));
  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor);
    for (int i = 0; i < 3; ++i) {
      auto res = co_await http->async_request(
          to("http://localhost:" + std::to_string(server.port()) + "/"));
      REQUIRE(res);
      CHECK(res->body == "resolved");
    }
    co_await http->async_close();
  });
}

TEST_CASE("client: invalid requests fail at once with a clear error", "[http]") {
  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor);
    auto res = co_await http->async_request(to("not a url"));
    CHECK(code_of(res) == errc::invalid_url);
    res = co_await http->async_request(to("ftp://127.0.0.1/file"));
    CHECK(code_of(res) == errc::invalid_url);
    CHECK(res.error().message.find("http or https") != std::string::npos);
    res = co_await http->async_request(to(""));
    CHECK(code_of(res) == errc::invalid_url);

    res = co_await http->async_request(to("http://127.0.0.1:1/", "GE T"));
    CHECK(code_of(res) == errc::invalid_request);
    request bad_header = to("http://127.0.0.1:1/");
    bad_header.headers.add("X-Injected", "a\r\nHost: evil");
    res = co_await http->async_request(std::move(bad_header));
    CHECK(code_of(res) == errc::invalid_request);
    CHECK(res.error().message.find("X-Injected") != std::string::npos);
    request zero_limit = to("http://127.0.0.1:1/");
    zero_limit.max_response_bytes = 0;
    res = co_await http->async_request(std::move(zero_limit));
    CHECK(code_of(res) == errc::invalid_request);

    CHECK(http->stats().requests_started == 0);
    CHECK(http->stats().requests_failed == 6);
    co_await http->async_close();
  });
}

TEST_CASE("client: transport faults are classified", "[http]") {
  fake_http_server server;

  SECTION("connection refused") {
    run([&]() -> asio::awaitable<void> {
      auto http = make_client(co_await asio::this_coro::executor);
      auto url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
      auto res = co_await http->async_request(to(url));
      CHECK(code_of(res) == errc::connect_failed);
      co_await http->async_close();
    });
  }
  SECTION("connection dropped before any response") {
    server.enqueue(fault([](auto& r) { r.drop_before_headers = true; }));
    run([&]() -> asio::awaitable<void> {
      auto http = make_client(co_await asio::this_coro::executor);
      auto res = co_await http->async_request(get(server));
      CHECK(code_of(res) == errc::connection_reset);
      co_await http->async_close();
    });
  }
  SECTION("reset in the middle of the body") {
    auto reply = responses::large_body(100'000);
    reply.reset_at_byte = 40'000;
    server.enqueue(reply);
    run([&]() -> asio::awaitable<void> {
      auto http = make_client(co_await asio::this_coro::executor);
      auto res = co_await http->async_request(get(server));
      CHECK(code_of(res) == errc::connection_reset);
      co_await http->async_close();
    });
  }
  SECTION("body shorter than Content-Length") {
    auto reply = responses::json(200, R"({"choices":[{"message":{"content":"hel)");
    reply.headers.add("Content-Length", "200");
    reply.close_at_byte = reply.body.size();
    server.enqueue(reply);
    run([&]() -> asio::awaitable<void> {
      auto http = make_client(co_await asio::this_coro::executor);
      auto res = co_await http->async_request(get(server));
      CHECK(code_of(res) == errc::truncated);
      co_await http->async_close();
    });
  }
  SECTION("chunked body closed before its last chunk") {
    auto reply = responses::sse(fixture("llm-streams/openai/chat_text_stop.sse"), {100, 200});
    reply.close_at_byte = 150;
    server.enqueue(reply);
    run([&]() -> asio::awaitable<void> {
      auto http = make_client(co_await asio::this_coro::executor);
      auto res = co_await http->async_request(get(server));
      CHECK(code_of(res) == errc::truncated);
      co_await http->async_close();
    });
  }
  SECTION("stall before the headers hits the total timeout") {
    server.enqueue(fault([](auto& r) { r.stall_before_headers = 30s; }));
    run([&]() -> asio::awaitable<void> {
      auto http = make_client(co_await asio::this_coro::executor);
      request req = get(server);
      req.timeout = 200ms;
      auto res = co_await http->async_request(std::move(req));
      CHECK(code_of(res) == errc::timeout);
      co_await http->async_close();
    });
  }
  SECTION("stall mid-stream hits the idle timeout") {
    auto reply = responses::sse(fixture("llm-streams/openai/chat_text_stop.sse"));
    reply.stall_at_byte = 500;
    reply.stall_for = 30s;
    server.enqueue(reply);
    run([&]() -> asio::awaitable<void> {
      auto http = make_client(co_await asio::this_coro::executor,
                              with([](auto& o) { o.idle_timeout = 150ms; }));
      std::size_t streamed = 0;
      request req = get(server);
      req.on_body = [&](std::string_view chunk) {
        streamed += chunk.size();
        return true;
      };
      auto res = co_await http->async_request(std::move(req));
      CHECK(code_of(res) == errc::timeout);
      CHECK(res.error().message.find("no data received for 150 ms") != std::string::npos);
      CHECK(streamed == 500);  // the partial stream reached the caller, then failed
      co_await http->async_close();
    });
  }
}

TEST_CASE("client: a streamed SSE body reaches the callback whole, in order, in pieces", "[http]") {
  // Property: whatever the server's split points and delays, the chunks the
  // callback sees concatenate to the file, and an SSE parser fed those chunks
  // yields exactly the events of the whole file.
  std::string stream = fixture("llm-streams/anthropic/tool_use_response.txt");
  std::vector<grove::http::sse_event> expected;
  {
    grove::http::sse_parser whole;
    auto collect = [&](grove::http::sse_event& e) { expected.push_back(e); };
    REQUIRE(whole.feed(stream, collect));
    REQUIRE(whole.finish(collect));
  }

  fake_http_server server;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    server.enqueue(responses::sse_random_splits(stream, seed, /*max_piece=*/64, 1ms));
  }

  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor);
    for (int i = 0; i < 5; ++i) {
      std::string received;
      std::size_t chunks = 0;
      grove::http::sse_parser parser;
      std::vector<grove::http::sse_event> events;
      auto collect = [&](grove::http::sse_event& e) { events.push_back(e); };
      request req = get(server, "/v1/messages");
      req.method = "POST";
      req.body = R"({"stream":true})";
      req.on_body = [&](std::string_view chunk) {
        received.append(chunk);
        ++chunks;
        return static_cast<bool>(parser.feed(chunk, collect));
      };
      auto res = co_await http->async_request(std::move(req));
      REQUIRE(res);
      CHECK(res->status == 200);
      CHECK(res->headers.get("content-type") == "text/event-stream");
      CHECK(res->body.empty());
      CHECK(res->body_bytes == stream.size());
      CHECK(received == stream);
      CHECK(chunks > 5);
      REQUIRE(parser.finish(collect));
      CHECK(events == expected);
    }
    co_await http->async_close();
  });
}

TEST_CASE("client: with a body callback, a non-2xx body is still collected", "[http]") {
  fake_http_server server;
  server.enqueue(responses::rate_limited(/*retry_after_s=*/1));
  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor);
    bool called = false;
    request req = get(server);
    req.on_body = [&](std::string_view) { return called = true; };
    auto res = co_await http->async_request(std::move(req));
    REQUIRE(res);
    CHECK(res->status == 429);
    CHECK(res->body.find("rate_limit_error") != std::string::npos);
    CHECK_FALSE(called);
    co_await http->async_close();
  });
}

TEST_CASE("client: partial streams end in errors, never in a complete response", "[http]") {
  std::string stream = fixture("llm-streams/openai/chat_text_stop.sse");
  fake_http_server server;

  auto expect_partial = [&](grove::test::fake_response reply, errc expected) {
    server.enqueue(std::move(reply));
    run([&]() -> asio::awaitable<void> {
      auto http = make_client(co_await asio::this_coro::executor);
      std::string received;
      request req = get(server);
      req.on_body = [&](std::string_view chunk) {
        received.append(chunk);
        return true;
      };
      auto res = co_await http->async_request(std::move(req));
      CHECK(code_of(res) == expected);
      CHECK(received.size() == 1000);
      CHECK(received == stream.substr(0, 1000));
      co_await http->async_close();
    });
  };

  SECTION("reset") {
    auto reply = responses::sse(stream, {300, 600});
    reply.reset_at_byte = 1000;
    expect_partial(reply, errc::connection_reset);
  }
  SECTION("clean close") {
    auto reply = responses::sse(stream, {300, 600});
    reply.close_at_byte = 1000;
    expect_partial(reply, errc::truncated);
  }
}

TEST_CASE("client: a body callback can stop the transfer", "[http]") {
  fake_http_server server;
  server.set_default(responses::sse(std::string(10'000, 'x'), {1000, 2000, 3000}, 5ms));
  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor);
    request stop = get(server);
    stop.on_body = [](std::string_view) { return false; };
    auto res = co_await http->async_request(std::move(stop));
    CHECK(code_of(res) == errc::aborted_by_callback);

    request throwing = get(server);
    throwing.on_body = [](std::string_view) -> bool { throw std::runtime_error("bad chunk"); };
    res = co_await http->async_request(std::move(throwing));
    CHECK(code_of(res) == errc::aborted_by_callback);
    CHECK(res.error().message.find("bad chunk") != std::string::npos);

    // The client is still usable afterwards.
    res = co_await http->async_request(get(server));
    REQUIRE(res);
    CHECK(res->body.size() == 10'000);
    co_await http->async_close();
  });
}

TEST_CASE("client: the response size limit fails cleanly", "[http]") {
  fake_http_server server;
  constexpr std::size_t ten_mib = std::size_t{10} << 20;

  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor);
    server.enqueue(responses::large_body(ten_mib));
    auto res = co_await http->async_request(get(server));
    REQUIRE(res);
    CHECK(res->body.size() == ten_mib);

    // Content-Length announces too much: refused before the body is read.
    server.enqueue(responses::large_body(ten_mib));
    request limited = get(server);
    limited.max_response_bytes = std::size_t{1} << 20;
    res = co_await http->async_request(std::move(limited));
    CHECK(code_of(res) == errc::too_large);
    CHECK(res.error().message.find("1048576") != std::string::npos);

    // Chunked, with no length up front: stopped once the limit is crossed.
    auto chunked = responses::large_body(ten_mib);
    chunked.chunked = true;
    chunked.split_points = {1 << 18, 1 << 19, 1 << 20, 1 << 21};
    server.enqueue(chunked);
    std::size_t streamed = 0;
    request streaming = get(server);
    streaming.max_response_bytes = std::size_t{1} << 20;
    streaming.on_body = [&](std::string_view chunk) {
      streamed += chunk.size();
      return true;
    };
    res = co_await http->async_request(std::move(streaming));
    CHECK(code_of(res) == errc::too_large);
    CHECK(streamed <= std::size_t{1} << 20);
    co_await http->async_close();
  });
}

TEST_CASE("client: cancellation aborts the transfer at once and frees it", "[http]") {
  // Evidence: the request completes with errc::cancelled while the server is
  // still stalled (its stall is 30 s, the test's deadline 10 s), nothing is in
  // flight afterwards, and the server sees its connection closed.
  fake_http_server server;
  auto stalled = responses::sse(std::string(4000, 'x'), {1000});
  stalled.stall_at_byte = 1000;
  stalled.stall_for = 30s;

  SECTION("signal emitted from another coroutine after the first chunk") {
    server.enqueue(stalled);
    run([&]() -> asio::awaitable<void> {
      auto http = make_client(co_await asio::this_coro::executor);
      asio::cancellation_signal signal;
      std::optional<grove::result<response>> outcome;
      std::size_t streamed = 0;
      request req = get(server);
      req.on_body = [&](std::string_view chunk) {
        streamed += chunk.size();
        return true;
      };
      // The executor is fetched first: a lambda temporary in the same full
      // expression as a co_await is miscompiled by g++ 12 (see client.hpp).
      auto executor = co_await asio::this_coro::executor;
      asio::co_spawn(
          executor,
          [&, req = std::move(req)]() mutable -> asio::awaitable<void> {
            outcome = co_await http->async_request(std::move(req));
          },
          asio::bind_cancellation_slot(signal.slot(), asio::detached));
      while (streamed < 1000) {
        co_await sleep_for(5ms);
      }
      CHECK(http->stats().in_flight == 1);
      signal.emit(asio::cancellation_type::terminal);
      while (!outcome) {
        co_await sleep_for(1ms);
      }
      CHECK(code_of(*outcome) == errc::cancelled);
      CHECK(http->stats().in_flight == 0);
      CHECK(http->stats().requests_cancelled == 1);
      co_await http->async_close();
    });
  }
  SECTION("awaitable operator || with a timer") {
    using namespace boost::asio::experimental::awaitable_operators;
    server.enqueue(stalled);
    run([&]() -> asio::awaitable<void> {
      auto http = make_client(co_await asio::this_coro::executor);
      auto winner = co_await (http->async_request(get(server)) || sleep_for(100ms));
      CHECK(winner.index() == 1);
      CHECK(http->stats().in_flight == 0);
      CHECK(http->stats().requests_cancelled == 1);
      co_await http->async_close();
    });
  }
  SECTION("signal emitted from inside the body callback") {
    server.enqueue(stalled);
    run([&]() -> asio::awaitable<void> {
      auto http = make_client(co_await asio::this_coro::executor);
      asio::cancellation_signal signal;
      std::optional<grove::result<response>> outcome;
      request req = get(server);
      req.on_body = [&](std::string_view) {
        signal.emit(asio::cancellation_type::terminal);
        return true;
      };
      // The executor is fetched first: a lambda temporary in the same full
      // expression as a co_await is miscompiled by g++ 12 (see client.hpp).
      auto executor = co_await asio::this_coro::executor;
      asio::co_spawn(
          executor,
          [&, req = std::move(req)]() mutable -> asio::awaitable<void> {
            outcome = co_await http->async_request(std::move(req));
          },
          asio::bind_cancellation_slot(signal.slot(), asio::detached));
      while (!outcome) {
        co_await sleep_for(1ms);
      }
      CHECK(code_of(*outcome) == errc::cancelled);
      co_await http->async_close();
    });
  }

  for (int i = 0; i < 1000 && server.open_connections() > 0; ++i) {
    std::this_thread::sleep_for(2ms);
  }
  CHECK(server.open_connections() == 0);
}

TEST_CASE("client: connections are reused across sequential requests", "[http]") {
  fake_http_server server;
  server.set_default(responses::text(200, "pong"));
  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor);
    for (int i = 0; i < 20; ++i) {
      auto res = co_await http->async_request(get(server, "/ping"));
      REQUIRE(res);
      CHECK(res->body == "pong");
    }
    CHECK(http->stats().connections_opened == 1);

    // A response that closes its connection forces a new one.
    auto closing = responses::text(200, "bye");
    closing.close_connection = true;
    server.enqueue(closing);
    auto res = co_await http->async_request(get(server));
    REQUIRE(res);
    res = co_await http->async_request(get(server));
    REQUIRE(res);
    CHECK(http->stats().connections_opened == 2);
    co_await http->async_close();
  });
  CHECK(server.connections_accepted() == 2);
  CHECK(server.request_count() == 22);
}

TEST_CASE("client: 200 concurrent requests on one thread respect the connection cap", "[http]") {
  // Evidence: every request gets the answer for its own target, the server
  // never saw more than the per-host cap of connections open at once, and
  // the client opened no more than that either.
  fake_http_server server;
  server.set_handler([](const grove::test::recorded_request& r) {
    auto reply = responses::text(200, "echo " + r.target);
    reply.stall_before_headers = 2ms;  // keeps requests overlapping
    return reply;
  });

  constexpr int count = 200;
  constexpr std::size_t cap = 8;
  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor,
                            with([](auto& o) { o.max_connections_per_host = cap; }));
    auto executor = co_await asio::this_coro::executor;
    int done = 0;
    int correct = 0;
    for (int i = 0; i < count; ++i) {
      asio::co_spawn(
          executor,
          [&, i]() -> asio::awaitable<void> {
            auto target = "/item/" + std::to_string(i);
            auto res = co_await http->async_request(get(server, target));
            if (res && res->body == "echo " + target) {
              ++correct;
            }
            ++done;
          },
          asio::detached);
    }
    CHECK(http->stats().in_flight <= static_cast<std::size_t>(count));
    while (done < count) {
      co_await sleep_for(5ms);
    }
    CHECK(correct == count);
    CHECK(http->stats().requests_succeeded == count);
    CHECK(http->stats().connections_opened <= cap);
    co_await http->async_close();
  });
  CHECK(server.request_count() == count);
  CHECK(server.peak_open_connections() <= cap);
  CHECK(server.peak_open_connections() > 1);
}

TEST_CASE("client: requests beyond max_total_connections wait in the client's queue", "[http]") {
  // Evidence: with a cap of 3, never more than 3 transfers run (in_flight)
  // or connections open (server side), the rest are counted as queued, and
  // every request still gets its own answer.
  fake_http_server server;
  server.set_handler([](const grove::test::recorded_request& r) {
    auto reply = responses::text(200, "echo " + r.target);
    reply.stall_before_headers = 2ms;
    return reply;
  });
  constexpr int count = 40;
  constexpr std::size_t cap = 3;
  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor,
                            with([](auto& o) { o.max_total_connections = cap; }));
    auto executor = co_await asio::this_coro::executor;
    int done = 0;
    int correct = 0;
    for (int i = 0; i < count; ++i) {
      asio::co_spawn(
          executor,
          [&, i]() -> asio::awaitable<void> {
            auto target = "/item/" + std::to_string(i);
            auto res = co_await http->async_request(get(server, target));
            correct += (res && res->body == "echo " + target) ? 1 : 0;
            ++done;
          },
          asio::detached);
    }
    std::size_t peak_running = 0;
    std::size_t peak_queued = 0;
    while (done < count) {
      peak_running = std::max(peak_running, http->stats().in_flight);
      peak_queued = std::max(peak_queued, http->stats().queued);
      co_await asio::post(executor, asio::use_awaitable);
    }
    CHECK(correct == count);
    CHECK(peak_running <= cap);
    CHECK(peak_queued > 0);
    CHECK(peak_queued <= count - cap);
    CHECK(http->stats().queued == 0);
    CHECK(http->stats().in_flight == 0);
    co_await http->async_close();
  });
  CHECK(server.request_count() == count);
  CHECK(server.peak_open_connections() <= cap);
}

TEST_CASE("client: a queued request times out or is cancelled without reaching the server",
          "[http]") {
  // One slot, held by a request the server stalls for 3 s. A queued request
  // with a 100 ms total timeout fails with errc::timeout and a cancelled one
  // with errc::cancelled, both while the first still waits; neither reaches
  // the server, and the slot serves a later request.
  fake_http_server server;
  server.set_handler([](const grove::test::recorded_request& r) {
    auto reply = responses::text(200, "done " + r.target);
    if (r.target == "/slow") {
      reply.stall_before_headers = 3s;
    }
    return reply;
  });
  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor,
                            with([](auto& o) { o.max_total_connections = 1; }));
    auto executor = co_await asio::this_coro::executor;
    std::optional<grove::result<response>> slow;
    std::optional<grove::result<response>> timed_out;
    std::optional<grove::result<response>> cancelled;
    asio::co_spawn(
        executor,
        [&]() -> asio::awaitable<void> {
          slow = co_await http->async_request(get(server, "/slow"));
        },
        asio::detached);
    request short_wait = get(server, "/short");
    short_wait.timeout = 100ms;
    asio::co_spawn(
        executor,
        [&, req = std::move(short_wait)]() mutable -> asio::awaitable<void> {
          timed_out = co_await http->async_request(std::move(req));
        },
        asio::detached);
    asio::cancellation_signal signal;
    asio::co_spawn(
        executor,
        [&]() -> asio::awaitable<void> {
          cancelled = co_await http->async_request(get(server, "/cancelled"));
        },
        asio::bind_cancellation_slot(signal.slot(), asio::detached));

    while (http->stats().queued < 2) {
      co_await sleep_for(1ms);
    }
    CHECK(http->stats().in_flight == 1);
    signal.emit(asio::cancellation_type::terminal);
    while (!timed_out || !cancelled) {
      co_await sleep_for(5ms);
    }
    CHECK_FALSE(slow.has_value());
    CHECK(code_of(*cancelled) == errc::cancelled);
    CHECK(code_of(*timed_out) == errc::timeout);
    CHECK(timed_out->error().message.find("waiting for a free connection") != std::string::npos);
    CHECK(http->stats().queued == 0);

    while (!slow) {
      co_await sleep_for(5ms);
    }
    REQUIRE(*slow);
    CHECK((*slow)->body == "done /slow");
    auto after = co_await http->async_request(get(server, "/after"));
    REQUIRE(after);
    CHECK(after->body == "done /after");
    co_await http->async_close();
  });
  CHECK(server.request_count() == 2);
}

TEST_CASE("client: close completes pending requests and refuses new ones", "[http]") {
  fake_http_server server;
  server.set_default(fault([](auto& r) { r.stall_before_headers = 30s; }));

  SECTION("async_close") {
    run([&]() -> asio::awaitable<void> {
      auto http = make_client(co_await asio::this_coro::executor);
      std::optional<grove::result<response>> pending;
      // The executor is fetched first: a lambda temporary in the same full
      // expression as a co_await is miscompiled by g++ 12 (see client.hpp).
      auto executor = co_await asio::this_coro::executor;
      asio::co_spawn(
          executor,
          [&]() -> asio::awaitable<void> { pending = co_await http->async_request(get(server)); },
          asio::detached);
      while (server.request_count() < 1) {
        co_await sleep_for(2ms);
      }
      co_await http->async_close();
      while (!pending) {
        co_await sleep_for(1ms);
      }
      CHECK(code_of(*pending) == errc::closed);
      auto after = co_await http->async_request(get(server));
      CHECK(code_of(after) == errc::closed);
      co_await http->async_close();  // idempotent
    });
  }
  SECTION("dropping the last reference") {
    run([&]() -> asio::awaitable<void> {
      auto http = make_client(co_await asio::this_coro::executor);
      std::optional<grove::result<response>> pending;
      // The executor is fetched first: a lambda temporary in the same full
      // expression as a co_await is miscompiled by g++ 12 (see client.hpp).
      auto executor = co_await asio::this_coro::executor;
      asio::co_spawn(
          executor,
          [&, client = http.get()]() -> asio::awaitable<void> {
            pending = co_await client->async_request(get(server));
          },
          asio::detached);
      while (server.request_count() < 1) {
        co_await sleep_for(2ms);
      }
      http.reset();
      while (!pending) {
        co_await sleep_for(1ms);
      }
      CHECK(code_of(*pending) == errc::closed);
    });
  }
}

TEST_CASE("client: requests from several threads share one client", "[http]") {
  // Evidence for the thread-safety contract: two threads run the io_context,
  // coroutines on both issue requests, and every one succeeds (the TSan
  // build checks the absence of races).
  fake_http_server server;
  server.set_default(responses::text(200, "ok"));
  asio::io_context io;
  auto http = grove::http::make_curl_client(io.get_executor());
  std::atomic<int> succeeded{0};
  std::atomic<int> finished{0};
  constexpr int count = 60;
  for (int i = 0; i < count; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto res = co_await http->async_request(get(server));
          if (res && res->body == "ok") {
            ++succeeded;
          }
          ++finished;
        },
        asio::detached);
  }
  std::thread second([&] { io.run_for(10s); });
  io.run_for(10s);
  second.join();
  CHECK(finished == count);
  CHECK(succeeded == count);
}

// --- TLS and HTTP/2 against a real peer (nghttpd, see support/nghttpd_server.hpp) ---

namespace {

// Sends `count` GETs for `url` at once from one thread and waits for all.
// Returns every result in the order the requests were made, and in `peak` the
// most transfers the client reported in flight at once.
asio::awaitable<std::vector<grove::result<response>>> get_concurrently(
    std::shared_ptr<grove::http::client> http, std::string url, int count, std::size_t& peak) {
  auto executor = co_await asio::this_coro::executor;
  std::vector<grove::result<response>> results(
      static_cast<std::size_t>(count), grove::result<response>(grove::fail(errc::other, "unset")));
  int done = 0;
  for (int i = 0; i < count; ++i) {
    asio::co_spawn(
        executor,
        [&, i]() -> asio::awaitable<void> {
          results[static_cast<std::size_t>(i)] = co_await http->async_request(to(url));
          ++done;
        },
        asio::detached);
  }
  peak = 0;
  while (done < count) {
    peak = std::max(peak, http->stats().in_flight);
    co_await asio::post(executor, asio::use_awaitable);  // yield to the transfers
  }
  co_return results;
}

}  // namespace

TEST_CASE("client: HTTPS with the configured CA is served over HTTP/2", "[http]") {
  grove::test::nghttpd_server server;
  server.add_file("hello.txt", "hello over h2");
  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor,
                            with([&](auto& o) { o.ca_file = server.ca_file().string(); }));
    auto res = co_await http->async_request(to(server.base_url() + "/hello.txt"));
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == "hello over h2");
    CHECK(res->http_version == 20);

    // The certificate also names localhost, and a 404 is still a response.
    auto missing = co_await http->async_request(
        to("https://localhost:" + std::to_string(server.port()) + "/absent"));
    REQUIRE(missing);
    CHECK(missing->status == 404);
    CHECK(missing->http_version == 20);
    co_await http->async_close();
  });
}

TEST_CASE("client: concurrent HTTPS requests share one multiplexed HTTP/2 connection", "[http]") {
  // Evidence: 50 requests are in flight together (the client's in_flight
  // counter), and connections_opened, which counts every socket libcurl asks
  // the client to open (CURLOPT_OPENSOCKETFUNCTION), stays at one. The
  // HTTP/1.1 test above shows the same counter above one for concurrent
  // requests without multiplexing.
  grove::test::nghttpd_server server;
  server.add_file("small.json", R"({"ok":true})");
  constexpr int count = 50;
  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor,
                            with([&](auto& o) { o.ca_file = server.ca_file().string(); }));
    std::size_t peak = 0;
    auto results = co_await get_concurrently(http, server.base_url() + "/small.json", count, peak);
    for (const auto& res : results) {
      REQUIRE(res);
      CHECK(res->status == 200);
      CHECK(res->body == R"({"ok":true})");
      CHECK(res->http_version == 20);
    }
    CHECK(peak > count / 2);
    CHECK(http->stats().requests_succeeded == count);
    CHECK(http->stats().connections_opened == 1);
    co_await http->async_close();
  });
}

TEST_CASE("client: TLS verification is on by default and fails cleanly on an unknown CA",
          "[http]") {
  grove::test::nghttpd_server server;
  server.add_file("hello.txt", "secret");
  run([&]() -> asio::awaitable<void> {
    // No CA configured: the system store does not know the throwaway CA.
    auto http = make_client(co_await asio::this_coro::executor);
    auto res = co_await http->async_request(to(server.base_url() + "/hello.txt"));
    CHECK(code_of(res) == errc::tls);
    CHECK(res.error().message.find("certificate") != std::string::npos);
    CHECK(http->stats().requests_failed == 1);

    // A CA file that cannot be read is a TLS configuration error too.
    auto bad_ca = make_client(co_await asio::this_coro::executor,
                              with([](auto& o) { o.ca_file = "/nonexistent/grove-ca.pem"; }));
    auto unread = co_await bad_ca->async_request(to(server.base_url() + "/hello.txt"));
    CHECK(code_of(unread) == errc::tls);
    co_await http->async_close();
    co_await bad_ca->async_close();
  });
}

TEST_CASE("client: TLS verification turned off accepts an unknown CA (testing only)", "[http]") {
  grove::test::nghttpd_server server;
  server.add_file("hello.txt", "unverified");
  run([&]() -> asio::awaitable<void> {
    auto http = make_client(co_await asio::this_coro::executor,
                            with([](auto& o) { o.verify_tls = false; }));
    auto res = co_await http->async_request(to(server.base_url() + "/hello.txt"));
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == "unverified");
    CHECK(res->http_version == 20);
    co_await http->async_close();
  });
}
