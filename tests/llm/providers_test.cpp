// Tests of the remote providers (make_chat_client with openai / anthropic, and
// the OpenAI-compatible embedder) against the in-process fake HTTP server of
// tests/support: what goes on the wire, the recorded streams, and every fault
// of issue 4 (429 with retry hints, 5xx, 529, stalls, resets, truncated JSON,
// wrong content type, a 10 MiB body, an error object in a 200).
//
// Each fault test shows the classification (errc), the number of attempts (the
// server's request count), and that nothing hangs: every call runs under a
// deadline (run() below fails the test instead of waiting forever), stalls are
// cut by the client's idle timeout, and partial streams end as errors.

// g++ 12 at -O2 reports a false -Wmismatched-new-delete for Asio's coroutine
// frames (they pair a custom operator new with the matching operator delete).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "grove/llm/config.hpp"
#include "grove/llm/embedder.hpp"
#include "grove/llm/wire.hpp"
#include "grove/obs/metrics.hpp"
#include "grove/runtime/multi_limiter.hpp"
#include "support/fake_http_server.hpp"

namespace llm = grove::llm;
namespace test = grove::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view key = "sk-test-never-print-0123456789ABCDEF";

const std::string openai_ok = R"({"id":"chatcmpl-t","object":"chat.completion","model":"gpt-test",
  "choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],
  "usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}})";

const std::string anthropic_ok = R"({"id":"msg_t","type":"message","role":"assistant",
  "model":"claude-test","content":[{"type":"text","text":"pong"}],"stop_reason":"end_turn",
  "usage":{"input_tokens":5,"output_tokens":1}})";

