// grove/core/tree.hpp: the search tree: 32-byte nodes in a block arena.
//
// Nodes live in an arena of fixed-size blocks and refer to each other by 32-bit
// index, never by pointer. Growing the arena appends a block, so an index stays
// valid (and a node stays at the same address) until the tree is reset or
// re-rooted. There is no per-node heap allocation and no shared_ptr.
//
// The children of a node occupy one contiguous index range [first_child,
// first_child + num_children): expansion reserves a slot for every legal action
// at once. Without progressive widening every slot is a child. With it only the
// first allowed(visits) = clamp(ceil(k * visits^alpha), 1, num_children) slots
// are children; the rest are reserved, hold their action and prior, and join the
// tree as the parent's visits grow. Only children count as tree nodes.
//
// A node stores the action that leads to it and its statistics, never the
// state: the engine re-derives states by applying the actions on the path from
// the root.
//
// Every traversal here (recount, re-root, virtual-loss sum) uses an explicit
// queue or stack, so a tree of any depth works on a small thread stack. The
// node count and maximum depth are kept up to date by expand() and add_visit(),
// so stats() is O(1); recount() walks the tree to check them.
//
// Thread safety: none. A tree belongs to one search, used from one thread or
// one executor at a time.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "grove/core/assert.hpp"
#include "grove/core/search_options.hpp"

namespace grove::core {

/// Index of a node in its tree's arena.
using node_index = std::uint32_t;

/// "No node": the first_child of a node that has not been expanded.
inline constexpr node_index no_node = 0xFFFFFFFFu;

/// One tree node: 32 bytes, fields grouped by size.
///
///   byte 0               8           12            16             20       24      28   30  31
///   +--------------------+-----------+-------------+--------------+--------+-------+----+---+---+
///   | value_sum (double) | visits    | first_child | num_children | action | prior | vl |prf|flg|
///   +--------------------+-----------+-------------+--------------+--------+-------+----+---+---+
///
/// Perspective: value_sum and proof are seen by the player who moved into the
/// node (the player to move at the parent). The root, which nobody moved into,
/// uses the player to move at the root.
struct node {
  /// Sum of the values backed up through this node, each in [-1, 1] from the
  /// perspective above. The mean is value_sum / visits.
  double value_sum;
  /// Completed simulations through this node (in-flight ones are virtual_loss).
  std::uint32_t visits;
  /// Index of the first child slot, or no_node before expansion.
  node_index first_child;
  /// Child slots reserved at expansion: the number of legal actions.
  std::uint32_t num_children;
  /// The action that leads here from the parent, as raw bytes (the domain's
  /// action_type, at most 4 bytes); unused at the root.
  alignas(4) std::array<std::byte, 4> action;
  /// Normalised prior probability of that action, in [0, 1] (1 / siblings
  /// when the domain has no priors).
  float prior;
  /// Simulations through this node whose evaluation is still in flight.
  std::uint16_t virtual_loss;
  /// Solver proof, from the perspective above.
  proof_status proof;
  /// node_flags bits.
  std::uint8_t flags;

  /// Mean value, 0 when unvisited.
  double mean() const noexcept {
    return visits == 0 ? 0.0 : value_sum / static_cast<double>(visits);
  }
  bool expanded() const noexcept { return first_child != no_node; }
  bool terminal() const noexcept { return (flags & terminal_flag) != 0; }

  /// flags: the node's state is terminal (set when first evaluated).
  static constexpr std::uint8_t terminal_flag = 1;
};

static_assert(sizeof(node) == 32, "grove::core::node must stay 32 bytes; see the diagram");
static_assert(std::is_trivially_copyable_v<node>);

/// The progressive-widening rule: how many child slots a node may use.
struct widening_rule {
  bool enabled = false;
  double k = 1.0;
  double alpha = 0.5;

