#include "reason_app.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "grove/agents/cassette.hpp"
#include "grove/agents/reasoning.hpp"
#include "grove/llm/config.hpp"
#include "grove/llm/offline.hpp"
#include "provider_setup.hpp"

namespace grove::reason {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// Reads typed fields from one JSON object and collects every problem.
class reader {
 public:
  reader(const nlohmann::json& object, std::string prefix, std::vector<std::string>& problems)
      : object_(object), prefix_(std::move(prefix)), problems_(problems) {
    if (!object_.is_object()) {
      problems_.push_back(prefix_ + ": expected a JSON object");
    }
  }

  template <class T>
  void field(const char* key, T& out) {
    seen_.push_back(key);
    if (!object_.is_object() || !object_.contains(key)) {
      return;
    }
    const auto& v = object_[key];
    try {
      if constexpr (std::is_same_v<T, bool>) {
        if (!v.is_boolean()) {
          throw std::invalid_argument("a boolean");
        }
      } else if constexpr (std::is_arithmetic_v<T>) {
        if (!v.is_number()) {
          throw std::invalid_argument("a number");
        }
        if constexpr (std::is_unsigned_v<T>) {
          if (v.get<double>() < 0) {
            throw std::invalid_argument("a non-negative number");
          }
        }
      } else {
        if (!v.is_string()) {
          throw std::invalid_argument("a string");
        }
      }
      out = v.get<T>();
    } catch (const std::exception& e) {
      problems_.push_back(prefix_ + key + ": " + v.dump() + "; accepted: " + e.what());
    }
  }

  void millis(const char* key, std::chrono::milliseconds& out) {
    std::int64_t ms = out.count();
    field(key, ms);
    out = std::chrono::milliseconds(ms);
  }

  const nlohmann::json* object(const char* key) {
    seen_.push_back(key);
    if (!object_.is_object() || !object_.contains(key)) {
      return nullptr;
    }
    return &object_[key];
  }

  void finish() {
    if (!object_.is_object()) {
      return;
    }
    for (const auto& [key, value] : object_.items()) {
      if (std::find(seen_.begin(), seen_.end(), key) == seen_.end()) {
        problems_.push_back(prefix_ + key + ": unknown key");
      }
    }
  }

 private:
  const nlohmann::json& object_;
  std::string prefix_;
  std::vector<std::string>& problems_;
  std::vector<std::string> seen_;
};

std::string fixed(double value, int digits = 2) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(digits);
  out << value;
  return out.str();
}

}  // namespace

grove::result<void> apply_config_json(const nlohmann::json& json, app_config& config) {
  std::vector<std::string> problems;
  reader top(json, "", problems);
  top.field("provider", config.provider);
  top.field("base_url", config.base_url);
  top.field("model", config.model);
  std::string key_env;
  top.field("api_key_env", key_env);
  if (!key_env.empty()) {
    config.api_key = env(key_env.c_str());
  }
  top.field("record", config.record_path);
  top.field("replay", config.replay_path);
  top.field("concurrency", config.concurrency);
  auto& p = config.pipeline;
  top.millis("agent_deadline_ms", p.agent_deadline);
  top.field("max_query_chars", p.query.max_chars);
  if (const auto* j = top.object("budget")) {
    reader r(*j, "budget.", problems);
    r.field("max_calls", p.budget.max_calls);
    r.field("max_tokens", p.budget.max_tokens);
    r.millis("max_wall_time_ms", p.budget.max_wall_time);
    r.finish();
  }
  if (const auto* j = top.object("consensus")) {
    reader r(*j, "consensus.", problems);
    r.field("threshold", p.consensus.threshold);
    r.field("max_passes", p.consensus.max_passes);
    r.finish();
  }
  if (const auto* j = top.object("search")) {
    reader r(*j, "search.", problems);
    r.field("max_evaluations", p.search.max_evaluations);
    r.field("max_in_flight", p.search.max_in_flight);
    r.field("exploration", p.search.exploration);
    r.field("seed", p.search.seed);
    r.field("temperature", p.search.temperature);
    if (const auto* list = r.object("strategies")) {
      if (!list->is_array()) {
        problems.push_back("search.strategies: expected an array");
      } else {
        p.search.strategies.clear();
        for (const auto& item : *list) {
          agents::prompt_strategy s;
          reader sr(item, "search.strategies[].", problems);
          sr.field("name", s.name);
          sr.field("instruction", s.instruction);
          sr.finish();
          p.search.strategies.push_back(std::move(s));
        }
      }
    }
    r.finish();
  }
  if (const auto* j = top.object("hrm")) {
    reader r(*j, "hrm.", problems);
    r.field("min_subproblems", p.hrm.min_subproblems);
    r.field("max_subproblems", p.hrm.max_subproblems);
    r.field("max_parallel", p.hrm.max_parallel);
    r.field("temperature", p.hrm.temperature);
    r.field("max_tokens", p.hrm.max_tokens);
    r.finish();
  }
  if (const auto* j = top.object("trm")) {
    reader r(*j, "trm.", problems);
    r.field("max_rounds", p.trm.max_rounds);
    r.field("min_improvement", p.trm.min_improvement);
    r.field("temperature", p.trm.temperature);
    r.field("max_tokens", p.trm.max_tokens);
    r.finish();
  }
  if (const auto* j = top.object("judge")) {
    reader r(*j, "judge.", problems);
    r.field("temperature", p.judge.temperature);
    r.field("max_tokens", p.judge.max_tokens);
    r.finish();
  }
  top.finish();
  if (!problems.empty()) {
    std::string message = "invalid configuration:";
    for (const auto& line : problems) {
      message += "\n  - " + line;
    }
    return grove::fail(std::make_error_code(std::errc::invalid_argument), message);
  }
  return {};
}

