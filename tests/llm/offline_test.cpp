// Tests of grove/llm/offline.hpp and of request validation (grove/llm/chat.hpp).

#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "grove/llm/offline.hpp"

namespace llm = grove::llm;

namespace {

llm::chat_request ask(std::string system, std::string user) {
  llm::chat_request request;
  if (!system.empty()) {
    request.messages.push_back(llm::message::system(std::move(system)));
  }
  request.messages.push_back(llm::message::user(std::move(user)));
  return request;
}

const std::string judge_system =
    "You are a strict judge. Rate the candidate answer. Respond only with JSON of the form "
    R"({"score": <number from 0 to 1>, "confidence": 0.0, "is_correct": true, )"
    R"("reasoning": "why", "issues": ["..."]})";

}  // namespace

TEST_CASE("offline: plain prompts get labelled, deterministic text derived from the prompt",
          "[llm]") {
  const llm::offline_chat_client client;
  CHECK(client.provider() == "offline");
  CHECK(client.offline());
  CHECK(client.model() == "grove-offline");

  auto first = client.answer(ask("", "Explain Monte Carlo tree search for board games."));
  REQUIRE(first);
  CHECK(first->text.starts_with("[offline] "));
  CHECK(first->text.find("monte") != std::string::npos);  // a key term of the prompt
  CHECK(first->text.find("Explain Monte Carlo tree search") != std::string::npos);
  CHECK(first->offline);
  CHECK(first->provider == "offline");
  CHECK(first->model == "grove-offline");
  CHECK(first->finish_reason == llm::finish_reason::stop);
  CHECK(first->usage.estimated);
  CHECK(first->usage.prompt_tokens > 0);
  CHECK(first->usage.completion_tokens > 0);
  CHECK(first->usage.total_tokens == first->usage.prompt_tokens + first->usage.completion_tokens);
  CHECK(first->attempts == 0);

  auto again = client.answer(ask("", "Explain Monte Carlo tree search for board games."));
  REQUIRE(again);
  CHECK(again->text == first->text);
  CHECK(again->id == first->id);

  auto other = client.answer(ask("", "Explain alpha-beta pruning."));
  REQUIRE(other);
  CHECK(other->text != first->text);
}

TEST_CASE("offline: judge prompts get valid JSON following the template", "[llm]") {
  const llm::offline_chat_client client;
  auto a = client.answer(ask(judge_system, "Question: 2+2? Candidate: 4"));
  auto b = client.answer(ask(judge_system, "Question: 2+2? Candidate: 5"));
  REQUIRE(a);
  REQUIRE(b);
  const auto ja = nlohmann::json::parse(a->text);
  const auto jb = nlohmann::json::parse(b->text);
  REQUIRE(ja.is_object());
  CHECK(ja.size() == 5);
  REQUIRE(ja["score"].is_number());
  CHECK(ja["score"].get<double>() >= 0.0);
  CHECK(ja["score"].get<double>() <= 1.0);
  CHECK(ja["confidence"].is_number());
  CHECK(ja["is_correct"].is_boolean());
  CHECK(ja["reasoning"].is_string());
  CHECK(ja["reasoning"].get<std::string>().starts_with("[offline]"));
  CHECK(ja["issues"].is_array());
  // Keys keep the template's order.
  CHECK(a->text.find("\"score\"") < a->text.find("\"reasoning\""));
  // Different candidates, different (but repeatable) scores.
  CHECK(ja["score"] != jb["score"]);
  CHECK(client.answer(ask(judge_system, "Question: 2+2? Candidate: 4"))->text == a->text);
}

