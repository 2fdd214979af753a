// async_semaphore: FIFO permits handed directly from releaser to waiter.
#include "grove/runtime/semaphore.hpp"

#include <stdexcept>
#include <utility>

#include <boost/asio/this_coro.hpp>

#include "clock_timer.hpp"
#include "grove/core/assert.hpp"

namespace grove::runtime {

namespace asio = boost::asio;

struct async_semaphore::waiter {
  std::shared_ptr<detail::clock_timer> timer;
  bool granted = false;  // a permit was handed over; the waiter owns it
  bool closed = false;   // close() failed this waiter
};

semaphore_permit& semaphore_permit::operator=(semaphore_permit&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
  }
  return *this;
}

void semaphore_permit::release() noexcept {
  if (owner_ != nullptr) {
    std::exchange(owner_, nullptr)->release_one();
  }
}

async_semaphore::async_semaphore(std::size_t permits) : capacity_(permits), available_(permits) {
  if (permits == 0) {
    throw std::invalid_argument("async_semaphore: permits must be >= 1");
  }
}

async_semaphore::~async_semaphore() {
  std::lock_guard lock(mutex_);
  GROVE_ASSERT(queue_.empty(), "async_semaphore destroyed while acquire() calls wait");
  GROVE_ASSERT(available_ == capacity_, "async_semaphore destroyed while permits are held");
}

asio::awaitable<result<semaphore_permit>> async_semaphore::acquire() {
  const auto executor = co_await asio::this_coro::executor;
  auto self = std::make_shared<waiter>();
  std::list<std::shared_ptr<waiter>>::iterator position;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      co_return fail(errc::closed, "async_semaphore::acquire: semaphore closed");
    }
    if (available_ > 0 && queue_.empty()) {
      --available_;
      co_return semaphore_permit(this);
    }
    self->timer = std::make_shared<detail::clock_timer>(*real_clock(), executor);
    position = queue_.insert(queue_.end(), self);
  }

  // Waits have no deadline, so the clock is never consulted: the real clock
  // only serves as the timer's owner.
  for (;;) {
    const auto status = co_await self->timer->wait(std::nullopt);
    std::lock_guard lock(mutex_);
    if (self->granted) {
      // Granted, possibly at the same moment as a cancellation: the permit is
      // ours either way, and returning it keeps it from leaking.
      co_return semaphore_permit(this);
    }
    if (self->closed) {
      co_return fail(errc::closed, "async_semaphore::acquire: semaphore closed while waiting");
    }
    if (status == detail::wait_status::cancelled) {
      queue_.erase(position);
      co_return fail(errc::cancelled, "async_semaphore::acquire: cancelled while waiting");
    }
  }
}

semaphore_permit async_semaphore::try_acquire() {
  std::lock_guard lock(mutex_);
  if (closed_ || available_ == 0 || !queue_.empty()) {
    return {};
  }
  --available_;
  return semaphore_permit(this);
}

void async_semaphore::release_one() noexcept {
  std::lock_guard lock(mutex_);
  if (!queue_.empty()) {
    // Hand the permit straight to the head: available_ does not change.
    auto head = std::move(queue_.front());
    queue_.pop_front();
    head->granted = true;
    head->timer->wake();
    return;
  }
  ++available_;
}

std::size_t async_semaphore::available() const {
  std::lock_guard lock(mutex_);
  return available_;
}

std::size_t async_semaphore::waiting() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void async_semaphore::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  for (auto& w : queue_) {
    w->closed = true;
    w->timer->wake();
  }
  queue_.clear();
}

}  // namespace grove::runtime
