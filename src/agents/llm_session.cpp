#include "grove/agents/llm_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "grove/agents/errc.hpp"

namespace grove::agents {

namespace asio = boost::asio;

// One call that identical requests share. Waiters park on a timer that never
// expires by itself; the caller that sends the request cancels it when the
// answer is in.
struct llm_session::shared_call {
  explicit shared_call(asio::any_io_executor executor)
      : wake(std::move(executor), asio::steady_timer::time_point::max()) {}
  bool done = false;
  grove::result<llm::chat_response> answer;
  asio::steady_timer wake;
};

std::vector<std::string> budget_options::validate() const {
  std::vector<std::string> problems;
  if (max_calls < 1) {
    problems.push_back("max_calls: 0; accepted: >= 1");
  }
  if (max_tokens < 1) {
    problems.push_back("max_tokens: 0; accepted: >= 1");
  }
  if (max_wall_time.count() < 1) {
    problems.push_back("max_wall_time: " + std::to_string(max_wall_time.count()) +
                       " ms; accepted: >= 1 ms");
  }
  return problems;
}

std::string_view to_string(budget_limit limit) noexcept {
  switch (limit) {
    case budget_limit::none:
      return "none";
    case budget_limit::calls:
      return "calls";
    case budget_limit::tokens:
      return "tokens";
    case budget_limit::wall_time:
      return "wall_time";
  }
  return "none";
}

std::string canonical_request(const llm::chat_request& request) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : request.messages) {
    messages.push_back({{"role", llm::to_string(m.role)}, {"content", m.content}});
  }
  nlohmann::json j{{"messages", std::move(messages)}, {"model", request.model}};
  if (request.temperature) {
    j["temperature"] = *request.temperature;
  }
  if (request.max_tokens) {
    j["max_tokens"] = *request.max_tokens;
  }
  if (!request.stop.empty()) {
    j["stop"] = request.stop;
  }
  if (request.json_mode) {
    j["json_mode"] = true;
  }
  if (!request.tools.empty()) {
    auto& names = j["tools"] = nlohmann::json::array();
    for (const auto& t : request.tools) {
      names.push_back(t.name);
    }
  }
  // nlohmann sorts object keys, so equal requests give equal text.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

llm_session::llm_session(llm::chat_client& client, budget_options budget,
                         std::function<void(std::uint64_t)> on_tokens)
    : client_(&client),
      budget_(budget),
      on_tokens_(std::move(on_tokens)),
      start_(std::chrono::steady_clock::now()) {}

grove::result<void> llm_session::admit(call_kind kind) {
  if (elapsed() >= budget_.max_wall_time) {
    exhausted_ = exhausted_ == budget_limit::none ? budget_limit::wall_time : exhausted_;
    return grove::fail(errc::budget_exhausted, "wall-time budget spent",
                       std::to_string(budget_.max_wall_time.count()) + " ms");
  }
  budget_limit hit = budget_limit::none;
  if (admitted_calls_ >= budget_.max_calls) {
    hit = budget_limit::calls;
  } else if (stats_.total_tokens >= budget_.max_tokens) {
    hit = budget_limit::tokens;
  }
  if (hit == budget_limit::none) {
    ++admitted_calls_;
    return {};
  }
  if (exhausted_ == budget_limit::none) {
    exhausted_ = hit;
  }
  if (kind == call_kind::final && !final_used_) {
    final_used_ = true;
    ++admitted_calls_;
    return {};
  }
  return grove::fail(errc::budget_exhausted, std::string(to_string(hit)) + " budget spent",
                     hit == budget_limit::calls ? std::to_string(budget_.max_calls) + " calls"
                                                : std::to_string(budget_.max_tokens) + " tokens");
}

asio::awaitable<grove::result<llm::chat_response>> llm_session::chat(llm::chat_request request,
                                                                     call_kind kind) {
  std::string key = canonical_request(request);

  // 1. An identical call of this request: share its answer.
  if (auto it = calls_.find(key); it != calls_.end()) {
    auto call = it->second;
    if (!call->done) {
      co_await call->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (call->done && call->answer) {
      ++stats_.deduplicated;
      co_return call->answer;
    }
    // The shared call failed or was abandoned: this caller tries on its own.
  }

  // 2. Budgets.
  if (auto admitted = admit(kind); !admitted) {
    co_return grove::fail(std::move(admitted).error());
  }

  // 3. Send, letting identical calls wait for this one.
  auto call = std::make_shared<shared_call>(co_await asio::this_coro::executor);
  calls_[key] = call;
  auto answer = co_await send(std::move(request));
  account(answer);
  call->done = true;
  call->answer = answer;
  call->wake.cancel();
  if (!answer) {
    calls_.erase(key);
  }
  co_return answer;
}

asio::awaitable<grove::result<llm::chat_response>> llm_session::send(llm::chat_request request) {
  auto executor = co_await asio::this_coro::executor;
  auto remaining =
      budget_.max_wall_time - std::chrono::duration_cast<std::chrono::milliseconds>(elapsed());
  if (remaining.count() <= 0) {
    remaining = std::chrono::milliseconds(1);
  }
  asio::steady_timer timer(executor, remaining);
  auto [order, exception, answer, timer_error] =
      co_await asio::experimental::make_parallel_group(
          asio::co_spawn(executor, client_->async_chat(std::move(request)), asio::deferred),
          timer.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  ++stats_.calls;
  if (order[0] == 1 && !timer_error) {
    if (exhausted_ == budget_limit::none) {
      exhausted_ = budget_limit::wall_time;
    }
    co_return grove::fail(errc::budget_exhausted, "wall-time budget spent during a call",
                          std::to_string(budget_.max_wall_time.count()) + " ms");
  }
  if (exception) {
    std::rethrow_exception(exception);
  }
  co_return std::move(answer);
}

void llm_session::account(const grove::result<llm::chat_response>& answer) {
  if (!answer) {
    ++stats_.failed;
    return;
  }
  const auto& r = *answer;
  bool first = stats_.calls - stats_.failed == 1;
  stats_.offline = first ? r.offline : (stats_.offline && r.offline);
  stats_.attempts += r.attempts;
  stats_.prompt_tokens += r.usage.prompt_tokens;
  stats_.completion_tokens += r.usage.completion_tokens;
  stats_.total_tokens += r.usage.total_tokens;
  provider_usage* slot = nullptr;
  for (auto& p : stats_.per_provider) {
    if (p.provider == r.provider && p.model == r.model) {
      slot = &p;
    }
  }
  if (slot == nullptr) {
    slot = &stats_.per_provider.emplace_back(provider_usage{r.provider, r.model, 0, 0});
  }
  ++slot->calls;
  slot->tokens += r.usage.total_tokens;
  if (on_tokens_) {
    on_tokens_(stats_.total_tokens);
  }
}

}  // namespace grove::agents
