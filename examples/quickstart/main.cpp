// The README's example, built and run by the test suite so it stays true.
//
// Countdown: players alternately take one or two counters from a pile; whoever
// takes the last counter wins. The player to move loses exactly when the pile
// is a multiple of three, so from 10 the winning move is to take one.
#include <cstdio>
#include <string_view>
#include <vector>

#include "grove/core/search.hpp"

struct countdown {
  struct state_type {
    int left = 10;   // counters on the pile
    int player = 0;  // whose turn it is
  };
  using action_type = int;  // how many counters to take
  static constexpr int num_players = 2;

  void legal_actions(const state_type& s, std::vector<int>& out) const {
    out = s.left >= 2 ? std::vector{1, 2} : std::vector{1};
  }
  void apply(state_type& s, int take) const {
    s.left -= take;
    s.player = 1 - s.player;
  }
  bool is_terminal(const state_type& s) const { return s.left == 0; }
  int player_to_move(const state_type& s) const { return s.player; }
  // At the end the player to move faces an empty pile: the opponent took the last.
  double terminal_value(const state_type&) const { return -1.0; }
  // A random playout, scored for the player to move in s.
  double evaluate(state_type s, grove::core::rng& random) const {
    const int me = s.player;
    while (!is_terminal(s)) {
      apply(s, s.left >= 2 ? 1 + static_cast<int>(random.uniform(2)) : 1);
    }
    return s.player == me ? -1.0 : 1.0;
  }
};

int main(int argc, char** argv) {
  if (argc > 1) {
    const std::string_view arg = argv[1];
    const bool help = arg == "--help" || arg == "-h";
    std::fprintf(help ? stdout : stderr,
                 "%sgrove-quickstart: searches Countdown from a pile of 10 (take one or two "
                 "counters; whoever takes the last wins) and prints the engine's move. It takes "
                 "no arguments; exit status 0 when the move is the winning one (take 1).\n",
                 help ? "" : "grove-quickstart: unknown argument; ");
    return help ? 0 : 2;
  }
  grove::core::search<countdown> search(countdown{}, {.max_iterations = 2000});
  const auto result = search.run(countdown::state_type{});

  std::printf("take %d (visits %u, value %.2f, root %s)\n", result.best_action, result.best_visits,
              result.best_value, grove::core::to_string(result.root_proof).data());
  return result.best_action == 1 ? 0 : 1;
}
