// grove-reason: ask a question, get an answer with its evidence.
//
//   grove-reason "question"                  answer + summary
//   grove-reason --json | --stream | --tree | --dot FILE | --compare "question"
//   grove-reason --interactive
//   grove-reason --questions FILE.jsonl [--concurrency N] [--out results.jsonl] [--resume]
//
// With no provider configured it runs on the offline provider and says so in
// its first line. `grove-reason --help` lists every option.
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "batch.hpp"
#include "command_line.hpp"
#include "grove/agents/llm_session.hpp"
#include "grove/agents/reasoning.hpp"
#include "reason_app.hpp"
#include "storage_flags.hpp"

namespace asio = boost::asio;
using grove::agents::request_result;

namespace {

struct cli_flags {
  std::string question;
  std::string config_path;
  bool json = false;
  bool stream = false;
  bool tree = false;
  std::string dot_path;
  std::string graph_dot_path;
  std::string trace_path;
  bool compare = false;
  bool interactive = false;
  std::string questions_path;
  std::string out_path;
  bool resume = false;
  bool no_progress = false;
  std::optional<std::size_t> concurrency;
  std::optional<std::uint32_t> max_calls;
  std::optional<std::uint64_t> max_tokens;
  std::optional<std::int64_t> max_wall_ms;
  std::optional<std::uint32_t> evaluations;
  std::optional<std::uint32_t> in_flight;
  std::optional<std::uint64_t> seed;
  std::optional<double> threshold;
  std::optional<std::int64_t> agent_deadline_ms;
};

// Runs `work` on `io` (which may hold other work, such as an HTTP client's)
// until it completes, and returns its value.
template <class T>
T run_sync(asio::io_context& io, asio::awaitable<T> work) {
  io.restart();
  std::optional<T> out;
  std::exception_ptr failure;
  asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
    failure = e;
    if (!e) {
      out = std::move(value);
    }
  });
  while (!out && !failure) {
    if (io.run_one() == 0) {
      io.restart();
    }
  }
  if (failure) {
    std::rethrow_exception(failure);
  }
  return std::move(*out);
}

struct baseline_result {
  std::string answer;
  double score = 0.0;
  bool fallback = false;
  std::uint64_t calls = 0;
  std::uint64_t tokens = 0;
  std::string error;
};

// The single-call baseline for --compare: one answer call, then the same judge
// scores it and the pipeline's answer.
asio::awaitable<baseline_result> baseline(grove::llm::chat_client& client, std::string question,
                                          std::string pipeline_answer, double& pipeline_score,
                                          const grove::agents::pipeline_options& options) {
  grove::agents::llm_session session(client, options.budget);
  grove::agents::reasoning_stats stats;
  baseline_result out;
  grove::llm::chat_request request;
  request.messages = {
      grove::llm::message::system("Answer the question. End with a line 'Answer: <final answer>'."),
      grove::llm::message::user("Question:\n" + question)};
  request.temperature = 0.2;
  request.max_tokens = 512;
  auto reply = co_await session.chat(std::move(request));
  if (!reply) {
    out.error = reply.error().describe();
    co_return out;
  }
  out.answer = reply->text;
  auto verdict =
      co_await grove::agents::judge_answer(session, question, out.answer, options.judge, stats);
  if (verdict) {
    out.score = verdict->score;
    out.fallback = verdict->fallback;
  }
  auto mine = co_await grove::agents::judge_answer(session, question, pipeline_answer,
                                                   options.judge, stats);
  pipeline_score = mine ? mine->score : 0.0;
  out.calls = session.stats().calls;
  out.tokens = session.stats().total_tokens;
  co_return out;
}

