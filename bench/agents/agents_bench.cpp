// Agent-graph overhead and HRM || TRM concurrency (results: docs/benchmarks/agents.md).
//
//   BM_graph_chain/N     a chain of N trivial coroutine nodes: cost per request,
//                        and per node step (counter us_per_step).
//   BM_graph_fan_out     plan -> {a, b} -> join: one request with a fan-out.
//   BM_pipeline_instant  the whole default pipeline against a provider that
//                        answers instantly: everything except the LLM calls
//                        (prompt building, parsing, judging, consensus, graph).
//   BM_concurrent_10k    10,000 requests at once on one thread, each node
//                        waiting 1 ms on a timer: p99 of (request time - 3 ms
//                        of waits) and peak RSS.
//   BM_hrm_trm_ratio     HRM and TRM with fixed fake delays, alone and as the
//                        pipeline's fan-out: ratio = together / slower alone.
#include <sys/resource.h>

#include <benchmark/benchmark.h>
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "grove/agents/pipeline.hpp"
#include "grove/agents/reasoning.hpp"
#include "grove/agents/state_graph.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using grove::agents::node_context;

namespace {

struct bench_state {
  std::uint64_t counter = 0;
};
using graph = grove::agents::state_graph<bench_state>;
using node_result = asio::awaitable<grove::result<void>>;

node_result bump(bench_state& s, node_context&) {
  ++s.counter;
  co_return grove::result<void>{};
}

node_result wait_1ms(bench_state& s, node_context&) {
  asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
  co_await t.async_wait(asio::use_awaitable);
  ++s.counter;
  co_return grove::result<void>{};
}

// Node names built by append: g++ 12 at -O3 warns falsely (-Wrestrict) about
// `"n" + std::to_string(i)`.
std::string node_name(int i) {
  std::string name = "n";
  name.append(std::to_string(i));
  return name;
}

graph chain(int n, graph::node_function fn) {
  graph g;
  for (int i = 0; i < n; ++i) {
    g.add_node(node_name(i), fn);
    if (i > 0) {
      g.add_edge(node_name(i - 1), node_name(i));
    }
  }
  g.set_entry("n0");
  if (!g.compile()) {
    std::abort();
  }
  return g;
}

void BM_graph_chain(benchmark::State& st) {
  const int n = static_cast<int>(st.range(0));
  graph g = chain(n, bump);
  asio::io_context io(1);
  bench_state s;
  grove::agents::run_options options;
  options.max_steps = 1000;
  for (auto _ : st) {
    asio::co_spawn(io, g.run(s, options), asio::detached);
    io.run();
    io.restart();
  }
  st.counters["us_per_request"] =
      benchmark::Counter(static_cast<double>(st.iterations()) * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  st.counters["us_per_step"] =
      benchmark::Counter(static_cast<double>(st.iterations() * n) * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_graph_chain)->Arg(3)->Arg(10)->Arg(50);

void BM_graph_fan_out(benchmark::State& st) {
  graph g;
  g.add_node("plan", bump).add_node("a", bump).add_node("b", bump).add_node("join", bump);
  g.add_fan_out("plan", {"a", "b"}, "join").set_entry("plan");
  if (!g.compile()) {
    std::abort();
  }
  asio::io_context io(1);
  bench_state s;
  for (auto _ : st) {
    asio::co_spawn(io, g.run(s, {}), asio::detached);
    io.run();
    io.restart();
  }
  st.counters["us_per_request"] =
      benchmark::Counter(static_cast<double>(st.iterations()) * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_graph_fan_out);

// Answers instantly with fixed text; the judge gets a fixed JSON score.
class instant_client final : public grove::llm::chat_client {
 public:
  std::chrono::milliseconds judge_delay{0};
  std::chrono::milliseconds call_delay{0};
  asio::awaitable<grove::result<grove::llm::chat_response>> async_chat(
      grove::llm::chat_request request) override {
    grove::llm::chat_response r;
    const auto& system = request.messages.front().content;
    bool judge = system.find("You grade answers") != std::string::npos;
    auto delay = judge ? judge_delay : call_delay;
    if (delay.count() > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor, delay);
      co_await t.async_wait(asio::use_awaitable);
    }
    if (judge) {
      r.text = R"({"score": 0.9, "reason": "ok"})";
    } else if (system.find("You split") != std::string::npos) {
      r.text = R"({"subproblems": ["a", "b"]})";
    } else {
      r.text = "16 - 3 - 4 = 9; 9 * 2 = 18.\nAnswer: 18";
    }
    r.usage.total_tokens = 20;
    r.provider = "instant";
    co_return r;
  }
  std::string_view provider() const noexcept override { return "instant"; }
  std::string_view model() const noexcept override { return "instant"; }
  bool offline() const noexcept override { return true; }
  std::string to_string() const override { return "instant"; }
};

void BM_pipeline_instant(benchmark::State& st) {
  auto client = std::make_shared<instant_client>();
  auto p = grove::agents::pipeline::create(client).value();
  asio::io_context io(1);
  std::uint64_t calls = 0;
  for (auto _ : st) {
    asio::co_spawn(
        io, p->run("Janet's ducks lay 16 eggs per day; she eats 3 and bakes 4. How much at $2?"),
        [&](std::exception_ptr, grove::result<grove::agents::request_result> r) {
          calls += r ? r->usage.calls : 0;
        });
    io.run();
    io.restart();
  }
  st.counters["llm_calls_per_request"] =
      static_cast<double>(calls) / static_cast<double>(st.iterations());
  st.counters["us_per_request"] =
      benchmark::Counter(static_cast<double>(st.iterations()) * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_pipeline_instant);

void BM_concurrent_10k(benchmark::State& st) {
  constexpr int requests = 10'000;
  graph g = chain(3, wait_1ms);
  for (auto _ : st) {
    asio::io_context io(1);
    std::vector<bench_state> states(requests);
    std::vector<double> overhead_us(requests);
    for (int i = 0; i < requests; ++i) {
      asio::co_spawn(
          io,
          [&, i]() -> asio::awaitable<void> {
            auto report = co_await g.run(states[i], {});
            overhead_us[i] = static_cast<double>(report.elapsed.count()) / 1e3 - 3000.0;
          },
          asio::detached);
    }
    io.run();
    std::sort(overhead_us.begin(), overhead_us.end());
    st.counters["p50_overhead_us"] = overhead_us[requests / 2];
    st.counters["p99_overhead_us"] = overhead_us[requests * 99 / 100];
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  st.counters["peak_rss_mb"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
}
BENCHMARK(BM_concurrent_10k)->Iterations(3)->Unit(benchmark::kMillisecond);

// HRM: decompose, 2 sub-problems in parallel, compose, judge = 4 sequential
// layers of 20 ms; TRM with max_rounds 1: draft, judge, critique, refine,
// judge = 5 layers. Judge replies are 20 ms too.
void BM_hrm_trm_ratio(benchmark::State& st) {
  auto client = std::make_shared<instant_client>();
  client->call_delay = 20ms;
  client->judge_delay = 20ms;
  grove::agents::pipeline_options options;
  options.trm.max_rounds = 1;
  auto run_for = [&](auto make) {
    asio::io_context io(1);
    auto begin = std::chrono::steady_clock::now();
    asio::co_spawn(io, make(), asio::detached);
    io.run();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
        .count();
  };
  double hrm_ms = 0, trm_ms = 0, both_ms = 0;
  for (auto _ : st) {
    hrm_ms = run_for([&]() -> asio::awaitable<void> {
      grove::agents::llm_session session(*client, options.budget);
      grove::agents::reasoning_stats stats;
      co_await grove::agents::run_hrm(session, "q 1 2 3", "", options.hrm, options.judge, stats);
    });
    trm_ms = run_for([&]() -> asio::awaitable<void> {
      grove::agents::llm_session session(*client, options.budget);
      grove::agents::reasoning_stats stats;
      co_await grove::agents::run_trm(session, "q 1 2 3", "", options.trm, options.judge, stats);
    });
    both_ms = run_for([&]() -> asio::awaitable<void> {
      // Two sessions: one shared session would deduplicate identical judge
      // calls of the two agents and flatter the ratio.
      grove::agents::llm_session hrm_session(*client, options.budget);
      grove::agents::llm_session trm_session(*client, options.budget);
      grove::agents::reasoning_stats a;
      grove::agents::reasoning_stats b;
      using namespace boost::asio::experimental::awaitable_operators;
      co_await (grove::agents::run_hrm(hrm_session, "q 1 2 3", "", options.hrm, options.judge, a) &&
                grove::agents::run_trm(trm_session, "q 1 2 3", "", options.trm, options.judge, b));
    });
  }
  st.counters["hrm_ms"] = hrm_ms;
  st.counters["trm_ms"] = trm_ms;
  st.counters["together_ms"] = both_ms;
  st.counters["ratio_vs_slower"] = both_ms / std::max(hrm_ms, trm_ms);
}
BENCHMARK(BM_hrm_trm_ratio)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
