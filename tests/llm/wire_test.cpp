// Tests of grove/llm/wire.hpp: request encoding for both providers (compared as
// JSON), decoding of whole responses, and decoding of the recorded streams
// (tests/data/llm-streams) fed whole and byte by byte.

#include <catch2/catch.hpp>

#include "grove/llm/wire.hpp"

namespace llm = grove::llm;
namespace wire = grove::llm::wire;
using nlohmann::json;

namespace {

llm::chat_request full_request() {
  llm::chat_request request;
  request.messages = {
      llm::message::system("Be brief."),
      llm::message::user("Weather in Paris?"),
      llm::message::assistant("Checking.", {llm::tool_call{.id = "call_1",
                                                           .name = "get_weather",
                                                           .arguments = {{"city", "Paris"}}}}),
      llm::message::tool_result("call_1", R"({"temp_c":18})"),
      llm::message::user("And in Rome?"),
  };
  request.temperature = 0.25;
  request.max_tokens = 300;
  request.stop = {"END"};
  request.tools = {
      llm::tool_definition{.name = "get_weather",
                           .description = "Current weather for a city.",
                           .parameters = {{"type", "object"},
                                          {"properties", {{"city", {{"type", "string"}}}}},
                                          {"required", {"city"}}}}};
  return request;
}

}  // namespace

TEST_CASE("wire: OpenAI request encoding", "[llm]") {
  SECTION("every field") {
    const json body = wire::encode_openai_request(full_request(), "gpt-4o-mini", /*stream=*/false);
    const json expected = json::parse(R"({
      "model": "gpt-4o-mini",
      "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "Checking.", "tool_calls": [
          {"id": "call_1", "type": "function",
           "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\":18}"},
        {"role": "user", "content": "And in Rome?"}
      ],
      "temperature": 0.25,
      "max_tokens": 300,
      "stop": ["END"],
      "tools": [{"type": "function", "function": {
        "name": "get_weather", "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}}]
    })");
    CHECK(body == expected);
  }
  SECTION("unset fields are omitted; streaming asks for usage; json mode") {
    llm::chat_request request;
    request.messages = {llm::message::user("hi")};
    request.model = "llama3";
    request.json_mode = true;
    const json body = wire::encode_openai_request(request, "ignored", /*stream=*/true);
    const json expected = json::parse(R"({
      "model": "llama3",
      "messages": [{"role": "user", "content": "hi"}],
      "response_format": {"type": "json_object"},
      "stream": true,
      "stream_options": {"include_usage": true}
    })");
    CHECK(body == expected);
  }
  SECTION("max_completion_tokens and empty schemas") {
    llm::chat_request request;
    request.messages = {llm::message::assistant("", {llm::tool_call{.id = "c", .name = "f"}}),
                        llm::message::tool_result("c", "done")};
    request.max_tokens = 10;
    request.tools = {llm::tool_definition{.name = "f"}};
    const json body = wire::encode_openai_request(
        request, "o1", false, wire::openai_max_tokens_field::max_completion_tokens);
    CHECK(body["max_completion_tokens"] == 10);
    CHECK_FALSE(body.contains("max_tokens"));
    CHECK(body["messages"][0]["content"].is_null());
    CHECK(body["messages"][0]["tool_calls"][0]["function"]["arguments"] == "{}");
    CHECK(body["tools"][0]["function"]["parameters"] ==
          json::parse(R"({"type":"object","properties":{}})"));
    CHECK_FALSE(body["tools"][0]["function"].contains("description"));
  }
}

TEST_CASE("wire: Anthropic request encoding", "[llm]") {
  SECTION("every field; system on top; turns merged; tool blocks") {
    auto body = wire::encode_anthropic_request(full_request(), "claude-sonnet-4-5", 1024, false);
    REQUIRE(body);
    const json expected = json::parse(R"({
      "model": "claude-sonnet-4-5",
      "max_tokens": 300,
      "system": "Be brief.",
      "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": [
          {"type": "text", "text": "Checking."},
          {"type": "tool_use", "id": "call_1", "name": "get_weather",
           "input": {"city": "Paris"}}]},
        {"role": "user", "content": [
          {"type": "tool_result", "tool_use_id": "call_1", "content": "{\"temp_c\":18}"},
          {"type": "text", "text": "And in Rome?"}]}
      ],
      "temperature": 0.25,
      "stop_sequences": ["END"],
      "tools": [{"name": "get_weather", "description": "Current weather for a city.",
                 "input_schema": {"type": "object",
                                  "properties": {"city": {"type": "string"}},
                                  "required": ["city"]}}]
    })");
    CHECK(*body == expected);
  }
  SECTION("max_tokens defaults, json mode adds an instruction, streaming flag") {
    llm::chat_request request;
    request.messages = {llm::message::user("score this")};
    request.json_mode = true;
    auto body = wire::encode_anthropic_request(request, "claude-haiku", 512, true);
    REQUIRE(body);
    CHECK((*body)["max_tokens"] == 512);
    CHECK((*body)["stream"] == true);
    CHECK((*body)["system"].get<std::string>().find("JSON object") != std::string::npos);
    CHECK_FALSE(body->contains("temperature"));
    CHECK_FALSE(body->contains("stop_sequences"));
    CHECK_FALSE(body->contains("tools"));
  }
  SECTION("temperature above 1 is refused") {
    llm::chat_request request;
    request.messages = {llm::message::user("x")};
    request.temperature = 1.5;
    auto body = wire::encode_anthropic_request(request, "m", 16, false);
    REQUIRE_FALSE(body);
    CHECK(body.error().code == llm::errc::bad_request);
  }
}