int ask_one(asio::io_context& io, const grove::agents::pipeline& pipeline, const cli_flags& flags,
            const std::string& question, std::uint64_t id,
            grove::reason::artifact_writer* artifacts) {
  grove::agents::request_trace trace;
  grove::agents::request_options request{.request_id = id, .sink = {}};
  auto printer = [](const grove::agents::graph_event& e) {
    std::cout << grove::agents::to_json_line(e) << std::endl;
  };
  if (flags.stream || !flags.trace_path.empty() || artifacts != nullptr) {
    request.sink =
        trace.sink(flags.stream ? grove::agents::event_sink(printer) : grove::agents::event_sink{});
  }
  auto result = run_sync(io, pipeline.run(question, std::move(request)));
  if (!result) {
    if (flags.json) {
      std::cout << nlohmann::json{{"error", result.error().describe()}}.dump() << "\n";
    }
    std::cerr << "grove-reason: " << result.error().describe() << "\n";
    return 1;
  }
  const request_result& r = *result;

  if (flags.json) {
    std::cout << grove::agents::to_json(r, /*pretty=*/true) << "\n";
  } else if (flags.stream) {
    // The last line is an event too: {"event":"result","result":{...}}.
    std::cout << R"({"event":"result","result":)" << grove::agents::to_json(r) << "}\n";
  } else {
    std::cout << r.answer << "\n\n" << grove::reason::summary_text(r);
  }
  if (flags.tree) {
    std::cout << "\n" << grove::reason::strategy_tree_text(r);
  }
  if (flags.compare) {
    double pipeline_score = 0.0;
    auto base = run_sync(io, baseline(const_cast<grove::llm::chat_client&>(pipeline.client()),
                                      question, r.answer, pipeline_score, pipeline.options()));
    if (!base.error.empty()) {
      std::cout << "\nbaseline failed: " << base.error << "\n";
    } else {
      std::cout << "\n--- single-call baseline (" << base.calls << " calls, " << base.tokens
                << " tokens incl. judging)\n"
                << base.answer << "\n\njudge: baseline " << base.score << "  pipeline "
                << pipeline_score << (base.fallback ? "  (heuristic judge fallback)" : "") << "\n";
    }
  }

  // Files last: the answer is already printed when one cannot be written.
  int status = 0;
  if (!flags.trace_path.empty()) {
    grove::agents::run_report report;
    report.request_id = r.request_id;
    report.steps = static_cast<std::uint32_t>(r.steps.size());
    report.elapsed = r.elapsed;
    report.trace = r.steps;
    if (auto written = trace.write_json_file(flags.trace_path, report); !written) {
      std::cerr << "grove-reason: --trace: " << written.error().describe() << "\n";
      status = 1;
    }
  }
  if (!flags.dot_path.empty()) {
    const std::string dot =
        r.search ? r.search->dot
                 : "digraph \"strategies\" {\n  root [label=\"no strategy search ran\"];\n}\n";
    if (auto written = grove::reason::write_text_file(flags.dot_path, dot); !written) {
      std::cerr << "grove-reason: --dot: " << written.error().describe() << "\n";
      status = 1;
    }
  }
  if (artifacts != nullptr) {
    if (auto saved = artifacts->save(std::to_string(id), r, trace); !saved) {
      std::cerr << "grove-reason: artifacts: " << saved.error().describe() << "\n";
      status = 1;
    } else {
      std::cerr << "grove-reason: artifacts stored in " << artifacts->location() << id << "/\n";
    }
  }
  return status;
}

}  // namespace

namespace {
int run(int argc, char** argv);
}  // namespace

int main(int argc, char** argv) {
  // File streams and the JSON library throw on conditions the checks above
  // them do not foresee (a directory where a file was expected); report them
  // like any other error instead of aborting.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "grove-reason: " << e.what() << "\n";
    return 1;
  }
}

