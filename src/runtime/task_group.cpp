// task_group: owns spawned coroutines, cancels and awaits them on close.
#include "grove/runtime/task_group.hpp"

#include <exception>
#include <map>
#include <mutex>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include "clock_timer.hpp"

namespace grove::runtime {

namespace asio = boost::asio;

struct task_group::state : std::enable_shared_from_this<task_group::state> {
  asio::any_io_executor executor;
  std::shared_ptr<clock> time_source;
  std::shared_ptr<spdlog::logger> logger;

  std::mutex mutex;
  std::uint64_t next_id = 0;
  // Each child's cancellation signal, until the child completes.
  std::map<std::uint64_t, std::shared_ptr<asio::cancellation_signal>> children;
  // wait()/async_close() calls to wake when the last child completes.
  std::vector<std::shared_ptr<detail::clock_timer>> idle_waiters;
  bool closed = false;
  task_group_stats stats;

  void on_done(std::uint64_t id, const std::exception_ptr& failure);
  void cancel_all();
  asio::awaitable<result<void>> wait(std::chrono::nanoseconds deadline);
};

void task_group::state::on_done(std::uint64_t id, const std::exception_ptr& failure) {
  std::vector<std::shared_ptr<detail::clock_timer>> to_wake;
  {
    std::lock_guard lock(mutex);
    children.erase(id);
    --stats.running;
    ++(failure ? stats.failed : stats.completed);
    if (stats.running == 0) {
      to_wake.swap(idle_waiters);
    }
  }
  for (auto& waiter : to_wake) {
    waiter->wake();
  }
  if (!failure || !logger) {
    return;
  }

  // The child's exception stops here: it is logged once and counted.
  try {
    std::rethrow_exception(failure);
  } catch (const boost::system::system_error& e) {
    if (e.code() == asio::error::operation_aborted) {
      logger->debug("task_group: child {} ended by cancellation", id);
    } else {
      logger->warn("task_group: child {} failed: {}", id, e.what());
    }
  } catch (const std::exception& e) {
    logger->warn("task_group: child {} failed: {}", id, e.what());
  } catch (...) {
    logger->warn("task_group: child {} failed with a non-standard exception", id);
  }
}

void task_group::state::cancel_all() {
  std::vector<std::shared_ptr<asio::cancellation_signal>> signals;
  {
    std::lock_guard lock(mutex);
    for (auto& [id, signal] : children) {
      signals.push_back(signal);
    }
  }
  // A signal must be emitted where its child runs (cancellation signals are not
  // thread-safe); the posted handler also keeps the signal alive meanwhile.
  for (auto& signal : signals) {
    asio::post(executor, [signal] { signal->emit(asio::cancellation_type::terminal); });
  }
}

asio::awaitable<result<void>> task_group::state::wait(std::chrono::nanoseconds deadline) {
  const auto until = time_source->now() + deadline;
  const auto waiter_executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<detail::clock_timer>(*time_source, waiter_executor);
  for (;;) {
    {
      std::lock_guard lock(mutex);
      if (stats.running == 0) {
        co_return result<void>{};
      }
      idle_waiters.push_back(timer);
    }
    switch (co_await timer->wait(until)) {
      case detail::wait_status::woken:
        continue;
      case detail::wait_status::expired: {
        std::lock_guard lock(mutex);
        if (stats.running == 0) {
          co_return result<void>{};
        }
        co_return fail(errc::deadline_exceeded,
                       std::to_string(stats.running) + " task(s) still running after the deadline");
      }
      case detail::wait_status::cancelled:
        co_return fail(errc::cancelled, "task_group wait cancelled");
    }
  }
}

task_group::task_group(asio::any_io_executor executor, std::shared_ptr<clock> time_source,
                       std::shared_ptr<spdlog::logger> logger)
    : state_(std::make_shared<state>()) {
  state_->executor = std::move(executor);
  state_->time_source = or_real_clock(std::move(time_source));
  state_->logger = std::move(logger);
}

task_group::~task_group() { state_->cancel_all(); }

result<void> task_group::spawn(asio::awaitable<void> task) {
  auto signal = std::make_shared<asio::cancellation_signal>();
  std::uint64_t id = 0;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->closed) {
      return fail(errc::closed, "task_group::spawn: the group is closed");
    }
    id = state_->next_id++;
    state_->children.emplace(id, signal);
    ++state_->stats.spawned;
    ++state_->stats.running;
  }
  asio::co_spawn(state_->executor, std::move(task),
                 asio::bind_cancellation_slot(signal->slot(),
                                              [st = state_, id](const std::exception_ptr& failure) {
                                                st->on_done(id, failure);
                                              }));
  return {};
}

void task_group::cancel_all() { state_->cancel_all(); }

asio::awaitable<result<void>> task_group::wait(std::chrono::nanoseconds deadline) {
  // Keep the state alive for the whole wait, even if the group is destroyed.
  auto st = state_;
  co_return co_await st->wait(deadline);
}

asio::awaitable<result<void>> task_group::async_close(std::chrono::nanoseconds deadline) {
  auto st = state_;
  {
    std::lock_guard lock(st->mutex);
    st->closed = true;
  }
  st->cancel_all();
  co_return co_await st->wait(deadline);
}

std::size_t task_group::size() const {
  std::lock_guard lock(state_->mutex);
  return state_->stats.running;
}

task_group_stats task_group::stats() const {
  std::lock_guard lock(state_->mutex);
  return state_->stats;
}

const asio::any_io_executor& task_group::get_executor() const noexcept { return state_->executor; }

}  // namespace grove::runtime
