// End-to-end tests of the default pipeline through the real `openai` and
// `anthropic` chat clients (make_chat_client: libcurl, rate limiter, retries)
// against the in-process fake HTTP server of tests/support on 127.0.0.1.
//
// The fake plays a model: it reads each request body in the provider's wire
// format, recognises the kind of call from the system prompt (judge,
// decomposition, anything else), and answers with a provider-shaped JSON body.
// Answers echo the "[req-N]" marker of the question, so requests running at
// once can be told apart. Faults (stalls, 5xx, 429) are scripted per test.
//
// Every test runs under a deadline: drive() fails the test instead of waiting
// for ever, and the fake server interrupts its stalls when it stops.

// g++ 12 at -O2 reports a false -Wmismatched-new-delete for Asio's coroutine
// frames (they pair a custom operator new with the matching operator delete).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <unistd.h>
#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "grove/agents/cassette.hpp"
#include "grove/agents/errc.hpp"
#include "grove/agents/pipeline.hpp"
#include "grove/llm/config.hpp"
#include "support/fake_http_server.hpp"

namespace asio = boost::asio;
namespace llm = grove::llm;
namespace test = grove::test;
using namespace std::chrono_literals;
using grove::agents::errc;
using grove::agents::pipeline;
using grove::agents::pipeline_options;
using grove::agents::request_result;
using nlohmann::json;

namespace {

const std::string question =
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast and bakes with four. "
    "She sells the rest for $2 each. How much does she make every day?";

// What the fake model does. Fixed before the server's thread starts, so the
// thread reads it without locks.
struct model_script {
  // Judge reply for the answer being graded.
  std::function<std::string(const std::string& answer)> judge = [](const std::string&) {
    return std::string(R"({"score": 0.9, "reason": "fine"})");
  };
  std::chrono::milliseconds decompose_stall{0};
  std::chrono::milliseconds stall_all{0};
  // Every request gets this status with an error body (0: none).
  int fail_status = 0;
};

// A fake OpenAI or Anthropic server playing the model of model_script.
class fake_model {
 public:
  explicit fake_model(llm::provider_kind provider, model_script script = {})
      : script_(std::move(script)), provider_(provider) {
    server_.set_handler([this](const test::recorded_request& r) { return answer(r); });
  }

  test::fake_http_server& server() { return server_; }

  // A client configuration aimed at the fake, with fast retries and no
  // response cache, so every call reaches the server.
  llm::llm_config config() const {
    llm::llm_config c;
    c.provider = provider_;
    c.base_url = server_.base_url() + (provider_ == llm::provider_kind::openai ? "/v1" : "");
    c.model = provider_ == llm::provider_kind::openai ? "gpt-test" : "claude-test";
    c.api_key = llm::secret("sk-test");
    c.requests_per_minute = 600'000;
    c.request_burst = 10'000;
    c.request_timeout = 60s;
    c.idle_timeout = 60s;
    c.retry.max_attempts = 3;
    c.retry.base_delay = 1ms;
    c.retry.max_delay = 5ms;
    c.cache_entries = 0;
    return c;
  }

  std::size_t judge_calls() const { return judge_calls_.load(); }