namespace {

int run(int argc, char** argv) {
  CLI::App app{
      "grove-reason: several reasoning agents (HRM, TRM) work on a question at once, a tree "
      "search over prompt strategies gathers more evidence when they disagree, and one answer "
      "comes out with its evidence.\n\nProvider: flags, else GROVE_LLM_PROVIDER (offline, "
      "openai, anthropic, replay), GROVE_LLM_BASE_URL, GROVE_LLM_MODEL, GROVE_LLM_API_KEY_FILE / "
      "OPENAI_API_KEY / ANTHROPIC_API_KEY. With nothing configured: the offline provider "
      "(canned answers), announced on the first line.",
      "grove-reason"};
  grove::reason::app_config config;
  cli_flags flags;
  app.add_option("question", flags.question, "The question to answer");
  app.add_option("--config", flags.config_path,
                 "JSON config file (every option below; keys in docs/agents.md)");
  app.add_option("--provider", config.provider, "offline | openai | anthropic | replay");
  app.add_option("--base-url", config.base_url, "Provider base URL");
  app.add_option("--model", config.model, "Model name");
  app.add_option("--record", config.record_path, "Record every LLM call to this cassette");
  app.add_option("--replay", config.replay_path, "Answer from this cassette (no network)");
  app.add_flag("--json", flags.json, "Print the whole result as JSON");
  app.add_flag("--stream", flags.stream, "Print progress events as JSON lines while running");
  app.add_flag("--tree", flags.tree, "Print the strategy tree");
  app.add_option("--dot", flags.dot_path, "Write the strategy tree as Graphviz DOT to FILE");
  app.add_option("--graph-dot", flags.graph_dot_path,
                 "Write the pipeline graph as Graphviz DOT to FILE");
  app.add_option("--trace", flags.trace_path, "Write the request's JSON trace to FILE");
  app.add_flag("--compare", flags.compare,
               "Also run a single-call baseline and print both with judge scores");
  app.add_flag("--interactive,-i", flags.interactive, "Ask questions in a loop (empty line ends)");
  app.add_option("--questions", flags.questions_path,
                 "Batch mode: JSON-lines file with \"question\" (and \"answer\", \"id\")");
  app.add_option("--out", flags.out_path, "Batch mode: results file (JSON lines)");
  app.add_option("--concurrency", flags.concurrency,
                 "Batch mode: questions at once (1..256, default 4)");
  app.add_flag("--resume", flags.resume,
               "Batch mode: skip ids already answered in --out (failed ones run again)");
  app.add_flag("--no-progress", flags.no_progress, "Batch mode: no progress bar");
  app.add_option("--max-calls", flags.max_calls, "Budget: LLM calls per question (default 60)");
  app.add_option("--max-tokens", flags.max_tokens, "Budget: tokens per question (default 200000)");
  app.add_option("--max-time-ms", flags.max_wall_ms,
                 "Budget: wall time per question in ms (default 300000)");
  app.add_option("--evaluations", flags.evaluations,
                 "Strategy search: simulations (default 10); each costs at most one answer and one "
                 "judge call");
  app.add_option("--in-flight", flags.in_flight,
                 "Strategy search: evaluations at once (default 4)");
  app.add_option("--seed", flags.seed, "Strategy search: seed (default 42)");
  app.add_option("--threshold", flags.threshold, "Consensus threshold (default 0.75)");
  app.add_option("--agent-deadline-ms", flags.agent_deadline_ms,
                 "Deadline for HRM and TRM each, ms (default: none)");
  grove::reason::storage_flags storage;
  grove::reason::add_storage_flags(app, storage);
  if (auto exit_code = grove::examples::parse_command_line(app, argc, argv)) {
    return *exit_code;
  }

  // Configuration: defaults < file < environment < flags.
  if (!flags.config_path.empty()) {
    grove::reason::app_config from_file;
    if (auto loaded = grove::reason::load_config_file(flags.config_path, from_file); !loaded) {
      std::cerr << "grove-reason: " << loaded.error().describe() << "\n";
      return 2;
    }
    auto& c = from_file;
    if (config.provider.empty()) config.provider = c.provider;
    if (config.base_url.empty()) config.base_url = c.base_url;
    if (config.model.empty()) config.model = c.model;
    if (config.record_path.empty()) config.record_path = c.record_path;
    if (config.replay_path.empty()) config.replay_path = c.replay_path;
    if (config.api_key.empty()) config.api_key = c.api_key;
    config.pipeline = c.pipeline;
    config.concurrency = c.concurrency;
  }
  grove::reason::apply_environment(config);
  auto& p = config.pipeline;
  if (flags.max_calls) p.budget.max_calls = *flags.max_calls;
  if (flags.max_tokens) p.budget.max_tokens = *flags.max_tokens;
  if (flags.max_wall_ms) p.budget.max_wall_time = std::chrono::milliseconds(*flags.max_wall_ms);
  if (flags.evaluations) p.search.max_evaluations = *flags.evaluations;
  if (flags.in_flight) p.search.max_in_flight = *flags.in_flight;
  if (flags.seed) p.search.seed = *flags.seed;
  if (flags.threshold) p.consensus.threshold = *flags.threshold;
  if (flags.agent_deadline_ms) {
    p.agent_deadline = std::chrono::milliseconds(*flags.agent_deadline_ms);
  }
  if (flags.concurrency) config.concurrency = *flags.concurrency;
  if (config.concurrency < 1 || config.concurrency > 256) {
    std::cerr << "grove-reason: --concurrency " << config.concurrency << "; accepted: 1..256\n";
    return 2;
  }

  auto artifacts = grove::reason::apply_storage_flags(storage, config.pipeline);
  if (!artifacts) {
    std::cerr << "grove-reason: " << artifacts.error().describe() << "\n";
    return 2;
  }

  asio::io_context io(1);
  auto provider = grove::reason::make_provider(config, io.get_executor());
  if (!provider) {
    std::cerr << "grove-reason: " << provider.error().describe() << "\n";
    return 2;
  }
  auto pipeline = grove::agents::pipeline::create(provider->client, config.pipeline);
  if (!pipeline) {
    std::cerr << "grove-reason: " << pipeline.error().describe() << "\n";
    return 2;
  }

  // The first line says where answers come from (a JSON line in stream mode).
  if (provider->offline || !provider->notice.empty()) {
    if (flags.stream) {
      std::cout << nlohmann::json{{"event", "notice"},
                                  {"offline", provider->offline},
                                  {"message", provider->notice}}
                       .dump()
                << std::endl;
    } else if (flags.json) {
      std::cerr << provider->notice << "\n";
    } else {
      std::cout << provider->notice << "\n";
    }
  }

  if (!flags.graph_dot_path.empty()) {
    // Written before any question runs, so a bad path costs no model call.
    std::ostringstream dot;
    (*pipeline)->write_dot(dot);
    if (auto written = grove::reason::write_text_file(flags.graph_dot_path, dot.str()); !written) {
      std::cerr << "grove-reason: --graph-dot: " << written.error().describe() << "\n";
      return 1;
    }
  }

  if (!flags.questions_path.empty()) {
    if (flags.resume && flags.out_path.empty()) {
      std::cerr << "grove-reason: --resume needs --out FILE (the results to resume from)\n";
      return 2;
    }
    grove::reason::batch_options batch{.questions_path = flags.questions_path,
                                       .out_path = flags.out_path,
                                       .concurrency = config.concurrency,
                                       .resume = flags.resume,
                                       .progress = !flags.no_progress};
    std::size_t artifacts_failed = 0;
    if (*artifacts) {
      batch.on_finished = [&](const std::string& id, const request_result& r,
                              const grove::agents::request_trace& trace) {
        if (auto saved = (*artifacts)->save(id, r, trace); !saved) {
          ++artifacts_failed;
          std::cerr << "grove-reason: artifacts of " << id << ": " << saved.error().describe()
                    << "\n";
        }
      };
    }
    auto summary = grove::reason::run_batch(io, **pipeline, batch, std::cout, std::cerr);
    if (!summary) {
      std::cerr << "grove-reason: " << summary.error().describe() << "\n";
      return 1;
    }
    const auto& s = *summary;
    std::cerr << "batch: " << s.done << " answered, " << s.failed << " failed, " << s.skipped
              << " skipped (resume), " << s.retried << " earlier failures retried, " << s.malformed
              << " malformed lines, " << s.calls << " calls, " << s.tokens << " tokens";
    if (s.graded > 0) {
      std::cerr << ", accuracy " << s.correct << "/" << s.graded << " ("
                << (100.0 * static_cast<double>(s.correct) / static_cast<double>(s.graded)) << "%)";
    }
    std::cerr << (s.interrupted ? " [interrupted; rerun with --resume]" : "") << "\n";
    if (*artifacts) {
      std::cerr << "grove-reason: artifacts stored in " << (*artifacts)->location() << " ("
                << artifacts_failed << " questions could not be stored)\n";
    }
    if (s.interrupted) {
      return 130;
    }
    return s.failed > 0 || artifacts_failed > 0 ? 1 : 0;
  }

  if (flags.interactive) {
    std::string line;
    std::uint64_t id = 0;
    while (std::cout << "> " << std::flush, std::getline(std::cin, line)) {
      if (line.empty() || line == "exit" || line == "quit") {
        break;
      }
      ask_one(io, **pipeline, flags, line, ++id, artifacts->get());
      std::cout << "\n";
    }
    return 0;
  }

  if (flags.question.empty()) {
    std::cerr << "grove-reason: give a question, --questions FILE or --interactive "
                 "(--help lists every option)\n";
    return 2;
  }
  return ask_one(io, **pipeline, flags, flags.question, 1, artifacts->get());
}

}  // namespace
