// grove/agents/router.hpp: which agents run on a request, pass by pass.
//
// The router is a replaceable component (an interface). The default,
// rule_router, is a small meta-controller over features of the query (length,
// numbers, question kind) and of the request so far (pass, what has run, the
// mean confidence). Its rules, in order:
//   1. pass 1: TRM always runs; HRM runs when the query looks multi-step
//      (at least `multi_step_numbers` numbers, or at least `long_query_words`
//      words, or a multi-step / comparison question); otherwise HRM is
//      skipped to save calls.
//   2. later passes (consensus not reached): run the strategy search if it has
//      not run yet, else refine the best answer once more. A pass never
//      replays the same outputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace grove::agents {

/// A coarse reading of what the question asks for.
enum class question_kind : std::uint8_t {
  arithmetic,  ///< numbers and a quantity to compute
  multi_step,  ///< explicit steps, sequencing or several constraints
  comparison,  ///< compare / contrast / which is better
  factual,     ///< who / what / when / where with a short answer
  open_ended,  ///< explain / why / design / anything else
};

std::string_view to_string(question_kind kind) noexcept;

/// Features the router looks at.
struct query_features {
  std::size_t chars = 0;
  std::size_t words = 0;
  /// Distinct number tokens ("48", "2,125", "3.5").
  std::size_t numbers = 0;
  question_kind kind = question_kind::open_ended;
};

/// Extracts features from a (validated) query. Pure; never fails.
query_features extract_features(std::string_view query);

/// What the request has done so far.
struct routing_input {
  query_features features{};
  /// 1-based pass about to run.
  std::uint32_t pass = 1;
  bool search_ran = false;
  std::uint32_t refinements = 0;
  /// Mean confidence after the previous pass (0 on pass 1).
  double mean_confidence = 0.0;
  /// Agents that succeeded so far.
  std::size_t succeeded = 0;
};

/// What the next pass runs.
struct route {
  bool hrm = false;
  bool trm = false;
  bool search = false;
  bool refine = false;
  /// One line on why, for the trace and the result.
  std::string reason{};
};

/// Decides the agents of each pass. Thread safety: decide() may be called
/// concurrently (implementations keep no per-request state).
class router {
 public:
  virtual ~router() = default;
  virtual route decide(const routing_input& input) const = 0;
};

/// Settings of the default rules.
struct rule_router_options {
  /// HRM runs on pass 1 when the query has at least this many numbers.
  /// Default 2; range >= 1.
  std::size_t multi_step_numbers = 2;
  /// HRM runs on pass 1 when the query has at least this many words.
  /// Default 25; range >= 1.
  std::size_t long_query_words = 25;
  /// Run the strategy search on pass 1 as well (more calls, more evidence).
  /// Default false.
  bool search_first = false;

  std::vector<std::string> validate() const;
};

/// The default meta-controller (rules in the file comment).
class rule_router final : public router {
 public:
  explicit rule_router(rule_router_options options = {}) : options_(options) {}
  route decide(const routing_input& input) const override;

 private:
  rule_router_options options_;
};

}  // namespace grove::agents
