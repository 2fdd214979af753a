#include "batch.hpp"

#include <unistd.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "grove/agents/errc.hpp"
#include "grove/core/utf8.hpp"
#include "reason_app.hpp"

namespace grove::reason {
namespace asio = boost::asio;
namespace {

struct question_line {
  std::size_t line = 0;
  std::string id;
  std::string question;
  std::optional<std::string> expected;
};

std::string id_of(const nlohmann::json& j, std::size_t line) {
  if (j.contains("id")) {
    const auto& id = j["id"];
    if (id.is_string()) {
      return id.get<std::string>();
    }
    if (id.is_number_integer()) {
      return std::to_string(id.get<std::int64_t>());
    }
  }
  return "line-" + std::to_string(line);
}

// What a resumed run starts from.
struct resume_state {
  // Ids with a successful result: not run again.
  std::set<std::string> done;
  // Error records dropped from the file: their questions run again.
  std::size_t retried = 0;
};

// Reads the results of an earlier run. Only successful results count as done:
// error records (and a last line cut short by a kill) are removed from the
// file, through a temporary file renamed over it, so each id ends with exactly
// one result line.
grove::result<resume_state> prepare_resume(const std::string& path) {
  resume_state state;
  if (path.empty() || !std::filesystem::exists(path)) {
    return state;
  }
  std::string content;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return grove::fail(std::make_error_code(std::errc::io_error), "cannot read", path);
    }
    content.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (!content.empty() && content.back() != '\n') {
    auto keep = content.rfind('\n');
    content.resize(keep == std::string::npos ? 0 : keep + 1);
  }
  std::string kept;
  std::size_t start = 0;
  while (start < content.size()) {
    auto end = content.find('\n', start);
    std::string_view text(content.data() + start, end - start);
    start = end + 1;
    auto j = nlohmann::json::parse(text, nullptr, false);
    const bool has_id = j.is_object() && j.contains("id") && j["id"].is_string();
    if (has_id && j.contains("error")) {
      ++state.retried;
      continue;
    }
    if (has_id) {
      state.done.insert(j["id"].get<std::string>());
    }
    kept.append(text).push_back('\n');
  }
  if (kept.size() != std::filesystem::file_size(path)) {
    const std::string temporary = path + ".resume-tmp";
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out << kept;
      out.flush();
      if (!out) {
        return grove::fail(std::make_error_code(std::errc::io_error),
                           "cannot rewrite the results without their error records", temporary);
      }
    }
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec) {
      return grove::fail(ec, "cannot replace the results file", path);
    }
  }
  return state;
}

// The question as a result line echoes it: a rejected over-long question is
// cut to its first bytes (on a UTF-8 boundary) and the record says so.
void echo_question(nlohmann::json& line, const std::string& question, bool rejected) {
  constexpr std::size_t echoed_bytes = 200;
  if (!rejected || question.size() <= echoed_bytes) {
    line["question"] = question;
    return;
  }
  line["question"] = std::string(core::utf8_prefix(question, echoed_bytes));
  line["question_truncated"] = true;
  line["question_bytes"] = question.size();
}

void draw_progress(std::ostream& err, const batch_summary& s, std::size_t total) {
  constexpr int width = 30;
  std::size_t finished = s.done + s.failed;
  int filled = total == 0 ? width : static_cast<int>(width * finished / total);
  err << "\r[" << std::string(filled, '#') << std::string(width - filled, ' ') << "] " << finished
      << "/" << total;
  if (s.graded > 0) {
    err << "  accuracy " << (100 * s.correct / s.graded) << "%";
  }
  err << "  tokens " << s.tokens << std::flush;
}

}  // namespace