 private:
  test::fake_response answer(const test::recorded_request& r) {
    const json body = json::parse(r.body, nullptr, false);
    if (body.is_discarded()) {
      return test::responses::json(400, R"({"error":{"message":"body is not JSON"}})");
    }
    const bool openai = provider_ == llm::provider_kind::openai;
    const std::string system =
        openai ? body["messages"].front().value("content", "") : body.value("system", "");
    const std::string user = body["messages"].back().value("content", "");

    if (script_.fail_status != 0) {
      return test::responses::server_error(script_.fail_status);
    }
    std::string text;
    std::chrono::milliseconds stall = script_.stall_all;
    if (system.find("You grade answers") != std::string::npos) {
      ++judge_calls_;
      auto at = user.find("Answer to grade:\n");
      text = script_.judge(at == std::string::npos ? user : user.substr(at + 17));
    } else if (system.find("You split") != std::string::npos) {
      text = R"({"subproblems": ["eggs left", "money made"]})";
      stall = std::max(stall, script_.decompose_stall);
    } else {
      std::string marker;
      if (auto open = user.find("[req-"); open != std::string::npos) {
        marker = user.substr(open, user.find(']', open) - open + 1);
      }
      text = "Working " + marker + ": 16 - 3 - 4 = 9; 9 * 2 = 18.\nAnswer: 18 " + marker;
    }

    json out;
    if (openai) {
      out = {{"id", "chatcmpl-e2e"},
             {"object", "chat.completion"},
             {"model", "gpt-test"},
             {"choices",
              {{{"index", 0},
                {"message", {{"role", "assistant"}, {"content", text}}},
                {"finish_reason", "stop"}}}},
             {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 5}, {"total_tokens", 15}}}};
    } else {
      out = {{"id", "msg_e2e"},
             {"type", "message"},
             {"role", "assistant"},
             {"model", "claude-test"},
             {"content", {{{"type", "text"}, {"text", text}}}},
             {"stop_reason", "end_turn"},
             {"usage", {{"input_tokens", 10}, {"output_tokens", 5}}}};
    }
    auto shaped = test::responses::json(200, out.dump());
    shaped.stall_before_headers = stall;
    return shaped;
  }

  const model_script script_;
  llm::provider_kind provider_;
  std::atomic<std::size_t> judge_calls_{0};
  test::fake_http_server server_;  // last: stops before the script goes away
};

// Runs the io_context until `done()` holds (true) or `deadline` passes (false).
bool run_until(asio::io_context& io, const std::function<bool()>& done,
               std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  io.restart();
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    io.run_one_for(20ms);
    if (io.stopped()) {
      io.restart();
    }
  }
  return true;
}

// Like run_until, but the test fails instead of waiting past the deadline.
void drive(asio::io_context& io, const std::function<bool()>& done,
           std::chrono::seconds deadline = 60s) {
  if (!run_until(io, done, deadline)) {
    FAIL("the request did not complete within its deadline");
  }
}

// Closes the client (its libcurl transfers and timers) on `io`; false when
// that did not finish within 20 s. Safe in destructors (never throws).
bool close(asio::io_context& io, const std::shared_ptr<llm::chat_client>& client) {
  bool closed = false;
  asio::co_spawn(io, client->async_close(), [&](std::exception_ptr) { closed = true; });
  return run_until(
      io, [&] { return closed; }, 20s);
}

std::shared_ptr<llm::chat_client> client_for(const llm::llm_config& config, asio::io_context& io) {
  auto made = llm::make_chat_client(config, io.get_executor());
  REQUIRE(made);
  return *made;
}

std::shared_ptr<pipeline> make(std::shared_ptr<llm::chat_client> client,
                               pipeline_options options = {}) {
  auto p = pipeline::create(std::move(client), std::move(options));
  REQUIRE(p);
  return *p;
}

// One question through `client` on `io`, under a deadline.
grove::result<request_result> ask(asio::io_context& io, const pipeline& p, std::string text,
                                  grove::agents::request_options options = {}) {
  std::optional<grove::result<request_result>> out;
  asio::co_spawn(io, p.run(std::move(text), std::move(options)),
                 [&](std::exception_ptr e, grove::result<request_result> r) {
                   REQUIRE_FALSE(e);
                   out = std::move(r);
                 });
  drive(io, [&] { return out.has_value(); });
  return std::move(*out);
}

// A fake, a real client on a fresh io_context, and one question.
struct run_once {
  asio::io_context io;
  std::shared_ptr<llm::chat_client> client;
  explicit run_once(const llm::llm_config& config) : client(client_for(config, io)) {}
  ~run_once() { close(io, client); }
  grove::result<request_result> ask(pipeline_options options = {}, std::string text = question) {
    return ::ask(io, *make(client, std::move(options)), std::move(text));
  }
};

