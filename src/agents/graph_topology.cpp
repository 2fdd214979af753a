#include "grove/agents/detail/graph_topology.hpp"

#include <algorithm>
#include <ostream>
#include <unordered_set>

#include "grove/agents/errc.hpp"

namespace grove::agents::detail {
namespace {

constexpr std::string_view end_name = "__end__";

// DOT identifiers are quoted; quotes and backslashes inside are escaped.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

std::uint32_t graph_topology::add_node(std::string name, std::chrono::milliseconds deadline) {
  compiled_ = false;
  if (name.empty() || name == end_name) {
    problems_.push_back("node name '" + name + "' is reserved or empty");
  } else if (find(name) != no_node) {
    problems_.push_back("duplicate node '" + name + "'");
  }
  if (deadline.count() < 0) {
    problems_.push_back("node '" + name + "' has a negative deadline");
  }
  node_entry entry;
  entry.name = std::move(name);
  entry.deadline = deadline;
  nodes_.push_back(std::move(entry));
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

node_entry* graph_topology::find_mutable(std::string_view name) {
  for (auto& n : nodes_) {
    if (n.name == name) {
      return &n;
    }
  }
  return nullptr;
}

std::uint32_t graph_topology::find(std::string_view name) const {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].name == name) {
      return static_cast<std::uint32_t>(i);
    }
  }
  return no_node;
}

void graph_topology::add_edge(std::string_view from, std::string to) {
  compiled_ = false;
  node_entry* node = find_mutable(from);
  if (node == nullptr) {
    problems_.push_back("edge from unknown node '" + std::string(from) + "'");
    return;
  }
  if (node->has_exit) {
    problems_.push_back("node '" + node->name + "' has more than one exit");
    return;
  }
  node->has_exit = true;
  node->exit = exit_kind::edge;
  node->target_names = {std::move(to)};
}

void graph_topology::add_conditional(std::string_view from, std::vector<std::string> targets) {
  compiled_ = false;
  node_entry* node = find_mutable(from);
  if (node == nullptr) {
    problems_.push_back("conditional edges from unknown node '" + std::string(from) + "'");
    return;
  }
  if (node->has_exit) {
    problems_.push_back("node '" + node->name + "' has more than one exit");
    return;
  }
  if (targets.empty()) {
    problems_.push_back("conditional edges of '" + node->name + "' list no target");
  }
  node->has_exit = true;
  node->exit = exit_kind::conditional;
  node->target_names = std::move(targets);
}

void graph_topology::add_fan_out(std::string_view from, std::vector<std::string> branches,
                                 std::string join) {
  compiled_ = false;
  node_entry* node = find_mutable(from);
  if (node == nullptr) {
    problems_.push_back("fan-out from unknown node '" + std::string(from) + "'");
    return;
  }
  if (node->has_exit) {
    problems_.push_back("node '" + node->name + "' has more than one exit");
    return;
  }
  if (branches.empty()) {
    problems_.push_back("fan-out of '" + node->name + "' has no branch");
  }
  node->has_exit = true;
  node->exit = exit_kind::fan_out;
  node->target_names = std::move(branches);
  node->join_name = std::move(join);
}

grove::result<void> graph_topology::compile() {
  std::vector<std::string> problems = problems_;
  entry_ = find(entry_name_);
  if (entry_name_.empty()) {
    problems.push_back("no entry node (set_entry)");
  } else if (entry_ == no_node) {
    problems.push_back("entry node '" + entry_name_ + "' does not exist");
  }

  std::unordered_set<std::uint32_t> branch_nodes;
  for (auto& node : nodes_) {
    node.targets.clear();
    node.join = no_node;
    for (const auto& name : node.target_names) {
      std::uint32_t index = find(name);
      if (index == no_node && !(node.exit == exit_kind::conditional && name == end_name)) {
        problems.push_back("node '" + node.name + "' leads to unknown node '" + name + "'");
      }
      node.targets.push_back(index);
      if (node.exit == exit_kind::fan_out && index != no_node) {
        branch_nodes.insert(index);
      }
    }
    if (node.exit == exit_kind::fan_out) {
      node.join = find(node.join_name);
      if (node.join == no_node) {
        problems.push_back("fan-out of '" + node.name + "' joins at unknown node '" +
                           node.join_name + "'");
      }
    }
  }
  for (std::uint32_t index : branch_nodes) {
    if (nodes_[index].has_exit) {
      problems.push_back("fan-out branch '" + nodes_[index].name + "' must not have an exit");
    }
  }

  if (!problems.empty()) {
    compiled_ = false;
    std::string message = "invalid graph:";
    for (const auto& p : problems) {
      message += "\n  - " + p;
    }
    return grove::fail(errc::graph_invalid, std::move(message));
  }
  compiled_ = true;
  return {};
}

grove::result<std::uint32_t> graph_topology::resolve_choice(std::uint32_t from,
                                                            std::string_view name) const {
  if (name == end_name) {
    return no_node;
  }
  const node_entry& node = nodes_[from];
  for (std::size_t i = 0; i < node.target_names.size(); ++i) {
    if (node.target_names[i] == name) {
      return node.targets[i];
    }
  }
  return grove::fail(errc::unknown_node,
                     "router chose '" + std::string(name) + "', which is not a declared target",
                     node.name);
}

void graph_topology::write_dot(std::ostream& out, std::string_view name) const {
  out << "digraph " << quoted(name) << " {\n";
  out << "  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n";
  out << "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  out << "  " << quoted("__start__") << " [shape=circle, label=\"\", width=0.2, style=filled];\n";
  out << "  " << quoted(end_name) << " [shape=doublecircle, label=\"\", width=0.2];\n";
  for (const auto& node : nodes_) {
    out << "  " << quoted(node.name);
    if (node.deadline.count() > 0) {
      out << " [label="
          << quoted(node.name + "\\n(deadline " + std::to_string(node.deadline.count()) + " ms)")
          << "]";
    }
    out << ";\n";
  }
  if (!entry_name_.empty()) {
    out << "  " << quoted("__start__") << " -> " << quoted(entry_name_) << ";\n";
  }
  for (const auto& node : nodes_) {
    switch (node.exit) {
      case exit_kind::end:
        if (std::none_of(nodes_.begin(), nodes_.end(), [&](const node_entry& other) {
              return other.exit == exit_kind::fan_out &&
                     std::find(other.target_names.begin(), other.target_names.end(), node.name) !=
                         other.target_names.end();
            })) {
          out << "  " << quoted(node.name) << " -> " << quoted(end_name) << ";\n";
        }
        break;
      case exit_kind::edge:
        out << "  " << quoted(node.name) << " -> " << quoted(node.target_names.front()) << ";\n";
        break;
      case exit_kind::conditional:
        for (const auto& target : node.target_names) {
          out << "  " << quoted(node.name) << " -> " << quoted(target) << " [style=dashed];\n";
        }
        break;
      case exit_kind::fan_out:
        for (const auto& branch : node.target_names) {
          out << "  " << quoted(node.name) << " -> " << quoted(branch)
              << " [style=bold, label=\"parallel\"];\n";
          out << "  " << quoted(branch) << " -> " << quoted(node.join_name)
              << " [style=dotted, label=\"join\"];\n";
        }
        break;
    }
  }
  out << "}\n";
}

}  // namespace grove::agents::detail
