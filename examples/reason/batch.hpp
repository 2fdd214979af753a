// Batch mode of grove-reason: many questions from a JSON-lines file, several
// at once, one result line per finished question written immediately.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "grove/agents/pipeline.hpp"

namespace boost::asio {
class io_context;
}

namespace grove::reason {

struct batch_options {
  /// Input: one JSON object per line with "question" (string), optionally
  /// "answer" (GSM8K text ending in "#### N", or a number) and "id".
  std::string questions_path{};
  /// Output: one JSON object per finished question (appended with resume).
  /// Empty: results go to standard output.
  std::string out_path{};
  /// Questions in flight at once. Range 1..256.
  std::size_t concurrency = 4;
  /// Skip ids that already have a successful result line in out_path; error
  /// records of the earlier run are removed from the file and run again.
  bool resume = false;
  /// Draw a progress bar on `err` (only when it is a terminal).
  bool progress = false;
  /// Called with the id, result and event trace of every answered question
  /// (after its line is written), on the thread running `io`. Null: none.
  std::function<void(const std::string& id, const agents::request_result& result,
                     const agents::request_trace& trace)>
      on_finished{};
};

struct batch_summary {
  std::size_t valid = 0;
  std::size_t malformed = 0;
  /// Questions skipped because an earlier run answered them (resume).
  std::size_t skipped = 0;
  /// Error records of an earlier run removed and run again (resume).
  std::size_t retried = 0;
  std::size_t done = 0;
  std::size_t failed = 0;
  std::size_t graded = 0;
  std::size_t correct = 0;
  std::uint64_t calls = 0;
  std::uint64_t tokens = 0;
  bool interrupted = false;
};

/// Runs the batch on `io` (run by the calling thread) until every question is
/// done or SIGINT / SIGTERM arrives (then requests in flight are cancelled
/// and nothing finished is lost). Malformed lines are reported on `err` with
/// their line number and skipped. A question rejected before any call (too
/// long, say) is echoed in its result line cut to 200 bytes, with
/// "question_truncated": true and "question_bytes". Returns the summary;
/// errors: unreadable input, unwritable output.
[[nodiscard]] grove::result<batch_summary> run_batch(boost::asio::io_context& io,
                                                     const agents::pipeline& pipeline,
                                                     const batch_options& options,
                                                     std::ostream& out, std::ostream& err);

}  // namespace grove::reason