// The result without what depends on timing or the transport.
std::string comparable(request_result r) {
  r.elapsed = {};
  r.steps.clear();
  r.offline = false;
  return grove::agents::to_json(r);
}

std::string name(llm::provider_kind p) { return std::string(llm::to_string(p)); }

}  // namespace

TEST_CASE("e2e: a full request through the real OpenAI and Anthropic clients", "[agents]") {
  for (auto provider : {llm::provider_kind::openai, llm::provider_kind::anthropic}) {
    DYNAMIC_SECTION(name(provider)) {
      fake_model fake(provider);
      run_once once(fake.config());
      auto r = once.ask();
      REQUIRE(r);
      CHECK(r->provider == name(provider));
      CHECK(r->answer.find("Answer: 18") != std::string::npos);
      CHECK(r->consensus_reached);
      CHECK(r->confidence == Approx(0.9));
      REQUIRE(r->outputs.size() == 2);
      CHECK(r->outputs[0].ok);
      CHECK(r->outputs[1].ok);
      CHECK_FALSE(r->synthesis_fallback);
      CHECK_FALSE(r->offline);
      // Every call reached the server once: no retries, no cache.
      CHECK(r->usage.calls == fake.server().request_count());
      CHECK(r->usage.attempts == r->usage.calls);
      CHECK(r->usage.total_tokens == 15 * r->usage.calls);
      REQUIRE(r->usage.per_provider.size() == 1);
      CHECK(r->usage.per_provider[0].provider == name(provider));
      CHECK(r->reasoning.judge_fallbacks == 0);
      // Identical judge calls (both agents gave the same answer) go out once.
      CHECK(fake.judge_calls() >= 1);
      CHECK(fake.judge_calls() <= r->reasoning.judge_calls);
    }
  }
}

TEST_CASE("e2e: a judge returning garbage falls back and is counted", "[agents]") {
  for (auto provider : {llm::provider_kind::openai, llm::provider_kind::anthropic}) {
    DYNAMIC_SECTION(name(provider)) {
      fake_model fake(provider,
                      {.judge = [](const std::string&) { return std::string("{score: great!!"); }});
      run_once once(fake.config());
      auto r = once.ask();
      REQUIRE(r);
      CHECK(fake.judge_calls() >= 1);
      CHECK(r->reasoning.judge_fallbacks == r->reasoning.judge_calls);
      CHECK(r->reasoning.judge_fallbacks > 0);
      // Heuristic scores stay low, so consensus asks for more evidence.
      CHECK(r->passes > 1);
      auto j = json::parse(grove::agents::to_json(*r));
      CHECK(j["judge"]["fallbacks"] == r->reasoning.judge_fallbacks);
    }
  }
}

TEST_CASE("e2e: HRM timing out while TRM succeeds", "[agents]") {
  fake_model fake(llm::provider_kind::openai, {.decompose_stall = 30s});  // only HRM decomposes
  pipeline_options options;
  options.agent_deadline = 300ms;
  run_once once(fake.config());
  auto r = once.ask(options);
  REQUIRE(r);
  REQUIRE(r->outputs.size() >= 2);
  CHECK(r->outputs[0].agent == "hrm");
  CHECK_FALSE(r->outputs[0].ok);
  CHECK(r->outputs[0].error.code == errc::deadline_exceeded);
  CHECK(r->outputs[0].confidence == 0.0);
  CHECK(r->outputs[1].agent == "trm");
  CHECK(r->outputs[1].ok);
  // The failed HRM is excluded from the mean, not averaged in as 0.
  CHECK(r->confidence == Approx(0.9));
  CHECK(r->answer.find("18") != std::string::npos);
}

