// Benchmarks of grove's HTTP layer.
//
// BM_in_flight/N: one iteration starts N GET requests at once from coroutines
// on one thread (the io_context runs on the benchmark's thread) and waits for
// all of them; items_per_second is the request throughput. The client may open
// up to 100 connections, like `curl --parallel --parallel-max 100`.
// BM_sequential: one request at a time over a kept-alive connection (latency).
// BM_sse_parse: the SSE parser on a recorded OpenAI stream, fed in 64-byte
// pieces (bytes_per_second).
//
// The server is $GROVE_BENCH_HTTP_URL when set (bench/http/run.sh starts
// grove_http_bench_server and sets it), else an in-process bench_server on its
// own thread.
#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "bench_server.hpp"
#include "grove/http/client.hpp"
#include "grove/http/sse.hpp"

// g++ 12 at -O2 reports a false -Wmismatched-new-delete for Asio's coroutine
// frames (they pair a custom operator new with the matching operator delete).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {

namespace asio = boost::asio;

// The server URL, starting an in-process server the first time if needed.
const std::string& server_url() {
  static const std::string url = [] {
    if (const char* env = std::getenv("GROVE_BENCH_HTTP_URL"); env != nullptr && *env != '\0') {
      return std::string(env);
    }
    static asio::io_context server_io(1);
    static grove::bench::bench_server server(server_io);
    static std::thread runner([] { server_io.run(); });
    runner.detach();
    return "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  }();
  return url;
}

std::shared_ptr<grove::http::client> make_client(asio::io_context& io) {
  grove::http::client_options options;
  options.max_connections_per_host = 100;
  options.max_total_connections = 100;
  options.max_idle_connections = 100;
  return grove::http::make_curl_client(io.get_executor(), std::move(options));
}

void close(asio::io_context& io, const std::shared_ptr<grove::http::client>& http) {
  bool closed = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await http->async_close();
        closed = true;
      },
      asio::detached);
  while (!closed) {
    io.run_one();
  }
}

void BM_in_flight(benchmark::State& state) {
  const auto count = static_cast<int>(state.range(0));
  const std::string& url = server_url();
  asio::io_context io(1);
  auto http = make_client(io);
  int failed = 0;
  for (auto _ : state) {
    int done = 0;
    for (int i = 0; i < count; ++i) {
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            grove::http::request req;
            req.url = url;
            auto res = co_await http->async_request(std::move(req));
            if (!res || res->status != 200) {
              ++failed;
            }
            ++done;
          },
          asio::detached);
    }
    // run_one, not run: pooled connections keep the context busy forever.
    while (done < count) {
      io.run_one();
    }
  }
  state.SetItemsProcessed(state.iterations() * count);
  state.counters["failed"] = failed;
  state.counters["connections"] = static_cast<double>(http->stats().connections_opened);
  close(io, http);
  if (failed > 0) {
    state.SkipWithError("some requests failed");
  }
}
BENCHMARK(BM_in_flight)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_sequential(benchmark::State& state) {
  const std::string& url = server_url();
  asio::io_context io(1);
  auto http = make_client(io);
  int failed = 0;
  for (auto _ : state) {
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          grove::http::request req;
          req.url = url;
          auto res = co_await http->async_request(std::move(req));
          failed += (!res || res->status != 200) ? 1 : 0;
          done = true;
        },
        asio::detached);
    while (!done) {
      io.run_one();
    }
  }
  state.SetItemsProcessed(state.iterations());
  close(io, http);
  if (failed > 0) {
    state.SkipWithError("some requests failed");
  }
}
BENCHMARK(BM_sequential)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_sse_parse(benchmark::State& state) {
  std::ifstream in(std::string(GROVE_BENCH_DATA_DIR) + "/llm-streams/openai/chat_text_stop.sse",
                   std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  const std::string stream = content.str();
  std::size_t events = 0;
  grove::http::sse_handler count = [&](grove::http::sse_event&) { ++events; };
  for (auto _ : state) {
    grove::http::sse_parser parser;
    for (std::size_t at = 0; at < stream.size(); at += 64) {
      benchmark::DoNotOptimize(parser.feed(std::string_view(stream).substr(at, 64), count));
    }
    benchmark::DoNotOptimize(parser.finish(count));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
  state.counters["events"] = static_cast<double>(events) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_sse_parse);

}  // namespace

BENCHMARK_MAIN();
