#include "grove/agents/pipeline.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "fake_chat.hpp"
#include "grove/agents/cassette.hpp"
#include "grove/agents/errc.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using grove::agents::errc;
using grove::agents::pipeline;
using grove::agents::pipeline_options;
using grove::agents::request_result;
using grove::agents::testing::fake_chat;

namespace {

const std::string gsm_question =
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast and bakes with four. "
    "She sells the rest for $2 each. How much does she make every day?";

// Runs one question on a fresh io_context; fails the test instead of hanging.
grove::result<request_result> ask(const pipeline& p, std::string question,
                                  grove::agents::request_options options = {},
                                  std::chrono::seconds limit = 20s) {
  asio::io_context io;
  std::optional<grove::result<request_result>> out;
  asio::co_spawn(io, p.run(std::move(question), std::move(options)),
                 [&](std::exception_ptr e, grove::result<request_result> r) {
                   REQUIRE_FALSE(e);
                   out = std::move(r);
                 });
  io.run_for(limit);
  REQUIRE(out.has_value());
  return std::move(*out);
}

std::shared_ptr<pipeline> make(std::shared_ptr<grove::llm::chat_client> client,
                               pipeline_options options = {}) {
  auto p = pipeline::create(std::move(client), std::move(options));
  REQUIRE(p);
  return *p;
}

}  // namespace

TEST_CASE("pipeline: a full request runs HRM and TRM and synthesizes", "[agents]") {
  auto fake = std::make_shared<fake_chat>();
  fake->answer_delay = 1ms;
  auto p = make(fake);
  std::vector<grove::agents::graph_event> events;
  auto r =
      ask(*p, gsm_question, {.request_id = 1, .sink = [&](const auto& e) { events.push_back(e); }});
  REQUIRE(r);
  CHECK(r->answer.find("Answer: 18") != std::string::npos);
  CHECK(r->consensus_reached);
  CHECK(r->confidence == Approx(0.9));
  CHECK(r->passes == 1);
  REQUIRE(r->outputs.size() == 2);
  CHECK(r->outputs[0].agent == "hrm");
  CHECK(r->outputs[0].ok);
  CHECK(r->outputs[1].agent == "trm");
  CHECK(r->outputs[1].ok);
  CHECK_FALSE(r->synthesis_fallback);
  CHECK(r->usage.calls == static_cast<std::uint64_t>(fake->calls.load()));
  CHECK(r->usage.total_tokens == 15 * r->usage.calls);
  CHECK(r->usage.per_provider.size() == 1);
  CHECK(r->stopped_by == grove::agents::budget_limit::none);
  CHECK_FALSE(r->offline);
  // HRM and TRM overlapped: more than one call was in flight at some point.
  CHECK(fake->peak_in_flight.load() >= 2);

  bool saw_tokens = false;
  for (const auto& e : events) {
    saw_tokens = saw_tokens || e.kind == grove::agents::event_kind::tokens;
  }
  CHECK(saw_tokens);

  auto json = nlohmann::json::parse(grove::agents::to_json(*r));
  CHECK(json["agents"].size() == 2);
  CHECK(json["usage"]["calls"] == r->usage.calls);

  std::ostringstream dot;
  p->write_dot(dot);
  CHECK(dot.str().find("\"route\" -> \"hrm\" [style=bold") != std::string::npos);
}

TEST_CASE("pipeline: invalid queries fail before any call", "[agents]") {
  auto fake = std::make_shared<fake_chat>();
  auto p = make(fake);
  for (std::string bad : {std::string(""), std::string("   \n"), std::string("a\xff")}) {
    auto r = ask(*p, bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_query);
  }
  CHECK(fake->calls.load() == 0);
  CHECK(ask(*p, "x <y> z"));

  pipeline_options bad;
  bad.hrm.max_parallel = 0;
  bad.consensus.threshold = 2.0;
  auto created = pipeline::create(fake, bad);
  REQUIRE_FALSE(created);
  CHECK(created.error().message.find("hrm.max_parallel") != std::string::npos);
  CHECK(created.error().message.find("consensus.threshold") != std::string::npos);
}

