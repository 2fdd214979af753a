#include "grove/agents/pipeline.hpp"

#include <spdlog/logger.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "grove/agents/errc.hpp"
#include "grove/agents/state_graph.hpp"

namespace grove::agents {
namespace asio = boost::asio;

namespace {

// Everything one request owns while it runs (on its strand).
struct request_state {
  const pipeline_options* options = nullptr;
  const router* decider = nullptr;
  std::unique_ptr<llm_session> session;
  request_result result;
  std::string context;
  query_features features;
  agents::route current_route;
  bool search_ran = false;
  std::uint32_t refinements = 0;
  std::optional<grove::error> failure;
  // Index into result.outputs of the HRM / TRM slot of the current pass.
  std::optional<std::size_t> hrm_slot;
  std::optional<std::size_t> trm_slot;
};

using node_result = asio::awaitable<grove::result<void>>;

std::size_t reserve_slot(request_state& s, std::string agent) {
  agent_output placeholder;
  placeholder.agent = std::move(agent);
  placeholder.ok = false;
  placeholder.error =
      s.options->agent_deadline.count() > 0
          ? grove::error{make_error_code(errc::deadline_exceeded),
                         "did not finish within the agent deadline of " +
                             std::to_string(s.options->agent_deadline.count()) + " ms",
                         ""}
          : grove::error{make_error_code(errc::cancelled), "did not finish", ""};
  placeholder.pass = s.result.passes;
  s.result.outputs.push_back(std::move(placeholder));
  return s.result.outputs.size() - 1;
}

node_result validate_node(request_state& s, node_context&) {
  auto length = validate_query(s.result.question, s.options->query);
  if (!length) {
    co_return grove::fail(std::move(length).error());
  }
  s.features = extract_features(s.result.question);
  co_return grove::result<void>{};
}

node_result retrieve_node(request_state& s, node_context& ctx) {
  if (!s.options->retrieve) {
    co_return grove::result<void>{};
  }
  auto passages = co_await s.options->retrieve(s.result.question, s.options->retrieve_top_k);
  if (!passages) {
    // Retrieval is optional: a store error costs the context, not the request.
    s.result.retrieval_failed = true;
    ctx.note("retrieval failed, continuing without context: " + passages.error().describe());
    if (s.options->logger) {
      s.options->logger->warn("request {}: ignoring retrieval error: {}", ctx.request_id(),
                              passages.error().describe());
    }
    co_return grove::result<void>{};
  }
  for (const auto& p : *passages) {
    s.context += "[" + p.source + "] " + p.text + "\n";
  }
  s.result.sources = std::move(*passages);
  co_return grove::result<void>{};
}

node_result route_node(request_state& s, node_context&) {
  s.result.passes = 1;
  s.current_route = s.decider->decide({.features = s.features, .pass = 1});
  s.result.routes.push_back(s.current_route.reason);
  if (s.current_route.hrm) {
    s.hrm_slot = reserve_slot(s, "hrm");
  }
  if (s.current_route.trm) {
    s.trm_slot = reserve_slot(s, "trm");
  }
  co_return grove::result<void>{};
}

// True when the running node was cancelled: by its deadline or by the
// request's cancellation.
asio::awaitable<bool> node_cancelled() {
  auto state = co_await asio::this_coro::cancellation_state;
  co_return state.cancelled() != asio::cancellation_type::none;
}

node_result hrm_node(request_state& s, node_context&) {
  if (!s.hrm_slot) {
    co_return grove::result<void>{};
  }
  auto out = co_await run_hrm(*s.session, s.result.question, s.context, s.options->hrm,
                              s.options->judge, s.result.reasoning);
  if (co_await node_cancelled()) {
    // A client that answers cancellation with an error value ("cancelled")
    // returns here; the slot keeps its placeholder, which names the deadline.
    co_return grove::result<void>{};
  }
  out.pass = s.result.passes;
  s.result.outputs[*s.hrm_slot] = std::move(out);
  co_return grove::result<void>{};
}

node_result trm_node(request_state& s, node_context&) {
  if (!s.trm_slot) {
    co_return grove::result<void>{};
  }
  auto out = co_await run_trm(*s.session, s.result.question, s.context, s.options->trm,
                              s.options->judge, s.result.reasoning);
  if (co_await node_cancelled()) {
    // A client that answers cancellation with an error value ("cancelled")
    // returns here; the slot keeps its placeholder, which names the deadline.
    co_return grove::result<void>{};
  }
  out.pass = s.result.passes;
  s.result.outputs[*s.trm_slot] = std::move(out);
  co_return grove::result<void>{};
}

node_result consensus_node(request_state& s, node_context&) {
  // An agent cut off by its deadline still holds its "did not finish"
  // placeholder, so it counts as failed with confidence 0.
  auto measured = measure_consensus(s.result.outputs, s.options->consensus);
  if (!measured) {
    co_return grove::fail(std::move(measured).error());
  }
  s.result.confidence = measured->mean_confidence;
  s.result.consensus_reached = measured->reached;
  s.result.stopped_by = s.session->exhausted();
  co_return grove::result<void>{};
}

std::string_view after_consensus(const request_state& s) {
  if (s.result.consensus_reached || s.result.passes >= s.options->consensus.max_passes ||
      s.session->exhausted() != budget_limit::none) {
    return "synthesize";
  }
  return "evidence";
}

node_result evidence_node(request_state& s, node_context& ctx) {
  ++s.result.passes;
  routing_input input;
  input.features = s.features;
  input.pass = s.result.passes;
  input.search_ran = s.search_ran;
  input.refinements = s.refinements;
  input.mean_confidence = s.result.confidence;
  input.succeeded = ranked_outputs(s.result.outputs).size();
  s.current_route = s.decider->decide(input);
  s.result.routes.push_back(s.current_route.reason);

  if (s.current_route.search) {
    s.search_ran = true;
    auto found =
        co_await run_strategy_search(*s.session, s.result.question, s.context, s.options->search,
                                     s.options->judge, s.result.reasoning, ctx);
    found.output.pass = s.result.passes;
    s.result.outputs.push_back(found.output);
    s.result.search = std::move(found);
  } else {
    // Refine the best answer so far: new critique and refinement, never a replay.
    ++s.refinements;
    auto ranked = ranked_outputs(s.result.outputs);
    std::string seed = ranked.empty() ? std::string() : ranked.front()->answer;
    trm_options one_round = s.options->trm;
    one_round.max_rounds = 1;
    auto out = co_await run_trm(*s.session, s.result.question, s.context, one_round,
                                s.options->judge, s.result.reasoning, seed);
    out.pass = s.result.passes;
    s.result.outputs.push_back(std::move(out));
  }
  co_return grove::result<void>{};
}

node_result synthesize_node(request_state& s, node_context&) {
  // Outputs of the latest pass that produced successes carry the most evidence,
  // but every successful output competes on confidence.
  s.result.stopped_by = s.session->exhausted();
  auto merged =
      co_await synthesize(*s.session, s.result.question, s.result.outputs,
                          s.options->synthesis_temperature, s.options->synthesis_max_tokens);
  s.result.answer = std::move(merged.answer);
  s.result.synthesis_fallback = merged.fallback;
  s.result.synthesis_note = std::move(merged.note);
  co_return grove::result<void>{};
}

nlohmann::json error_json(const grove::error& e) {
  return {{"category", e.code ? e.code.category().name() : ""},
          {"code", e.code ? e.code.message() : ""},
          {"message", e.describe()}};
}

}  // namespace

struct pipeline::impl {
  state_graph<request_state> graph;
  rule_router default_router;
  explicit impl(const rule_router_options& rules) : default_router(rules) {}
};

std::vector<std::string> pipeline_options::validate() const {
  std::vector<std::string> problems;
  auto add = [&](std::string_view section, const std::vector<std::string>& found) {
    for (const auto& p : found) {
      problems.push_back(std::string(section) + "." + p);
    }
  };
  add("query", query.validate());
  add("budget", budget.validate());
  add("router_rules", router_rules.validate());
  add("hrm", hrm.validate());
  add("trm", trm.validate());
  add("search", search.validate());
  add("consensus", consensus.validate());
  if (!(judge.temperature >= 0.0 && judge.temperature <= 2.0)) {
    problems.push_back("judge.temperature: " + std::to_string(judge.temperature) +
                       "; accepted: 0 to 2");
  }
  if (judge.max_tokens < 16) {
    problems.push_back("judge.max_tokens: " + std::to_string(judge.max_tokens) +
                       "; accepted: >= 16");
  }
  if (retrieve_top_k < 1 || retrieve_top_k > 64) {
    problems.push_back("retrieve_top_k: " + std::to_string(retrieve_top_k) + "; accepted: 1..64");
  }
  if (agent_deadline.count() < 0) {
    problems.push_back("agent_deadline: negative; accepted: >= 0 ms");
  }
  if (!(synthesis_temperature >= 0.0 && synthesis_temperature <= 2.0)) {
    problems.push_back("synthesis_temperature: " + std::to_string(synthesis_temperature) +
                       "; accepted: 0 to 2");
  }
  if (synthesis_max_tokens < 16) {
    problems.push_back("synthesis_max_tokens: " + std::to_string(synthesis_max_tokens) +
                       "; accepted: >= 16");
  }
  if (max_steps < 8) {
    problems.push_back("max_steps: " + std::to_string(max_steps) + "; accepted: >= 8");
  }
  return problems;
}

pipeline::pipeline(std::shared_ptr<llm::chat_client> client, pipeline_options options)
    : client_(std::move(client)),
      options_(std::move(options)),
      impl_(std::make_unique<impl>(options_.router_rules)) {
  node_options agent_node{.deadline = options_.agent_deadline};
  auto& g = impl_->graph;
  g.add_node("validate", validate_node)
      .add_node("retrieve", retrieve_node)
      .add_node("route", route_node)
      .add_node("hrm", hrm_node, agent_node)
      .add_node("trm", trm_node, agent_node)
      .add_node("consensus", consensus_node)
      .add_node("evidence", evidence_node)
      .add_node("synthesize", synthesize_node)
      .add_edge("validate", "retrieve")
      .add_edge("retrieve", "route")
      .add_fan_out("route", {"hrm", "trm"}, "consensus")
      .add_conditional_edges("consensus", {"evidence", "synthesize"}, after_consensus)
      .add_edge("evidence", "consensus")
      .set_entry("validate");
  // The shape is fixed above; a failure here is a bug in this file.
  g.compile().value();
}

pipeline::~pipeline() = default;

grove::result<std::shared_ptr<pipeline>> pipeline::create(std::shared_ptr<llm::chat_client> client,
                                                          pipeline_options options) {
  auto problems = options.validate();
  if (client == nullptr) {
    problems.insert(problems.begin(), "client: null; accepted: a chat client");
  }
  if (!problems.empty()) {
    std::string message = "invalid pipeline options:";
    for (const auto& p : problems) {
      message += "\n  - " + p;
    }
    return grove::fail(std::make_error_code(std::errc::invalid_argument), std::move(message));
  }
  return std::make_shared<pipeline>(std::move(client), std::move(options));
}

void pipeline::write_dot(std::ostream& out) const { impl_->graph.write_dot(out, "grove_pipeline"); }

asio::awaitable<grove::result<request_result>> pipeline::run(std::string question,
                                                             request_options request) const {
  auto state = std::make_unique<request_state>();
  state->options = &options_;
  state->decider = options_.route ? options_.route.get() : &impl_->default_router;
  state->result.request_id = request.request_id;
  state->result.question = std::move(question);
  state->result.provider = std::string(client_->provider());
  state->result.model = std::string(client_->model());

  // Token events come from the session, outside any node, so they carry their
  // own time since the request began (the graph's clock starts a moment later).
  const event_sink* sink = request.sink ? &request.sink : nullptr;
  const auto started = std::chrono::steady_clock::now();
  state->session = std::make_unique<llm_session>(
      *client_, options_.budget, [sink, started, id = request.request_id](std::uint64_t total) {
        if (sink != nullptr) {
          graph_event e;
          e.kind = event_kind::tokens;
          e.request_id = id;
          e.at = std::chrono::steady_clock::now() - started;
          e.tokens = total;
          (*sink)(e);
        }
      });

  run_options graph_options;
  graph_options.request_id = request.request_id;
  graph_options.max_steps = options_.max_steps;
  graph_options.sink = request.sink;
  graph_options.logger = options_.logger;

  // Each request runs on its own strand: its nodes and fan-out branches
  // interleave there, never in parallel, whatever threads run the context.
  auto executor = co_await asio::this_coro::executor;
  auto strand = asio::make_strand(executor);
  run_report report = co_await asio::co_spawn(
      strand, impl_->graph.run(*state, std::move(graph_options)), asio::use_awaitable);

  auto& result = state->result;
  result.steps = std::move(report.trace);
  result.elapsed = report.elapsed;
  result.usage = state->session->stats();
  result.offline = result.usage.offline || (result.usage.calls == 0 && client_->offline());
  if (result.stopped_by == budget_limit::none) {
    result.stopped_by = state->session->exhausted();
  }
  if (!report.outcome) {
    if (options_.logger) {
      options_.logger->info("request {} failed: {}", request.request_id,
                            report.outcome.error().describe());
    }
    co_return grove::fail(std::move(report.outcome).error());
  }
  if (options_.logger) {
    options_.logger->info("request {} done: {} calls, {} tokens, confidence {:.2f}, {} ms",
                          request.request_id, result.usage.calls, result.usage.total_tokens,
                          result.confidence, report.elapsed.count() / 1'000'000);
  }
  co_return std::move(result);
}

std::string to_json(const request_result& r, bool pretty) {
  nlohmann::json j;
  j["request_id"] = r.request_id;
  j["question"] = r.question;
  j["answer"] = r.answer;
  j["confidence"] = r.confidence;
  j["consensus_reached"] = r.consensus_reached;
  j["passes"] = r.passes;
  j["offline"] = r.offline;
  j["provider"] = r.provider;
  j["model"] = r.model;
  j["synthesis"] = {{"fallback", r.synthesis_fallback}, {"note", r.synthesis_note}};
  j["stopped_by_budget"] = to_string(r.stopped_by);
  auto& outputs = j["agents"] = nlohmann::json::array();
  for (const auto& o : r.outputs) {
    nlohmann::json a{{"agent", o.agent},           {"ok", o.ok},
                     {"confidence", o.confidence}, {"pass", o.pass},
                     {"evidence", o.evidence},     {"answer", o.answer}};
    if (!o.ok) {
      a["error"] = error_json(o.error);
    }
    outputs.push_back(std::move(a));
  }
  j["routes"] = r.routes;
  if (r.search) {
    auto& s = j["search"];
    s["best_strategy"] = r.search->best_strategy;
    s["evaluations"] = r.search->evaluations;
    s["failed_evaluations"] = r.search->failed_evaluations;
    s["stop"] = r.search->stop;
    auto& list = s["strategies"] = nlohmann::json::array();
    for (const auto& st : r.search->strategies) {
      list.push_back({{"name", st.name},
                      {"visits", st.visits},
                      {"mean_score", st.mean_score},
                      {"best_score", st.best_score},
                      {"refined", st.refined},
                      {"refined_score", st.refined_score}});
    }
  }
  nlohmann::json per_provider = nlohmann::json::array();
  for (const auto& p : r.usage.per_provider) {
    per_provider.push_back(
        {{"provider", p.provider}, {"model", p.model}, {"calls", p.calls}, {"tokens", p.tokens}});
  }
  j["usage"] = {{"calls", r.usage.calls},
                {"deduplicated", r.usage.deduplicated},
                {"failed", r.usage.failed},
                {"attempts", r.usage.attempts},
                {"prompt_tokens", r.usage.prompt_tokens},
                {"completion_tokens", r.usage.completion_tokens},
                {"total_tokens", r.usage.total_tokens},
                {"per_provider", std::move(per_provider)}};
  j["judge"] = {{"calls", r.reasoning.judge_calls},
                {"fallbacks", r.reasoning.judge_fallbacks},
                {"decomposition_fallbacks", r.reasoning.decomposition_fallbacks}};
  auto& sources = j["sources"] = nlohmann::json::array();
  for (const auto& p : r.sources) {
    sources.push_back({{"source", p.source}, {"score", p.score}});
  }
  j["retrieval_failed"] = r.retrieval_failed;
  auto& steps = j["nodes"] = nlohmann::json::array();
  for (const auto& s : r.steps) {
    steps.push_back({{"node", s.node}, {"ms", s.duration.count() / 1e6}, {"ok", s.ok}});
  }
  j["elapsed_ms"] = r.elapsed.count() / 1e6;
  return j.dump(pretty ? 2 : -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace grove::agents