std::string fixture(std::string_view name) {
  std::ifstream in(std::string(GROVE_TEST_DATA_DIR) + "/llm-streams/" + std::string(name),
                   std::ios::binary);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

llm::chat_request ping() {
  llm::chat_request request;
  request.messages = {llm::message::user("ping")};
  return request;
}

// One io_context, one fake server, one metrics registry and a logger that
// writes to a string, per test.
struct harness {
  boost::asio::io_context io;
  test::fake_http_server server;
  grove::obs::metrics_registry metrics;
  std::shared_ptr<std::ostringstream> log_text = std::make_shared<std::ostringstream>();
  std::shared_ptr<spdlog::logger> logger;

  harness() {
    logger = std::make_shared<spdlog::logger>(
        "llm-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(*log_text));
    logger->set_level(spdlog::level::trace);
  }

  // Fast retries and generous limits, so tests count attempts, not seconds. The idle
  // timeout is long enough that a slow machine (sanitizers, other jobs) never cuts an
  // answer; the stall tests shorten it to keep their waits short.
  llm::llm_config config(llm::provider_kind provider) {
    llm::llm_config c;
    c.provider = provider;
    c.base_url = server.base_url() + (provider == llm::provider_kind::openai ? "/v1" : "");
    c.model = provider == llm::provider_kind::openai ? "gpt-test" : "claude-test";
    c.api_key = llm::secret(std::string(key));
    c.requests_per_minute = 60'000;
    c.request_burst = 1'000;
    c.idle_timeout = 5s;
    c.request_timeout = 10s;
    c.retry.max_attempts = 3;
    c.retry.base_delay = 1ms;
    c.retry.max_delay = 5ms;
    c.logger = logger;
    c.metrics = &metrics;
    return c;
  }

  std::shared_ptr<llm::chat_client> client(const llm::llm_config& c) {
    auto made = llm::make_chat_client(c, io.get_executor());
    REQUIRE(made);
    return *made;
  }

  // Runs `op` on the io_context until it completes or the deadline passes
  // (then the test fails instead of hanging).
  template <class T>
  T run(boost::asio::awaitable<T> op, std::chrono::seconds deadline = 20s) {
    auto future = boost::asio::co_spawn(io, std::move(op), boost::asio::use_future);
    const auto until = std::chrono::steady_clock::now() + deadline;
    io.restart();
    while (future.wait_for(0s) != std::future_status::ready) {
      if (std::chrono::steady_clock::now() > until) {
        FAIL("the call did not complete within its deadline");
      }
      io.run_one_for(20ms);
      if (io.stopped()) {
        io.restart();
      }
    }
    return future.get();
  }

  grove::result<llm::chat_response> chat(const std::shared_ptr<llm::chat_client>& c,
                                         llm::chat_request request) {
    auto result = run(c->async_chat(std::move(request)));
    run(c->async_close());
    return result;
  }
};

bool is(const grove::result<llm::chat_response>& r, llm::errc code) {
  if (r) {
    return false;
  }
  INFO(r.error().describe());
  return r.error().code == code;
}

}  // namespace

TEST_CASE("providers: OpenAI request and answer on the wire", "[llm]") {
  harness h;
  h.server.enqueue(test::responses::json(200, openai_ok));
  auto config = h.config(llm::provider_kind::openai);
  config.organization = "org-1";
  config.project = "proj-1";
  auto client = h.client(config);
  CHECK(client->provider() == "openai");
  CHECK_FALSE(client->offline());

  auto request = ping();
  request.max_tokens = 16;
  auto r = h.chat(client, request);
  REQUIRE(r);
  CHECK(r->text == "pong");
  CHECK(r->provider == "openai");
  CHECK(r->model == "gpt-test");
  CHECK_FALSE(r->offline);
  CHECK(r->attempts == 1);
  CHECK(r->usage.total_tokens == 6);

  const auto requests = h.server.requests();
  REQUIRE(requests.size() == 1);
  const auto& sent = requests[0];
  CHECK(sent.method == "POST");
  CHECK(sent.target == "/v1/chat/completions");
  CHECK(sent.headers.get("authorization") == "Bearer " + std::string(key));
  CHECK(sent.headers.get("openai-organization") == "org-1");
  CHECK(sent.headers.get("openai-project") == "proj-1");
  CHECK(sent.headers.get("content-type") == "application/json");
  CHECK(json::parse(sent.body) ==
        llm::wire::encode_openai_request(request, "gpt-test", /*stream=*/false));
  CHECK(h.metrics.expose().find(
            R"(grove_llm_requests_total{provider="openai",model="gpt-test",outcome="ok"} 1)") !=
        std::string::npos);
}

TEST_CASE("providers: a base URL without a path gets /v1", "[llm]") {
  harness h;
  h.server.enqueue(test::responses::json(200, openai_ok));
  auto config = h.config(llm::provider_kind::openai);
  config.base_url = h.server.base_url();
  config.api_key = llm::secret();
  REQUIRE(h.chat(h.client(config), ping()));
  CHECK(h.server.requests().at(0).target == "/v1/chat/completions");
  CHECK_FALSE(h.server.requests().at(0).headers.contains("authorization"));
}

TEST_CASE("providers: Anthropic request and answer on the wire", "[llm]") {
  harness h;
  h.server.enqueue(test::responses::json(200, anthropic_ok));
  auto client = h.client(h.config(llm::provider_kind::anthropic));
  auto request = ping();
  request.messages.insert(request.messages.begin(), llm::message::system("be terse"));
  auto r = h.chat(client, request);
  REQUIRE(r);
  CHECK(r->text == "pong");
  CHECK(r->provider == "anthropic");
  CHECK(r->usage.prompt_tokens == 5);

  const auto sent = h.server.requests().at(0);
  CHECK(sent.target == "/v1/messages");
  CHECK(sent.headers.get("x-api-key") == key);
  CHECK(sent.headers.get("anthropic-version") == "2023-06-01");
  CHECK_FALSE(sent.headers.contains("authorization"));
  const json body = json::parse(sent.body);
  CHECK(body["system"] == "be terse");
  CHECK(body["max_tokens"] == 1024);
  CHECK(body == *llm::wire::encode_anthropic_request(request, "claude-test", 1024, false));
}

TEST_CASE("providers: recorded streams arrive in random pieces and rebuild the answer", "[llm]") {
  harness h;
  std::string streamed;
  auto request = ping();
  request.on_text = [&streamed](std::string_view delta) { streamed += delta; };

  SECTION("OpenAI") {
    h.server.enqueue(
        test::responses::sse_random_splits(fixture("openai/chat_text_stop.sse"), 42, 9));
    auto r = h.chat(h.client(h.config(llm::provider_kind::openai)), request);
    REQUIRE(r);
    CHECK(r->text.starts_with("I'm unable to provide real-time weather updates."));
    CHECK(streamed == r->text);
    CHECK(r->usage.total_tokens == 44);
    const json body = json::parse(h.server.requests().at(0).body);
    CHECK(body["stream"] == true);
    CHECK(body["stream_options"]["include_usage"] == true);
  }
  SECTION("Anthropic, with a tool call") {
    h.server.enqueue(
        test::responses::sse_random_splits(fixture("anthropic/tool_use_response.txt"), 7, 5));
    auto r = h.chat(h.client(h.config(llm::provider_kind::anthropic)), request);
    REQUIRE(r);
    CHECK(streamed == "I'll check the current weather in Paris for you.");
    REQUIRE(r->tool_calls.size() == 1);
    CHECK(r->tool_calls[0].arguments == json({{"location", "Paris"}}));
  }
}

TEST_CASE("providers: 429 with retry hints, then success", "[llm]") {
  harness h;
  auto client = h.client(h.config(llm::provider_kind::openai));

  SECTION("retry-after-ms") {
    h.server.enqueue(test::responses::rate_limited(std::nullopt, 50));
    h.server.enqueue(test::responses::json(200, openai_ok));
    auto r = h.chat(client, ping());
    REQUIRE(r);
    CHECK(r->attempts == 2);
    CHECK(h.server.request_count() == 2);
  }
  SECTION("retry-after in seconds is honoured (waits at least that long)") {
    h.server.enqueue(test::responses::rate_limited(1));
    h.server.enqueue(test::responses::json(200, openai_ok));
    const auto start = std::chrono::steady_clock::now();
    auto r = h.chat(client, ping());
    REQUIRE(r);
    CHECK(std::chrono::steady_clock::now() - start >= 950ms);
    CHECK(r->attempts == 2);
  }
  SECTION("insufficient_quota is not retried") {
    h.server.enqueue(test::responses::json(
        429, R"({"error":{"type":"insufficient_quota","code":"insufficient_quota",
                 "message":"You exceeded your current quota"}})"));
    h.server.set_default(test::responses::json(200, openai_ok));
    CHECK(is(h.chat(client, ping()), llm::errc::quota_exhausted));
    CHECK(h.server.request_count() == 1);
  }
  SECTION("429 every time ends as rate_limited after 3 attempts") {
    h.server.set_default(test::responses::rate_limited(std::nullopt, 1));
    CHECK(is(h.chat(client, ping()), llm::errc::rate_limited));
    CHECK(h.server.request_count() == 3);
  }
}

