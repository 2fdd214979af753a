// grove/agents/consensus.hpp: what the agents produced, and whether they agree
// enough to stop.
//
// Consensus is the mean confidence of the agents that succeeded. A failed agent
// reports its error and confidence 0 and is left out of the mean (it is never
// scored as if it had answered); when every agent failed there is no consensus
// but an error that lists each agent's cause. The pipeline stops when the mean
// reaches the threshold (inclusive) or after max_passes passes; every further
// pass must add evidence (a strategy search or another refinement round).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "grove/runtime/result.hpp"

namespace grove::agents {

/// One agent's contribution to a request.
struct agent_output {
  /// "hrm", "trm", "search", "refine", ...
  std::string agent{};
  bool ok = false;
  std::string answer{};
  /// The judge's score in [0, 1]; 0 when the agent failed.
  double confidence = 0.0;
  /// Why it failed (when !ok).
  grove::error error{};
  /// What produced the answer: sub-problems, rounds, strategy, pass.
  std::string evidence{};
  /// The consensus pass (1-based) that produced it.
  std::uint32_t pass = 1;
};

/// When the pipeline may stop.
struct consensus_options {
  /// Mean confidence that counts as agreement, inclusive. Default 0.75; range [0, 1].
  double threshold = 0.75;
  /// Most passes (the first plus extra evidence passes). Default 3; range 1..10.
  std::uint32_t max_passes = 3;

  /// One line per bad field; empty when valid.
  std::vector<std::string> validate() const;
};

/// The measured agreement of a set of outputs.
struct consensus {
  /// Mean confidence of the successful outputs.
  double mean_confidence = 0.0;
  std::size_t succeeded = 0;
  std::size_t failed = 0;
  /// mean_confidence >= threshold.
  bool reached = false;
};

/// Measures `outputs`. Errors: errc::all_agents_failed when no output
/// succeeded, with every agent's cause in the message ("hrm: ...; trm: ...").
[[nodiscard]] grove::result<consensus> measure_consensus(std::span<const agent_output> outputs,
                                                         const consensus_options& options = {});

/// The successful outputs, best first (confidence descending, ties by order).
std::vector<const agent_output*> ranked_outputs(std::span<const agent_output> outputs);

}  // namespace grove::agents