  /// min(slots, max(1, ceil(k * visits^alpha))), or slots when disabled.
  std::uint32_t allowed(std::uint32_t slots, std::uint32_t visits) const noexcept {
    if (!enabled || slots == 0) {
      return slots;
    }
    const double limit = std::ceil(k * std::pow(static_cast<double>(visits), alpha));
    if (!(limit < static_cast<double>(slots))) {
      return slots;
    }
    return limit < 1.0 ? 1u : static_cast<std::uint32_t>(limit);
  }
};

/// Counters of a tree. Read in O(1) from tree::stats(), or recomputed by a
/// full walk with tree::recount().
struct tree_stats {
  std::uint64_t nodes = 0;        ///< nodes in the tree, root included
  std::uint64_t max_depth = 0;    ///< depth of the deepest node (root = 0)
  std::uint64_t root_visits = 0;  ///< completed simulations through the root
  double root_value = 0.0;        ///< root mean, for the player to move at the root
  std::uint64_t arena_bytes = 0;  ///< bytes held by the node arena

  friend bool operator==(const tree_stats&, const tree_stats&) = default;
};

/// A half-open range of node indices [first, first + count).
struct index_range {
  node_index first = 0;
  std::uint32_t count = 0;

  struct iterator {
    node_index value;
    node_index operator*() const noexcept { return value; }
    iterator& operator++() noexcept {
      ++value;
      return *this;
    }
    friend bool operator==(iterator, iterator) = default;
  };
  iterator begin() const noexcept { return {first}; }
  iterator end() const noexcept { return {first + count}; }
  std::uint32_t size() const noexcept { return count; }
  bool empty() const noexcept { return count == 0; }
};

/// The node arena: blocks of block_size nodes, appended as needed. A range
/// handed out by allocate() is contiguous in index space (it may cross a block
/// boundary in memory).
///
/// Ownership: the arena owns its blocks; destroying it frees every node in
/// O(blocks), without visiting nodes.
class node_arena {
 public:
  /// log2 of the nodes per block: 8,192 nodes = 256 KiB per block.
  static constexpr unsigned block_bits = 13;
  static constexpr std::uint32_t block_size = 1u << block_bits;
  /// Largest number of nodes an arena can hold (indices stay below no_node).
  static constexpr std::uint64_t max_nodes = 0xFFFFFFF0ull;

  /// Reserves count consecutive slots, leaving their contents unset, and
  /// returns the first index. Throws std::length_error past max_nodes.
  node_index allocate(std::uint32_t count) {
    if (size_ + count > max_nodes) {
      throw std::length_error("grove: node arena full (2^32 nodes)");
    }
    const std::uint64_t needed = size_ + count;
    while (static_cast<std::uint64_t>(blocks_.size()) * block_size < needed) {
      // Left uninitialised on purpose: every slot is written when it is handed
      // out, and touching a fresh block here would cost a page fault per 4 KiB
      // for nodes that may never be used.
      blocks_.push_back(std::make_unique_for_overwrite<node[]>(block_size));
    }
    const auto first = static_cast<node_index>(size_);
    size_ = needed;
    return first;
  }

  node& operator[](node_index index) noexcept {
    GROVE_ASSERT(index < size_, "node index out of range");
    return blocks_[index >> block_bits][index & (block_size - 1)];
  }
  const node& operator[](node_index index) const noexcept {
    GROVE_ASSERT(index < size_, "node index out of range");
    return blocks_[index >> block_bits][index & (block_size - 1)];
  }

  /// How many of the `count` slots from `index` on share index's block, so
  /// they can be read through one pointer: count, unless the range crosses a
  /// block edge. Requires: count >= 1 and the range was handed out.
  std::uint32_t same_block(node_index index, std::uint32_t count) const noexcept {
    return std::min(count, block_size - (index & (block_size - 1)));
  }

