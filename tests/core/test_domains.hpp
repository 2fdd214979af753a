// Small domains shared by the core tests.
#pragma once

#include <cstdint>
#include <vector>

#include "grove/core/domain.hpp"
#include "grove/core/hash.hpp"
#include "grove/core/rng.hpp"

namespace grove::core::testing {

// A single line of `length` states: one action per state, value 0.
struct chain_domain {
  using state_type = std::uint32_t;  // depth
  using action_type = std::uint8_t;
  static constexpr int num_players = 1;
  std::uint32_t length = 100;

  void legal_actions(const state_type&, std::vector<action_type>& out) const { out.assign(1, 0); }
  void apply(state_type& s, action_type) const { ++s; }
  bool is_terminal(const state_type& s) const { return s >= length; }
  int player_to_move(const state_type&) const { return 0; }
  double terminal_value(const state_type&) const { return 0.0; }
  double evaluate(const state_type&, rng&) const { return 0.0; }
};

// `width` actions per state, `depth` levels; leaf values drawn from the rng.
struct wide_domain {
  struct state_type {
    std::uint32_t depth;
    std::uint32_t id;
  };
  using action_type = std::uint32_t;
  static constexpr int num_players = 1;
  std::uint32_t width = 1000;
  std::uint32_t depth = 2;

  void legal_actions(const state_type&, std::vector<action_type>& out) const {
    out.resize(width);
    for (std::uint32_t i = 0; i < width; ++i) {
      out[i] = i;
    }
  }
  void apply(state_type& s, action_type a) const {
    ++s.depth;
    s.id = s.id * width + a;
  }
  bool is_terminal(const state_type& s) const { return s.depth >= depth; }
  int player_to_move(const state_type&) const { return 0; }
  double terminal_value(const state_type&) const { return 0.0; }
  double evaluate(const state_type&, rng& r) const { return r.uniform01() * 2.0 - 1.0; }
};

// Subtraction game: take 1..3 from a pile; whoever takes the last one wins.
// A pile is lost for the player to move exactly when it is a multiple of 4.
struct nim_domain {
  struct state_type {
    std::uint32_t pile;
    std::uint32_t player;
  };
  using action_type = std::uint8_t;
  static constexpr int num_players = 2;

  void legal_actions(const state_type& s, std::vector<action_type>& out) const {
    out.clear();
    for (std::uint8_t take = 1; take <= 3 && take <= s.pile; ++take) {
      out.push_back(take);
    }
  }
  void apply(state_type& s, action_type a) const {
    s.pile -= a;
    s.player ^= 1u;
  }
  bool is_terminal(const state_type& s) const { return s.pile == 0; }
  int player_to_move(const state_type& s) const { return static_cast<int>(s.player); }
  // The previous player took the last object: the player to move has lost.
  double terminal_value(const state_type&) const { return -1.0; }
  double evaluate(const state_type& s, rng& r) const {
    // Random playout.
    state_type x = s;
    while (x.pile > 0) {
      const std::uint32_t take = 1 + r.uniform(x.pile < 3 ? x.pile : 3);
      x.pile -= take;
      x.player ^= 1u;
    }
    return x.player == s.player ? -1.0 : 1.0;
  }
};

// A random tree: the branching factor, terminal flags and terminal values of
// every state come from a hash of its path, so one seed gives one fixed tree.
template <int Players>
struct random_domain {
  struct state_type {
    std::uint64_t id;
    std::uint32_t depth;
    std::uint32_t player;
  };
  using action_type = std::uint16_t;
  static constexpr int num_players = Players;
  std::uint64_t seed = 1;
  std::uint32_t max_branching = 6;
  std::uint32_t max_depth = 8;

  std::uint64_t h(const state_type& s, std::uint64_t salt) const {
    return hash_combine(hash_combine(s.id, seed), salt);
  }
  void legal_actions(const state_type& s, std::vector<action_type>& out) const {
    const auto n = 1 + static_cast<std::uint32_t>(h(s, 1) % max_branching);
    out.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      out[i] = static_cast<action_type>(i * 7 + 1);
    }
  }
  void apply(state_type& s, action_type a) const {
    s.id = hash_combine(s.id, a);
    ++s.depth;
    if (Players == 2) {
      s.player ^= 1u;
    }
  }
  bool is_terminal(const state_type& s) const {
    return s.depth >= max_depth || (s.depth > 0 && h(s, 2) % 5 == 0);
  }
  int player_to_move(const state_type& s) const { return static_cast<int>(s.player); }
  double terminal_value(const state_type& s) const {
    return static_cast<double>(static_cast<int>(h(s, 3) % 3) - 1);
  }
  double evaluate(const state_type& s, rng& r) const {
    return 0.5 * (static_cast<double>(h(s, 4) % 1000) / 999.0 * 2.0 - 1.0) +
           0.5 * (r.uniform01() * 2.0 - 1.0);
  }
};

}  // namespace grove::core::testing
