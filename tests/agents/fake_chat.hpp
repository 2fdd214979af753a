// A scripted chat_client for the agents tests: answers by the kind of call
// (judge, decomposition, anything else), with per-kind delays and failures,
// and counts what it saw. Not a network fake: see the end-to-end tests for
// those.
#pragma once

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "grove/llm/chat.hpp"

namespace grove::agents::testing {

enum class call_kind { judge, decompose, answer };

inline call_kind kind_of(const llm::chat_request& r) {
  const std::string& system = r.messages.front().content;
  if (system.find("You grade answers") != std::string::npos) {
    return call_kind::judge;
  }
  if (system.find("sub-problems") != std::string::npos &&
      system.find("You split") != std::string::npos) {
    return call_kind::decompose;
  }
  return call_kind::answer;
}

// The marker "[req-N]" found in the user message, or "".
inline std::string marker_of(const llm::chat_request& r) {
  const std::string& user = r.messages.back().content;
  auto open = user.find("[req-");
  if (open == std::string::npos) {
    return {};
  }
  return user.substr(open, user.find(']', open) - open + 1);
}

class fake_chat final : public llm::chat_client {
 public:
  // Judge reply for an answer text; default: a fixed high score.
  std::function<std::string(const std::string& answer)> judge_reply = [](const std::string&) {
    return std::string(R"({"score": 0.9, "reason": "fine"})");
  };
  std::string decompose_reply = R"({"subproblems": ["first part", "second part"]})";
  std::chrono::milliseconds judge_delay{0};
  std::chrono::milliseconds decompose_delay{0};
  std::chrono::milliseconds answer_delay{0};
  // Every call (or the first N calls) fails with this code.
  std::optional<llm::errc> fail_with;
  int fail_first = -1;  // -1: every call fails when fail_with is set

  std::atomic<int> calls{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> peak_in_flight{0};

  boost::asio::awaitable<grove::result<llm::chat_response>> async_chat(
      llm::chat_request request) override {
    int number = ++calls;
    int now = ++in_flight;
    int peak = peak_in_flight.load();
    while (now > peak && !peak_in_flight.compare_exchange_weak(peak, now)) {
    }
    struct leave {
      std::atomic<int>& n;
      ~leave() { --n; }
    } guard{in_flight};

    auto kind = kind_of(request);
    auto delay = kind == call_kind::judge       ? judge_delay
                 : kind == call_kind::decompose ? decompose_delay
                                                : answer_delay;
    if (delay.count() > 0) {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    if (fail_with && (fail_first < 0 || number <= fail_first)) {
      co_return grove::fail(make_error_code(*fail_with), "scripted failure");
    }

    llm::chat_response r;
    r.provider = "fake";
    r.model = "fake-1";
    std::string marker = marker_of(request);
    if (kind == call_kind::judge) {
      auto at = request.messages.back().content.find("Answer to grade:\n");
      r.text = judge_reply(request.messages.back().content.substr(at + 17));
    } else if (kind == call_kind::decompose) {
      r.text = decompose_reply;
    } else {
      r.text = "Working " + marker + ": 16 - 3 - 4 = 9; 9 * 2 = 18.\nAnswer: 18 " + marker;
    }
    r.usage.prompt_tokens = 10;
    r.usage.completion_tokens = 5;
    r.usage.total_tokens = 15;
    co_return r;
  }
  std::string_view provider() const noexcept override { return "fake"; }
  std::string_view model() const noexcept override { return "fake-1"; }
  bool offline() const noexcept override { return false; }
  std::string to_string() const override { return "fake"; }
};

}  // namespace grove::agents::testing
