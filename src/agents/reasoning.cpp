#include "grove/agents/reasoning.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "grove/agents/errc.hpp"

namespace grove::agents {
namespace asio = boost::asio;
namespace {

constexpr std::string_view answer_style =
    "Reason step by step, briefly. End with a line of the form 'Answer: <final answer>'.";

llm::chat_request make_request(std::string system, std::string user, double temperature,
                               std::uint32_t max_tokens, bool json_mode = false) {
  llm::chat_request r;
  r.messages = {llm::message::system(std::move(system)), llm::message::user(std::move(user))};
  r.temperature = temperature;
  r.max_tokens = max_tokens;
  r.json_mode = json_mode;
  return r;
}

std::string with_context(const std::string& question, const std::string& context) {
  if (context.empty()) {
    return "Question:\n" + question;
  }
  return "Context (may help):\n" + context + "\n\nQuestion:\n" + question;
}

agent_output failed(std::string agent, grove::error error, std::string evidence = {}) {
  agent_output o;
  o.agent = std::move(agent);
  o.ok = false;
  o.confidence = 0.0;
  o.error = std::move(error);
  o.evidence = std::move(evidence);
  return o;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
    s.remove_suffix(1);
  }
  return s;
}

// The first balanced {...} or [...] span starting at an opening bracket, with
// strings respected; empty when none closes.
std::string_view balanced_from(std::string_view text, std::size_t start) {
  char open = text[start];
  char close = open == '{' ? '}' : ']';
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = start; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == open) {
      ++depth;
    } else if (c == close && --depth == 0) {
      return text.substr(start, i - start + 1);
    }
  }
  return {};
}

// Every JSON value embedded in `text` that starts with one of `openers`.
std::vector<nlohmann::json> embedded_json(std::string_view text, std::string_view openers) {
  std::vector<nlohmann::json> found;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (openers.find(text[i]) == std::string_view::npos) {
      continue;
    }
    auto span = balanced_from(text, i);
    if (span.empty()) {
      continue;
    }
    auto j = nlohmann::json::parse(span, nullptr, false);
    if (!j.is_discarded()) {
      found.push_back(std::move(j));
      i += span.size() - 1;
    }
  }
  return found;
}

