#include "grove/agents/errc.hpp"

#include <string>

namespace grove::agents {
namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "grove.agents"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_query:
        return "invalid query";
      case errc::graph_invalid:
        return "invalid graph";
      case errc::unknown_node:
        return "unknown node";
      case errc::step_limit:
        return "step limit reached";
      case errc::deadline_exceeded:
        return "deadline exceeded";
      case errc::cancelled:
        return "cancelled";
      case errc::node_failed:
        return "node failed";
      case errc::budget_exhausted:
        return "budget exhausted";
      case errc::all_agents_failed:
        return "all agents failed";
      case errc::parse_error:
        return "unparsable model output";
      case errc::llm_failed:
        return "LLM call failed";
      case errc::cassette:
        return "cassette error";
    }
    return "unknown grove.agents error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& agents_category() noexcept {
  static const category_impl instance;
  return instance;
}

std::error_code make_error_code(errc code) noexcept {
  return {static_cast<int>(code), agents_category()};
}

}  // namespace grove::agents
