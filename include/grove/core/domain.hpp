// grove/core/domain.hpp: what a problem must provide to be searched.
//
// A domain is a stateless (or read-only) object that describes a problem: its
// states, the actions legal in each, how an action changes a state, when the
// problem ends and how good a state is. The engine never stores states in the
// tree; it re-derives them by applying the actions on the path from the root,
// so states should be cheap to copy and `apply` cheap to call.
//
// Example: a single-agent domain where the agent picks digits and scores
// their sum.
//
//   struct digits {
//     using state_type = std::array<std::uint8_t, 3>;  // plus a length, etc.
//     using action_type = std::uint8_t;
//     static constexpr int num_players = 1;
//     void legal_actions(const state_type& s, std::vector<action_type>& out) const;
//     void apply(state_type& s, action_type a) const;
//     bool is_terminal(const state_type& s) const;
//     int player_to_move(const state_type&) const { return 0; }
//     double terminal_value(const state_type& s) const;   // in [-1, 1]
//     double evaluate(const state_type& s, grove::core::rng& r) const;
//   };
//   static_assert(grove::core::domain<digits>);
//
// Values. Every value a domain returns (terminal_value, evaluate,
// async_evaluate) is in [-1, 1] and is seen from the perspective of the player
// to move in the state passed in. In single-agent domains that is always player
// 0, so a value is simply "how good this state is". A domain whose natural
// scale is different maps it (for a judge score s in [0, 1]: 2 * s - 1).
//
// Required members (D is the domain, s a state, a an action):
//   D::state_type            copyable
//   D::action_type           trivially copyable, at most 4 bytes (stored in nodes)
//   D::num_players           1 or 2 (static constexpr int)
//   d.legal_actions(s, out)  replaces out's contents with the legal actions of a
//                            non-terminal s, in a deterministic order
//   d.apply(s, a)            applies a to s in place
//   d.is_terminal(s)         true when the problem has ended at s
//   d.player_to_move(s)      0 .. num_players - 1
//   d.terminal_value(s)      value of a terminal s (exact: the solver trusts it)
// and one evaluator:
//   d.evaluate(s, rng)       estimate of a non-terminal s; may use the rng
//                            (random playouts); used by search::run
//   d.async_evaluate(s, seed)  boost::asio::awaitable<double>; used by async_search
// Optional members:
//   d.hash(s)                std::uint64_t; enables the simulation cache for
//                            states that are not plain bytes (see hash.hpp)
//   d.priors(s, actions, out)  fills std::span<float> out with priors for PUCT
//                            (non-negative; the engine normalises them)
//
// Not supported: chance nodes (model them inside evaluate), more than two
// players, and simultaneous moves.
#pragma once

#include <concepts>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "grove/core/rng.hpp"

namespace grove::core {

/// The member types and constants a domain declares.
template <class D>
concept declares_domain_types = requires {
  typename D::state_type;
  typename D::action_type;
  { D::num_players } -> std::convertible_to<int>;
};

/// Checks the types and constants a domain declares. Split from `domain` so a
/// failed check names the missing piece instead of the whole concept.
template <class D>
concept domain_types = declares_domain_types<D> && std::copyable<typename D::state_type> &&
                       std::is_trivially_copyable_v<typename D::action_type> &&
                       (sizeof(typename D::action_type) <= 4) &&
                       (D::num_players == 1 || D::num_players == 2);

/// The rules of the problem: legal actions, transitions, terminal values.
template <class D>
concept domain_rules = domain_types<D> &&
    requires(const D& d, typename D::state_type& state, const typename D::state_type& cstate,
             typename D::action_type action, std::vector<typename D::action_type>& out) {
  d.legal_actions(cstate, out);
  d.apply(state, action);
  { d.is_terminal(cstate) } -> std::convertible_to<bool>;
  { d.player_to_move(cstate) } -> std::convertible_to<int>;
  { d.terminal_value(cstate) } -> std::convertible_to<double>;
};

/// A domain with a synchronous evaluator, searchable by search::run.
template <class D>
concept domain = domain_rules<D> &&
    requires(const D& d, const typename D::state_type& state, rng& random) {
  { d.evaluate(state, random) } -> std::convertible_to<double>;
};

/// The domain supplies its own state hash.
template <class D>
concept domain_with_hash = domain_types<D> &&
    requires(const D& d, const typename D::state_type& state) {
  { d.hash(state) } -> std::convertible_to<std::uint64_t>;
};

/// The domain supplies priors for PUCT.
template <class D>
concept domain_with_priors = domain_types<D> &&
    requires(const D& d, const typename D::state_type& state,
             std::span<const typename D::action_type> actions, std::span<float> out) {
  d.priors(state, actions, out);
};

/// Explains, one static_assert per requirement, why D is not a domain. Call it
/// where a domain enters the public API so the compiler names what is missing.
template <class D>
constexpr bool check_domain() {
  static_assert(
      requires { typename D::state_type; }, "grove domain: missing `using state_type = ...;`");
  static_assert(
      requires { typename D::action_type; }, "grove domain: missing `using action_type = ...;`");
  static_assert(
      requires { D::num_players; },
      "grove domain: missing `static constexpr int num_players` (1 or 2)");
  static_assert(domain_types<D>,
                "grove domain: state_type must be copyable, action_type trivially copyable "
                "and at most 4 bytes, and num_players 1 or 2");
  static_assert(
      requires(const D& d, const typename D::state_type& s,
               std::vector<typename D::action_type>& out) { d.legal_actions(s, out); },
      "grove domain: missing `void legal_actions(const state_type&, "
      "std::vector<action_type>&) const`");
  static_assert(
      requires(const D& d, typename D::state_type& s, typename D::action_type a) { d.apply(s, a); },
      "grove domain: missing `void apply(state_type&, action_type) const`");
  static_assert(
      requires(const D& d, const typename D::state_type& s) {
        { d.is_terminal(s) } -> std::convertible_to<bool>;
      },
      "grove domain: missing `bool is_terminal(const state_type&) const`");
  static_assert(
      requires(const D& d, const typename D::state_type& s) {
        { d.player_to_move(s) } -> std::convertible_to<int>;
      },
      "grove domain: missing `int player_to_move(const state_type&) const`");
  static_assert(
      requires(const D& d, const typename D::state_type& s) {
        { d.terminal_value(s) } -> std::convertible_to<double>;
      },
      "grove domain: missing `double terminal_value(const state_type&) const`");
  return true;
}

}  // namespace grove::core