grove::result<void> load_config_file(const std::string& path, app_config& config) {
  std::ifstream in(path);
  if (!in) {
    return grove::fail(std::make_error_code(std::errc::no_such_file_or_directory),
                       "cannot read the config file", path);
  }
  auto json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded()) {
    return grove::fail(std::make_error_code(std::errc::invalid_argument),
                       "the config file is not valid JSON", path);
  }
  return apply_config_json(json, config);
}

void apply_environment(app_config& config) {
  // Only "replay" is grove-reason's own; every other provider setting is read
  // by grove::llm::config_from_environment in make_provider.
  if (config.provider.empty() && env("GROVE_LLM_PROVIDER") == "replay") {
    config.provider = "replay";
  }
}

grove::result<provider_choice> make_provider(const app_config& config,
                                             boost::asio::any_io_executor executor) {
  provider_choice choice;
  std::string provider = config.provider;
  if (provider.empty() && !config.replay_path.empty()) {
    provider = "replay";
  }
  if (provider == "replay") {
    if (config.replay_path.empty()) {
      return grove::fail(std::make_error_code(std::errc::invalid_argument),
                         "provider 'replay' needs a cassette (--replay FILE)");
    }
    auto replay = agents::replaying_client::load(config.replay_path);
    if (!replay) {
      return grove::fail(std::move(replay).error());
    }
    choice.client = *replay;
    choice.offline = true;
    choice.notice =
        "grove-reason: replaying recorded answers from " + config.replay_path + " (no network)";
  } else {
    // The environment (GROVE_LLM_*), then the config file and flags: the same
    // rules as grove-chat (examples/common).
    auto setup = examples::resolve_provider({.provider = provider,
                                             .base_url = config.base_url,
                                             .model = config.model,
                                             .api_key = config.api_key});
    if (!setup) {
      return grove::fail(std::move(setup).error());
    }
    auto client = llm::make_chat_client(setup->config, std::move(executor));
    if (!client) {
      return grove::fail(std::move(client).error());
    }
    choice.client = *client;
    choice.offline = setup->config.provider == llm::provider_kind::offline;
    choice.notice = examples::provider_notice(*setup, "grove-reason");
  }

  if (!config.record_path.empty()) {
    auto recorder = agents::recording_client::open(choice.client, config.record_path);
    if (!recorder) {
      return grove::fail(std::move(recorder).error());
    }
    choice.client = *recorder;
  }
  return choice;
}

grove::result<void> write_text_file(const std::string& path, std::string_view text) {
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    const int why = errno;
    return grove::fail(std::make_error_code(std::errc::io_error),
                       "cannot open the file for writing" +
                           (why != 0 ? ": " + std::generic_category().message(why) : std::string()),
                       path);
  }
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.flush();
  if (!out) {
    return grove::fail(std::make_error_code(std::errc::io_error),
                       "writing the file failed (disk full?)", path);
  }
  return {};
}