  /// Slots handed out (nodes plus reserved widening slots).
  std::uint64_t size() const noexcept { return size_; }
  /// Bytes held by the blocks.
  std::uint64_t bytes() const noexcept {
    return static_cast<std::uint64_t>(blocks_.size()) * block_size * sizeof(node);
  }
  /// Frees every block.
  void clear() noexcept {
    blocks_.clear();
    size_ = 0;
  }
  void swap(node_arena& other) noexcept {
    blocks_.swap(other.blocks_);
    std::swap(size_, other.size_);
  }

 private:
  std::vector<std::unique_ptr<node[]>> blocks_;
  std::uint64_t size_ = 0;
};

/// The search tree without its action type: arena, root, counters and the
/// iterative whole-tree operations. search<D> uses it through tree<D>.
///
/// Thread safety: none (see the file comment).
class basic_tree {
 public:
  basic_tree() { reset(); }

  /// Drops every node and starts again from a single unvisited root.
  void reset() {
    arena_.clear();
    root_ = arena_.allocate(1);
    init_slot(arena_[root_]);
    nodes_ = 1;
    max_depth_ = 0;
  }

  /// Sets the widening rule. Requires: the tree is a fresh root (reset()).
  void set_widening(widening_rule rule) noexcept { widening_ = rule; }
  const widening_rule& widening() const noexcept { return widening_; }

  node_index root() const noexcept { return root_; }
  node& at(node_index index) noexcept { return arena_[index]; }
  const node& at(node_index index) const noexcept { return arena_[index]; }

  /// The children of a node: its first allowed(visits) slots (all slots
  /// without widening); empty before expansion.
  index_range children(node_index index) const noexcept {
    const node& n = arena_[index];
    if (!n.expanded()) {
      return {};
    }
    return {n.first_child, widening_.allowed(n.num_children, n.visits)};
  }

  /// The nodes of `range` that sit in memory right after the first one, as a
  /// count: the whole range unless it crosses an arena block edge, where it
  /// stops (continue from first + count). Lets hot loops walk a pointer
  /// instead of looking up each index. Requires: range not empty.
  std::uint32_t run_length(index_range range) const noexcept {
    return arena_.same_block(range.first, range.count);
  }

  /// Every reserved slot of a node, children or not.
  index_range slots(node_index index) const noexcept {
    const node& n = arena_[index];
    return n.expanded() ? index_range{n.first_child, n.num_children} : index_range{};
  }

  /// Reserves `count` child slots for `parent` (at depth `parent_depth`) and
  /// returns the first; the caller then sets each slot's action and prior.
  /// Requires: parent not expanded, count >= 1.
  node_index expand(node_index parent, std::uint64_t parent_depth, std::uint32_t count) {
    GROVE_ASSERT(!arena_[parent].expanded(), "node expanded twice");
    GROVE_ASSERT(count >= 1, "expansion without actions");
    const node_index first = arena_.allocate(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      init_slot(arena_[first + i]);
    }
    node& n = arena_[parent];
    n.first_child = first;
    n.num_children = count;
    nodes_ += widening_.allowed(count, n.visits);
    max_depth_ = std::max(max_depth_, parent_depth + 1);
    return first;
  }

  /// Records one completed simulation through `index` with `value` (from the
  /// node's perspective), and counts the children widening admits as a result.
  void add_visit(node_index index, double value) noexcept {
    node& n = arena_[index];
    GROVE_ASSERT(n.visits != 0xFFFFFFFFu, "visit count overflow");
    if (n.expanded() && widening_.enabled) {
      nodes_ += widening_.allowed(n.num_children, n.visits + 1) -
                widening_.allowed(n.num_children, n.visits);
    }
    ++n.visits;
    n.value_sum += value;
  }

  /// O(1) counters.
  tree_stats stats() const noexcept {
    const node& r = arena_[root_];
    return {nodes_, max_depth_, r.visits, r.mean(), arena_.bytes()};
  }