TEST_CASE("pipeline: judge garbage falls back to heuristics and adds evidence passes", "[agents]") {
  auto fake = std::make_shared<fake_chat>();
  fake->judge_reply = [](const std::string&) { return std::string("looks okay to me!"); };
  auto p = make(fake);
  std::vector<grove::agents::graph_event> events;
  auto r =
      ask(*p, gsm_question, {.request_id = 2, .sink = [&](const auto& e) { events.push_back(e); }});
  REQUIRE(r);
  CHECK(r->reasoning.judge_fallbacks == r->reasoning.judge_calls);
  CHECK(r->reasoning.judge_fallbacks > 0);
  CHECK(r->confidence <= 0.6);
  CHECK_FALSE(r->consensus_reached);
  // Pass 2 ran the strategy search, pass 3 a refinement: new evidence each time.
  CHECK(r->passes == 3);
  REQUIRE(r->search.has_value());
  CHECK(r->search->evaluations == 10);
  CHECK(r->outputs.back().agent == "refine");
  int iterations = 0;
  for (const auto& e : events) {
    iterations += e.kind == grove::agents::event_kind::strategy_iteration ? 1 : 0;
  }
  CHECK(iterations == 10);
  std::uint32_t visits = 0;
  for (const auto& s : r->search->strategies) {
    visits += s.visits;
  }
  CHECK(visits == 10);
}

TEST_CASE("pipeline: HRM timing out while TRM succeeds", "[agents]") {
  auto fake = std::make_shared<fake_chat>();
  fake->decompose_delay = 30s;  // only HRM decomposes
  pipeline_options options;
  options.agent_deadline = 200ms;
  auto p = make(fake, options);
  auto begin = std::chrono::steady_clock::now();
  auto r = ask(*p, gsm_question);
  CHECK(std::chrono::steady_clock::now() - begin < 15s);
  REQUIRE(r);
  REQUIRE(r->outputs.size() >= 2);
  CHECK_FALSE(r->outputs[0].ok);
  CHECK(r->outputs[0].error.code == errc::deadline_exceeded);
  CHECK(r->outputs[1].ok);
  CHECK(r->confidence == Approx(0.9));  // the failed HRM is excluded, not averaged as 0
  CHECK(r->answer.find("18") != std::string::npos);
}

TEST_CASE("pipeline: all agents failing fails the request with the causes", "[agents]") {
  auto fake = std::make_shared<fake_chat>();
  fake->fail_with = grove::llm::errc::server_error;
  auto p = make(fake);
  auto r = ask(*p, gsm_question);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::all_agents_failed);
  CHECK(r.error().message.find("hrm:") != std::string::npos);
  CHECK(r.error().message.find("trm:") != std::string::npos);
  CHECK(r.error().message.find("scripted failure") != std::string::npos);

  SECTION("a transient failure costs one agent, not the request") {
    auto flaky = std::make_shared<fake_chat>();
    flaky->fail_with = grove::llm::errc::rate_limited;
    flaky->fail_first = 1;
    auto r2 = ask(*make(flaky), gsm_question);
    REQUIRE(r2);
    CHECK(r2->usage.failed == 1);
  }
}

