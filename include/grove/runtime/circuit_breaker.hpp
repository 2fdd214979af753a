// grove/runtime/circuit_breaker.hpp: a count-window circuit breaker with a
// bounded number of half-open probes.
//
// States and transitions:
//
//   closed --(window full enough and failure or slow-call rate >= threshold)--> open
//   open   --(open interval elapsed; checked by the next allow())----------> half_open
//   half_open --(probe fails or is slow)--> open, with the interval multiplied
//   half_open --(required probe successes)--> closed, interval reset to base
//
// - closed: every call is allowed. The outcomes of the last `window_size`
//   counted calls are kept in a ring. Once at least `minimum_calls` are in
//   the window, the breaker opens when failures / calls >= failure_rate_threshold
//   or slow / calls >= slow_call_rate_threshold. A call is slow when it took at
//   least slow_call_duration (measured on the breaker's clock from allow() to
//   record()), whatever its outcome.
// - open: every call is refused with errc::circuit_open until the open
//   interval has elapsed. The first interval is `open_interval`; each reopening
//   from half-open multiplies it by `open_interval_multiplier`, up to
//   `max_open_interval`. A successful close resets it.
// - half_open: at most `half_open_max_probes` calls are in flight at once
//   (the system grove replaces admitted unlimited calls here); the others are
//   refused. One failed (or slow) probe reopens the circuit; after
//   `half_open_successes` successful probes it closes with an empty window.
//
// Outcomes: record() takes a call_outcome. Callers usually derive it from a
// failure_class with count_as_failure(): server errors (5xx, 529), timeouts,
// connection failures and unknown errors are failures; 429, other 4xx and
// rejected calls are `ignored` (they say nothing about the server's health and
// only release a half-open probe slot).
//
// Thread safety: every member may be called from any thread. The state is one
// small struct behind a std::mutex; allow() and record() each take the lock
// once and do O(1) work under it (see docs/benchmarks/runtime.md for the cost
// with one and two threads). State changes are logged (info) and counted.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "grove/runtime/clock.hpp"
#include "grove/runtime/errors.hpp"
#include "grove/runtime/result.hpp"

namespace spdlog {
class logger;
}

namespace grove::runtime {

enum class breaker_state { closed, open, half_open };

/// "closed", "open", "half_open".
std::string_view to_string(breaker_state s) noexcept;

/// What a finished call means for the breaker.
enum class call_outcome {
  success,  // counts as a success
  failure,  // counts as a failure
  ignored,  // not counted (429, 4xx, cancelled); only frees a probe slot
};

/// The outcome a failure_class gives: server_error, timeout, connection and
/// unknown are failures; rate_limited, client_error and rejected are ignored.
call_outcome count_as_failure(failure_class c) noexcept;

/// Configuration of a circuit_breaker. Defaults are DESIGN.md's.
struct circuit_breaker_options {
  /// Name used in logs and errors. Default "default".
  std::string name = "default";

  // -- closed state: the count window
  /// Counted calls kept in the window. Range: >= 1. Default 50.
  std::size_t window_size = 50;
  /// Calls the window must hold before the rates are evaluated.
  /// Range: [1, window_size]. Default 20.
  std::size_t minimum_calls = 20;
  /// Failure share that opens the circuit. Range: (0, 1]. Default 0.5.
  double failure_rate_threshold = 0.5;
  /// A call at least this long is slow. Range: > 0. Default 30 s.
  std::chrono::nanoseconds slow_call_duration = std::chrono::seconds(30);
  /// Slow share that opens the circuit. Range: (0, 1]; 1 means "all calls
  /// slow". Default 1.0.
  double slow_call_rate_threshold = 1.0;

  // -- open state
  /// First open interval. Range: > 0. Default 30 s.
  std::chrono::nanoseconds open_interval = std::chrono::seconds(30);
  /// Growth of the interval on each reopening from half-open. Range: >= 1.
  /// Default 2.
  double open_interval_multiplier = 2.0;
  /// Cap of the interval. Range: >= open_interval. Default 5 min.
  std::chrono::nanoseconds max_open_interval = std::chrono::minutes(5);

  // -- half-open state
  /// Probes allowed in flight at once. Range: >= 1. Default 3.
  std::size_t half_open_max_probes = 3;
  /// Successful probes needed to close. Range: >= 1. Default 3.
  std::size_t half_open_successes = 3;

