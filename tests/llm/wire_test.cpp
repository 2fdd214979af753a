// Tests of grove/llm/wire.hpp: request encoding for both providers (compared as
// JSON), decoding of whole responses, and decoding of the recorded streams
// (tests/data/llm-streams) fed whole and byte by byte.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "grove/http/sse.hpp"
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

std::string fixture(std::string_view name) {
  std::ifstream in(std::string(GROVE_TEST_DATA_DIR) + "/llm-streams/" + std::string(name),
                   std::ios::binary);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Result of decoding one stream: the response (or the error), the text deltas
// in order, and how many events the SSE parser produced.
struct decoded_stream {
  grove::result<llm::chat_response> response;
  std::vector<std::string> deltas;
};

// Feeds `stream` to an SSE parser in pieces of `piece` bytes (0: whole) and
// the events to the provider's decoder, as the HTTP clients do.
template <class Decoder>
decoded_stream decode_stream(const std::string& stream, std::size_t piece) {
  grove::http::sse_parser parser;
  Decoder decoder;
  std::vector<std::string> deltas;
  std::optional<grove::error> failure;
  auto on_event = [&](grove::http::sse_event& event) {
    if (failure) {
      return;
    }
    grove::result<std::string> delta = [&] {
      if constexpr (std::is_same_v<Decoder, wire::openai_stream_decoder>) {
        return decoder.on_event(event.data);
      } else {
        return decoder.on_event(event.type == "message" ? "" : event.type, event.data);
      }
    }();
    if (!delta) {
      failure = delta.error();
    } else if (!delta->empty()) {
      deltas.push_back(*delta);
    }
  };
  const std::size_t step = piece == 0 ? stream.size() : piece;
  for (std::size_t at = 0; at < stream.size(); at += step) {
    REQUIRE(parser.feed(std::string_view(stream).substr(at, step), on_event));
  }
  REQUIRE(parser.finish(on_event));
  if (failure) {
    return {grove::fail(*failure), deltas};
  }
  return {decoder.finish(), deltas};
}

template <class Decoder>
decoded_stream decode_checked(const std::string& stream) {
  auto whole = decode_stream<Decoder>(stream, 0);
  auto bytewise = decode_stream<Decoder>(stream, 1);
  auto sevens = decode_stream<Decoder>(stream, 7);
  REQUIRE(whole.response.has_value() == bytewise.response.has_value());
  REQUIRE(whole.response.has_value() == sevens.response.has_value());
  CHECK(whole.deltas == bytewise.deltas);
  CHECK(whole.deltas == sevens.deltas);
  if (whole.response) {
    CHECK(whole.response->text == bytewise.response->text);
    CHECK(whole.response->text == sevens.response->text);
    std::string joined;
    for (const auto& d : whole.deltas) {
      joined += d;
    }
    CHECK(joined == whole.response->text);
  }
  return whole;
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
  SECTION("null content without tool calls is no answer; an empty string is an empty answer") {
    for (std::string_view body :
         {R"({"choices": [{"message": {"role": "assistant", "content": null},
              "finish_reason": "stop"}]})",
          R"({"choices": [{"message": {"role": "assistant"}, "finish_reason": "length"}]})"}) {
      auto r = wire::decode_openai_response(body);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == llm::errc::invalid_response);
      CHECK(r.error().message.find("no answer") != std::string::npos);
      CHECK(r.error().message.find("content is null or absent") != std::string::npos);
    }
    auto empty = wire::decode_openai_response(
        R"({"choices": [{"message": {"content": ""}, "finish_reason": "stop"}]})");
    REQUIRE(empty);
    CHECK(empty->text.empty());
    CHECK(empty->finish_reason == llm::finish_reason::stop);

    // A content filter or a refusal stands in for the missing text.
    auto filtered = wire::decode_openai_response(
        R"({"choices": [{"message": {"content": null}, "finish_reason": "content_filter"}]})");
    REQUIRE(filtered);
    CHECK(filtered->finish_reason == llm::finish_reason::content_filter);
    auto refused = wire::decode_openai_response(
        R"({"choices": [{"message": {"content": null, "refusal": "I can't help with that."},
            "finish_reason": "stop"}]})");
    REQUIRE(refused);
    CHECK(refused->text == "I can't help with that.");
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

  // Blocks but none that answers (only thinking) is no answer; an empty
  // content array or an empty text block is a valid, empty answer.
  auto thinking_only = wire::decode_anthropic_response(
      R"({"type": "message", "content": [{"type": "thinking", "thinking": "hmm",
          "signature": "s"}], "stop_reason": "max_tokens"})");
  REQUIRE_FALSE(thinking_only);
  CHECK(thinking_only.error().code == llm::errc::invalid_response);
  CHECK(thinking_only.error().message.find("no text or tool_use block") != std::string::npos);
  for (std::string_view body : {R"({"type": "message", "content": [], "stop_reason": "end_turn"})",
                                R"({"type": "message", "content": [{"type": "text", "text": ""}],
            "stop_reason": "end_turn"})"}) {
    auto empty = wire::decode_anthropic_response(body);
    REQUIRE(empty);
    CHECK(empty->text.empty());
    CHECK(empty->tool_calls.empty());
  }
}

