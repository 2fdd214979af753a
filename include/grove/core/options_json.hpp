// grove/core/options_json.hpp: search_options to and from JSON (nlohmann_json).
//
// A separate header so users of grove::core who never read configuration
// files do not compile nlohmann_json.
//
// Shape: one object with a key per search_options field (same names), enums
// as strings ("puct", "most_visits"), max_time as "max_time_ms" (an integer),
// and an optional "preset" ("fast", ...) that the other keys then override.
// The cancel pointer is not serialised.
//
// Example:
//   {"preset": "thorough", "exploration": 2.0, "policy": "puct", "max_time_ms": 500}
//
// Parsing rejects unknown keys, values of the wrong JSON type, unknown enum
// names and values that search_options::validate() refuses, and reports all
// of them in one error.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "grove/core/presets.hpp"
#include "grove/core/search_options.hpp"
#include "grove/runtime/result.hpp"

namespace grove::core {

/// The JSON object for `options` (every field but cancel).
inline nlohmann::json options_to_json(const search_options& options) {
  return nlohmann::json{
      {"max_iterations", options.max_iterations},
      {"max_time_ms", options.max_time.count()},
      {"max_nodes", options.max_nodes},
      {"max_memory_bytes", options.max_memory_bytes},
      {"policy", std::string(to_string(options.policy))},
      {"exploration", options.exploration},
      {"dirichlet_alpha", options.dirichlet_alpha},
      {"dirichlet_weight", options.dirichlet_weight},
      {"progressive_widening", options.progressive_widening},
      {"widening_k", options.widening_k},
      {"widening_alpha", options.widening_alpha},
      {"final", std::string(to_string(options.final))},
      {"stop_visit_share", options.stop_visit_share},
      {"min_iterations", options.min_iterations},
      {"convergence_threshold", options.convergence_threshold},
      {"convergence_patience", options.convergence_patience},
      {"solver", options.solver},
      {"cache_capacity", options.cache_capacity},
      {"cache_shards", options.cache_shards},
      {"max_in_flight", options.max_in_flight},
      {"virtual_loss", options.virtual_loss},
      {"seed", options.seed},
  };
}

namespace detail {

// Reads one JSON value into a field, or records why it cannot.
class options_reader {
 public:
  explicit options_reader(std::vector<option_error>& errors) : errors_(errors) {}

  template <class T>
  void unsigned_field(const nlohmann::json& value, std::string_view key, T& field) {
    if (value.is_number_unsigned() ||
        (value.is_number_integer() && value.get<std::int64_t>() >= 0)) {
      const auto raw = value.get<std::uint64_t>();
      if (raw > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
        fail(key, value,
             "an integer in [0, " + std::to_string(std::numeric_limits<T>::max()) + "]");
        return;
      }
      field = static_cast<T>(raw);
    } else {
      fail(key, value, "a non-negative integer");
    }
  }

  void number_field(const nlohmann::json& value, std::string_view key, double& field) {
    if (value.is_number()) {
      field = value.get<double>();
    } else {
      fail(key, value, "a number");
    }
  }

  void bool_field(const nlohmann::json& value, std::string_view key, bool& field) {
    if (value.is_boolean()) {
      field = value.get<bool>();
    } else {
      fail(key, value, "true or false");
    }
  }

  template <class Enum, std::size_t N>
  void enum_field(const nlohmann::json& value, std::string_view key, Enum& field,
                  const Enum (&choices)[N], const char* accepted) {
    if (value.is_string()) {
      const auto& text = value.get_ref<const std::string&>();
      for (Enum choice : choices) {
        if (to_string(choice) == text) {
          field = choice;
          return;
        }
      }
    }
    fail(key, value, accepted);
  }

  void fail(std::string_view key, const nlohmann::json& value, std::string accepted) {
    errors_.push_back({std::string(key), value.dump(), std::move(accepted)});
  }