TEST_CASE("providers: 5xx and 529 are retried, then classified", "[llm]") {
  harness h;
  for (int status : {500, 502, 503}) {
    DYNAMIC_SECTION("OpenAI " << status) {
      h.server.set_default(test::responses::server_error(status));
      CHECK(is(h.chat(h.client(h.config(llm::provider_kind::openai)), ping()),
               llm::errc::server_error));
      CHECK(h.server.request_count() == 3);
    }
  }
  SECTION("Anthropic 529 overloaded, then success") {
    h.server.enqueue(test::responses::server_error(
        529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
    h.server.enqueue(test::responses::json(200, anthropic_ok));
    auto r = h.chat(h.client(h.config(llm::provider_kind::anthropic)), ping());
    REQUIRE(r);
    CHECK(r->attempts == 2);
  }
  SECTION("Anthropic 529 every time") {
    h.server.set_default(test::responses::server_error(
        529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
    CHECK(is(h.chat(h.client(h.config(llm::provider_kind::anthropic)), ping()),
             llm::errc::overloaded));
    CHECK(h.server.request_count() == 3);
  }
}

TEST_CASE("providers: stalls end in timeouts, never hangs", "[llm]") {
  harness h;
  SECTION("a stall before the headers is retried, then reported") {
    test::fake_response stalled = test::responses::json(200, openai_ok);
    stalled.stall_before_headers = 3s;
    h.server.set_default(stalled);
    auto config = h.config(llm::provider_kind::openai);
    config.idle_timeout = 300ms;
    config.retry.max_attempts = 2;
    CHECK(is(h.chat(h.client(config), ping()), llm::errc::timeout));
    CHECK(h.server.request_count() == 2);
  }
  SECTION("a stall mid-stream after text was delivered: one attempt, an error") {
    const std::string stream = fixture("openai/chat_text_stop.sse");
    test::fake_response stalled = test::responses::sse(stream);
    stalled.stall_at_byte = stream.size() / 2;
    stalled.stall_for = 3s;
    h.server.set_default(stalled);
    std::string streamed;
    auto request = ping();
    request.on_text = [&streamed](std::string_view delta) { streamed += delta; };
    auto config = h.config(llm::provider_kind::openai);
    config.idle_timeout = 300ms;
    CHECK(is(h.chat(h.client(config), request), llm::errc::timeout));
    CHECK_FALSE(streamed.empty());
    CHECK(h.server.request_count() == 1);
  }
}

TEST_CASE("providers: resets and truncated bodies", "[llm]") {
  harness h;
  SECTION("a reset mid-body is a network error and is retried") {
    test::fake_response reset = test::responses::json(200, openai_ok);
    reset.reset_at_byte = 20;
    h.server.enqueue(reset);
    h.server.enqueue(test::responses::json(200, openai_ok));
    auto r = h.chat(h.client(h.config(llm::provider_kind::openai)), ping());
    REQUIRE(r);
    CHECK(r->attempts == 2);
  }
  SECTION("a reset mid-stream after text: the partial stream is an error, not retried") {
    const std::string stream = fixture("anthropic/basic_response.txt");
    test::fake_response reset = test::responses::sse(stream);
    reset.reset_at_byte = stream.find("event: content_block_stop");
    h.server.set_default(reset);
    std::string streamed;
    auto request = ping();
    request.on_text = [&streamed](std::string_view delta) { streamed += delta; };
    CHECK(
        is(h.chat(h.client(h.config(llm::provider_kind::anthropic)), request), llm::errc::network));
    // A reset may discard bytes the client had not read yet, so how much text
    // got through varies; what holds: only a prefix, and no retry once any
    // text reached the callback.
    CHECK(std::string_view("Hello there!").starts_with(streamed));
    if (!streamed.empty()) {
      CHECK(h.server.request_count() == 1);
    }
  }
  SECTION("a clean close before the promised length is a network error") {
    test::fake_response cut = test::responses::json(200, openai_ok);
    cut.close_at_byte = 30;
    h.server.set_default(cut);
    CHECK(is(h.chat(h.client(h.config(llm::provider_kind::openai)), ping()), llm::errc::network));
    CHECK(h.server.request_count() == 3);
  }
  SECTION("a stream that ends cleanly without its end marker is an error") {
    std::string stream = fixture("openai/chat_text_stop.sse");
    stream.resize(stream.find("\n\n", stream.size() / 2) + 2);
    h.server.set_default(test::responses::sse(stream));
    std::string streamed;
    auto request = ping();
    request.on_text = [&streamed](std::string_view delta) { streamed += delta; };
    CHECK(is(h.chat(h.client(h.config(llm::provider_kind::openai)), request),
             llm::errc::invalid_response));
    CHECK(h.server.request_count() == 1);
  }
}

TEST_CASE("providers: broken answers are invalid responses, not retried", "[llm]") {
  harness h;
  auto client = h.client(h.config(llm::provider_kind::openai));
  SECTION("truncated JSON") {
    h.server.set_default(test::responses::json(200, openai_ok.substr(0, 60)));
  }
  SECTION("wrong content type") {
    h.server.set_default(test::responses::text(200, "<html>hello</html>", "text/html"));
  }
  SECTION("an error object in a 200") {
    h.server.set_default(
        test::responses::json(200, R"({"error":{"message":"model crashed","code":500}})"));
  }
  SECTION("a 10 MiB body") {
    h.server.set_default(test::responses::large_body(std::size_t{10} << 20, "application/json"));
  }
  CHECK(is(h.chat(client, ping()), llm::errc::invalid_response));
  CHECK(h.server.request_count() == 1);
}

TEST_CASE("providers: Anthropic error events mid-stream", "[llm]") {
  harness h;
  const std::string overloaded =
      "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
      "\"message\":\"Overloaded\"}}\n\n";
  std::string streamed;
  auto request = ping();
  request.on_text = [&streamed](std::string_view delta) { streamed += delta; };

  SECTION("before any text: retried") {
    const std::string basic = fixture("anthropic/basic_response.txt");
    h.server.enqueue(test::responses::sse(
        basic.substr(0, basic.find("event: content_block_start")) + overloaded));
    h.server.enqueue(test::responses::sse(basic));
    auto r = h.chat(h.client(h.config(llm::provider_kind::anthropic)), request);
    REQUIRE(r);
    CHECK(r->attempts == 2);
    CHECK(streamed == "Hello there!");
  }
  SECTION("after text: the error, once") {
    const std::string basic = fixture("anthropic/basic_response.txt");
    h.server.set_default(test::responses::sse(
        basic.substr(0, basic.find("event: content_block_stop")) + overloaded));
    CHECK(is(h.chat(h.client(h.config(llm::provider_kind::anthropic)), request),
             llm::errc::overloaded));
    CHECK(streamed == "Hello there!");
    CHECK(h.server.request_count() == 1);
  }
}

TEST_CASE("providers: the circuit breaker opens and then refuses without sending", "[llm]") {
  // Property: after `minimum_calls` failed calls the breaker refuses further
  // calls locally. Evidence: the server's request count stops growing and the
  // error is circuit_open.
  harness h;
  h.server.set_default(test::responses::server_error(503));
  auto config = h.config(llm::provider_kind::openai);
  config.retry.max_attempts = 1;
  config.breaker.window_size = 4;
  config.breaker.minimum_calls = 4;
  config.breaker.open_interval = 60s;
  config.breaker.max_open_interval = 60s;
  auto client = h.client(config);
  for (int i = 0; i < 4; ++i) {
    CHECK(is(h.run(client->async_chat(ping())), llm::errc::server_error));
  }
  CHECK(h.server.request_count() == 4);
  CHECK(is(h.run(client->async_chat(ping())), llm::errc::circuit_open));
  CHECK(h.server.request_count() == 4);

  // 4xx answers would not have opened it: a fresh client with 400s stays closed.
  harness h2;
  h2.server.set_default(test::responses::json(400, R"({"error":{"message":"bad"}})"));
  auto config2 = h2.config(llm::provider_kind::openai);
  config2.retry.max_attempts = 1;
  config2.breaker = config.breaker;
  auto client2 = h2.client(config2);
  for (int i = 0; i < 6; ++i) {
    CHECK(is(h2.run(client2->async_chat(ping())), llm::errc::bad_request));
  }
  CHECK(h2.server.request_count() == 6);
  h.run(client->async_close());
  h2.run(client2->async_close());
}

TEST_CASE("providers: deterministic requests are cached, and calls pass the shared limiter",
          "[llm]") {
  harness h;
  h.server.set_default(test::responses::json(200, openai_ok));
  auto config = h.config(llm::provider_kind::openai);
  grove::runtime::multi_limiter_options limits;
  limits.default_limit = {.requests_per_minute = 6000, .request_burst = 100};
  config.limiter = std::make_shared<grove::runtime::multi_limiter>(std::move(limits));
  auto client = h.client(config);
  auto request = ping();
  request.temperature = 0.0;
  auto first = h.run(client->async_chat(request));
  auto second = h.run(client->async_chat(request));
  REQUIRE(first);
  REQUIRE(second);
  CHECK_FALSE(first->from_cache);
  CHECK(second->from_cache);
  CHECK(second->attempts == 0);
  CHECK(second->text == first->text);
  CHECK(h.server.request_count() == 1);
  CHECK(config.limiter->size() == 1);

  request.temperature = 0.7;
  REQUIRE(h.run(client->async_chat(request)));
  CHECK(h.server.request_count() == 2);
  h.run(client->async_close());
}

TEST_CASE("providers: the API key never reaches errors or logs", "[llm]") {
  harness h;
  h.server.set_default(test::responses::json(
      401, R"({"error":{"message":"Incorrect API key provided: )" + std::string(key) +
               R"(","type":"invalid_request_error","code":"invalid_api_key"}})"));
  auto r = h.chat(h.client(h.config(llm::provider_kind::openai)), ping());
  REQUIRE(is(r, llm::errc::authentication));
  CHECK(h.server.request_count() == 1);
  CHECK(r.error().describe().find(key) == std::string::npos);
  CHECK(r.error().message.find("Incorrect API key provided") != std::string::npos);
  const std::string log = h.log_text->str();
  CHECK(log.find("authentication") != std::string::npos);
  CHECK(log.find(key) == std::string::npos);
}

TEST_CASE("providers: OpenAI-compatible embeddings", "[llm]") {
  harness h;
  llm::embedder_config config;
  config.service = h.config(llm::provider_kind::openai);
  config.dimension = 3;
  config.batch_size = 2;
  auto made = llm::make_embedder(config, h.io.get_executor());
  REQUIRE(made);
  auto embedder = *made;
  CHECK_FALSE(embedder->offline());

  SECTION("batches, reordered indices") {
    h.server.enqueue(test::responses::json(200, R"({"object":"list","data":[
      {"object":"embedding","index":1,"embedding":[0,1,0]},
      {"object":"embedding","index":0,"embedding":[1,0,0]}],
      "model":"m","usage":{"prompt_tokens":4,"total_tokens":4}})"));
    h.server.enqueue(test::responses::json(200, R"({"data":[{"index":0,"embedding":[0,0,1]}]})"));
    auto vectors = h.run(embedder->async_embed({"a", "b", "c"}));
    REQUIRE(vectors);
    REQUIRE(vectors->size() == 3);
    CHECK((*vectors)[0] == llm::embedding{1, 0, 0});
    CHECK((*vectors)[1] == llm::embedding{0, 1, 0});
    CHECK((*vectors)[2] == llm::embedding{0, 0, 1});
    REQUIRE(h.server.request_count() == 2);
    const json first = json::parse(h.server.requests()[0].body);
    CHECK(h.server.requests()[0].target == "/v1/embeddings");
    CHECK(first["input"] == json({"a", "b"}));
    CHECK(first["model"] == "text-embedding-3-small");
  }
  SECTION("a vector of the wrong dimension") {
    h.server.set_default(test::responses::json(200, R"({"data":[{"index":0,"embedding":[1,0]}]})"));
    auto vectors = h.run(embedder->async_embed({"a"}));
    REQUIRE_FALSE(vectors);
    CHECK(vectors.error().code == llm::errc::invalid_response);
    CHECK(vectors.error().message.find("expected 3") != std::string::npos);
  }
  SECTION("too few vectors") {
    h.server.set_default(
        test::responses::json(200, R"({"data":[{"index":0,"embedding":[1,0,0]}]})"));
    auto vectors = h.run(embedder->async_embed({"a", "b"}));
    REQUIRE_FALSE(vectors);
    CHECK(vectors.error().code == llm::errc::invalid_response);
  }
  h.run(embedder->async_close());
}

TEST_CASE("providers: cancelling a call aborts the transfer at once", "[llm]") {
  // Property: per-operation cancellation of async_chat ends a call that is
  // stuck on a stalled server without waiting for any timeout. Evidence: a
  // 100 ms timer wins an `||` race against a call whose server stalls 10 s
  // (the idle timeout is raised to 20 s so it cannot be what ends the call),
  // and the race completes long before either limit.
  using namespace boost::asio::experimental::awaitable_operators;
  harness h;
  test::fake_response stalled = test::responses::json(200, openai_ok);
  stalled.stall_before_headers = 10s;
  h.server.set_default(stalled);
  auto config = h.config(llm::provider_kind::openai);
  config.idle_timeout = 20s;
  config.request_timeout = 30s;
  auto client = h.client(config);

  const auto start = std::chrono::steady_clock::now();
  auto race = [&]() -> boost::asio::awaitable<bool> {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, 100ms);
    auto winner =
        co_await (client->async_chat(ping()) || timer.async_wait(boost::asio::use_awaitable));
    co_return winner.index() == 1;
  };
  CHECK(h.run(race()));
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(h.server.wait_for_requests(1, 1s));
  CHECK(h.server.request_count() == 1);

  // The client still works afterwards.
  h.server.set_default(test::responses::json(200, openai_ok));
  auto r = h.run(client->async_chat(ping()));
  REQUIRE(r);
  CHECK(r->text == "pong");
  h.run(client->async_close());
}
