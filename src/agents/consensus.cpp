#include "grove/agents/consensus.hpp"

#include <algorithm>

#include "grove/agents/errc.hpp"

namespace grove::agents {

std::vector<std::string> consensus_options::validate() const {
  std::vector<std::string> problems;
  if (!(threshold >= 0.0 && threshold <= 1.0)) {
    problems.push_back("threshold: " + std::to_string(threshold) + "; accepted: 0 to 1");
  }
  if (max_passes < 1 || max_passes > 10) {
    problems.push_back("max_passes: " + std::to_string(max_passes) + "; accepted: 1 to 10");
  }
  return problems;
}

grove::result<consensus> measure_consensus(std::span<const agent_output> outputs,
                                           const consensus_options& options) {
  consensus c;
  double sum = 0.0;
  std::string causes;
  for (const auto& o : outputs) {
    if (o.ok) {
      ++c.succeeded;
      sum += o.confidence;
    } else {
      ++c.failed;
      causes += (causes.empty() ? "" : "; ") + o.agent + ": " + o.error.describe();
    }
  }
  if (c.succeeded == 0) {
    return grove::fail(errc::all_agents_failed, outputs.empty() ? std::string("no agent ran")
                                                                : "every agent failed: " + causes);
  }
  c.mean_confidence = sum / static_cast<double>(c.succeeded);
  c.reached = c.mean_confidence >= options.threshold;
  return c;
}

std::vector<const agent_output*> ranked_outputs(std::span<const agent_output> outputs) {
  std::vector<const agent_output*> ranked;
  for (const auto& o : outputs) {
    if (o.ok) {
      ranked.push_back(&o);
    }
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const agent_output* a, const agent_output* b) {
    return a->confidence > b->confidence;
  });
  return ranked;
}

}  // namespace grove::agents
