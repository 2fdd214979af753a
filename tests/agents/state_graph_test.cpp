#include "grove/agents/state_graph.hpp"

#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using grove::agents::end_node;
using grove::agents::errc;
using grove::agents::event_kind;
using grove::agents::graph_event;
using grove::agents::node_context;
using grove::agents::run_report;
using grove::agents::state_graph;

namespace {

struct test_state {
  std::string marker;
  std::vector<std::string> visited;
  int loops = 0;
  std::string left;
  std::string right;
};

using graph = state_graph<test_state>;
using node_result = asio::awaitable<grove::result<void>>;

// Suspends for `delay` on the current executor (0 = one trip through the queue).
asio::awaitable<void> pause(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

// A fake provider: answers with the prompt after a delay, like an echo server.
asio::awaitable<std::string> echo(std::string prompt, std::chrono::milliseconds delay) {
  co_await pause(delay);
  co_return "echo:" + prompt;
}

// run_options without designated initialisers (g++ 12 warns about the omitted
// members under -Wextra).
grove::agents::run_options options(std::uint64_t id, std::uint32_t max_steps = 64,
                                   grove::agents::event_sink sink = {}) {
  grove::agents::run_options o;
  o.request_id = id;
  o.max_steps = max_steps;
  o.sink = std::move(sink);
  return o;
}

node_result record(test_state& s, node_context& ctx) {
  s.visited.emplace_back(ctx.node());
  co_return grove::result<void>{};
}

// Runs `graph.run` on a strand of `io` and returns its report; the test fails
// instead of hanging when it takes longer than `limit`.
run_report run_one(const graph& g, test_state& state, grove::agents::run_options options = {},
                   std::chrono::seconds limit = 10s) {
  asio::io_context io;
  std::optional<run_report> report;
  asio::co_spawn(asio::make_strand(io), g.run(state, std::move(options)),
                 [&](std::exception_ptr e, run_report r) {
                   REQUIRE_FALSE(e);
                   report = std::move(r);
                 });
  io.run_for(limit);
  REQUIRE(report.has_value());
  return std::move(*report);
}

}  // namespace

TEST_CASE("state_graph: edges, conditional loop and events in order", "[agents]") {
  graph g;
  g.add_node("start", record)
      .add_node("loop",
                [](test_state& s, node_context& ctx) -> node_result {
                  s.visited.emplace_back(ctx.node());
                  ++s.loops;
                  co_await pause(0ms);
                  co_return grove::result<void>{};
                })
      .add_node("finish", record)
      .add_edge("start", "loop")
      .add_conditional_edges(
          "loop", {"loop", "finish"},
          [](const test_state& s) -> std::string_view { return s.loops < 3 ? "loop" : "finish"; })
      .set_entry("start");
  REQUIRE(g.compile());

  std::vector<graph_event> events;
  test_state state;
  auto report =
      run_one(g, state, options(9, 64, [&](const graph_event& e) { events.push_back(e); }));
  REQUIRE(report.outcome);
  CHECK(report.request_id == 9);
  CHECK(report.steps == 5);
  CHECK(state.visited == std::vector<std::string>{"start", "loop", "loop", "loop", "finish"});
  REQUIRE(report.trace.size() == 5);

  REQUIRE(events.size() == 2 + 2 * 5);
  CHECK(events.front().kind == event_kind::request_started);
  CHECK(events.back().kind == event_kind::request_finished);
  CHECK(events.back().ok);
  for (std::size_t i = 1; i + 1 < events.size(); i += 2) {
    CHECK(events[i].kind == event_kind::node_started);
    CHECK(events[i + 1].kind == event_kind::node_finished);
    CHECK(events[i].node == events[i + 1].node);
    CHECK(events[i + 1].request_id == 9);
    CHECK(events[i + 1].at >= events[i].at);
  }
}

TEST_CASE("state_graph: compile reports every problem at once", "[agents]") {
  graph g;
  g.add_node("a", record)
      .add_node("a", record)
      .add_node("b", record)
      .add_edge("a", "missing")
      .add_edge("b", "a")
      .add_edge("b", "a")
      .add_fan_out("ghost", {"b"}, "a");
  auto compiled = g.compile();
  REQUIRE_FALSE(compiled);
  CHECK(compiled.error().code == errc::graph_invalid);
  const std::string& m = compiled.error().message;
  CHECK(m.find("duplicate node 'a'") != std::string::npos);
  CHECK(m.find("unknown node 'missing'") != std::string::npos);
  CHECK(m.find("more than one exit") != std::string::npos);
  CHECK(m.find("unknown node 'ghost'") != std::string::npos);
  CHECK(m.find("no entry node") != std::string::npos);

  // Running an invalid graph is an error, not a crash.
  test_state state;
  auto report = run_one(g, state);
  REQUIRE_FALSE(report.outcome);
  CHECK(report.outcome.error().code == errc::graph_invalid);
  CHECK(report.steps == 0);
}

TEST_CASE("state_graph: the step limit ends a cycle", "[agents]") {
  graph g;
  g.add_node("spin", record)
      .add_conditional_edges("spin", {"spin"},
                             [](const test_state&) -> std::string_view { return "spin"; })
      .set_entry("spin");
  REQUIRE(g.compile());
  test_state state;
  auto report = run_one(g, state, options(0, 7));
  REQUIRE_FALSE(report.outcome);
  CHECK(report.outcome.error().code == errc::step_limit);
  CHECK(report.steps == 7);
  CHECK(state.visited.size() == 7);

  SECTION("a fan-out that would exceed the limit does not start") {
    graph f;
    f.add_node("a", record).add_node("b", record).add_node("c", record).add_node("j", record);
    f.add_fan_out("a", {"b", "c"}, "j").set_entry("a");
    REQUIRE(f.compile());
    test_state s2;
    auto r2 = run_one(f, s2, options(0, 2));
    REQUIRE_FALSE(r2.outcome);
    CHECK(r2.outcome.error().code == errc::step_limit);
    CHECK(s2.visited == std::vector<std::string>{"a"});
  }
}

TEST_CASE("state_graph: a router naming an undeclared node fails the request", "[agents]") {
  graph g;
  g.add_node("a", record)
      .add_node("b", record)
      .add_conditional_edges("a", {"b"}, [](const test_state&) -> std::string_view { return "z"; })
      .set_entry("a");
  REQUIRE(g.compile());
  test_state state;
  auto report = run_one(g, state);
  REQUIRE_FALSE(report.outcome);
  CHECK(report.outcome.error().code == errc::unknown_node);

  SECTION("end_node ends the request successfully") {
    graph e;
    e.add_node("a", record)
        .add_conditional_edges("a", {"a"},
                               [](const test_state&) -> std::string_view { return end_node; });
    e.set_entry("a");
    REQUIRE(e.compile());
    test_state s2;
    CHECK(run_one(e, s2).outcome);
  }
}

TEST_CASE("state_graph: fan-out runs branches together, and a deadline cancels a slow one",
          "[agents]") {
  // Evidence of concurrency without clocks: each branch waits until the other
  // has started (a counter both see), which only completes if they overlap.
  // The slow branch would wait 60 s; its 30 ms deadline cancels it, the join
  // still runs, and the whole test finishes far inside its 10 s limit.
  std::atomic<int> started{0};
  graph g;
  auto overlapping = [&](test_state& s, node_context& ctx) -> node_result {
    ++started;
    while (started.load() < 2) {
      co_await pause(1ms);
    }
    if (ctx.node() == "slow") {
      co_await pause(60s);
    }
    s.left = "done";
    co_return grove::result<void>{};
  };
  g.add_node("plan", record)
      .add_node("fast", overlapping)
      .add_node("slow", overlapping, {.deadline = 30ms})
      .add_node("join", record)
      .add_fan_out("plan", {"fast", "slow"}, "join")
      .set_entry("plan");
  REQUIRE(g.compile());

  test_state state;
  auto begin = std::chrono::steady_clock::now();
  auto report = run_one(g, state);
  CHECK(std::chrono::steady_clock::now() - begin < 10s);
  REQUIRE(report.outcome);
  CHECK(state.visited == std::vector<std::string>{"plan", "join"});
  CHECK(state.left == "done");
  REQUIRE(report.trace.size() == 4);
  std::map<std::string, grove::agents::step_record> by_node;
  for (const auto& s : report.trace) {
    by_node[s.node] = s;
  }
  CHECK(by_node["fast"].ok);
  CHECK(by_node["fast"].fan_out == 1);
  REQUIRE_FALSE(by_node["slow"].ok);
  CHECK(by_node["slow"].error.code == errc::deadline_exceeded);
}

TEST_CASE("state_graph: node errors and exceptions", "[agents]") {
  graph g;
  g.add_node("throws",
             [](test_state&, node_context&) -> node_result {
               throw std::runtime_error("boom");
               co_return grove::result<void>{};
             })
      .add_node("fails",
                [](test_state&, node_context&) -> node_result {
                  co_return grove::fail(errc::llm_failed, "provider down");
                })
      .add_node("join", record)
      .add_node("after", record)
      .add_fan_out("join", {"throws", "fails"}, "after")
      .set_entry("join");
  REQUIRE(g.compile());
  test_state state;
  auto report = run_one(g, state);
  // Branch failures are recorded; the join decides.
  REQUIRE(report.outcome);
  int failed = 0;
  for (const auto& s : report.trace) {
    if (!s.ok) {
      ++failed;
      if (s.node == "throws") {
        CHECK(s.error.code == errc::node_failed);
        CHECK(s.error.message == "boom");
      } else {
        CHECK(s.error.code == errc::llm_failed);
      }
    }
  }
  CHECK(failed == 2);

  SECTION("a sequential failure ends the request with its error") {
    graph s;
    s.add_node("fails",
               [](test_state&, node_context&) -> node_result {
                 co_return grove::fail(errc::llm_failed, "provider down");
               })
        .add_node("never", record)
        .add_edge("fails", "never")
        .set_entry("fails");
    REQUIRE(s.compile());
    test_state st;
    auto r = run_one(s, st);
    REQUIRE_FALSE(r.outcome);
    CHECK(r.outcome.error().code == errc::llm_failed);
    CHECK(st.visited.empty());
  }
}

TEST_CASE("state_graph: cancelling a request cancels every running node", "[agents]") {
  // Both branches block on 60 s waits. Once both have started, the request's
  // cancellation signal is emitted; the property is that both branches end as
  // cancelled, the join never runs, and run() completes (within the 10 s limit).
  std::atomic<int> started{0};
  auto blocking = [&](test_state&, node_context&) -> node_result {
    ++started;
    co_await pause(60s);
    co_return grove::result<void>{};
  };
  graph g;
  g.add_node("plan", record)
      .add_node("hrm", blocking)
      .add_node("trm", blocking)
      .add_node("join", record)
      .add_fan_out("plan", {"hrm", "trm"}, "join")
      .set_entry("plan");
  REQUIRE(g.compile());

  asio::io_context io;
  auto strand = asio::make_strand(io);
  asio::cancellation_signal cancel;
  test_state state;
  std::optional<run_report> report;
  asio::co_spawn(
      strand, g.run(state, options(3)),
      asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, run_report r) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            FAIL(x.what());
          }
        }
        report = std::move(r);
      }));
  asio::co_spawn(
      strand,
      [&]() -> asio::awaitable<void> {
        while (started.load() < 2) {
          co_await pause(1ms);
        }
        cancel.emit(asio::cancellation_type::terminal);
      },
      asio::detached);
  io.run_for(10s);

  REQUIRE(report.has_value());
  REQUIRE_FALSE(report->outcome);
  CHECK(report->outcome.error().code == errc::cancelled);
  CHECK(state.visited == std::vector<std::string>{"plan"});
  int cancelled = 0;
  for (const auto& s : report->trace) {
    if (s.node == "hrm" || s.node == "trm") {
      CHECK_FALSE(s.ok);
      cancelled += s.error.code == errc::cancelled ? 1 : 0;
    }
  }
  CHECK(cancelled == 2);
}

