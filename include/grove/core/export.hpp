// grove/core/export.hpp: the search tree as JSON or Graphviz DOT.
//
// Both writers walk the tree with an explicit stack (no recursion), down to
// export_options::max_depth levels below the root and through the top_k most
// visited children of each node (unvisited children are left out). Output is
// a pure function of the tree: numbers are printed with std::to_chars in the
// shortest form that reads back exactly, so equal trees give equal bytes.
//
// Actions are printed with `to_string(action)` when the action type's
// namespace provides one (found by argument-dependent lookup), as the integer
// value for integral and enumeration types, and as hex bytes otherwise.
//
// JSON shape:
//   {"stats": {"nodes": 7, "max_depth": 2, "root_visits": 10, "root_value": 0.2},
//    "root": {"visits": 10, "value": 0.2, "proof": "unknown", "children": [
//      {"action": "3", "visits": 6, "value": 0.5, "prior": 0.25, "proof": "unknown",
//       "children": [...]}, ...]}}
// "value" is the node's mean from the perspective it is stored in (the player
// who moved into it; at the root, the player to move).
#pragma once

#include <algorithm>
#include <charconv>
#include <concepts>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "grove/core/search.hpp"

namespace grove::core {

/// What the exporters include.
struct export_options {
  /// Levels below the root to include (the root is level 0). Default 3;
  /// 0 = no limit.
  std::uint32_t max_depth = 3;
  /// Most visited children per node to include. Default 5; 0 = no limit.
  std::uint32_t top_k = 5;
};

namespace detail {
namespace adl {
// Hides grove::core::to_string so only argument-dependent lookup can find a
// to_string for a user's action type.
void to_string() = delete;

template <class A>
concept has_to_string = requires(const A& a) {
  { to_string(a) } -> std::convertible_to<std::string>;
};

template <class A>
std::string call_to_string(const A& a) {
  return to_string(a);
}
}  // namespace adl

template <class A>
std::string action_text(const A& action) {
  if constexpr (adl::has_to_string<A>) {
    return adl::call_to_string(action);
  } else if constexpr (std::is_enum_v<A>) {
    return std::to_string(static_cast<std::underlying_type_t<A>>(action));
  } else if constexpr (std::is_integral_v<A>) {
    return std::to_string(+action);
  } else {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text = "0x";
    const auto* bytes = reinterpret_cast<const unsigned char*>(&action);
    for (std::size_t i = 0; i < sizeof(A); ++i) {
      text += digits[bytes[i] >> 4];
      text += digits[bytes[i] & 15];
    }
    return text;
  }
}

template <class T>
void write_number(std::ostream& out, T value) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(value)) {
      out << "null";  // JSON has no NaN or infinity
      return;
    }
  }
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.write(buffer, end - buffer);
}

// Writes text as a JSON string, quotes included.
inline void write_quoted(std::ostream& out, std::string_view text) {
  static constexpr char digits[] = "0123456789abcdef";
  out << '"';
  for (char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out << '\\' << ch;
    } else if (byte < 0x20) {
      out << "\\u00" << digits[byte >> 4] << digits[byte & 15];
    } else {
      out << ch;
    }
  }
  out << '"';
}

// Text made safe inside a quoted DOT label: quotes and backslashes escaped,
// control characters replaced by spaces.
inline std::string dot_escaped(std::string_view text) {
  std::string result;
  for (char ch : text) {
    if (ch == '"' || ch == '\\') {
      result += '\\';
      result += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      result += ' ';
    } else {
      result += ch;
    }
  }
  return result;
}

// The children of `index` to export: visited ones, most visited first (ties in
// child order), at most top_k.
inline void exported_children(const basic_tree& tree, node_index index, std::uint32_t top_k,
                              std::vector<node_index>& out) {
  out.clear();
  for (node_index child : tree.children(index)) {
    if (tree.at(child).visits > 0) {
      out.push_back(child);
    }
  }
  std::stable_sort(out.begin(), out.end(), [&](node_index a, node_index b) {
    return tree.at(a).visits > tree.at(b).visits;
  });
  if (top_k != 0 && out.size() > top_k) {
    out.resize(top_k);
  }
}

