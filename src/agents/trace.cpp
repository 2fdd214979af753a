#include "grove/agents/trace.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <system_error>

namespace grove::agents {
namespace {

nlohmann::json event_json(const graph_event& e) {
  nlohmann::json j{
      {"event", to_string(e.kind)}, {"request_id", e.request_id}, {"at_ns", e.at.count()}};
  switch (e.kind) {
    case event_kind::request_started:
      break;
    case event_kind::node_started:
      j["node"] = e.node;
      break;
    case event_kind::node_finished:
    case event_kind::request_finished:
      if (!e.node.empty()) {
        j["node"] = e.node;
      }
      j["duration_ns"] = e.duration.count();
      j["ok"] = e.ok;
      if (!e.detail.empty()) {
        j["error"] = e.detail;
      }
      break;
    case event_kind::strategy_iteration:
      j["strategy"] = e.detail;
      j["score"] = e.score;
      j["iteration"] = e.iteration;
      break;
    case event_kind::tokens:
      j["tokens"] = e.tokens;
      break;
    case event_kind::note:
      if (!e.node.empty()) {
        j["node"] = e.node;
      }
      j["text"] = e.detail;
      break;
  }
  return j;
}

nlohmann::json error_json(const grove::error& e) {
  return {{"code", e.code ? e.code.message() : std::string{}},
          {"category", e.code ? e.code.category().name() : ""},
          {"message", e.describe()}};
}

}  // namespace

std::string_view to_string(event_kind kind) noexcept {
  switch (kind) {
    case event_kind::request_started:
      return "request_started";
    case event_kind::node_started:
      return "node_started";
    case event_kind::node_finished:
      return "node_finished";
    case event_kind::strategy_iteration:
      return "strategy_iteration";
    case event_kind::tokens:
      return "tokens";
    case event_kind::note:
      return "note";
    case event_kind::request_finished:
      return "request_finished";
  }
  return "unknown";
}

std::string to_json_line(const graph_event& event) {
  // Replacement keeps a node's invalid UTF-8 (model text in a note) from throwing.
  return event_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

event_sink request_trace::sink(event_sink next) {
  return [this, next = std::move(next)](const graph_event& e) {
    events_.push_back(e);
    if (next) {
      next(e);
    }
  };
}

void request_trace::write_json(std::ostream& out, const run_report& report) const {
  nlohmann::json j;
  j["request_id"] = report.request_id;
  j["outcome"] = report.outcome
                     ? nlohmann::json{{"ok", true}}
                     : nlohmann::json{{"ok", false}, {"error", error_json(report.outcome.error())}};
  j["steps"] = report.steps;
  j["elapsed_ns"] = report.elapsed.count();
  auto& steps = j["trace"] = nlohmann::json::array();
  for (const auto& s : report.trace) {
    nlohmann::json step{{"node", s.node},
                        {"start_ns", s.start.count()},
                        {"duration_ns", s.duration.count()},
                        {"ok", s.ok},
                        {"fan_out", s.fan_out}};
    if (!s.ok) {
      step["error"] = error_json(s.error);
    }
    steps.push_back(std::move(step));
  }
  auto& events = j["events"] = nlohmann::json::array();
  for (const auto& e : events_) {
    events.push_back(event_json(e));
  }
  out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

grove::result<void> request_trace::write_json_file(const std::string& path,
                                                   const run_report& report) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    return grove::fail(std::make_error_code(std::errc::io_error),
                       "cannot open the trace file for writing", path);
  }
  write_json(out, report);
  out.flush();
  if (!out) {
    return grove::fail(std::make_error_code(std::errc::io_error), "cannot write the trace file",
                       path);
  }
  return {};
}

}  // namespace grove::agents