TEST_CASE("pipeline: budgets stop the request and say which", "[agents]") {
  auto fake = std::make_shared<fake_chat>();
  fake->judge_reply = [](const std::string&) { return std::string(R"({"score": 0.2})"); };
  pipeline_options options;
  options.budget.max_calls = 12;
  auto p = make(fake, options);
  auto r = ask(*p, gsm_question);
  REQUIRE(r);
  CHECK(r->stopped_by == grove::agents::budget_limit::calls);
  // At most one call past the limit: the synthesis.
  CHECK(r->usage.calls <= 13);
  CHECK_FALSE(r->answer.empty());

  SECTION("tokens") {
    pipeline_options t;
    t.budget.max_tokens = 100;
    auto r2 = ask(*make(fake, t), gsm_question);
    REQUIRE(r2);
    CHECK(r2->stopped_by == grove::agents::budget_limit::tokens);
  }
  SECTION("wall time cancels calls in flight") {
    auto slow = std::make_shared<fake_chat>();
    slow->answer_delay = 30s;
    pipeline_options w;
    w.budget.max_wall_time = 150ms;
    auto begin = std::chrono::steady_clock::now();
    auto r3 = ask(*make(slow, w), gsm_question);
    CHECK(std::chrono::steady_clock::now() - begin < 10s);
    REQUIRE_FALSE(r3);
    CHECK(r3.error().code == errc::all_agents_failed);
    CHECK(r3.error().message.find("wall-time budget") != std::string::npos);
  }
}

TEST_CASE("pipeline: cancellation mid-way cancels every call", "[agents]") {
  // The property: once the request is cancelled while HRM and TRM calls are in
  // flight (30 s fake delays), run() completes with errc::cancelled and no call
  // is left running; the test's 20 s limit catches a hang.
  auto fake = std::make_shared<fake_chat>();
  fake->answer_delay = 30s;
  fake->decompose_delay = 30s;
  auto p = make(fake);
  asio::io_context io;
  asio::cancellation_signal cancel;
  std::optional<grove::result<request_result>> out;
  asio::co_spawn(io, p->run(gsm_question),
                 asio::bind_cancellation_slot(
                     cancel.slot(), [&](std::exception_ptr e, grove::result<request_result> r) {
                       REQUIRE_FALSE(e);
                       out = std::move(r);
                     }));
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        while (fake->in_flight.load() < 2) {
          asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
          co_await t.async_wait(asio::use_awaitable);
        }
        cancel.emit(asio::cancellation_type::terminal);
      },
      asio::detached);
  io.run_for(20s);
  REQUIRE(out.has_value());
  REQUIRE_FALSE(*out);
  CHECK(out->error().code == errc::cancelled);
  CHECK(fake->in_flight.load() == 0);
}

TEST_CASE("pipeline: 100 concurrent requests on one io_context stay isolated", "[agents]") {
  // 100 requests share one pipeline, one fake provider and one io_context run
  // by two threads. The fake echoes the "[req-N]" marker of the question it
  // was given, with a delay, so calls of different requests interleave. The
  // property: every answer and every agent output carries its own marker only.
  auto fake = std::make_shared<fake_chat>();
  fake->answer_delay = 2ms;
  auto p = make(fake);
  constexpr int requests = 100;
  asio::io_context io;
  std::vector<std::optional<grove::result<request_result>>> out(requests);
  for (int i = 0; i < requests; ++i) {
    asio::co_spawn(io,
                   p->run(gsm_question + " [req-" + std::to_string(i) + "]",
                          {.request_id = static_cast<std::uint64_t>(i)}),
                   [&, i](std::exception_ptr e, grove::result<request_result> r) {
                     if (!e) {
                       out[i] = std::move(r);
                     }
                   });
  }
  std::thread helper([&] { io.run_for(60s); });
  io.run_for(60s);
  helper.join();
  for (int i = 0; i < requests; ++i) {
    INFO("request " << i);
    REQUIRE(out[i].has_value());
    REQUIRE(*out[i]);
    const auto& r = **out[i];
    std::string mine = "[req-" + std::to_string(i) + "]";
    CHECK(r.request_id == static_cast<std::uint64_t>(i));
    CHECK(r.answer.find(mine) != std::string::npos);
    for (const auto& o : r.outputs) {
      CHECK(o.answer.find(mine) != std::string::npos);
      auto first = o.answer.find("[req-");
      auto last = o.answer.rfind("[req-");
      CHECK(o.answer.compare(first, mine.size(), mine) == 0);
      CHECK(o.answer.compare(last, mine.size(), mine) == 0);
    }
  }
  CHECK(fake->peak_in_flight.load() > 2);
}

