// Internal: the shape of a state graph (names, exits, deadlines), its checks
// and its DOT export, kept out of the state_graph template so that every
// State type shares one compiled copy. Include grove/agents/state_graph.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "grove/runtime/result.hpp"

namespace grove::agents::detail {

inline constexpr std::uint32_t no_node = std::numeric_limits<std::uint32_t>::max();

/// How control leaves a node.
enum class exit_kind : std::uint8_t { end, edge, conditional, fan_out };

struct node_entry {
  std::string name;
  std::chrono::milliseconds deadline{0};
  exit_kind exit = exit_kind::end;
  // Names as given by the builder, resolved to indices by compile().
  std::vector<std::string> target_names;
  std::string join_name;
  // edge: targets[0]; conditional: the allowed targets (no_node = end);
  // fan_out: the branches, then `join`.
  std::vector<std::uint32_t> targets;
  std::uint32_t join = no_node;
  bool has_exit = false;
};

class graph_topology {
 public:
  /// Returns the new node's index.
  std::uint32_t add_node(std::string name, std::chrono::milliseconds deadline);
  void add_edge(std::string_view from, std::string to);
  void add_conditional(std::string_view from, std::vector<std::string> targets);
  void add_fan_out(std::string_view from, std::vector<std::string> branches, std::string join);
  void set_entry(std::string name) { entry_name_ = std::move(name); }

  /// Resolves names and checks the shape; reports every problem at once
  /// (errc::graph_invalid, one problem per line in the message).
  grove::result<void> compile();
  bool compiled() const noexcept { return compiled_; }

  std::uint32_t entry() const noexcept { return entry_; }
  const node_entry& node(std::uint32_t index) const { return nodes_[index]; }
  std::size_t size() const noexcept { return nodes_.size(); }

  /// Index of a conditional target chosen by name among `from`'s targets:
  /// no_node for the end marker, or the error errc::unknown_node.
  grove::result<std::uint32_t> resolve_choice(std::uint32_t from, std::string_view name) const;

  /// Graphviz DOT: boxes for nodes, solid edges, dashed conditional edges,
  /// bold fan-out edges and dotted joins. `name` is the graph's name.
  void write_dot(std::ostream& out, std::string_view name) const;

 private:
  node_entry* find_mutable(std::string_view name);
  std::uint32_t find(std::string_view name) const;

  std::vector<node_entry> nodes_;
  std::vector<std::string> problems_;
  std::string entry_name_;
  std::uint32_t entry_ = no_node;
  bool compiled_ = false;
};

}  // namespace grove::agents::detail
