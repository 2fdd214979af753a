#include "grove/agents/router.hpp"

#include <cctype>
#include <string>

namespace grove::agents {
namespace {

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool contains_word(const std::string& text, std::string_view word) {
  std::size_t at = 0;
  while ((at = text.find(word, at)) != std::string::npos) {
    bool left = at == 0 || !std::isalpha(static_cast<unsigned char>(text[at - 1]));
    std::size_t end = at + word.size();
    bool right = end >= text.size() || !std::isalpha(static_cast<unsigned char>(text[end]));
    if (left && right) {
      return true;
    }
    at = end;
  }
  return false;
}

bool any_word(const std::string& text, std::initializer_list<std::string_view> words) {
  for (auto w : words) {
    if (contains_word(text, w)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(question_kind kind) noexcept {
  switch (kind) {
    case question_kind::arithmetic:
      return "arithmetic";
    case question_kind::multi_step:
      return "multi_step";
    case question_kind::comparison:
      return "comparison";
    case question_kind::factual:
      return "factual";
    case question_kind::open_ended:
      return "open_ended";
  }
  return "open_ended";
}

query_features extract_features(std::string_view query) {
  query_features f;
  f.chars = query.size();
  bool in_word = false;
  bool in_number = false;
  for (std::size_t i = 0; i < query.size(); ++i) {
    auto c = static_cast<unsigned char>(query[i]);
    bool space = std::isspace(c) != 0;
    if (!space && !in_word) {
      ++f.words;
    }
    in_word = !space;
    bool digit = std::isdigit(c) != 0;
    // "2,125" and "3.5" are one number: a separator between digits continues it.
    bool separator = (c == ',' || c == '.') && in_number && i + 1 < query.size() &&
                     std::isdigit(static_cast<unsigned char>(query[i + 1])) != 0;
    if (digit && !in_number) {
      ++f.numbers;
    }
    in_number = digit || separator;
  }

  const std::string text = lower_ascii(query);
  if (any_word(text, {"compare", "versus", "vs", "better", "difference", "contrast"})) {
    f.kind = question_kind::comparison;
  } else if (f.numbers > 0 &&
             any_word(text, {"how", "many", "much", "total", "calculate", "compute", "sum", "each",
                             "per", "cost", "left", "remaining", "percent"})) {
    f.kind = f.numbers >= 3 ? question_kind::multi_step : question_kind::arithmetic;
  } else if (any_word(text, {"steps", "then", "first", "plan", "after", "before"})) {
    f.kind = question_kind::multi_step;
  } else if (any_word(text, {"who", "when", "where", "which"}) ||
             (contains_word(text, "what") && f.words <= 12)) {
    f.kind = question_kind::factual;
  } else {
    f.kind = question_kind::open_ended;
  }
  return f;
}

std::vector<std::string> rule_router_options::validate() const {
  std::vector<std::string> problems;
  if (multi_step_numbers < 1) {
    problems.push_back("multi_step_numbers: 0; accepted: >= 1");
  }
  if (long_query_words < 1) {
    problems.push_back("long_query_words: 0; accepted: >= 1");
  }
  return problems;
}

route rule_router::decide(const routing_input& input) const {
  route r;
  const auto& f = input.features;
  if (input.pass <= 1) {
    r.trm = true;
    r.hrm = f.numbers >= options_.multi_step_numbers || f.words >= options_.long_query_words ||
            f.kind == question_kind::multi_step || f.kind == question_kind::comparison;
    r.search = options_.search_first;
    r.reason = std::string("pass 1: ") + (r.hrm ? "HRM and TRM" : "TRM only") + " for a " +
               std::string(to_string(f.kind)) + " query of " + std::to_string(f.words) +
               " words and " + std::to_string(f.numbers) + " numbers";
    return r;
  }
  if (!input.search_ran) {
    r.search = true;
    r.reason = "pass " + std::to_string(input.pass) + ": mean confidence " +
               std::to_string(input.mean_confidence) + " below threshold; strategy search";
  } else {
    r.refine = true;
    r.reason = "pass " + std::to_string(input.pass) + ": search already ran; refine the best " +
               "answer (round " + std::to_string(input.refinements + 1) + ")";
  }
  return r;
}

}  // namespace grove::agents
