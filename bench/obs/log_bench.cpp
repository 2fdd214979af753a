// The cost of redaction: the same log line through the same text logger with
// redaction on and off (the ratio is what docs/benchmarks/obs.md reports), and
// the redactor on its own. The sink formats every record into a stream that
// discards the bytes, so formatting is measured but no I/O.
#include <spdlog/logger.h>

#include <benchmark/benchmark.h>

#include <ostream>
#include <streambuf>
#include <string>

#include "grove/obs/log.hpp"
#include "grove/obs/redact.hpp"

namespace {

class discard_buffer final : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
  std::streamsize xsputn(const char*, std::streamsize count) override { return count; }
};

// A typical lifecycle line, without and with a credential in it.
constexpr const char* plain_line =
    "request_id=7f3a9c provider=openai model=gpt-4o status=200 latency=0.42s prompt_tokens=512 "
    "completion_tokens=128 url=https://api.example.com/v1/chat/completions";
constexpr const char* secret_line =
    "request_id=7f3a9c provider=openai model=gpt-4o status=401 latency=0.42s "
    "Authorization: Bearer sk-proj-Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789 rejected";

// A line of prose with numbers and no key=value pairs.
constexpr const char* prose_line =
    "search finished after 1200 simulations in 35 ms: best move 3 with 61% of the visits, "
    "tree of 4817 nodes, cache hit rate 0.72, stopped by the visit-share rule";

void log_line(benchmark::State& state, const char* line, bool redact,
              grove::obs::log_format format) {
  discard_buffer buffer;
  std::ostream sink(&buffer);
  auto logger = grove::obs::make_logger({.level = grove::obs::log_level::info,
                                         .format = format,
                                         .destination = grove::obs::log_destination::stream,
                                         .stream = &sink,
                                         .redact = redact});
  if (!logger) {
    state.SkipWithError(logger.error().describe().c_str());
    return;
  }
  for (auto _ : state) {
    (*logger)->info("{}", line);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_log_text_plain_line(benchmark::State& state) {
  log_line(state, plain_line, state.range(0) != 0, grove::obs::log_format::text);
}
BENCHMARK(BM_log_text_plain_line)->ArgName("redact")->Arg(0)->Arg(1);

void BM_log_text_secret_line(benchmark::State& state) {
  log_line(state, secret_line, state.range(0) != 0, grove::obs::log_format::text);
}
BENCHMARK(BM_log_text_secret_line)->ArgName("redact")->Arg(0)->Arg(1);

void BM_log_text_prose_line(benchmark::State& state) {
  log_line(state, prose_line, state.range(0) != 0, grove::obs::log_format::text);
}
BENCHMARK(BM_log_text_prose_line)->ArgName("redact")->Arg(0)->Arg(1);

void BM_log_json_plain_line(benchmark::State& state) {
  log_line(state, plain_line, state.range(0) != 0, grove::obs::log_format::json_lines);
}
BENCHMARK(BM_log_json_plain_line)->ArgName("redact")->Arg(0)->Arg(1);

// A record below the logger's level: what a disabled debug line costs.
void BM_log_filtered_line(benchmark::State& state) {
  auto logger = grove::obs::null_logger();
  for (auto _ : state) {
    logger->debug("{}", plain_line);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_log_filtered_line);

void BM_redact_only(benchmark::State& state) {
  const grove::obs::redactor redactor;
  const std::string line = state.range(0) != 0 ? secret_line : plain_line;
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(redactor.redact_to(line, out));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size()));
}
BENCHMARK(BM_redact_only)->ArgName("secret")->Arg(0)->Arg(1);

}  // namespace