  /// The same counters recomputed by walking every node (O(nodes), iterative).
  tree_stats recount() const {
    tree_stats result;
    const node& r = arena_[root_];
    result.root_visits = r.visits;
    result.root_value = r.mean();
    result.arena_bytes = arena_.bytes();
    std::vector<std::pair<node_index, std::uint64_t>> stack{{root_, 0}};
    while (!stack.empty()) {
      const auto [index, depth] = stack.back();
      stack.pop_back();
      ++result.nodes;
      result.max_depth = std::max(result.max_depth, depth);
      for (node_index child : children(index)) {
        stack.emplace_back(child, depth + 1);
      }
    }
    return result;
  }

  /// Sum of virtual_loss over every slot (0 when no evaluation is in flight).
  std::uint64_t total_virtual_loss() const {
    std::uint64_t total = 0;
    std::vector<node_index> stack{root_};
    while (!stack.empty()) {
      const node_index index = stack.back();
      stack.pop_back();
      total += arena_[index].virtual_loss;
      for (node_index child : slots(index)) {
        stack.push_back(child);
      }
    }
    return total;
  }

  /// Makes `new_root` (a node of this tree) the root and frees everything
  /// outside its subtree, by copying the subtree breadth-first into a fresh
  /// arena (so each child range stays contiguous). O(subtree), iterative.
  /// Indices from before the call are invalid afterwards.
  void reroot(node_index new_root) {
    node_arena fresh;
    const node_index root = fresh.allocate(1);
    fresh[root] = arena_[new_root];
    std::uint64_t nodes = 1;
    std::uint64_t max_depth = 0;
    // (index in the old arena, index in the new arena, depth).
    struct item {
      node_index from;
      node_index to;
      std::uint64_t depth;
    };
    std::deque<item> queue{{new_root, root, 0}};
    while (!queue.empty()) {
      const item current = queue.front();
      queue.pop_front();
      const node& old_node = arena_[current.from];
      if (!old_node.expanded()) {
        continue;
      }
      const node_index first = fresh.allocate(old_node.num_children);
      fresh[current.to].first_child = first;
      const std::uint32_t admitted = widening_.allowed(old_node.num_children, old_node.visits);
      nodes += admitted;
      max_depth = std::max(max_depth, current.depth + 1);
      for (std::uint32_t i = 0; i < old_node.num_children; ++i) {
        fresh[first + i] = arena_[old_node.first_child + i];
        queue.push_back({old_node.first_child + i, first + i, current.depth + 1});
      }
    }
    arena_.swap(fresh);
    root_ = root;
    nodes_ = nodes;
    max_depth_ = max_depth;
  }

  /// Slots handed out by the arena (nodes plus reserved widening slots).
  std::uint64_t slots_used() const noexcept { return arena_.size(); }

 private:
  static void init_slot(node& n) noexcept {
    n.value_sum = 0.0;
    n.visits = 0;
    n.first_child = no_node;
    n.num_children = 0;
    n.action = {};
    n.prior = 0.0f;
    n.virtual_loss = 0;
    n.proof = proof_status::unknown;
    n.flags = 0;
  }

  node_arena arena_;
  node_index root_ = 0;
  std::uint64_t nodes_ = 0;
  std::uint64_t max_depth_ = 0;
  widening_rule widening_;
};

/// The search tree of a domain D: basic_tree plus typed access to the action
/// stored in each node.
template <class D>
class tree : public basic_tree {
 public:
  using action_type = typename D::action_type;

  /// The action leading to `index` (meaningless at the root).
  action_type action(node_index index) const noexcept {
    std::array<std::byte, sizeof(action_type)> bytes;
    std::memcpy(bytes.data(), at(index).action.data(), sizeof(action_type));
    return std::bit_cast<action_type>(bytes);
  }
  void set_action(node_index index, action_type value) noexcept {
    std::memcpy(at(index).action.data(), &value, sizeof(action_type));
  }
};

}  // namespace grove::core
