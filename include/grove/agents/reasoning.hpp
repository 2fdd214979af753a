// grove/agents/reasoning.hpp: the reasoning agents and the calls around them.
//
//   judge       one call (temperature 0.1) asking for {"score": s, "reason": r}
//               with s in [0, 1]; a reply that cannot be read falls back to a
//               heuristic score, and the fallback is counted.
//   HRM         hierarchical: one call splits the question into 2-4
//               sub-problems (JSON, with a tolerant parser for prose replies),
//               the sub-problems are answered concurrently (bounded), one call
//               composes the answer, the judge scores it.
//   TRM         refinement: a draft, then rounds of critique + refine, each
//               judged, until the score improves by no more than
//               min_improvement or max_rounds rounds ran; the best-scored
//               version is the output.
//   synthesis   one call merging the best outputs weighted by confidence; if it
//               fails, the best output is returned as is and the result says so.
// Every function reports a failed agent as an agent_output with ok = false,
// its error and confidence 0; they never throw for model or budget failures.
// All of them run on the request's strand with its llm_session.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "grove/agents/consensus.hpp"
#include "grove/agents/llm_session.hpp"
#include "grove/runtime/result.hpp"

namespace grove::agents {

/// Counters the agents of one request share (on its strand).
struct reasoning_stats {
  std::uint64_t judge_calls = 0;
  /// Judge replies that could not be parsed and were replaced by the heuristic.
  std::uint64_t judge_fallbacks = 0;
  /// Decomposition replies that needed the prose fallback parser.
  std::uint64_t decomposition_fallbacks = 0;
};

/// The judge's settings.
struct judge_options {
  /// Sampling temperature. Default 0.1; range 0..2.
  double temperature = 0.1;
  /// Reply length limit. Default 200; range >= 16.
  std::uint32_t max_tokens = 200;
};

/// What the judge said.
struct judge_verdict {
  /// In [0, 1].
  double score = 0.0;
  /// True when the reply was unparsable and `score` is the heuristic's.
  bool fallback = false;
  std::string reason{};
};

/// Reads a judge reply: a JSON object with a numeric (or numeric string)
/// "score" in [0, 1], possibly inside a code fence or surrounded by prose;
/// else a "score: 0.8" / "score = 8/10" phrase. Returns nothing when none fits.
std::optional<double> parse_judge_score(std::string_view reply);

/// A score from the answer alone, in [0.05, 0.6]: penalises empty, very short
/// or refused answers, and answers without a number to a question with numbers.
double heuristic_score(std::string_view question, std::string_view answer);

/// Scores `answer`. Errors: only when the call itself fails (the caller decides
/// whether a missing score fails the agent).
boost::asio::awaitable<grove::result<judge_verdict>> judge_answer(llm_session& session,
                                                                  std::string_view question,
                                                                  std::string_view answer,
                                                                  const judge_options& options,
                                                                  reasoning_stats& stats);

/// Reads a decomposition reply: {"subproblems": [...]} (also "sub_problems",
/// "steps", "subquestions"), a bare JSON array, either inside a code fence, or
/// numbered / bulleted lines as the fallback. At most `max` items, blank items
/// dropped. `used_fallback` tells whether prose parsing was needed.
std::vector<std::string> parse_subproblems(std::string_view reply, std::size_t max,
                                           bool& used_fallback);

/// HRM settings.
struct hrm_options {
  /// Fewest / most sub-problems asked for. Defaults 2 and 4; 1 <= min <= max <= 8.
  std::uint32_t min_subproblems = 2;
  std::uint32_t max_subproblems = 4;
  /// Sub-problems answered at once. Default 2; range >= 1.
  std::uint32_t max_parallel = 2;
  /// Sampling temperature of the HRM calls. Default 0.2; range 0..2.
  double temperature = 0.2;
  /// Reply length limit per call. Default 512; range >= 16.
  std::uint32_t max_tokens = 512;

  std::vector<std::string> validate() const;
};

/// TRM settings.
struct trm_options {
  /// Most critique + refine rounds after the draft. Default 3; range 0..10.
  std::uint32_t max_rounds = 3;
  /// Stop when a round improves the judge's score by this much or less.
  /// Default 0.01; range 0..1.
  double min_improvement = 0.01;
  /// Sampling temperature of the TRM calls. Default 0.3; range 0..2.
  double temperature = 0.3;
  /// Reply length limit per call. Default 512; range >= 16.
  std::uint32_t max_tokens = 512;

  std::vector<std::string> validate() const;
};

/// The hierarchical agent. `context` (retrieved passages) may be empty.
boost::asio::awaitable<agent_output> run_hrm(llm_session& session, std::string question,
                                             std::string context, hrm_options options,
                                             judge_options judge, reasoning_stats& stats);

/// The refinement agent. `seed_answer`, when not empty, replaces the draft (an
/// extra refinement pass starts from the best answer so far).
boost::asio::awaitable<agent_output> run_trm(llm_session& session, std::string question,
                                             std::string context, trm_options options,
                                             judge_options judge, reasoning_stats& stats,
                                             std::string seed_answer = {});

/// The merged answer.
struct synthesis_result {
  std::string answer{};
  /// True when the synthesis call failed (or was not possible) and `answer` is
  /// the best output unchanged.
  bool fallback = false;
  /// Why the fallback happened.
  std::string note{};
};

/// Merges `outputs` (successful ones, best first, at most 4) in one call.
/// Requires: at least one successful output.
boost::asio::awaitable<synthesis_result> synthesize(llm_session& session, std::string question,
                                                    std::vector<agent_output> outputs,
                                                    double temperature, std::uint32_t max_tokens);

/// The last number in `text` ("1,234" -> "1234", "-5", "3.50" -> "3.5"), or
/// empty. Digits inside a word of letters and digits (a hex digest "0d94a034",
/// an id "v2x9") are not numbers; a number with a unit ("5km") is. Used for
/// GSM8K-style grading of final answers.
std::string final_number(std::string_view text);

}  // namespace grove::agents