TEST_CASE("pipeline: record to a cassette and replay byte-identically", "[agents]") {
  auto dir = std::filesystem::temp_directory_path() / "grove_agents_cassette_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto path = (dir / "run.jsonl").string();

  // Garbage judging forces the search and refinement passes too.
  auto fake = std::make_shared<fake_chat>();
  fake->judge_reply = [](const std::string& answer) {
    return answer.size() % 2 == 0 ? std::string(R"({"score": 0.4})") : std::string("meh");
  };
  auto recorder = grove::agents::recording_client::open(fake, path);
  REQUIRE(recorder);
  auto recorded = ask(*make(*recorder), gsm_question);
  REQUIRE(recorded);
  CHECK((*recorder)->recorded() == recorded->usage.calls);
  // Identical calls within the request were made once.
  CHECK(recorded->usage.deduplicated > 0);

  auto replay = grove::agents::replaying_client::load(path);
  REQUIRE(replay);
  auto replayed = ask(*make(*replay), gsm_question);
  REQUIRE(replayed);
  auto strip = [](request_result r) {
    r.elapsed = {};
    r.steps.clear();
    r.provider.clear();
    r.model.clear();
    r.offline = false;
    return grove::agents::to_json(r);
  };
  CHECK(strip(*recorded) == strip(*replayed));
  CHECK((*replay)->offline());  // no network; the answers are still the model's

  SECTION("a request the cassette does not hold is an error, not a guess") {
    auto other = ask(*make(*replay), "What is 2 + 2 apples?");
    REQUIRE_FALSE(other);
    CHECK(other.error().message.find("no recording") != std::string::npos);
  }
  SECTION("a malformed cassette names the line") {
    auto bad = (dir / "bad.jsonl").string();
    std::ofstream(bad) << "{\"key\": \"k\", \"response\": {}}\nnot json\n";
    auto loaded = grove::agents::replaying_client::load(bad);
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().context.find(":2") != std::string::npos);
  }
  SECTION("a directory or an empty file is not a cassette") {
    auto as_directory = grove::agents::replaying_client::load(dir.string());
    REQUIRE_FALSE(as_directory);
    CHECK(as_directory.error().code == errc::cassette);
    CHECK(as_directory.error().message.find("directory") != std::string::npos);
    auto empty = (dir / "empty.jsonl").string();
    std::ofstream(empty).close();
    auto loaded = grove::agents::replaying_client::load(empty);
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().message.find("no recordings") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("pipeline: retrieval adds sources, and a retrieval error degrades to no context",
          "[agents]") {
  auto fake = std::make_shared<fake_chat>();
  pipeline_options options;
  options.retrieve_top_k = 2;
  options.retrieve = [](std::string question, std::size_t k)
      -> asio::awaitable<grove::result<std::vector<grove::agents::context_passage>>> {
    std::vector<grove::agents::context_passage> found;
    for (std::size_t i = 0; i < k; ++i) {
      found.push_back({"passage about " + question.substr(0, 5), "doc" + std::to_string(i), 1.0});
    }
    co_return found;
  };
  auto r = ask(*make(fake, options), gsm_question);
  REQUIRE(r);
  REQUIRE(r->sources.size() == 2);
  CHECK(r->sources[1].source == "doc1");
  CHECK_FALSE(r->retrieval_failed);

  options.retrieve = [](std::string, std::size_t)
      -> asio::awaitable<grove::result<std::vector<grove::agents::context_passage>>> {
    co_return grove::fail(std::make_error_code(std::errc::connection_refused), "store down");
  };
  auto degraded = ask(*make(fake, options), gsm_question);
  REQUIRE(degraded);
  CHECK(degraded->retrieval_failed);
  CHECK(degraded->sources.empty());
  CHECK(degraded->answer.find("18") != std::string::npos);
}