 private:
  std::vector<option_error>& errors_;
};

}  // namespace detail

/// Parses options from JSON (shape in the file comment). Fields not present
/// keep their defaults (or the preset's values).
/// Errors: std::errc::invalid_argument with every problem in the message
/// ("field = value (accepted: ...)") and the first field as context.
[[nodiscard]] inline grove::result<search_options> options_from_json(const nlohmann::json& json) {
  std::vector<option_error> errors;
  if (!json.is_object()) {
    return grove::fail(std::make_error_code(std::errc::invalid_argument),
                       "search options must be a JSON object, got " + json.dump(), "");
  }
  search_options options;
  if (const auto found = json.find("preset"); found != json.end()) {
    const auto name =
        found->is_string() ? preset_from_string(found->get<std::string>()) : std::nullopt;
    if (name) {
      options = preset(*name);
    } else {
      errors.push_back({"preset", found->dump(),
                        "\"fast\", \"balanced\", \"thorough\", \"exploration\" or "
                        "\"exploitation\""});
    }
  }
  detail::options_reader read(errors);
  static constexpr selection_policy policies[] = {selection_policy::ucb1, selection_policy::puct};
  static constexpr final_choice finals[] = {final_choice::most_visits, final_choice::highest_mean,
                                            final_choice::robust, final_choice::secure};
  for (const auto& [key, value] : json.items()) {
    if (key == "preset") {
      continue;
    } else if (key == "max_iterations") {
      read.unsigned_field(value, key, options.max_iterations);
    } else if (key == "max_time_ms") {
      std::uint64_t ms = 0;
      const std::size_t before = errors.size();
      read.unsigned_field(value, key, ms);
      if (errors.size() == before) {
        if (ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          read.fail(key, value, "an integer number of milliseconds");
        } else {
          options.max_time = std::chrono::milliseconds(static_cast<std::int64_t>(ms));
        }
      }
    } else if (key == "max_nodes") {
      read.unsigned_field(value, key, options.max_nodes);
    } else if (key == "max_memory_bytes") {
      read.unsigned_field(value, key, options.max_memory_bytes);
    } else if (key == "policy") {
      read.enum_field(value, key, options.policy, policies, "\"ucb1\" or \"puct\"");
    } else if (key == "exploration") {
      read.number_field(value, key, options.exploration);
    } else if (key == "dirichlet_alpha") {
      read.number_field(value, key, options.dirichlet_alpha);
    } else if (key == "dirichlet_weight") {
      read.number_field(value, key, options.dirichlet_weight);
    } else if (key == "progressive_widening") {
      read.bool_field(value, key, options.progressive_widening);
    } else if (key == "widening_k") {
      read.number_field(value, key, options.widening_k);
    } else if (key == "widening_alpha") {
      read.number_field(value, key, options.widening_alpha);
    } else if (key == "final") {
      read.enum_field(value, key, options.final, finals,
                      "\"most_visits\", \"highest_mean\", \"robust\" or \"secure\"");
    } else if (key == "stop_visit_share") {
      read.number_field(value, key, options.stop_visit_share);
    } else if (key == "min_iterations") {
      read.unsigned_field(value, key, options.min_iterations);
    } else if (key == "convergence_threshold") {
      read.number_field(value, key, options.convergence_threshold);
    } else if (key == "convergence_patience") {
      read.unsigned_field(value, key, options.convergence_patience);
    } else if (key == "solver") {
      read.bool_field(value, key, options.solver);
    } else if (key == "cache_capacity") {
      read.unsigned_field(value, key, options.cache_capacity);
    } else if (key == "cache_shards") {
      read.unsigned_field(value, key, options.cache_shards);
    } else if (key == "max_in_flight") {
      read.unsigned_field(value, key, options.max_in_flight);
    } else if (key == "virtual_loss") {
      read.number_field(value, key, options.virtual_loss);
    } else if (key == "seed") {
      read.unsigned_field(value, key, options.seed);
    } else {
      errors.push_back({key, value.dump(),
                        "no such option (known: the search_options fields, "
                        "max_time_ms and preset)"});
    }
  }
  if (errors.empty()) {
    errors = options.validate();
  }
  if (!errors.empty()) {
    return grove::fail(std::make_error_code(std::errc::invalid_argument),
                       "invalid search options: " + describe(errors), errors.front().field);
  }
  return options;
}

/// nlohmann ADL hooks, so `json j = options;` and `j.get<search_options>()`
/// work. from_json throws std::invalid_argument with options_from_json's message.
inline void to_json(nlohmann::json& json, const search_options& options) {
  json = options_to_json(options);
}
inline void from_json(const nlohmann::json& json, search_options& options) {
  auto parsed = options_from_json(json);
  if (!parsed) {
    throw std::invalid_argument(parsed.error().describe());
  }
  options = *parsed;
}

}  // namespace grove::core
