#include "grove/agents/strategy_search.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <sstream>

#include "grove/agents/errc.hpp"
// TODO: async_search.hpp (branch core) aggregate-initialises async_driver without
// all its members, which g++ 12 flags under -Wextra; remove the pragma once the
// header initialises them (reported to the core helper).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "grove/core/async_search.hpp"
#pragma GCC diagnostic pop

namespace grove::agents {
namespace asio = boost::asio;
namespace {

constexpr std::uint16_t refine_action = 0xFFFF;
constexpr std::uint16_t max_depth = 3;

// One evaluated node: its answer and judge score.
struct evaluation {
  bool ok = false;
  std::string answer;
  double score = 0.0;
};

// Shared by the domain's evaluations of one search (all on the request's strand).
struct search_context {
  llm_session* session = nullptr;
  const std::string* question = nullptr;
  const std::string* context = nullptr;
  const strategy_search_options* options = nullptr;
  const judge_options* judge = nullptr;
  reasoning_stats* stats = nullptr;
  const node_context* ctx = nullptr;
  std::atomic<bool> stop{false};
  std::uint32_t evaluations = 0;
  std::uint32_t failed = 0;
  grove::error last_error;
  // Keyed by (strategy, depth).
  std::map<std::pair<int, int>, evaluation> results;
};

struct strategy_state {
  std::int16_t strategy = -1;
  std::uint16_t depth = 0;
};

class strategy_domain {
 public:
  using state_type = strategy_state;
  using action_type = std::uint16_t;
  static constexpr int num_players = 1;

  explicit strategy_domain(search_context& c) : c_(&c) {}

  void legal_actions(const state_type& s, std::vector<action_type>& out) const {
    out.clear();
    if (s.depth == 0) {
      for (std::size_t i = 0; i < c_->options->strategies.size(); ++i) {
        out.push_back(static_cast<action_type>(i));
      }
    } else {
      out.push_back(refine_action);
    }
  }
  void apply(state_type& s, action_type a) const {
    if (s.depth == 0) {
      s.strategy = static_cast<std::int16_t>(a);
    }
    ++s.depth;
  }
  bool is_terminal(const state_type& s) const { return s.depth >= max_depth; }
  int player_to_move(const state_type&) const { return 0; }
  double terminal_value(const state_type& s) const {
    auto it = c_->results.find({s.strategy, max_depth - 1});
    return it != c_->results.end() && it->second.ok ? 2.0 * it->second.score - 1.0 : -1.0;
  }
  asio::awaitable<double> async_evaluate(const state_type& s, std::uint64_t) const {
    co_return co_await evaluate_async(*c_, s);
  }

 private:
  static asio::awaitable<double> evaluate_async(search_context& c, strategy_state s);
  search_context* c_;
};

asio::awaitable<double> strategy_domain::evaluate_async(search_context& c, strategy_state s) {
  const auto& strategy = c.options->strategies[static_cast<std::size_t>(s.strategy)];
  const std::string& question = *c.question;
  std::string user = c.context->empty()
                         ? "Question:\n" + question
                         : "Context (may help):\n" + *c.context + "\n\nQuestion:\n" + question;
  llm::chat_request request;
  request.temperature = c.options->temperature;
  request.max_tokens = c.options->max_tokens;
  std::string label = strategy.name;
  if (s.depth == 1) {
    request.messages = {
        llm::message::system(strategy.instruction +
                             " End with a line of the form 'Answer: <final answer>'."),
        llm::message::user(user)};
  } else {
    auto parent = c.results.find({s.strategy, s.depth - 1});
    std::string base = parent != c.results.end() ? parent->second.answer : std::string();
    label += "/refine";
    request.messages = {
        llm::message::system("Check the answer below for mistakes and give an improved, "
                             "complete answer. End with a line of the form 'Answer: <final "
                             "answer>'."),
        llm::message::user(user + "\n\nAnswer to improve:\n" + base)};
  }

  evaluation e;
  auto reply = co_await c.session->chat(std::move(request));
  // Two statements, not a conditional expression: g++ 12 miscompiles co_await
  // inside ?: (the temporaries are destroyed twice).
  grove::result<judge_verdict> verdict = grove::fail(reply ? grove::error{} : reply.error());
  if (reply) {
    verdict = co_await judge_answer(*c.session, question, reply->text, *c.judge, *c.stats);
  }
  ++c.evaluations;
  if (verdict) {
    e.ok = true;
    e.answer = reply->text;
    e.score = verdict->score;
  } else {
    ++c.failed;
    c.last_error = verdict.error();
    if (verdict.error().code == errc::budget_exhausted) {
      c.stop.store(true);
    }
  }
  c.ctx->strategy_iteration(label, e.score, c.evaluations);
  c.results[{s.strategy, s.depth}] = e;
  co_return e.ok ? 2.0 * e.score - 1.0 : -1.0;
}

std::string dot_label(const std::string& text) {
  std::string out;
  for (char ch : text) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
    }
    out += ch;
  }
  return out;
}

}  // namespace

std::vector<prompt_strategy> default_strategies() {
  return {
      {"direct", "Answer the question directly and concisely."},
      {"decomposition",
       "Break the question into smaller steps, solve each step, then combine them."},
      {"refinement", "Write a first answer, check it critically, then give a corrected answer."},
      {"analogy", "Recall a similar, simpler problem, solve that, and apply the same method here."},
      {"adversarial",
       "Propose an answer, then argue against it as a sceptic, and give the answer that "
       "survives the objections."},
  };
}