TEST_CASE("wire: OpenAI whole responses", "[llm]") {
  SECTION("text and usage") {
    auto r = wire::decode_openai_response(R"({
      "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
      "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!",
                   "refusal": null}, "logprobs": null, "finish_reason": "stop"}],
      "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}})");
    REQUIRE(r);
    CHECK(r->text == "Hello!");
    CHECK(r->id == "chatcmpl-1");
    CHECK(r->model == "gpt-4o");
    CHECK(r->provider == "openai");
    CHECK(r->finish_reason == llm::finish_reason::stop);
    CHECK(r->usage.prompt_tokens == 9);
    CHECK(r->usage.completion_tokens == 3);
    CHECK(r->usage.total_tokens == 12);
    CHECK_FALSE(r->usage.estimated);
  }
  SECTION("tool calls are decoded; no usage means estimated") {
    auto r = wire::decode_openai_response(R"({"choices": [{"message": {"content": null,
      "tool_calls": [{"id": "call_9", "type": "function", "function": {"name": "lookup",
      "arguments": "{\"q\": \"mcts\", \"k\": 3}"}}]}, "finish_reason": "tool_calls"}]})");
    REQUIRE(r);
    REQUIRE(r->tool_calls.size() == 1);
    CHECK(r->tool_calls[0].id == "call_9");
    CHECK(r->tool_calls[0].name == "lookup");
    CHECK(r->tool_calls[0].arguments == json({{"q", "mcts"}, {"k", 3}}));
    CHECK(r->finish_reason == llm::finish_reason::tool_calls);
    CHECK(r->usage.estimated);
  }
  SECTION("bad tool arguments, wrong shapes and error objects fail") {
    auto bad_args = wire::decode_openai_response(R"({"choices": [{"message": {"tool_calls": [
      {"id": "c", "function": {"name": "f", "arguments": "{\"q\": "}}]}}]})");
    REQUIRE_FALSE(bad_args);
    CHECK(bad_args.error().code == llm::errc::invalid_response);
    CHECK(bad_args.error().message.find("'f'") != std::string::npos);

    for (std::string_view body : {R"({"choices": []})", R"({"choices": [{"text": "x"}]})",
                                  R"([1, 2])", R"({"choices": [{"message": {"content": 5}}]})",
                                  "<html>502</html>", R"({"choices": [{"message": )"}) {
      auto r = wire::decode_openai_response(body);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == llm::errc::invalid_response);
    }
    auto error_in_200 = wire::decode_openai_response(R"({"error": {"message": "model crashed"}})");
    REQUIRE_FALSE(error_in_200);
    CHECK(error_in_200.error().code == llm::errc::invalid_response);
    CHECK(error_in_200.error().message.find("model crashed") != std::string::npos);
  }
}

TEST_CASE("wire: Anthropic whole responses", "[llm]") {
  auto r = wire::decode_anthropic_response(R"({
    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
    "content": [{"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_1", "name": "search",
                 "input": {"query": "grove"}}],
    "stop_reason": "tool_use", "stop_sequence": null,
    "usage": {"input_tokens": 20, "cache_read_input_tokens": 5, "output_tokens": 7}})");
  REQUIRE(r);
  CHECK(r->text == "Let me look.");
  CHECK(r->provider == "anthropic");
  REQUIRE(r->tool_calls.size() == 1);
  CHECK(r->tool_calls[0].arguments == json({{"query", "grove"}}));
  CHECK(r->finish_reason == llm::finish_reason::tool_calls);
  CHECK(r->raw_finish_reason == "tool_use");
  CHECK(r->usage.prompt_tokens == 25);
  CHECK(r->usage.completion_tokens == 7);
  CHECK(r->usage.total_tokens == 32);

  auto error_in_200 = wire::decode_anthropic_response(
      R"({"type": "error", "error": {"type": "api_error", "message": "boom"}})");
  REQUIRE_FALSE(error_in_200);
  CHECK(error_in_200.error().code == llm::errc::invalid_response);
  auto no_content = wire::decode_anthropic_response(R"({"type": "message"})");
  REQUIRE_FALSE(no_content);
  CHECK(no_content.error().code == llm::errc::invalid_response);
}