std::optional<std::string> expected_number(std::string_view answer_field) {
  auto at = answer_field.rfind("#### ");
  std::string_view tail = at == std::string_view::npos ? answer_field : answer_field.substr(at + 5);
  std::string number;
  for (char c : tail) {
    if (c == ',') {
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      if (number.empty()) {
        continue;
      }
      break;
    }
    number += c;
  }
  if (number.empty()) {
    return std::nullopt;
  }
  char* end = nullptr;
  std::strtod(number.c_str(), &end);
  if (end == nullptr || *end != '\0') {
    return std::nullopt;
  }
  return number;
}

std::string predicted_number(std::string_view answer) {
  auto at = answer.rfind("Answer:");
  if (at != std::string_view::npos) {
    auto n = agents::final_number(answer.substr(at));
    if (!n.empty()) {
      return n;
    }
  }
  return agents::final_number(answer);
}

bool same_number(const std::string& a, const std::string& b) {
  char* end_a = nullptr;
  char* end_b = nullptr;
  double x = std::strtod(a.c_str(), &end_a);
  double y = std::strtod(b.c_str(), &end_b);
  if (a.empty() || b.empty() || *end_a != '\0' || *end_b != '\0') {
    return false;
  }
  return std::fabs(x - y) <= 1e-6;
}

std::string summary_text(const agents::request_result& r) {
  std::ostringstream out;
  out << "agents:";
  for (const auto& o : r.outputs) {
    // Streamed piece by piece: g++ 12 at -O2 warns falsely (-Wrestrict) about
    // `"@" + std::to_string(n)` here.
    out << "  " << o.agent;
    if (o.pass > 1) {
      out << '@' << o.pass;
    }
    out << ' ';
    if (o.ok) {
      out << fixed(o.confidence);
    } else {
      out << "failed (" << o.error.describe() << ')';
    }
  }
  out << "\n";
  if (r.search) {
    out << "strategies:";
    for (const auto& s : r.search->strategies) {
      out << "  " << s.name << " " << s.visits << "x/";
      out << (s.visits > 0 ? fixed(s.mean_score) : std::string("-"));
    }
    out << "  (chosen: " << r.search->best_strategy << ")\n";
  }
  out << "confidence " << fixed(r.confidence)
      << (r.consensus_reached ? " (consensus)" : " (below threshold)") << ", passes " << r.passes
      << ", calls " << r.usage.calls << " (+" << r.usage.deduplicated << " deduplicated, "
      << r.usage.failed << " failed), tokens " << r.usage.total_tokens << ", time "
      << fixed(static_cast<double>(r.elapsed.count()) / 1e9, 2) << " s\n";
  if (r.stopped_by != agents::budget_limit::none) {
    out << "budget: stopped by the " << agents::to_string(r.stopped_by) << " limit\n";
  }
  if (r.synthesis_fallback) {
    out << "synthesis: " << r.synthesis_note << "\n";
  }
  if (r.reasoning.judge_fallbacks > 0) {
    out << "judge: " << r.reasoning.judge_fallbacks << " of " << r.reasoning.judge_calls
        << " replies unparsable (heuristic scores used)\n";
  }
  if (!r.sources.empty()) {
    out << "sources:";
    for (const auto& s : r.sources) {
      out << "  " << s.source;
    }
    out << "\n";
  }
  if (r.retrieval_failed) {
    out << "retrieval failed; answered without context\n";
  }
  return out.str();
}

std::string strategy_tree_text(const agents::request_result& r) {
  if (!r.search) {
    return "strategy tree: no strategy search ran (consensus reached without it)\n";
  }
  // Every simulation passes through one strategy; one that revisits a refined
  // answer costs no model call, so simulations can outnumber evaluations.
  std::uint64_t simulations = 0;
  for (const auto& s : r.search->strategies) {
    simulations += s.visits;
  }
  std::ostringstream out;
  out << "question  (" << simulations << " simulations, " << r.search->evaluations
      << " evaluations, stop: " << r.search->stop << ")\n";
  for (std::size_t i = 0; i < r.search->strategies.size(); ++i) {
    const auto& s = r.search->strategies[i];
    bool last = i + 1 == r.search->strategies.size();
    out << (last ? "`-- " : "|-- ") << s.name << "  visits " << s.visits;
    if (s.visits > 0) {
      out << ", mean " << fixed(s.mean_score) << ", best " << fixed(s.best_score);
    }
    out << (s.name == r.search->best_strategy ? "  <- chosen" : "") << "\n";
    if (s.refined) {
      out << (last ? "    " : "|   ") << "`-- refine  score " << fixed(s.refined_score) << "\n";
    }
  }
  return out.str();
}

}  // namespace grove::reason