TEST_CASE("state_graph: 100 concurrent requests on one io_context stay isolated", "[agents]") {
  // 100 requests run at once on one io_context driven by two threads, each on
  // its own strand. Every node calls a fake provider that echoes the request's
  // marker after a delay that differs per request, so the requests interleave.
  // The property: every state holds only its own marker, in both branches.
  graph g;
  auto call = [](test_state& s, node_context& ctx) -> node_result {
    auto reply = co_await echo(s.marker + "/" + std::string(ctx.node()),
                               std::chrono::milliseconds(ctx.request_id() % 7));
    (ctx.node() == "left" ? s.left : s.right) = reply;
    co_return grove::result<void>{};
  };
  g.add_node("plan", record)
      .add_node("left", call)
      .add_node("right", call)
      .add_node("join", record)
      .add_fan_out("plan", {"left", "right"}, "join")
      .set_entry("plan");
  REQUIRE(g.compile());

  constexpr int requests = 100;
  asio::io_context io;
  std::vector<test_state> states(requests);
  std::vector<std::optional<run_report>> reports(requests);
  std::atomic<int> max_seen_running{0};
  std::atomic<int> running{0};
  for (int i = 0; i < requests; ++i) {
    states[i].marker = "req-" + std::to_string(i);
    asio::co_spawn(
        asio::make_strand(io),
        [&, i]() -> asio::awaitable<void> {
          int now = ++running;
          int seen = max_seen_running.load();
          while (now > seen && !max_seen_running.compare_exchange_weak(seen, now)) {
          }
          auto report = co_await g.run(states[i], options(static_cast<std::uint64_t>(i)));
          --running;
          reports[i] = std::move(report);
        },
        asio::detached);
  }
  std::thread helper([&] { io.run_for(20s); });
  io.run_for(20s);
  helper.join();

  for (int i = 0; i < requests; ++i) {
    INFO("request " << i);
    REQUIRE(reports[i].has_value());
    CHECK(reports[i]->outcome);
    CHECK(reports[i]->request_id == static_cast<std::uint64_t>(i));
    CHECK(states[i].left == "echo:req-" + std::to_string(i) + "/left");
    CHECK(states[i].right == "echo:req-" + std::to_string(i) + "/right");
    CHECK(states[i].visited == std::vector<std::string>{"plan", "join"});
  }
  CHECK(max_seen_running.load() > 1);
}