TEST_CASE("e2e: the provider returning 429 then success costs an attempt, not the request",
          "[agents]") {
  for (auto provider : {llm::provider_kind::openai, llm::provider_kind::anthropic}) {
    DYNAMIC_SECTION(name(provider)) {
      fake_model fake(provider);
      // The script answers the first request; the model answers the rest.
      fake.server().enqueue(test::responses::rate_limited(std::nullopt, 5));
      run_once once(fake.config());
      auto r = once.ask();
      REQUIRE(r);
      CHECK(r->usage.failed == 0);
      CHECK(r->usage.attempts == r->usage.calls + 1);
      CHECK(r->usage.attempts == fake.server().request_count());
      CHECK(fake.server().script_left() == 0);
      auto j = json::parse(grove::agents::to_json(*r));
      CHECK(j["usage"]["attempts"] == r->usage.attempts);
    }
  }
}

TEST_CASE("e2e: all agents failing fails the request with the causes", "[agents]") {
  fake_model fake(llm::provider_kind::anthropic, {.fail_status = 503});
  run_once once(fake.config());
  auto r = once.ask();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::all_agents_failed);
  const std::string& why = r.error().message;
  CHECK(why.find("hrm:") != std::string::npos);
  CHECK(why.find("trm:") != std::string::npos);
  CHECK(why.find("server_error") != std::string::npos);
  // Each failed call was retried up to the client's limit.
  CHECK(fake.server().request_count() % 3 == 0);
}

TEST_CASE("e2e: cancelling mid-way cancels every running node and transfer", "[agents]") {
  fake_model fake(llm::provider_kind::openai, {.stall_all = 30s});
  asio::io_context io;
  auto client = client_for(fake.config(), io);
  auto p = make(client);

  std::vector<grove::agents::graph_event> events;
  asio::cancellation_signal cancel;
  std::optional<grove::result<request_result>> out;
  asio::co_spawn(
      io, p->run(question, {.request_id = 9, .sink = [&](const auto& e) { events.push_back(e); }}),
      asio::bind_cancellation_slot(cancel.slot(),
                                   [&](std::exception_ptr e, grove::result<request_result> r) {
                                     REQUIRE_FALSE(e);
                                     out = std::move(r);
                                   }));
  // Cancel once HRM and TRM both have a call stalled at the server.
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        while (fake.server().request_count() < 2) {
          asio::steady_timer t(co_await asio::this_coro::executor, 2ms);
          co_await t.async_wait(asio::use_awaitable);
        }
        cancel.emit(asio::cancellation_type::terminal);
      },
      asio::detached);
  drive(
      io, [&] { return out.has_value(); }, 20s);

  REQUIRE_FALSE(*out);
  CHECK(out->error().code == errc::cancelled);
  // Every node that started also finished; the agents did not complete.
  std::map<std::string, int> open;
  for (const auto& e : events) {
    if (e.kind == grove::agents::event_kind::node_started) {
      ++open[e.node];
    } else if (e.kind == grove::agents::event_kind::node_finished) {
      --open[e.node];
    }
  }
  for (const auto& [node, count] : open) {
    INFO(node);
    CHECK(count == 0);
  }
  CHECK(open.count("hrm") == 1);
  CHECK(open.count("trm") == 1);
  CHECK(open.count("consensus") == 0);
  // The stalled transfers were aborted: the server sees its connections close.
  drive(
      io, [&] { return fake.server().open_connections() == 0; }, 10s);
  CHECK(close(io, client));
}

