// See exposition_checker.hpp.
#include "exposition_checker.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace grove::obs::testing {
namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

bool valid_metric_name(std::string_view name) {
  if (name.empty() || !(is_name_start(name[0]) || name[0] == ':')) {
    return false;
  }
  for (char c : name) {
    if (!is_name_char(c) && c != ':') {
      return false;
    }
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || !is_name_start(name[0]) || name.starts_with("__")) {
    return false;
  }
  for (char c : name) {
    if (!is_name_char(c)) {
      return false;
    }
  }
  return true;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::optional<double> parse_value(std::string_view text) {
  if (text == "NaN") {
    return std::nan("");
  }
  if (text == "+Inf" || text == "Inf") {
    return HUGE_VAL;
  }
  if (text == "-Inf") {
    return -HUGE_VAL;
  }
  if (text.empty()) {
    return std::nullopt;
  }
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return std::nullopt;
    }
  }
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || errno == ERANGE) {
    return std::nullopt;
  }
  return value;
}

struct sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // unescaped values
  double value = 0;
};

// Parses `name{l="v",...} value [timestamp]`; returns an error message or "".
std::string parse_sample(std::string_view line, sample& out) {
  std::size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') {
    ++i;
  }
  out.name = std::string(line.substr(0, i));
  if (!valid_metric_name(out.name)) {
    return "invalid metric name \"" + out.name + "\"";
  }
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      const std::size_t start = i;
      while (i < line.size() && line[i] != '=') {
        ++i;
      }
      const std::string label(line.substr(start, i - start));
      if (!valid_label_name(label)) {
        return "invalid label name \"" + label + "\"";
      }
      if (i + 1 >= line.size() || line[i + 1] != '"') {
        return "label value of \"" + label + "\" is not quoted";
      }
      i += 2;
      std::string value;
      for (;;) {
        if (i >= line.size()) {
          return "unterminated label value";
        }
        const char c = line[i];
        if (c == '"') {
          ++i;
          break;
        }
        if (c == '\\') {
          if (i + 1 >= line.size()) {
            return "dangling backslash in a label value";
          }
          const char next = line[i + 1];
          if (next == '\\') {
            value += '\\';
          } else if (next == '"') {
            value += '"';
          } else if (next == 'n') {
            value += '\n';
          } else {
            return std::string("invalid escape \\") + next + " in a label value";
          }
          i += 2;
          continue;
        }
        value += c;
        ++i;
      }
      for (const auto& [existing, ignored] : out.labels) {
        if (existing == label) {
          return "label \"" + label + "\" repeated";
        }
      }
      out.labels.emplace_back(label, value);
      if (i < line.size() && line[i] == ',') {
        ++i;
        if (i < line.size() && line[i] == '}') {
          return "trailing comma in the label set";
        }
      } else if (i >= line.size() || line[i] != '}') {
        return "expected , or } after a label value";
      }
    }
    if (i >= line.size()) {
      return "unterminated label set";
    }
    ++i;  // '}'
  }
  if (i >= line.size() || line[i] != ' ') {
    return "expected a space before the value";
  }
  ++i;
  std::string_view rest = line.substr(i);
  const std::size_t space = rest.find(' ');
  const std::string_view value_text = rest.substr(0, space);
  const auto value = parse_value(value_text);
  if (!value) {
    return "invalid value \"" + std::string(value_text) + "\"";
  }
  out.value = *value;
  if (space != std::string_view::npos) {
    const std::string_view timestamp = rest.substr(space + 1);
    if (timestamp.empty() || timestamp.find_first_not_of("-0123456789") != std::string_view::npos) {
      return "invalid timestamp";
    }
  }
  return "";
}

bool valid_help_escapes(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      if (i + 1 >= text.size() || (text[i + 1] != '\\' && text[i + 1] != 'n')) {
        return false;
      }
      ++i;
    }
  }
  return true;
}

struct histogram_series {
  std::vector<std::pair<double, double>> buckets;  // (le, cumulative count)
  std::optional<double> sum;
  std::optional<double> count;
};

struct family_state {
  std::string type;
  bool help = false;
  bool has_samples = false;
  std::map<std::string, histogram_series> histograms;  // by label set without le
};

std::string series_key(const std::vector<std::pair<std::string, std::string>>& labels,
                       bool skip_le) {
  std::vector<std::pair<std::string, std::string>> sorted;
  for (const auto& label : labels) {
    if (!(skip_le && label.first == "le")) {
      sorted.push_back(label);
    }
  }
  std::sort(sorted.begin(), sorted.end());
  std::string key;
  for (const auto& [name, value] : sorted) {
    key += name + "=\"" + value + "\"\x1f";
  }
  return key;
}

}  // namespace