TEST_CASE("wire: recorded OpenAI streams, whole and byte by byte", "[llm]") {
  SECTION("text, stop, usage chunk with empty choices") {
    auto d = decode_checked<wire::openai_stream_decoder>(fixture("openai/chat_text_stop.sse"));
    REQUIRE(d.response);
    CHECK(d.response->text ==
          "I'm unable to provide real-time weather updates. To get the current weather in San "
          "Francisco, I recommend checking a reliable weather website or a weather app.");
    CHECK(d.response->finish_reason == llm::finish_reason::stop);
    CHECK(d.response->id == "chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL");
    CHECK(d.response->model == "gpt-4o-2024-08-06");
    CHECK(d.response->usage.prompt_tokens == 14);
    CHECK(d.response->usage.completion_tokens == 30);
    CHECK(d.response->usage.total_tokens == 44);
    CHECK_FALSE(d.response->usage.estimated);
  }
  SECTION("a tool call whose arguments arrive in pieces") {
    auto d = decode_checked<wire::openai_stream_decoder>(fixture("openai/chat_tool_call.sse"));
    REQUIRE(d.response);
    CHECK(d.response->text.empty());
    REQUIRE(d.response->tool_calls.size() == 1);
    CHECK(d.response->tool_calls[0].id == "call_c91SqDXlYFuETYv8mUHzz6pp");
    CHECK(d.response->tool_calls[0].name == "GetWeatherArgs");
    CHECK(d.response->tool_calls[0].arguments ==
          json({{"city", "Edinburgh"}, {"country", "UK"}, {"units", "c"}}));
    CHECK(d.response->finish_reason == llm::finish_reason::tool_calls);
    CHECK(d.response->usage.total_tokens == 100);
  }
  SECTION("cut off by max_tokens") {
    auto d = decode_checked<wire::openai_stream_decoder>(fixture("openai/chat_length_cutoff.sse"));
    REQUIRE(d.response);
    CHECK(d.response->text == "{\"");
    CHECK(d.response->finish_reason == llm::finish_reason::length);
    CHECK(d.response->usage.completion_tokens == 1);
  }
  SECTION("a stream without the usage chunk and without [DONE] after finish_reason") {
    auto d = decode_checked<wire::openai_stream_decoder>(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    REQUIRE(d.response);
    CHECK(d.response->text == "Hi");
    CHECK(d.response->usage.estimated);
  }
  SECTION("a stream cut before any end is an error, never a partial answer") {
    std::string stream = fixture("openai/chat_text_stop.sse");
    stream.resize(stream.size() / 2);
    stream.resize(stream.rfind("\n\n") + 2);
    auto d = decode_checked<wire::openai_stream_decoder>(stream);
    REQUIRE_FALSE(d.response);
    CHECK(d.response.error().code == llm::errc::invalid_response);
    CHECK_FALSE(d.deltas.empty());
  }
  SECTION("a complete stream that never carried content nor tool calls is no answer") {
    auto d = decode_checked<wire::openai_stream_decoder>(
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n"
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},"
        "\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n");
    REQUIRE_FALSE(d.response);
    CHECK(d.response.error().code == llm::errc::invalid_response);
    CHECK(d.response.error().message.find("no answer") != std::string::npos);

    auto empty = decode_checked<wire::openai_stream_decoder>(
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"}}]}\n\n"
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},"
        "\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n");
    REQUIRE(empty.response);
    CHECK(empty.response->text.empty());
  }
  SECTION("truncated JSON in an event") {
    auto d = decode_checked<wire::openai_stream_decoder>(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\n\n");
    REQUIRE_FALSE(d.response);
    CHECK(d.response.error().code == llm::errc::invalid_response);
  }
  SECTION("an error object mid-stream is classified") {
    auto d = decode_checked<wire::openai_stream_decoder>(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
        "data: {\"error\":{\"type\":\"server_error\",\"message\":\"boom\"}}\n\n");
    REQUIRE_FALSE(d.response);
    CHECK(d.response.error().code == llm::errc::server_error);
    CHECK(d.response.error().message.find("boom") != std::string::npos);
  }
  SECTION("tool arguments that never become JSON") {
    auto d = decode_checked<wire::openai_stream_decoder>(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
        "\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":\"}}]}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
        "data: [DONE]\n\n");
    REQUIRE_FALSE(d.response);
    CHECK(d.response.error().code == llm::errc::invalid_response);
  }
}

