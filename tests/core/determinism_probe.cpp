// Prints the JSON export of a fixed search. tests/core/CMakeLists.txt builds
// it at -O0 and -O2 and a ctest compares the two outputs byte for byte.
#include <iostream>

#include "grove/core/export.hpp"
#include "grove/core/search.hpp"
#include "test_domains.hpp"

int main() {
  namespace core = grove::core;
  core::search<core::testing::nim_domain> engine(core::testing::nim_domain{},
                                                 {.max_iterations = 3000,
                                                  .policy = core::selection_policy::puct,
                                                  .dirichlet_weight = 0.25,
                                                  .progressive_widening = true,
                                                  .widening_k = 1.5,
                                                  .cache_capacity = 64,
                                                  .seed = 20261204});
  const auto result = engine.run({.pile = 23, .player = 0});
  core::write_json(std::cout, engine, {.max_depth = 4, .top_k = 3});
  std::cout << "best " << static_cast<int>(result.best_action) << " value " << result.best_value
            << '\n';
  return 0;
}
