// grove/core/presets.hpp: named starting points for search_options.
//
// The five presets carry the values of the system grove replaces:
//
//   preset        iterations  exploration  widening k  widening alpha  cache
//   fast                  25        1.414         0.5             0.5   1,000
//   balanced             100        1.414         1.0             0.5  10,000
//   thorough             500        1.414         2.0             0.6  50,000
//   exploration          200        2.5           0.8             0.4  20,000
//   exploitation         150        0.5           3.0             0.7  10,000
//
// Every other field keeps its search_options default (progressive widening is
// off until a caller turns it on; the widening parameters are then ready).
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "grove/core/search_options.hpp"

namespace grove::core {

/// The named presets.
enum class preset_name { fast, balanced, thorough, exploration, exploitation };

/// The lower-case name of a preset ("thorough").
constexpr std::string_view to_string(preset_name name) noexcept {
  switch (name) {
    case preset_name::fast:
      return "fast";
    case preset_name::balanced:
      return "balanced";
    case preset_name::thorough:
      return "thorough";
    case preset_name::exploration:
      return "exploration";
    case preset_name::exploitation:
      return "exploitation";
  }
  return "balanced";
}

/// Every preset, in table order.
inline constexpr std::array<preset_name, 5> all_presets = {
    preset_name::fast, preset_name::balanced, preset_name::thorough, preset_name::exploration,
    preset_name::exploitation};

/// The options of a preset (see the table above). Always validates.
inline search_options preset(preset_name name) {
  search_options options;
  switch (name) {
    case preset_name::fast:
      options.max_iterations = 25;
      options.widening_k = 0.5;
      options.widening_alpha = 0.5;
      options.cache_capacity = 1000;
      break;
    case preset_name::balanced:
      options.max_iterations = 100;
      options.widening_k = 1.0;
      options.widening_alpha = 0.5;
      options.cache_capacity = 10000;
      break;
    case preset_name::thorough:
      options.max_iterations = 500;
      options.widening_k = 2.0;
      options.widening_alpha = 0.6;
      options.cache_capacity = 50000;
      break;
    case preset_name::exploration:
      options.max_iterations = 200;
      options.exploration = 2.5;
      options.widening_k = 0.8;
      options.widening_alpha = 0.4;
      options.cache_capacity = 20000;
      break;
    case preset_name::exploitation:
      options.max_iterations = 150;
      options.exploration = 0.5;
      options.widening_k = 3.0;
      options.widening_alpha = 0.7;
      options.cache_capacity = 10000;
      break;
  }
  return options;
}

/// The preset called `name` ("fast", ...), or nullopt for any other text
/// (case-sensitive).
inline std::optional<preset_name> preset_from_string(std::string_view name) noexcept {
  for (preset_name candidate : all_presets) {
    if (to_string(candidate) == name) {
      return candidate;
    }
  }
  return std::nullopt;
}

}  // namespace grove::core
