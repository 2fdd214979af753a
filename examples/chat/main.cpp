// grove-chat: sends one prompt to the configured LLM provider and prints the
// answer, the token usage and which provider answered.
//
// The provider comes from the environment (GROVE_LLM_PROVIDER, GROVE_LLM_BASE_URL,
// GROVE_LLM_MODEL, OPENAI_API_KEY / ANTHROPIC_API_KEY, GROVE_LLM_API_KEY_FILE;
// see docs/llm.md), overridden by the flags, by the rules grove-reason uses
// too (examples/common/provider_setup.hpp). With nothing set it is `offline`,
// which answers locally with labelled canned text and never uses the network.
// Empty, whitespace-only and invalid UTF-8 prompts are refused before any call.
//
// Examples:
//   grove-chat "What is Monte Carlo tree search?"
//   grove-chat --stream --base-url http://127.0.0.1:8080 --model qwen2.5 "Hello"
//   grove-chat --json "Rate this plan from 0 to 1 as JSON: ..."
//
// Exit status: 0 on an answer, 1 when the call failed, 2 for a bad prompt or
// bad configuration.

// g++ 12 at -O2 reports a false -Wmismatched-new-delete for Asio's coroutine
// frames (they pair a custom operator new with the matching operator delete).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "command_line.hpp"
#include "grove/llm/config.hpp"
#include "grove/obs/log.hpp"
#include "provider_setup.hpp"

namespace llm = grove::llm;

namespace {

struct options {
  std::string prompt;
  std::string system;
  std::string provider;
  std::string base_url;
  std::string model;
  std::optional<double> temperature;
  std::optional<std::uint32_t> max_tokens;
  bool stream = false;
  bool json_mode = false;
  bool print_json = false;
  bool verbose = false;
};

void print_result(const llm::chat_response& r, const options& opts) {
  if (opts.print_json) {
    nlohmann::json calls = nlohmann::json::array();
    for (const auto& call : r.tool_calls) {
      calls.push_back({{"id", call.id}, {"name", call.name}, {"arguments", call.arguments}});
    }
    const nlohmann::json out = {{"text", r.text},
                                {"tool_calls", calls},
                                {"finish_reason", std::string(llm::to_string(r.finish_reason))},
                                {"provider", r.provider},
                                {"model", r.model},
                                {"offline", r.offline},
                                {"from_cache", r.from_cache},
                                {"attempts", r.attempts},
                                {"usage",
                                 {{"prompt_tokens", r.usage.prompt_tokens},
                                  {"completion_tokens", r.usage.completion_tokens},
                                  {"total_tokens", r.usage.total_tokens},
                                  {"estimated", r.usage.estimated}}}};
    std::cout << out.dump(2) << '\n';
    return;
  }
  if (!opts.stream) {
    std::cout << r.text;
  }
  std::cout << "\n\n--\n"
            << "provider: " << r.provider << (r.offline ? " (offline: no model was called)" : "")
            << "\nmodel:    " << r.model << "\nusage:    prompt " << r.usage.prompt_tokens
            << ", completion " << r.usage.completion_tokens << ", total " << r.usage.total_tokens
            << (r.usage.estimated ? " (estimated)" : "")
            << "\nfinish:   " << llm::to_string(r.finish_reason) << '\n';
}

boost::asio::awaitable<void> run(std::shared_ptr<llm::chat_client> client, options opts,
                                 int& status) {
  llm::chat_request request;
  if (!opts.system.empty()) {
    request.messages.push_back(llm::message::system(opts.system));
  }
  request.messages.push_back(llm::message::user(opts.prompt));
  request.temperature = opts.temperature;
  request.max_tokens = opts.max_tokens;
  request.json_mode = opts.json_mode;
  if (opts.stream && !opts.print_json) {
    request.on_text = [](std::string_view delta) {
      std::cout << delta;
      std::cout.flush();
    };
  }
  auto answer = co_await client->async_chat(std::move(request));
  if (answer) {
    print_result(*answer, opts);
    status = 0;
  } else {
    std::cerr << "grove-chat: " << answer.error().describe() << '\n';
    status = 1;
  }
  co_await client->async_close();
}

}  // namespace

int main(int argc, char** argv) {
  options opts;
  CLI::App app{"Send one prompt to the configured LLM provider (offline unless configured).",
               "grove-chat"};
  app.add_option("prompt", opts.prompt, "The prompt")->required();
  app.add_option("--system", opts.system, "A system prompt");
  app.add_option("--provider", opts.provider, "offline, openai or anthropic");
  app.add_option("--base-url", opts.base_url,
                 "API root, e.g. http://127.0.0.1:8080/v1 (implies openai when no provider)");
  app.add_option("--model", opts.model, "Model name");
  app.add_option("--temperature", opts.temperature, "Sampling temperature");
  app.add_option("--max-tokens", opts.max_tokens, "Upper bound on generated tokens");
  app.add_flag("--stream", opts.stream, "Print the answer as it arrives");
  app.add_flag("--json", opts.json_mode, "Ask the model for a JSON object (JSON mode)");
  app.add_flag("--print-json", opts.print_json, "Print the whole response as JSON");
  app.add_flag("-v,--verbose", opts.verbose, "Log calls, attempts and retries to stderr");
  if (auto exit_code = grove::examples::parse_command_line(app, argc, argv)) {
    return *exit_code;
  }

  // Bad prompts are refused before anything is configured or sent.
  if (auto checked = grove::examples::check_prompt(opts.prompt); !checked) {
    std::cerr << "grove-chat: prompt: " << checked.error().describe() << '\n';
    return 2;
  }
  auto setup = grove::examples::resolve_provider(
      {.provider = opts.provider, .base_url = opts.base_url, .model = opts.model});
  if (!setup) {
    std::cerr << "grove-chat: " << setup.error().describe() << '\n';
    return 2;
  }
  llm::llm_config& config = setup->config;
  if (opts.verbose) {
    auto logger = grove::obs::make_logger({.level = grove::obs::log_level::debug});
    if (!logger) {
      std::cerr << "grove-chat: " << logger.error().describe() << '\n';
      return 2;
    }
    config.logger = *logger;
  }

  boost::asio::io_context io;
  auto client = llm::make_chat_client(config, io.get_executor());
  if (!client) {
    std::cerr << "grove-chat: " << client.error().describe() << '\n';
    return 2;
  }
  int status = 1;
  boost::asio::co_spawn(io, run(*client, opts, status), boost::asio::detached);
  io.run();
  return status;
}
