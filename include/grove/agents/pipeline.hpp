// grove/agents/pipeline.hpp: the default reasoning pipeline, question in,
// answer with evidence out.
//
//   validate -> retrieve -> route -> { hrm || trm } -> consensus
//   consensus --(mean confidence < threshold, passes left, budget left)--> evidence
//   evidence (strategy search, else one more refinement) --> consensus
//   consensus --(reached, out of passes, or budget spent)--> synthesize -> end
//
// validate rejects bad queries before any call. retrieve (optional) asks the
// configured retriever for passages; any error degrades to no context, is
// logged, noted in the trace and flagged in the result (retrieval_failed;
// store_retriever also counts its failures in its stats). route asks the
// router (replaceable) which agents run.
// HRM and TRM run concurrently as a fan-out, each with an optional deadline.
// consensus measures the mean confidence of the successful outputs (see
// consensus.hpp); when every agent failed the request fails with the causes.
// synthesize merges the best outputs in one call, or returns the best output
// as is when that call fails, and says so.
//
// Budgets (llm_session.hpp) bound every request: when one runs out, no new
// evidence pass starts, the synthesis may still make its one call (not past
// the wall time), and the result names the limit.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grove/agents/consensus.hpp"
#include "grove/agents/llm_session.hpp"
#include "grove/agents/node_context.hpp"
#include "grove/agents/query.hpp"
#include "grove/agents/reasoning.hpp"
#include "grove/agents/router.hpp"
#include "grove/agents/strategy_search.hpp"
#include "grove/agents/trace.hpp"
#include "grove/llm/chat.hpp"
#include "grove/runtime/result.hpp"

namespace grove::agents {

/// A passage of retrieved context.
struct context_passage {
  std::string text{};
  /// Where it came from (file, URL, id), listed in the result.
  std::string source{};
  double score = 0.0;
};

/// Fetches up to `top_k` passages for a question. Errors degrade to no context.
using retriever = std::function<boost::asio::awaitable<grove::result<std::vector<context_passage>>>(
    std::string question, std::size_t top_k)>;

/// Everything the pipeline can be told. Sections mirror the stages.
struct pipeline_options {
  // --- Input.
  query_limits query{};
  // --- Budgets per request.
  budget_options budget{};
  // --- Retrieval (optional).
  /// Null: no retrieval step.
  retriever retrieve{};
  /// Passages asked for. Default 4; range 1..64.
  std::size_t retrieve_top_k = 4;
  // --- Routing.
  /// Null: rule_router(router_rules).
  std::shared_ptr<const router> route{};
  rule_router_options router_rules{};
  // --- Agents.
  hrm_options hrm{};
  trm_options trm{};
  judge_options judge{};
  strategy_search_options search{};
  /// Longest HRM or TRM may run in the fan-out; 0 = only the wall-time
  /// budget bounds them. Default 0.
  std::chrono::milliseconds agent_deadline{0};
  // --- Consensus and synthesis.
  consensus_options consensus{};
  /// Synthesis sampling temperature. Default 0.2; range 0..2.
  double synthesis_temperature = 0.2;
  /// Synthesis reply length limit. Default 768; range >= 16.
  std::uint32_t synthesis_max_tokens = 768;
  // --- Graph.
  /// Node steps per request. Default 32; range >= 8.
  std::uint32_t max_steps = 32;
  /// Lifecycle logging (null: none).
  std::shared_ptr<spdlog::logger> logger{};

  /// Every bad field, one line each ("hrm.max_parallel: 0; accepted: >= 1").
  std::vector<std::string> validate() const;
};

/// How a finished request went.
struct request_result {
  std::uint64_t request_id = 0;
  std::string question{};
  /// The final answer (synthesized, or the best output when synthesis failed).
  std::string answer{};
  /// Mean confidence of the successful outputs of the last pass.
  double confidence = 0.0;
  bool consensus_reached = false;
  std::uint32_t passes = 0;
  /// Every agent output of every pass, in order (failed ones included).
  std::vector<agent_output> outputs{};
  /// The router's reasons, one per pass.
  std::vector<std::string> routes{};
  /// Present when a strategy search ran.
  std::optional<strategy_search_result> search{};
  bool synthesis_fallback = false;
  std::string synthesis_note{};
  /// The budget that stopped the request early, or none.
  budget_limit stopped_by = budget_limit::none;
  call_stats usage{};
  reasoning_stats reasoning{};
  /// Passages used as context and whether retrieval failed.
  std::vector<context_passage> sources{};
  bool retrieval_failed = false;
  /// Every node step with its duration.
  std::vector<step_record> steps{};
  std::chrono::nanoseconds elapsed{0};
  /// True when every answer came from an offline provider (no model ran).
  bool offline = false;
  std::string provider{};
  std::string model{};
};

/// The result as JSON text (2-space indent when `pretty`, else one line).
std::string to_json(const request_result& result, bool pretty = false);

/// Per-call settings of run().
struct request_options {
  std::uint64_t request_id = 0;
  event_sink sink{};
};

/// The default pipeline over one chat client.
/// Ownership: shares the client. Thread safety: run() may be called
/// concurrently from any number of coroutines and threads; each request gets
/// its own state and its own strand.
class pipeline {
 public:
  /// Errors: options.validate() problems, all listed (std::errc::invalid_argument).
  [[nodiscard]] static grove::result<std::shared_ptr<pipeline>> create(
      std::shared_ptr<llm::chat_client> client, pipeline_options options = {});

  /// Runs one question on a new strand of the awaiting coroutine's executor.
  /// Returns the result, or: errc::invalid_query (no call made),
  /// errc::all_agents_failed (with every agent's cause), errc::cancelled,
  /// errc::step_limit. Cancellation of the awaiting coroutine cancels the
  /// request and every LLM call in flight.
  boost::asio::awaitable<grove::result<request_result>> run(std::string question,
                                                            request_options options = {}) const;

  /// The pipeline's graph as Graphviz DOT.
  void write_dot(std::ostream& out) const;

  const pipeline_options& options() const noexcept { return options_; }
  const llm::chat_client& client() const noexcept { return *client_; }

  pipeline(std::shared_ptr<llm::chat_client> client, pipeline_options options);
  ~pipeline();

 private:
  struct impl;
  std::shared_ptr<llm::chat_client> client_;
  pipeline_options options_;
  std::unique_ptr<impl> impl_;
};

}  // namespace grove::agents