std::vector<std::string> strategy_search_options::validate() const {
  std::vector<std::string> p;
  if (strategies.empty() || strategies.size() > 64) {
    p.push_back("strategies: " + std::to_string(strategies.size()) + " entries; accepted: 1..64");
  }
  std::set<std::string> names;
  for (const auto& s : strategies) {
    if (s.name.empty() || s.instruction.empty() || !names.insert(s.name).second) {
      p.push_back("strategies: '" + s.name +
                  "' is empty, duplicate or has no instruction; accepted: unique names with "
                  "instructions");
    }
  }
  if (max_evaluations < 1 || max_evaluations > 1000) {
    p.push_back("max_evaluations: " + std::to_string(max_evaluations) + "; accepted: 1..1000");
  }
  if (max_in_flight < 1 || max_in_flight > 64) {
    p.push_back("max_in_flight: " + std::to_string(max_in_flight) + "; accepted: 1..64");
  }
  if (!(exploration >= 0.0)) {
    p.push_back("exploration: " + std::to_string(exploration) + "; accepted: >= 0");
  }
  if (!(temperature >= 0.0 && temperature <= 2.0)) {
    p.push_back("temperature: " + std::to_string(temperature) + "; accepted: 0 to 2");
  }
  if (max_tokens < 16) {
    p.push_back("max_tokens: " + std::to_string(max_tokens) + "; accepted: >= 16");
  }
  return p;
}

asio::awaitable<strategy_search_result> run_strategy_search(
    llm_session& session, std::string question, std::string context,
    strategy_search_options options, judge_options judge, reasoning_stats& stats,
    const node_context& ctx) {
  search_context c;
  c.session = &session;
  c.question = &question;
  c.context = &context;
  c.options = &options;
  c.judge = &judge;
  c.stats = &stats;
  c.ctx = &ctx;

  core::search_options engine_options;
  engine_options.max_iterations = options.max_evaluations;
  engine_options.exploration = options.exploration;
  engine_options.seed = options.seed;
  engine_options.max_in_flight = options.max_in_flight;
  engine_options.cache_capacity = 0;
  // With a budget of a few evaluations per strategy, visit counts often tie;
  // the tie then goes to the higher mean judge score, not the first strategy.
  engine_options.final = core::final_choice::robust;
  engine_options.solver = false;
  engine_options.cancel = &c.stop;
  core::search<strategy_domain> engine(strategy_domain(c), engine_options);
  auto found = co_await core::async_run(engine, strategy_state{});

  // Per-strategy statistics from the root's children.
  strategy_search_result result;
  result.evaluations = c.evaluations;
  result.failed_evaluations = c.failed;
  result.stop = std::string(core::to_string(found.stop));
  for (std::size_t i = 0; i < options.strategies.size(); ++i) {
    strategy_stats s;
    s.name = options.strategies[i].name;
    for (const auto& child : found.children) {
      if (child.action == i) {
        s.visits = child.visits;
        s.mean_score = (child.mean + 1.0) / 2.0;
      }
    }
    auto first = c.results.find({static_cast<int>(i), 1});
    auto refined = c.results.find({static_cast<int>(i), 2});
    if (first != c.results.end() && first->second.ok) {
      s.best_score = first->second.score;
    }
    if (refined != c.results.end()) {
      s.refined = true;
      s.refined_score = refined->second.ok ? refined->second.score : 0.0;
      s.best_score = std::max(s.best_score, s.refined_score);
    }
    result.strategies.push_back(std::move(s));
  }

  // The best answer inside the chosen strategy's subtree (or anywhere, when
  // the chosen one has none).
  int chosen = found.has_action ? static_cast<int>(found.best_action) : -1;
  const evaluation* best = nullptr;
  int best_strategy = -1;
  for (int pass = 0; pass < 2 && best == nullptr; ++pass) {
    for (const auto& [key, e] : c.results) {
      if (!e.ok || (pass == 0 && key.first != chosen)) {
        continue;
      }
      if (best == nullptr || e.score > best->score) {
        best = &e;
        best_strategy = key.first;
      }
    }
  }
  result.output.agent = "search";
  if (best == nullptr) {
    result.output.ok = false;
    result.output.error = c.evaluations == 0 ? grove::error{make_error_code(errc::budget_exhausted),
                                                            "no evaluation ran", ""}
                                             : c.last_error;
    result.output.evidence = "strategy search: every evaluation failed";
  } else {
    result.best_strategy = options.strategies[static_cast<std::size_t>(best_strategy)].name;
    result.output.ok = true;
    result.output.answer = best->answer;
    result.output.confidence = best->score;
    result.output.evidence = "strategy search: " + std::to_string(c.evaluations) +
                             " evaluations, best strategy " + result.best_strategy;
  }

  std::ostringstream dot;
  dot << "digraph \"strategies\" {\n  node [shape=box, style=rounded];\n"
      << "  root [label=\"question\"];\n";
  for (std::size_t i = 0; i < result.strategies.size(); ++i) {
    const auto& s = result.strategies[i];
    dot << "  s" << i << " [label=\"" << dot_label(s.name) << "\\nvisits " << s.visits << ", mean "
        << std::to_string(s.mean_score).substr(0, 4) << "\""
        << (s.name == result.best_strategy ? ", penwidth=2" : "") << "];\n";
    dot << "  root -> s" << i << ";\n";
    if (s.refined) {
      dot << "  r" << i << " [label=\"refine\\nscore "
          << std::to_string(s.refined_score).substr(0, 4) << "\"];\n  s" << i << " -> r" << i
          << ";\n";
    }
  }
  dot << "}\n";
  result.dot = dot.str();
  co_return result;
}

}  // namespace grove::agents
