#include "grove/agents/node_context.hpp"

#include <spdlog/logger.h>

namespace grove::agents {

std::uint64_t node_context::request_id() const noexcept { return run_->request_id(); }

std::chrono::nanoseconds node_context::elapsed() const noexcept { return run_->elapsed(); }

void node_context::emit(graph_event event) const { run_->emit(std::move(event), node_); }

void node_context::note(std::string text) const {
  graph_event e;
  e.kind = event_kind::note;
  e.detail = std::move(text);
  emit(std::move(e));
}

void node_context::strategy_iteration(std::string strategy, double score,
                                      std::uint64_t iteration) const {
  graph_event e;
  e.kind = event_kind::strategy_iteration;
  e.detail = std::move(strategy);
  e.score = score;
  e.iteration = iteration;
  emit(std::move(e));
}

void node_context::tokens(std::uint64_t total) const {
  graph_event e;
  e.kind = event_kind::tokens;
  e.tokens = total;
  emit(std::move(e));
}

namespace detail {

request_run::request_run(const run_options& options)
    : start_(std::chrono::steady_clock::now()),
      max_steps_(options.max_steps),
      sink_(options.sink ? &options.sink : nullptr),
      logger_(options.logger.get()) {
  report_.request_id = options.request_id;
  if (sink_ != nullptr) {
    graph_event e;
    e.kind = event_kind::request_started;
    e.request_id = report_.request_id;
    (*sink_)(e);
  }
}

std::chrono::nanoseconds request_run::elapsed() const noexcept {
  return std::chrono::steady_clock::now() - start_;
}

void request_run::emit(graph_event event, std::string_view node) {
  if (sink_ == nullptr) {
    return;
  }
  event.request_id = report_.request_id;
  event.at = elapsed();
  if (event.node.empty()) {
    event.node = node;
  }
  (*sink_)(event);
}

std::chrono::nanoseconds request_run::step_started(std::string_view node) {
  ++report_.steps;
  auto at = elapsed();
  if (sink_ != nullptr) {
    graph_event e;
    e.kind = event_kind::node_started;
    e.request_id = report_.request_id;
    e.at = at;
    e.node = node;
    (*sink_)(e);
  }
  if (logger_ != nullptr) {
    logger_->debug("request {} node {} started", report_.request_id, node);
  }
  return at;
}

void request_run::step_finished(std::string_view node, std::chrono::nanoseconds start,
                                const grove::result<void>& outcome, std::uint32_t fan_out) {
  auto now = elapsed();
  step_record record;
  record.node = node;
  record.start = start;
  record.duration = now - start;
  record.ok = outcome.has_value();
  if (!record.ok) {
    record.error = outcome.error();
  }
  record.fan_out = fan_out;

  if (sink_ != nullptr) {
    graph_event e;
    e.kind = event_kind::node_finished;
    e.request_id = report_.request_id;
    e.at = now;
    e.node = node;
    e.duration = record.duration;
    e.ok = record.ok;
    if (!record.ok) {
      e.detail = record.error.describe();
    }
    (*sink_)(e);
  }
  if (logger_ != nullptr) {
    if (record.ok) {
      logger_->debug("request {} node {} finished in {} us", report_.request_id, node,
                     record.duration.count() / 1000);
    } else {
      logger_->warn("request {} node {} failed after {} us: {}", report_.request_id, node,
                    record.duration.count() / 1000, record.error.describe());
    }
  }
  report_.trace.push_back(std::move(record));
}

run_report request_run::finish(grove::result<void> outcome) {
  report_.elapsed = elapsed();
  report_.outcome = std::move(outcome);
  if (sink_ != nullptr) {
    graph_event e;
    e.kind = event_kind::request_finished;
    e.request_id = report_.request_id;
    e.at = report_.elapsed;
    e.duration = report_.elapsed;
    e.ok = report_.outcome.has_value();
    if (!e.ok) {
      e.detail = report_.outcome.error().describe();
    }
    (*sink_)(e);
  }
  if (logger_ != nullptr && !report_.outcome) {
    logger_->warn("request {} ended: {}", report_.request_id, report_.outcome.error().describe());
  }
  return std::move(report_);
}

}  // namespace detail
}  // namespace grove::agents