std::optional<double> number_in(const nlohmann::json& v) {
  if (v.is_number()) {
    return v.get<double>();
  }
  if (v.is_string()) {
    try {
      std::size_t used = 0;
      double d = std::stod(v.get<std::string>(), &used);
      return d;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

bool has_digit(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

std::optional<double> parse_judge_score(std::string_view reply) {
  // 1. A JSON object with "score".
  for (const auto& j : embedded_json(reply, "{")) {
    if (j.is_object() && j.contains("score")) {
      if (auto s = number_in(j["score"]); s && *s >= 0.0 && *s <= 1.0 && std::isfinite(*s)) {
        return *s;
      }
    }
  }
  // 2. "score: 0.8", "score = 8/10", "Score: 0.75".
  std::string lower(reply);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::size_t at = lower.find("score");
  while (at != std::string::npos) {
    std::size_t i = at + 5;
    while (i < lower.size() && (lower[i] == ' ' || lower[i] == ':' || lower[i] == '=' ||
                                lower[i] == '"' || lower[i] == '*')) {
      ++i;
    }
    std::size_t end = i;
    while (end < lower.size() &&
           (std::isdigit(static_cast<unsigned char>(lower[end])) != 0 || lower[end] == '.')) {
      ++end;
    }
    if (end > i) {
      try {
        double value = std::stod(lower.substr(i, end - i));
        if (end + 1 < lower.size() && lower[end] == '/') {
          std::size_t d_end = end + 1;
          while (d_end < lower.size() && std::isdigit(static_cast<unsigned char>(lower[d_end]))) {
            ++d_end;
          }
          if (d_end > end + 1) {
            double denominator = std::stod(lower.substr(end + 1, d_end - end - 1));
            if (denominator > 0) {
              value /= denominator;
            }
          }
        }
        if (value >= 0.0 && value <= 1.0) {
          return value;
        }
      } catch (const std::exception&) {
      }
    }
    at = lower.find("score", at + 5);
  }
  return std::nullopt;
}

double heuristic_score(std::string_view question, std::string_view answer) {
  auto text = trim(answer);
  if (text.empty()) {
    return 0.05;
  }
  double score = 0.45;
  if (text.size() < 8) {
    score -= 0.15;
  }
  if (has_digit(question) && !has_digit(text)) {
    score -= 0.2;
  }
  std::string lower(text.substr(0, 200));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.find("i cannot") != std::string::npos || lower.find("i can't") != std::string::npos ||
      lower.find("as an ai") != std::string::npos) {
    score -= 0.2;
  }
  if (lower.find("answer:") != std::string::npos || text.find("Answer:") != std::string::npos) {
    score += 0.15;
  }
  return std::clamp(score, 0.05, 0.6);
}

asio::awaitable<grove::result<judge_verdict>> judge_answer(llm_session& session,
                                                           std::string_view question,
                                                           std::string_view answer,
                                                           const judge_options& options,
                                                           reasoning_stats& stats) {
  auto request = make_request(
      "You grade answers. Reply with only a JSON object {\"score\": s, \"reason\": r} where s "
      "is a number from 0 (wrong or useless) to 1 (certainly correct and complete).",
      "Question:\n" + std::string(question) + "\n\nAnswer to grade:\n" + std::string(answer),
      options.temperature, options.max_tokens, /*json_mode=*/true);
  ++stats.judge_calls;
  auto reply = co_await session.chat(std::move(request));
  if (!reply) {
    co_return grove::fail(std::move(reply).error());
  }
  judge_verdict verdict;
  if (auto score = parse_judge_score(reply->text)) {
    verdict.score = *score;
    auto objects = embedded_json(reply->text, "{");
    for (const auto& j : objects) {
      if (j.is_object() && j.contains("reason") && j["reason"].is_string()) {
        verdict.reason = j["reason"].get<std::string>();
        break;
      }
    }
  } else {
    ++stats.judge_fallbacks;
    verdict.fallback = true;
    verdict.score = heuristic_score(question, answer);
    verdict.reason = "judge reply unparsable; heuristic score";
  }
  co_return verdict;
}

std::vector<std::string> parse_subproblems(std::string_view reply, std::size_t max,
                                           bool& used_fallback) {
  used_fallback = false;
  std::vector<std::string> items;
  auto take_array = [&](const nlohmann::json& array) {
    for (const auto& v : array) {
      std::string text;
      if (v.is_string()) {
        text = v.get<std::string>();
      } else if (v.is_object()) {
        for (const char* key : {"question", "problem", "text", "description"}) {
          if (v.contains(key) && v[key].is_string()) {
            text = v[key].get<std::string>();
            break;
          }
        }
      }
      if (!trim(text).empty() && items.size() < max) {
        items.emplace_back(trim(text));
      }
    }
  };

  // 1. JSON: an object with a known key, or a bare array.
  for (const auto& j : embedded_json(reply, "{[")) {
    if (j.is_object()) {
      for (const char* key : {"subproblems", "sub_problems", "steps", "subquestions"}) {
        if (j.contains(key) && j[key].is_array()) {
          take_array(j[key]);
          break;
        }
      }
    } else if (j.is_array()) {
      take_array(j);
    }
    if (!items.empty()) {
      return items;
    }
  }

  // 2. Numbered or bulleted lines: "1. ...", "2) ...", "- ...", "* ...".
  used_fallback = true;
  std::size_t pos = 0;
  while (pos <= reply.size() && items.size() < max) {
    std::size_t end = reply.find('\n', pos);
    auto line = trim(reply.substr(pos, end == std::string_view::npos ? reply.npos : end - pos));
    std::size_t skip = 0;
    while (skip < line.size() && std::isdigit(static_cast<unsigned char>(line[skip])) != 0) {
      ++skip;
    }
    bool numbered = skip > 0 && skip < line.size() && (line[skip] == '.' || line[skip] == ')');
    bool bullet = !line.empty() && (line[0] == '-' || line[0] == '*');
    if (numbered || bullet) {
      auto text = trim(line.substr(numbered ? skip + 1 : 1));
      if (!text.empty()) {
        items.emplace_back(text);
      }
    }
    if (end == std::string_view::npos) {
      break;
    }
    pos = end + 1;
  }
  return items;
}

std::vector<std::string> hrm_options::validate() const {
  std::vector<std::string> p;
  if (min_subproblems < 1 || min_subproblems > max_subproblems || max_subproblems > 8) {
    p.push_back("min_subproblems/max_subproblems: " + std::to_string(min_subproblems) + "/" +
                std::to_string(max_subproblems) + "; accepted: 1 <= min <= max <= 8");
  }
  if (max_parallel < 1) {
    p.push_back("max_parallel: 0; accepted: >= 1");
  }
  if (!(temperature >= 0.0 && temperature <= 2.0)) {
    p.push_back("temperature: " + std::to_string(temperature) + "; accepted: 0 to 2");
  }
  if (max_tokens < 16) {
    p.push_back("max_tokens: " + std::to_string(max_tokens) + "; accepted: >= 16");
  }
  return p;
}

std::vector<std::string> trm_options::validate() const {
  std::vector<std::string> p;
  if (max_rounds > 10) {
    p.push_back("max_rounds: " + std::to_string(max_rounds) + "; accepted: 0 to 10");
  }
  if (!(min_improvement >= 0.0 && min_improvement <= 1.0)) {
    p.push_back("min_improvement: " + std::to_string(min_improvement) + "; accepted: 0 to 1");
  }
  if (!(temperature >= 0.0 && temperature <= 2.0)) {
    p.push_back("temperature: " + std::to_string(temperature) + "; accepted: 0 to 2");
  }
  if (max_tokens < 16) {
    p.push_back("max_tokens: " + std::to_string(max_tokens) + "; accepted: >= 16");
  }
  return p;
}

asio::awaitable<agent_output> run_hrm(llm_session& session, std::string question,
                                      std::string context, hrm_options options, judge_options judge,
                                      reasoning_stats& stats) {
  // 1. Decompose.
  auto plan = co_await session.chat(make_request(
      "You split problems into independent sub-problems. Reply with only a JSON object "
      "{\"subproblems\": [\"...\", ...]} holding " +
          std::to_string(options.min_subproblems) + " to " +
          std::to_string(options.max_subproblems) + " short sub-problems.",
      with_context(question, context), options.temperature, options.max_tokens, true));
  if (!plan) {
    co_return failed("hrm", std::move(plan).error(), "decomposition call failed");
  }
  bool fallback = false;
  auto parts = parse_subproblems(plan->text, options.max_subproblems, fallback);
  if (fallback) {
    ++stats.decomposition_fallbacks;
  }
  if (parts.empty()) {
    // A plan with nothing usable: the question itself is the one sub-problem.
    parts.push_back(question);
  }

  // 2. Answer the sub-problems, at most max_parallel at once.
  std::vector<std::string> answers(parts.size());
  auto executor = co_await asio::this_coro::executor;
  auto answer_one = [&](std::size_t i) -> asio::awaitable<grove::result<void>> {
    auto reply = co_await session.chat(make_request(
        std::string("Solve this sub-problem of a larger question. ") + std::string(answer_style),
        with_context(question, context) + "\n\nSub-problem:\n" + parts[i], options.temperature,
        options.max_tokens));
    if (!reply) {
      co_return grove::fail(std::move(reply).error());
    }
    answers[i] = reply->text;
    co_return grove::result<void>{};
  };
  for (std::size_t first = 0; first < parts.size(); first += options.max_parallel) {
    std::size_t last = std::min(parts.size(), first + options.max_parallel);
    using op = decltype(asio::co_spawn(executor, answer_one(0), asio::deferred));
    std::vector<op> ops;
    for (std::size_t i = first; i < last; ++i) {
      ops.push_back(asio::co_spawn(executor, answer_one(i), asio::deferred));
    }
    auto [order, exceptions, outcomes] =
        co_await asio::experimental::make_parallel_group(std::move(ops))
            .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    (void)order;
    for (auto& e : exceptions) {
      if (e) {
        std::rethrow_exception(e);
      }
    }
    for (auto& outcome : outcomes) {
      if (!outcome) {
        co_return failed("hrm", std::move(outcome).error(), "a sub-problem call failed");
      }
    }
  }

  // 3. Compose.
  std::string notes;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    notes += "Sub-problem " + std::to_string(i + 1) + ": " + parts[i] + "\nFinding: " + answers[i] +
             "\n\n";
  }
  auto composed = co_await session.chat(
      make_request(std::string("Combine the findings into one answer to the question. ") +
                       std::string(answer_style),
                   with_context(question, context) + "\n\nFindings:\n" + notes, options.temperature,
                   options.max_tokens));
  if (!composed) {
    co_return failed("hrm", std::move(composed).error(), "composition call failed");
  }

  // 4. Judge.
  auto verdict = co_await judge_answer(session, question, composed->text, judge, stats);
  if (!verdict) {
    co_return failed("hrm", std::move(verdict).error(), "judge call failed");
  }
  agent_output out;
  out.agent = "hrm";
  out.ok = true;
  out.answer = composed->text;
  out.confidence = verdict->score;
  out.evidence = std::to_string(parts.size()) + " sub-problems" +
                 (fallback ? " (prose plan)" : "") + (verdict->fallback ? "; heuristic score" : "");
  co_return out;
}

asio::awaitable<agent_output> run_trm(llm_session& session, std::string question,
                                      std::string context, trm_options options, judge_options judge,
                                      reasoning_stats& stats, std::string seed_answer) {
  const std::string agent = seed_answer.empty() ? "trm" : "refine";
  // 1. Draft (or start from the given answer).
  std::string current = std::move(seed_answer);
  if (current.empty()) {
    auto draft = co_await session.chat(
        make_request(std::string("Answer the question. ") + std::string(answer_style),
                     with_context(question, context), options.temperature, options.max_tokens));
    if (!draft) {
      co_return failed(agent, std::move(draft).error(), "draft call failed");
    }
    current = draft->text;
  }
  auto verdict = co_await judge_answer(session, question, current, judge, stats);
  if (!verdict) {
    co_return failed(agent, std::move(verdict).error(), "judge call failed");
  }
  std::string best = current;
  double best_score = verdict->score;
  double last_score = verdict->score;

  // 2. Critique and refine until the score stops improving.
  std::uint32_t rounds = 0;
  std::string stop = "round limit";
  while (rounds < options.max_rounds) {
    auto critique = co_await session.chat(
        make_request("You review answers. List concrete mistakes or gaps; say 'no issues' if none.",
                     with_context(question, context) + "\n\nAnswer:\n" + current,
                     options.temperature, options.max_tokens));
    if (!critique) {
      stop = "critique failed: " + critique.error().describe();
      break;
    }
    auto refined = co_await session.chat(make_request(
        std::string("Improve the answer using the review. ") + std::string(answer_style),
        with_context(question, context) + "\n\nAnswer:\n" + current + "\n\nReview:\n" +
            critique->text,
        options.temperature, options.max_tokens));
    if (!refined) {
      stop = "refine failed: " + refined.error().describe();
      break;
    }
    ++rounds;
    auto score = co_await judge_answer(session, question, refined->text, judge, stats);
    if (!score) {
      stop = "judge failed: " + score.error().describe();
      break;
    }
    current = refined->text;
    if (score->score > best_score) {
      best = current;
      best_score = score->score;
    }
    double gain = score->score - last_score;
    last_score = score->score;
    if (gain <= options.min_improvement) {
      stop =
          "improvement " + std::to_string(gain) + " <= " + std::to_string(options.min_improvement);
      break;
    }
  }

  agent_output out;
  out.agent = agent;
  out.ok = true;
  out.answer = best;
  out.confidence = best_score;
  out.evidence = std::to_string(rounds) + " refinement rounds; stopped: " + stop;
  co_return out;
}

asio::awaitable<synthesis_result> synthesize(llm_session& session, std::string question,
                                             std::vector<agent_output> outputs, double temperature,
                                             std::uint32_t max_tokens) {
  auto ranked = ranked_outputs(outputs);
  synthesis_result result;
  if (ranked.empty()) {
    result.fallback = true;
    result.note = "no successful output to synthesize";
    co_return result;
  }
  if (ranked.size() > 4) {
    ranked.resize(4);
  }
  std::string candidates;
  double total = 0.0;
  for (const auto* o : ranked) {
    total += o->confidence;
  }
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    double weight = total > 0.0 ? ranked[i]->confidence / total : 1.0 / ranked.size();
    candidates += "Candidate " + std::to_string(i + 1) + " (from " + ranked[i]->agent +
                  ", weight " + std::to_string(weight).substr(0, 4) + "):\n" + ranked[i]->answer +
                  "\n\n";
  }
  auto merged = co_await session.chat(
      make_request(std::string("Merge the candidate answers into one answer. Trust candidates "
                               "in proportion to their weight; where they disagree, prefer "
                               "the higher weight unless its reasoning is wrong. ") +
                       std::string(answer_style),
                   "Question:\n" + question + "\n\n" + candidates, temperature, max_tokens),
      llm_session::call_kind::final);
  if (!merged || trim(merged->text).empty()) {
    result.answer = ranked.front()->answer;
    result.fallback = true;
    result.note =
        merged ? "synthesis returned an empty answer; best output returned as is"
               : "synthesis failed (" + merged.error().describe() + "); best output returned as is";
    co_return result;
  }
  result.answer = merged->text;
  co_return result;
}

std::string final_number(std::string_view text) {
  auto is_alpha = [&](std::size_t at) {
    return at < text.size() && std::isalpha(static_cast<unsigned char>(text[at])) != 0;
  };
  auto is_digit = [&](std::size_t at) {
    return at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])) != 0;
  };
  std::string last;
  std::size_t i = 0;
  while (i < text.size()) {
    if (is_digit(i)) {
      // Digits glued to a letter on the left, or to a letter followed by a digit on
      // the right, are part of a word such as a hex digest ("a034", "0d94ff"), not a
      // number; units stay numbers ("5km", "3rd").
      const bool in_word = (i > 0 && is_alpha(i - 1));
      std::size_t start = i;
      std::string digits;
      while (i < text.size() &&
             (is_digit(i) || ((text[i] == ',' || text[i] == '.') && is_digit(i + 1)))) {
        if (text[i] != ',') {
          digits += text[i];
        }
        ++i;
      }
      if (in_word || (is_alpha(i) && is_digit(i + 1))) {
        while (is_alpha(i) || is_digit(i)) {
          ++i;  // skip the rest of the word
        }
        continue;
      }
      if (start > 0 && text[start - 1] == '-') {
        digits.insert(digits.begin(), '-');
      }
      if (auto dot = digits.find('.'); dot != std::string::npos) {
        while (digits.back() == '0') {
          digits.pop_back();
        }
        if (digits.back() == '.') {
          digits.pop_back();
        }
      }
      last = digits;
    } else {
      ++i;
    }
  }
  return last;
}

}  // namespace grove::agents
