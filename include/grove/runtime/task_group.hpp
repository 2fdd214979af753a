// grove/runtime/task_group.hpp: an owner for spawned coroutines.
//
// Every coroutine grove starts in the background belongs to a task_group
// (structured concurrency: nothing is `detached`). The group spawns children
// on its executor with their own cancellation signal, counts them, and on
// async_close() refuses new children, sends terminal cancellation to every
// child, and waits until all of them have finished or a grace period passed.
//
// Children see the cancellation as usual in Asio: the operation they are
// awaiting completes with operation_aborted (runtime pieces report
// errc::cancelled), and a later co_await in a cancelled coroutine throws.
// A child that ends with an exception is counted (stats().failed) and logged
// once at warn; the exception goes no further.
//
// Example:
//   grove::runtime::task_group group(io.get_executor());
//   group.spawn(worker(queue));
//   ...
//   co_await group.async_close(std::chrono::seconds(5));
//
// Thread safety: every member may be called from any thread. Cancellation is
// emitted through the group's executor; when that executor is an io_context
// run by several threads, give the group a strand so a child and the signal
// that cancels it never run at the same time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "grove/runtime/clock.hpp"
#include "grove/runtime/errors.hpp"
#include "grove/runtime/result.hpp"

namespace spdlog {
class logger;
}

namespace grove::runtime {

/// Counters since construction.
struct task_group_stats {
  std::uint64_t spawned = 0;
  std::uint64_t completed = 0;  // returned normally
  std::uint64_t failed = 0;     // ended with an exception (cancellation included)
  std::size_t running = 0;      // current value
};

/// See the file comment.
class task_group {
 public:
  /// Children run on `executor`. `time_source` (null: real clock) measures the
  /// close deadline; `logger` (null: silent) gets child failures.
  explicit task_group(boost::asio::any_io_executor executor,
                      std::shared_ptr<clock> time_source = nullptr,
                      std::shared_ptr<spdlog::logger> logger = nullptr);

  /// Cancels every running child (it does not wait: call async_close() first
  /// for an orderly shutdown). Children keep the group's shared state alive,
  /// so destroying the group early is safe.
  ~task_group();

  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  /// Starts `task` on the group's executor. Returns errc::closed after
  /// async_close() started (the task is destroyed without running).
  result<void> spawn(boost::asio::awaitable<void> task);

  /// Emits terminal cancellation to every running child without closing.
  void cancel_all();

  /// Waits until no child is running (without cancelling), for at most
  /// `deadline`. Completes: success; errc::deadline_exceeded; errc::cancelled
  /// when this wait itself was cancelled.
  boost::asio::awaitable<result<void>> wait(std::chrono::nanoseconds deadline);

  /// Closes the group: refuses new children, cancels the running ones, and
  /// waits for them for at most `deadline`.
  /// Completes: success when every child finished; errc::deadline_exceeded
  /// when some are still running (they keep running until they notice);
  /// errc::cancelled when this wait itself was cancelled.
  boost::asio::awaitable<result<void>> async_close(std::chrono::nanoseconds deadline);

  /// Children currently running.
  std::size_t size() const;
  task_group_stats stats() const;

  /// The executor children run on.
  const boost::asio::any_io_executor& get_executor() const noexcept;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace grove::runtime