struct export_frame {
  node_index index;
  std::uint32_t depth;
  std::vector<node_index> children;
  std::size_t next = 0;
};
}  // namespace detail

/// Writes the tree of `s` as one line of JSON (shape in the file comment).
/// Iterative; O(exported nodes * top_k log top_k).
template <class D>
void write_json(std::ostream& out, const search<D>& s, export_options options = {}) {
  const tree<D>& t = s.tree();
  const tree_stats stats = t.stats();
  out << R"({"stats":{"nodes":)" << stats.nodes << R"(,"max_depth":)" << stats.max_depth
      << R"(,"root_visits":)" << stats.root_visits << R"(,"root_value":)";
  detail::write_number(out, stats.root_value);
  out << R"(},"root":)";

  std::vector<detail::export_frame> stack;
  auto open = [&](node_index index, std::uint32_t depth) {
    const node& n = t.at(index);
    out << '{';
    if (index != t.root()) {
      out << R"("action":)";
      detail::write_quoted(out, detail::action_text(t.action(index)));
      out << ',';
    }
    out << R"("visits":)" << n.visits << R"(,"value":)";
    detail::write_number(out, n.mean());
    if (index != t.root()) {
      out << R"(,"prior":)";
      detail::write_number(out, n.prior);
    }
    out << R"(,"proof":")" << to_string(n.proof) << '"';
    std::vector<node_index> children;
    if (options.max_depth == 0 || depth < options.max_depth) {
      detail::exported_children(t, index, options.top_k, children);
    }
    if (children.empty()) {
      out << '}';
      return;
    }
    out << R"(,"children":[)";
    stack.push_back({index, depth, std::move(children), 0});
  };

  open(t.root(), 0);
  while (!stack.empty()) {
    detail::export_frame& top = stack.back();
    if (top.next == top.children.size()) {
      out << "]}";
      stack.pop_back();
      continue;
    }
    if (top.next > 0) {
      out << ',';
    }
    const node_index child = top.children[top.next++];
    const std::uint32_t depth = top.depth + 1;
    open(child, depth);  // may reallocate `stack`: `top` is not used after this
  }
  out << "}\n";
}

/// Writes the tree of `s` as a Graphviz digraph: one box per node labelled
/// with the action, visits N, mean Q and any proof, edges parent -> child.
/// Iterative; same selection of nodes as write_json.
template <class D>
void write_dot(std::ostream& out, const search<D>& s, export_options options = {}) {
  const tree<D>& t = s.tree();
  out << "digraph grove {\n  node [shape=box, fontname=\"monospace\"];\n";
  struct item {
    node_index index;
    std::uint32_t depth;
  };
  std::vector<item> stack{{t.root(), 0}};
  std::vector<node_index> children;
  while (!stack.empty()) {
    const item current = stack.back();
    stack.pop_back();
    const node& n = t.at(current.index);
    std::string label = current.index == t.root()
                            ? std::string("root")
                            : detail::dot_escaped(detail::action_text(t.action(current.index)));
    label += "\\nN=" + std::to_string(n.visits) + "\\nQ=";
    char buffer[64];
    const auto [end, ec] =
        std::to_chars(buffer, buffer + sizeof(buffer), n.mean(), std::chars_format::fixed, 3);
    label.append(buffer, end);
    if (n.proof != proof_status::unknown) {
      label += "\\n";
      label += to_string(n.proof);
    }
    // The \n in the label are DOT line breaks.
    out << "  n" << current.index << " [label=\"" << label << "\"];\n";
    if (options.max_depth != 0 && current.depth >= options.max_depth) {
      continue;
    }
    detail::exported_children(t, current.index, options.top_k, children);
    for (node_index child : children) {
      out << "  n" << current.index << " -> n" << child << ";\n";
    }
    // Reverse, so the most visited child is written first.
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      stack.push_back({*it, current.depth + 1});
    }
  }
  out << "}\n";
}

}  // namespace grove::core