TEST_CASE("wire: recorded Anthropic streams, whole and byte by byte", "[llm]") {
  SECTION("one text block") {
    auto d =
        decode_checked<wire::anthropic_stream_decoder>(fixture("anthropic/basic_response.txt"));
    REQUIRE(d.response);
    CHECK(d.response->text == "Hello there!");
    CHECK(d.deltas == std::vector<std::string>{"Hello", " there", "!"});
    CHECK(d.response->finish_reason == llm::finish_reason::stop);
    CHECK(d.response->raw_finish_reason == "end_turn");
    CHECK(d.response->model == "claude-3-opus-latest");
    CHECK(d.response->usage.prompt_tokens == 11);
    CHECK(d.response->usage.completion_tokens == 6);
    CHECK(d.response->usage.total_tokens == 17);
    CHECK(d.response->provider == "anthropic");
  }
  SECTION("text, ping, then a tool_use block with split JSON") {
    auto d =
        decode_checked<wire::anthropic_stream_decoder>(fixture("anthropic/tool_use_response.txt"));
    REQUIRE(d.response);
    CHECK(d.response->text == "I'll check the current weather in Paris for you.");
    REQUIRE(d.response->tool_calls.size() == 1);
    CHECK(d.response->tool_calls[0].id == "toolu_01NRLabsLyVHZPKxbKvkfSMn");
    CHECK(d.response->tool_calls[0].name == "get_weather");
    CHECK(d.response->tool_calls[0].arguments == json({{"location", "Paris"}}));
    CHECK(d.response->finish_reason == llm::finish_reason::tool_calls);
    CHECK(d.response->usage.prompt_tokens == 377);
    CHECK(d.response->usage.completion_tokens == 65);
  }
  SECTION("a refusal") {
    auto d =
        decode_checked<wire::anthropic_stream_decoder>(fixture("anthropic/refusal_response.txt"));
    REQUIRE(d.response);
    CHECK(d.response->text.empty());
    CHECK(d.response->finish_reason == llm::finish_reason::content_filter);
    CHECK(d.response->raw_finish_reason == "refusal");
  }
  SECTION("an error event mid-stream is classified (overloaded)") {
    std::string stream = fixture("anthropic/basic_response.txt");
    const auto cut = stream.find("event: content_block_stop");
    REQUIRE(cut != std::string::npos);
    stream = stream.substr(0, cut) +
             "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": "
             "\"overloaded_error\", \"message\": \"Overloaded\"}}\n\n";
    auto d = decode_checked<wire::anthropic_stream_decoder>(stream);
    REQUIRE_FALSE(d.response);
    CHECK(d.response.error().code == llm::errc::overloaded);
    CHECK(d.response.error().message.find("Overloaded") != std::string::npos);
    CHECK(d.deltas.size() == 3);  // the text already streamed stays streamed
  }
  SECTION("a stream without message_stop is incomplete") {
    std::string stream = fixture("anthropic/basic_response.txt");
    stream.resize(stream.find("event: message_delta"));
    auto d = decode_checked<wire::anthropic_stream_decoder>(stream);
    REQUIRE_FALSE(d.response);
    CHECK(d.response.error().code == llm::errc::invalid_response);
  }
  SECTION("a stream whose only block is thinking carries no answer") {
    auto d = decode_checked<wire::anthropic_stream_decoder>(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\","
        "\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
        "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    REQUIRE_FALSE(d.response);
    CHECK(d.response.error().code == llm::errc::invalid_response);
    CHECK(d.response.error().message.find("no text or tool_use block") != std::string::npos);
  }
  SECTION("events out of order") {
    auto d = decode_checked<wire::anthropic_stream_decoder>(
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n");
    REQUIRE_FALSE(d.response);
    CHECK(d.response.error().code == llm::errc::invalid_response);
  }
}