TEST_CASE("state_graph: trace JSON file and DOT export", "[agents]") {
  graph g;
  g.add_node("plan", record)
      .add_node("hrm", record, {.deadline = 5000ms})
      .add_node("trm", record)
      .add_node("merge",
                [](test_state& s, node_context& ctx) -> node_result {
                  s.visited.emplace_back(ctx.node());
                  ctx.strategy_iteration("direct", 0.5, 1);
                  ctx.tokens(42);
                  ctx.note("weird \xff text");
                  co_return grove::result<void>{};
                })
      .add_fan_out("plan", {"hrm", "trm"}, "merge")
      .set_entry("plan");
  REQUIRE(g.compile());

  grove::agents::request_trace trace;
  std::vector<std::string> lines;
  test_state state;
  auto report = run_one(g, state, options(5, 64, trace.sink([&](const graph_event& e) {
                          lines.push_back(grove::agents::to_json_line(e));
                        })));
  REQUIRE(report.outcome);
  REQUIRE(lines.size() == trace.events().size());
  for (const auto& line : lines) {
    CHECK(line.find('\n') == std::string::npos);
    CHECK_NOTHROW(nlohmann::json::parse(line));
  }

  auto path = std::filesystem::temp_directory_path() / "grove_agents_trace_test.json";
  REQUIRE(trace.write_json_file(path.string(), report));
  std::ifstream in(path);
  auto doc = nlohmann::json::parse(in);
  std::filesystem::remove(path);
  CHECK(doc["request_id"] == 5);
  CHECK(doc["outcome"]["ok"] == true);
  CHECK(doc["steps"] == 4);
  CHECK(doc["trace"].size() == 4);
  bool saw_strategy = false;
  for (const auto& e : doc["events"]) {
    if (e["event"] == "strategy_iteration") {
      saw_strategy = true;
      CHECK(e["strategy"] == "direct");
      CHECK(e["score"] == 0.5);
    }
  }
  CHECK(saw_strategy);
  CHECK_FALSE(trace.write_json_file("/nonexistent-dir/x/trace.json", report));

  std::ostringstream dot;
  g.write_dot(dot, "pipeline");
  const std::string text = dot.str();
  CHECK(text.rfind("digraph \"pipeline\" {", 0) == 0);
  CHECK(text.find("\"plan\" -> \"hrm\" [style=bold") != std::string::npos);
  CHECK(text.find("\"trm\" -> \"merge\" [style=dotted") != std::string::npos);
  CHECK(text.find("deadline 5000 ms") != std::string::npos);
  CHECK(text.find("\"merge\" -> \"__end__\"") != std::string::npos);
}