TEST_CASE("offline: JSON without a template, scales and json_mode", "[llm]") {
  const llm::offline_chat_client client;

  SECTION("a score request in words gets score, confidence and reasoning") {
    auto r = client.answer(ask("", "Give a score for this plan as JSON."));
    REQUIRE(r);
    const auto j = nlohmann::json::parse(r->text);
    CHECK(j.contains("score"));
    CHECK(j.contains("confidence"));
    CHECK(j.contains("reasoning"));
  }
  SECTION("json_mode forces JSON even for a plain question") {
    auto request = ask("", "What is the capital of France?");
    request.json_mode = true;
    auto r = client.answer(request);
    REQUIRE(r);
    CHECK(nlohmann::json::parse(r->text).is_object());
  }
  SECTION("a 1-10 scale gives integers in range") {
    auto r = client.answer(
        ask("", R"(Rate the essay on a scale of 1-10. Reply in JSON: {"rating": 7})"));
    REQUIRE(r);
    const auto rating = nlohmann::json::parse(r->text)["rating"].get<double>();
    CHECK(rating >= 1.0);
    CHECK(rating <= 10.0);
    CHECK(rating == static_cast<double>(static_cast<int>(rating)));
  }
  SECTION("a mention of JSON without a score or template stays text") {
    auto r = client.answer(ask("", "What does JSON stand for?"));
    REQUIRE(r);
    CHECK(r->text.starts_with("[offline] "));
  }
  SECTION("a hostile prompt full of braces still answers") {
    auto r = client.answer(ask("", "JSON score " + std::string(100'000, '{')));
    REQUIRE(r);
    CHECK(nlohmann::json::parse(r->text).contains("score"));
  }
}

TEST_CASE("offline: stop sequences, max_tokens and streaming", "[llm]") {
  llm::offline_chat_client client({.model = "m", .stream_chunk_chars = 8});
  auto request = ask("", "Describe the node arena layout.");
  const auto full = client.answer(request);
  REQUIRE(full);

  SECTION("stop cuts the text") {
    request.stop = {"Prompt digest"};
    auto r = client.answer(request);
    REQUIRE(r);
    CHECK(full->text.starts_with(r->text));
    CHECK(r->text.find("Prompt digest") == std::string::npos);
  }
  SECTION("max_tokens truncates with finish_reason length") {
    request.max_tokens = 5;
    auto r = client.answer(request);
    REQUIRE(r);
    CHECK(r->text.size() <= 20);
    CHECK(r->finish_reason == llm::finish_reason::length);
    CHECK(r->usage.completion_tokens <= 5);
  }
  SECTION("deltas concatenate to the text") {
    std::string streamed;
    int pieces = 0;
    request.on_text = [&](std::string_view delta) {
      streamed += delta;
      ++pieces;
    };
    auto r = client.answer(request);
    REQUIRE(r);
    CHECK(streamed == r->text);
    CHECK(pieces > 3);
  }
}

TEST_CASE("offline: async_chat completes on the executor and rejects bad requests", "[llm]") {
  boost::asio::io_context io;
  llm::offline_chat_client client;
  auto future = boost::asio::co_spawn(io, client.async_chat(ask("sys", "hello there")),
                                      boost::asio::use_future);
  io.run();
  auto r = future.get();
  REQUIRE(r);
  CHECK(r->offline);

  llm::chat_request bad;
  bad.messages = {llm::message::system("only a system prompt")};
  auto rejected = client.answer(bad);
  REQUIRE_FALSE(rejected);
  CHECK(rejected.error().code == llm::errc::bad_request);
}

TEST_CASE("chat: validate reports every bad field at once", "[llm]") {
  llm::chat_request request;
  request.messages = {llm::message::system("s"),
                      llm::message{.role = llm::role::tool, .content = "42"}};
  request.temperature = 3.0;
  request.max_tokens = 0;
  request.stop = {""};
  request.tools = {llm::tool_definition{.name = "bad name!"},
                   llm::tool_definition{.name = "ok", .parameters = nlohmann::json::array()},
                   llm::tool_definition{.name = "ok"}};
  auto result = llm::validate(request);
  REQUIRE_FALSE(result);
  CHECK(result.error().code == llm::errc::bad_request);
  const std::string& text = result.error().message;
  CHECK(text.find("messages[1].tool_call_id") != std::string::npos);
  CHECK(text.find("temperature") != std::string::npos);
  CHECK(text.find("max_tokens") != std::string::npos);
  CHECK(text.find("stop[0]") != std::string::npos);
  CHECK(text.find("tools[0].name") != std::string::npos);
  CHECK(text.find("tools[1].parameters") != std::string::npos);
  CHECK(text.find("tools[2].name: 'ok' is declared twice") != std::string::npos);

  llm::chat_request good;
  good.messages = {llm::message::user("hi"),
                   llm::message::assistant("", {llm::tool_call{.id = "c1", .name = "f"}}),
                   llm::message::tool_result("c1", "{}")};
  CHECK(llm::validate(good));
}

TEST_CASE("offline: options are validated", "[llm]") {
  CHECK_FALSE(llm::offline_options{.model = "", .stream_chunk_chars = 0}.validate());
  CHECK_THROWS_AS(llm::offline_chat_client(llm::offline_options{.model = ""}),
                  std::invalid_argument);
}