std::vector<std::string> check_exposition(std::string_view text) {
  std::vector<std::string> problems;
  std::map<std::string, family_state> families;
  std::set<std::string> closed;  // families whose lines have ended
  std::set<std::string> series;
  std::string current;

  const auto problem = [&](std::size_t line_number, const std::string& what) {
    problems.push_back("line " + std::to_string(line_number) + ": " + what);
  };
  const auto enter = [&](std::size_t line_number, const std::string& family) {
    if (family == current) {
      return;
    }
    if (closed.count(family) != 0) {
      problem(line_number, "lines of family " + family + " are not contiguous");
    }
    if (!current.empty()) {
      closed.insert(current);
    }
    current = family;
  };

  if (!text.empty() && text.back() != '\n') {
    problems.push_back("the text does not end with a newline");
  }
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    end = end == std::string_view::npos ? text.size() : end;
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;

    if (line.empty()) {
      problem(line_number, "blank line");
      continue;
    }
    if (line[0] == '#') {
      const bool help = line.starts_with("# HELP ");
      const bool type = line.starts_with("# TYPE ");
      if (!help && !type) {
        continue;  // an ordinary comment
      }
      const std::string_view rest = line.substr(7);
      const std::size_t space = rest.find(' ');
      if (space == std::string_view::npos) {
        problem(line_number, "HELP/TYPE line without text");
        continue;
      }
      const std::string name(rest.substr(0, space));
      const std::string_view argument = rest.substr(space + 1);
      if (!valid_metric_name(name)) {
        problem(line_number, "invalid metric name \"" + name + "\"");
      }
      enter(line_number, name);
      family_state& family = families[name];
      if (help) {
        if (family.help) {
          problem(line_number, "second HELP for " + name);
        }
        family.help = true;
        if (!valid_help_escapes(argument)) {
          problem(line_number, "invalid escape in HELP of " + name);
        }
      } else {
        if (!family.type.empty()) {
          problem(line_number, "second TYPE for " + name);
        }
        if (family.has_samples) {
          problem(line_number, "TYPE after samples of " + name);
        }
        if (argument != "counter" && argument != "gauge" && argument != "histogram" &&
            argument != "summary" && argument != "untyped") {
          problem(line_number, "unknown type \"" + std::string(argument) + "\"");
        }
        family.type = std::string(argument);
      }
      continue;
    }

    sample s;
    if (const std::string error = parse_sample(line, s); !error.empty()) {
      problem(line_number, error);
      continue;
    }
    // Which family the sample belongs to.
    std::string family_name = s.name;
    std::string suffix;
    for (std::string_view candidate : {"_bucket", "_sum", "_count"}) {
      if (ends_with(s.name, candidate)) {
        const std::string base = s.name.substr(0, s.name.size() - candidate.size());
        const auto found = families.find(base);
        if (found != families.end() && found->second.type == "histogram") {
          family_name = base;
          suffix = std::string(candidate);
        }
      }
    }
    enter(line_number, family_name);
    family_state& family = families[family_name];
    family.has_samples = true;
    if (!s.name.starts_with("grove_") || s.name.find(':') != std::string::npos) {
      problem(line_number, "metric " + s.name + " is outside the grove_ namespace");
    }
    if (!series.insert(s.name + "|" + series_key(s.labels, false)).second) {
      problem(line_number, "duplicate series " + std::string(line));
    }

    if (family.type == "counter") {
      if (!ends_with(s.name, "_total")) {
        problem(line_number, "counter " + s.name + " does not end in _total");
      }
      if (!(s.value >= 0)) {
        problem(line_number, "counter " + s.name + " is negative or NaN");
      }
    } else if (ends_with(s.name, "_total")) {
      problem(line_number, "non-counter " + s.name + " ends in _total");
    }
    if (family.type == "histogram") {
      if (suffix.empty()) {
        problem(line_number, "histogram sample " + s.name + " is not _bucket, _sum or _count");
        continue;
      }
      histogram_series& h = family.histograms[series_key(s.labels, true)];
      const auto le = std::find_if(s.labels.begin(), s.labels.end(),
                                   [](const auto& label) { return label.first == "le"; });
      if (suffix == "_bucket") {
        if (le == s.labels.end()) {
          problem(line_number, "bucket without le");
          continue;
        }
        const auto bound = parse_value(le->second);
        if (!bound || std::isnan(*bound)) {
          problem(line_number, "invalid le \"" + le->second + "\"");
          continue;
        }
        if (!h.buckets.empty() && !(h.buckets.back().first < *bound)) {
          problem(line_number, "le values not increasing");
        }
        if (!h.buckets.empty() && s.value < h.buckets.back().second) {
          problem(line_number, "bucket counts decrease");
        }
        h.buckets.emplace_back(*bound, s.value);
      } else {
        if (le != s.labels.end()) {
          problem(line_number, "le label on " + s.name);
        }
        (suffix == "_sum" ? h.sum : h.count) = s.value;
      }
    }
  }

  for (const auto& [name, family] : families) {
    if (!family.help) {
      problems.push_back(name + ": no HELP");
    }
    if (family.type.empty()) {
      problems.push_back(name + ": no TYPE");
    }
    for (const auto& [labels, h] : family.histograms) {
      const std::string where = name + "{" + labels + "}";
      if (h.buckets.empty() || !std::isinf(h.buckets.back().first)) {
        problems.push_back(where + ": no +Inf bucket");
      } else if (!h.count || *h.count != h.buckets.back().second) {
        problems.push_back(where + ": _count differs from the +Inf bucket or is missing");
      }
      if (!h.sum) {
        problems.push_back(where + ": no _sum");
      }
    }
  }
  return problems;
}

}  // namespace grove::obs::testing