grove::result<batch_summary> run_batch(asio::io_context& io, const agents::pipeline& pipeline,
                                       const batch_options& options, std::ostream& out,
                                       std::ostream& err) {
  batch_summary summary;

  // 1. Read and check every line.
  std::ifstream in(options.questions_path);
  if (!in) {
    return grove::fail(std::make_error_code(std::errc::no_such_file_or_directory),
                       "cannot read the questions file", options.questions_path);
  }
  std::vector<question_line> questions;
  std::set<std::string> seen;
  std::string text;
  for (std::size_t number = 1; std::getline(in, text); ++number) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    std::string problem;
    if (j.is_discarded()) {
      problem = "not valid JSON";
    } else if (!j.is_object() || !j.contains("question") || !j["question"].is_string()) {
      problem = "no \"question\" string";
    }
    question_line q;
    if (problem.empty()) {
      q.line = number;
      q.id = id_of(j, number);
      q.question = j["question"].get<std::string>();
      if (j.contains("answer")) {
        const auto& a = j["answer"];
        q.expected = a.is_string()   ? expected_number(a.get<std::string>())
                     : a.is_number() ? std::optional<std::string>(a.dump())
                                     : std::nullopt;
      }
      if (!seen.insert(q.id).second) {
        problem = "duplicate id '" + q.id + "'";
      }
    }
    if (!problem.empty()) {
      ++summary.malformed;
      err << options.questions_path << ":" << number << ": skipped: " << problem << "\n";
      continue;
    }
    questions.push_back(std::move(q));
  }
  summary.valid = questions.size();

  // 2. Skip what a previous run finished; its failures run again.
  std::set<std::string> done_ids;
  if (options.resume) {
    auto previous = prepare_resume(options.out_path);
    if (!previous) {
      return grove::fail(std::move(previous).error());
    }
    done_ids = std::move(previous->done);
    summary.retried = previous->retried;
  }
  std::vector<const question_line*> todo;
  for (const auto& q : questions) {
    if (done_ids.count(q.id) != 0) {
      ++summary.skipped;
    } else {
      todo.push_back(&q);
    }
  }

  std::ofstream file;
  if (!options.out_path.empty()) {
    file.open(options.out_path, std::ios::binary | std::ios::app);
    if (!file) {
      return grove::fail(std::make_error_code(std::errc::io_error),
                         "cannot open the results file for writing", options.out_path);
    }
  }
  std::ostream& sink = options.out_path.empty() ? out : file;
  const bool progress = options.progress && isatty(STDERR_FILENO) != 0;

  // 3. Workers pull questions; every finished one is written and flushed at
  //    once, so an interrupt or a crash loses only the questions in flight.
  std::size_t next = 0;
  std::vector<asio::cancellation_signal> cancels(options.concurrency);
  bool stopping = false;
  bool write_failed = false;
  auto worker = [&](std::size_t slot) -> asio::awaitable<void> {
    while (!stopping && next < todo.size()) {
      const question_line& q = *todo[next++];
      agents::request_trace trace;
      agents::request_options request{.request_id = q.line, .sink = {}};
      if (options.on_finished) {
        request.sink = trace.sink();
      }
      auto r = co_await pipeline.run(q.question, std::move(request));
      if (stopping && !r && r.error().code == agents::errc::cancelled) {
        co_return;
      }
      nlohmann::json line{{"id", q.id}, {"line", q.line}};
      echo_question(line, q.question, !r && r.error().code == agents::errc::invalid_query);
      if (r) {
        summary.calls += r->usage.calls;
        summary.tokens += r->usage.total_tokens;
        ++summary.done;
        std::string predicted = predicted_number(r->answer);
        line["answer"] = r->answer;
        line["predicted"] = predicted;
        line["confidence"] = r->confidence;
        line["calls"] = r->usage.calls;
        line["tokens"] = r->usage.total_tokens;
        line["elapsed_ms"] = static_cast<double>(r->elapsed.count()) / 1e6;
        line["stopped_by_budget"] = agents::to_string(r->stopped_by);
        line["offline"] = r->offline;
        if (q.expected) {
          bool correct = same_number(predicted, *q.expected);
          line["expected"] = *q.expected;
          line["correct"] = correct;
          ++summary.graded;
          summary.correct += correct ? 1 : 0;
        }
      } else {
        ++summary.failed;
        line["error"] = r.error().describe();
      }
      sink << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      sink.flush();
      if (!sink) {
        // A full disk or a closed pipe: stop rather than report results that
        // were never stored.
        write_failed = true;
        stopping = true;
        for (auto& c : cancels) {
          c.emit(asio::cancellation_type::terminal);
        }
        co_return;
      }
      if (r && options.on_finished) {
        options.on_finished(q.id, *r, trace);
      }
      if (progress) {
        draw_progress(err, summary, todo.size());
      }
    }
    (void)slot;
  };

  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::size_t running = options.concurrency;
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) {
      return;
    }
    stopping = true;
    summary.interrupted = true;
    for (auto& c : cancels) {
      c.emit(asio::cancellation_type::terminal);
    }
  });
  for (std::size_t i = 0; i < options.concurrency; ++i) {
    asio::co_spawn(io, worker(i),
                   asio::bind_cancellation_slot(cancels[i].slot(), [&](std::exception_ptr e) {
                     if (e) {
                       err << "worker failed unexpectedly\n";
                     }
                     if (--running == 0) {
                       signals.cancel();
                     }
                   }));
  }
  // The io_context may hold other work (an HTTP client's), so run until the
  // workers are done rather than until it runs dry.
  io.restart();
  while (running > 0) {
    if (io.run_one() == 0) {
      io.restart();
    }
  }
  io.poll();
  if (progress) {
    err << "\n";
  }
  if (write_failed) {
    return grove::fail(std::make_error_code(std::errc::io_error),
                       "writing the results failed (disk full?); " +
                           std::to_string(summary.done + summary.failed) +
                           " results may be missing, rerun with --resume",
                       options.out_path.empty() ? "standard output" : options.out_path);
  }
  return summary;
}

}  // namespace grove::reason
