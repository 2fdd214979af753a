// Searches a tiny single-agent domain through the installed grove::core and
// checks the engine finds the best sequence. Exits non-zero on any failure.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "grove/core/search.hpp"

namespace {

// Pick three digits in 0..3; the value is their sum scaled to [-1, 1], so the
// best first move is 3.
struct three_digits {
  struct state_type {
    std::uint8_t picked = 0;
    std::uint8_t sum = 0;
  };
  using action_type = std::uint8_t;
  static constexpr int num_players = 1;

  void legal_actions(const state_type&, std::vector<action_type>& out) const { out = {0, 1, 2, 3}; }
  void apply(state_type& state, action_type action) const {
    ++state.picked;
    state.sum = static_cast<std::uint8_t>(state.sum + action);
  }
  bool is_terminal(const state_type& state) const { return state.picked == 3; }
  int player_to_move(const state_type&) const { return 0; }
  double terminal_value(const state_type& state) const { return state.sum / 4.5 - 1.0; }
  double evaluate(const state_type& state, grove::core::rng& random) const {
    state_type rollout = state;
    while (!is_terminal(rollout)) {
      apply(rollout, static_cast<action_type>(random.uniform(4)));
    }
    return terminal_value(rollout);
  }
};

}  // namespace

int main() {
  grove::core::search_options options;
  options.max_iterations = 2000;
  options.seed = 7;
  grove::core::search<three_digits> search(three_digits{}, options);
  const auto result = search.run(three_digits::state_type{});
  if (!result.has_action || result.best_action != 3) {
    std::fprintf(stderr, "core_consumer: expected best action 3, got %d\n",
                 static_cast<int>(result.best_action));
    return 1;
  }
  std::printf("core_consumer: best action %d after %llu iterations\n",
              static_cast<int>(result.best_action),
              static_cast<unsigned long long>(result.iterations));
  return 0;
}