  /// Time source; null means real_clock().
  std::shared_ptr<clock> time_source;
  /// Receives state changes (info); null logs nothing.
  std::shared_ptr<spdlog::logger> logger;

  result<void> validate() const;
};

/// Counters since construction.
struct circuit_breaker_stats {
  std::uint64_t allowed = 0;      // allow() that returned a permit
  std::uint64_t rejected = 0;     // allow() refused (open, or probe limit)
  std::uint64_t successes = 0;    // record(success)
  std::uint64_t failures = 0;     // record(failure)
  std::uint64_t ignored = 0;      // record(ignored) and permits dropped unrecorded
  std::uint64_t slow = 0;         // recorded calls that were slow
  std::uint64_t opened = 0;       // transitions to open (from closed or half-open)
  std::uint64_t half_opened = 0;  // transitions open -> half_open
  std::uint64_t closed = 0;       // transitions half_open -> closed
};

class circuit_breaker;

/// Permission for one call, returned by circuit_breaker::allow(). Record the
/// outcome with record(); a permit destroyed unrecorded counts as ignored.
/// Movable, not copyable. Requires: the breaker outlives its permits.
class breaker_permit {
 public:
  breaker_permit() = default;
  breaker_permit(breaker_permit&& other) noexcept;
  breaker_permit& operator=(breaker_permit&& other) noexcept;
  breaker_permit(const breaker_permit&) = delete;
  breaker_permit& operator=(const breaker_permit&) = delete;
  ~breaker_permit();

  /// Reports how the call went. Later calls (and the destructor) do nothing.
  void record(call_outcome outcome);

  /// True until recorded or moved from.
  bool active() const noexcept { return breaker_ != nullptr; }

  /// True when the call was admitted as a half-open probe.
  bool is_probe() const noexcept { return probe_; }

 private:
  friend class circuit_breaker;
  breaker_permit(circuit_breaker* breaker, std::uint64_t generation, bool probe,
                 clock::time_point start) noexcept
      : breaker_(breaker), generation_(generation), start_(start), probe_(probe) {}

  circuit_breaker* breaker_ = nullptr;
  std::uint64_t generation_ = 0;
  clock::time_point start_{};
  bool probe_ = false;
};

/// See the file comment.
class circuit_breaker {
 public:
  /// Throws std::invalid_argument (validate()'s message) on bad options.
  explicit circuit_breaker(circuit_breaker_options options = {});
  ~circuit_breaker();

  circuit_breaker(const circuit_breaker&) = delete;
  circuit_breaker& operator=(const circuit_breaker&) = delete;

  /// Asks to make one call. Returns a permit, or errc::circuit_open with a
  /// message saying whether the circuit is open (and for how much longer) or
  /// half-open with every probe slot taken. Moves open -> half_open when the
  /// open interval has elapsed.
  result<breaker_permit> allow();

  /// The state now (an open circuit whose interval elapsed still reads open
  /// until the next allow()).
  breaker_state state() const;

  /// The interval the circuit stays (or would next stay) open.
  std::chrono::nanoseconds current_open_interval() const;

  /// Calls and failures currently in the closed-state window.
  std::size_t window_calls() const;
  std::size_t window_failures() const;

  /// Half-open probes currently in flight.
  std::size_t probes_in_flight() const;

  circuit_breaker_stats stats() const;
  const circuit_breaker_options& options() const noexcept { return options_; }

 private:
  friend class breaker_permit;

  // Outcome of one recorded call, as stored in the window.
  struct sample {
    bool failure;
    bool slow;
  };

  void record(const breaker_permit& permit, call_outcome outcome);
  void transition_locked(breaker_state to, clock::time_point now, std::string_view why);
  void reset_window_locked();

  circuit_breaker_options options_;
  std::shared_ptr<clock> clock_;

  mutable std::mutex mutex_;
  breaker_state state_ = breaker_state::closed;
  std::uint64_t generation_ = 0;  // bumped on every transition
  std::vector<sample> window_;    // ring of window_size samples
  std::size_t window_next_ = 0;
  std::size_t window_count_ = 0;
  std::size_t window_failures_ = 0;
  std::size_t window_slow_ = 0;
  clock::time_point open_until_{};
  std::chrono::nanoseconds open_interval_;
  std::size_t probes_in_flight_ = 0;
  std::size_t probe_successes_ = 0;
  circuit_breaker_stats stats_;
};

}  // namespace grove::runtime