TEST_CASE("e2e: 100 concurrent requests on one io_context stay isolated", "[agents]") {
  // 100 requests share one pipeline, one real client and one io_context run
  // by two threads; the fake echoes each request's marker. Every answer and
  // every agent output must carry its own marker and no other.
  fake_model fake(llm::provider_kind::openai);
  asio::io_context io;
  auto config = fake.config();
  auto client = client_for(config, io);
  pipeline_options options;
  options.trm.max_rounds = 1;
  auto p = make(client, options);

  constexpr int requests = 100;
  std::vector<std::optional<grove::result<request_result>>> out(requests);
  std::atomic<int> finished{0};
  for (int i = 0; i < requests; ++i) {
    asio::co_spawn(io,
                   p->run(question + " [req-" + std::to_string(i) + "]",
                          {.request_id = static_cast<std::uint64_t>(i)}),
                   [&, i](std::exception_ptr e, grove::result<request_result> r) {
                     if (!e) {
                       out[i] = std::move(r);
                     }
                     ++finished;
                   });
  }
  std::thread helper([&] {
    const auto until = std::chrono::steady_clock::now() + 120s;
    while (finished.load() < requests && std::chrono::steady_clock::now() < until) {
      io.run_one_for(20ms);
    }
  });
  drive(
      io, [&] { return finished.load() == requests; }, 120s);
  helper.join();

  for (int i = 0; i < requests; ++i) {
    INFO("request " << i);
    REQUIRE(out[i].has_value());
    REQUIRE(*out[i]);
    const auto& r = **out[i];
    const std::string mine = "[req-" + std::to_string(i) + "]";
    CHECK(r.request_id == static_cast<std::uint64_t>(i));
    CHECK(r.answer.find(mine) != std::string::npos);
    for (const auto& o : r.outputs) {
      CHECK(o.ok);
      auto first = o.answer.find("[req-");
      auto last = o.answer.rfind("[req-");
      REQUIRE(first != std::string::npos);
      CHECK(o.answer.compare(first, mine.size(), mine) == 0);
      CHECK(o.answer.compare(last, mine.size(), mine) == 0);
    }
  }
  std::uint64_t calls = 0;
  for (const auto& r : out) {
    calls += (*r)->usage.calls;
  }
  CHECK(calls == fake.server().request_count());
  CHECK(close(io, client));
}

TEST_CASE("e2e: requests recorded against the fake server replay with no server", "[agents]") {
  auto dir =
      std::filesystem::temp_directory_path() / ("grove_agents_e2e_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  struct scenario {
    std::string name;
    llm::provider_kind provider;
    model_script script;
    bool rate_limit_first = false;
  };
  const std::vector<scenario> scenarios = {
      {"full request", llm::provider_kind::openai, {}},
      {"judge garbage",
       llm::provider_kind::anthropic,
       {.judge = [](const std::string&) { return std::string("?"); }}},
      {"429 then success", llm::provider_kind::openai, {}, true},
      {"all agents failing", llm::provider_kind::openai, {.fail_status = 500}},
  };
  for (const auto& s : scenarios) {
    DYNAMIC_SECTION(s.name) {
      const auto path = (dir / (std::to_string(&s - scenarios.data()) + ".jsonl")).string();

      // 1. Record through the real client against the fake server, then stop it.
      std::optional<grove::result<request_result>> recorded;
      {
        fake_model fake(s.provider, s.script);
        if (s.rate_limit_first) {
          fake.server().enqueue(test::responses::rate_limited(std::nullopt, 5));
        }
        asio::io_context io;
        auto client = client_for(fake.config(), io);
        auto recorder = grove::agents::recording_client::open(client, path);
        REQUIRE(recorder);
        recorded = ask(io, *make(*recorder), question);
        CHECK(close(io, client));
        fake.server().stop();
      }

      // 2. Replay with no server at all.
      auto replay = grove::agents::replaying_client::load(path);
      REQUIRE(replay);
      asio::io_context io;
      auto replayed = ask(io, *make(*replay), question);
      REQUIRE(recorded->has_value() == replayed.has_value());
      if (*recorded) {
        CHECK((*replay)->offline());
        CHECK(comparable(**recorded) == comparable(*replayed));
      } else {
        CHECK(recorded->error().code == replayed.error().code);
        CHECK(recorded->error().message == replayed.error().message);
      }
    }
  }
  std::filesystem::remove_all(dir);
}
