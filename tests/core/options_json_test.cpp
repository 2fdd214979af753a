#include "grove/core/options_json.hpp"

#include <catch2/catch.hpp>

#include "grove/core/presets.hpp"
#include "grove/core/search.hpp"
#include "test_domains.hpp"

namespace core = grove::core;
using nlohmann::json;

TEST_CASE("options: validate reports every bad field at once", "[core]") {
  core::search_options options{.max_iterations = 0,
                               .exploration = -1.0,
                               .dirichlet_alpha = 0.0,
                               .widening_alpha = 1.5,
                               .stop_visit_share = 1.2,
                               .convergence_threshold = 0.1,
                               .cache_shards = 0,
                               .max_in_flight = 0,
                               .virtual_loss = 2.0};
  const auto errors = options.validate();
  std::vector<std::string> fields;
  for (const auto& e : errors) {
    fields.push_back(e.field);
  }
  CHECK(fields == std::vector<std::string>{"max_iterations/max_time/max_nodes", "exploration",
                                           "dirichlet_alpha", "widening_alpha", "stop_visit_share",
                                           "convergence_patience", "cache_shards", "max_in_flight",
                                           "virtual_loss"});
  CHECK(errors[1] == core::option_error{"exploration", "-1", "[0, 100]"});
  CHECK(errors[3] == core::option_error{"widening_alpha", "1.5", "(0, 1]"});
  CHECK(core::search_options{}.validate().empty());

  // The engine refuses them, naming every field.
  try {
    core::search<core::testing::nim_domain> engine(core::testing::nim_domain{}, options);
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("exploration = -1 (accepted: [0, 100])"));
    CHECK_THAT(message, Catch::Contains("virtual_loss = 2 (accepted: [0, 1])"));
  }
  CHECK_FALSE(core::search_options{.exploration = std::nan("")}.validate().empty());
}

TEST_CASE("presets: the five presets carry the documented values", "[core]") {
  struct expected {
    core::preset_name name;
    std::uint64_t iterations;
    double exploration, k, alpha;
    std::size_t cache;
  };
  const expected table[] = {
      {core::preset_name::fast, 25, 1.414, 0.5, 0.5, 1000},
      {core::preset_name::balanced, 100, 1.414, 1.0, 0.5, 10000},
      {core::preset_name::thorough, 500, 1.414, 2.0, 0.6, 50000},
      {core::preset_name::exploration, 200, 2.5, 0.8, 0.4, 20000},
      {core::preset_name::exploitation, 150, 0.5, 3.0, 0.7, 10000},
  };
  for (const auto& row : table) {
    INFO(core::to_string(row.name));
    const core::search_options o = core::preset(row.name);
    CHECK(o.max_iterations == row.iterations);
    CHECK(o.exploration == row.exploration);
    CHECK(o.widening_k == row.k);
    CHECK(o.widening_alpha == row.alpha);
    CHECK(o.cache_capacity == row.cache);
    CHECK(o.validate().empty());
    CHECK(core::preset_from_string(core::to_string(row.name)) == row.name);
  }
  CHECK_FALSE(core::preset_from_string("Fast").has_value());
}

TEST_CASE("options_json: round trip of presets and of every field", "[core]") {
  for (core::preset_name name : core::all_presets) {
    const core::search_options o = core::preset(name);
    const json j = o;
    CHECK(j.get<core::search_options>() == o);
  }
  const core::search_options custom{.max_iterations = 7,
                                    .max_time = std::chrono::milliseconds(250),
                                    .max_nodes = 9000,
                                    .max_memory_bytes = 1 << 20,
                                    .policy = core::selection_policy::puct,
                                    .exploration = 0.75,
                                    .dirichlet_alpha = 0.03,
                                    .dirichlet_weight = 0.25,
                                    .progressive_widening = true,
                                    .widening_k = 1.5,
                                    .widening_alpha = 0.45,
                                    .final = core::final_choice::secure,
                                    .stop_visit_share = 0.9,
                                    .min_iterations = 11,
                                    .convergence_threshold = 0.01,
                                    .convergence_patience = 13,
                                    .solver = false,
                                    .cache_capacity = 17,
                                    .cache_shards = 3,
                                    .max_in_flight = 8,
                                    .virtual_loss = 0.5,
                                    .seed = 0xFFFFFFFFFFFFFFFFull};
  const json j = core::options_to_json(custom);
  CHECK(j.size() == 22);
  const auto parsed = core::options_from_json(json::parse(j.dump()));
  REQUIRE(parsed);
  CHECK(*parsed == custom);
}

TEST_CASE("options_json: a preset with overrides", "[core]") {
  const auto parsed = core::options_from_json(
      json::parse(R"({"preset": "thorough", "exploration": 2, "policy": "puct"})"));
  REQUIRE(parsed);
  CHECK(parsed->max_iterations == 500);
  CHECK(parsed->exploration == 2.0);
  CHECK(parsed->policy == core::selection_policy::puct);
}

TEST_CASE("options_json: unknown keys, wrong types and bad values are all reported", "[core]") {
  const auto parsed = core::options_from_json(json::parse(
      R"({"exploraton": 1, "max_iterations": "ten", "policy": "uct", "solver": 1,
          "max_nodes": -5, "preset": "quick"})"));
  REQUIRE_FALSE(parsed);
  const std::string& message = parsed.error().message;
  CHECK(parsed.error().code == std::errc::invalid_argument);
  CHECK_THAT(message, Catch::Contains("exploraton = 1 (accepted: no such option"));
  CHECK_THAT(message,
             Catch::Contains("max_iterations = \"ten\" (accepted: a non-negative integer)"));
  CHECK_THAT(message, Catch::Contains("policy = \"uct\" (accepted: \"ucb1\" or \"puct\")"));
  CHECK_THAT(message, Catch::Contains("solver = 1 (accepted: true or false)"));
  CHECK_THAT(message, Catch::Contains("max_nodes = -5"));
  CHECK_THAT(message, Catch::Contains("preset = \"quick\""));

  const auto out_of_range = core::options_from_json(json::parse(R"({"exploration": 500})"));
  REQUIRE_FALSE(out_of_range);
  CHECK(out_of_range.error().context == "exploration");
  CHECK_THAT(out_of_range.error().message, Catch::Contains("[0, 100]"));

  CHECK_FALSE(core::options_from_json(json::parse("[1, 2]")));
  CHECK_FALSE(core::options_from_json(json::parse(R"({"max_in_flight": 4294967296})")));
  CHECK_THROWS_AS(json::parse(R"({"seed": 1.5})").get<core::search_options>(),
                  std::invalid_argument);
}
