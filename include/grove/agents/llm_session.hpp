// grove/agents/llm_session.hpp: every LLM call of one request goes through an
// llm_session, which
//   - enforces the request's hard budgets (calls, tokens, wall time) and
//     remembers which limit stopped it;
//   - makes identical calls once: a call whose canonical request (messages,
//     model, temperature, max tokens, stop, JSON mode) matches an earlier or
//     in-flight call of the same request waits for and shares that answer;
//   - counts calls, deduplicated calls, failures and tokens, per provider;
//   - reports the running token total to the request's event stream.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grove/llm/chat.hpp"
#include "grove/runtime/result.hpp"

namespace grove::agents {

/// Hard limits of one request. Documented defaults suit a local model on the
/// default pipeline (about 12-25 calls for a math word problem).
struct budget_options {
  /// Most LLM calls (deduplicated calls do not count). Default 60; range >= 1.
  std::uint32_t max_calls = 60;
  /// Most tokens (prompt + completion, as reported). Default 200,000; range >= 1.
  std::uint64_t max_tokens = 200'000;
  /// Most wall time for the whole request, in ms. Default 300,000 (5 min);
  /// range >= 1. A call in flight when it runs out is cancelled.
  std::chrono::milliseconds max_wall_time{300'000};

  std::vector<std::string> validate() const;
};

/// Which budget stopped a request.
enum class budget_limit : std::uint8_t { none, calls, tokens, wall_time };

/// "none", "calls", "tokens", "wall_time".
std::string_view to_string(budget_limit limit) noexcept;

/// Calls and tokens for one provider and model.
struct provider_usage {
  std::string provider{};
  std::string model{};
  std::uint64_t calls = 0;
  std::uint64_t tokens = 0;
};

/// What a request spent.
struct call_stats {
  /// Calls sent to the client (successful or not).
  std::uint64_t calls = 0;
  /// Calls answered from an identical earlier call of the same request.
  std::uint64_t deduplicated = 0;
  std::uint64_t failed = 0;
  /// HTTP attempts behind the successful calls, retries included (a call
  /// answered after one 429 counts 2; offline and cached answers count 0).
  std::uint64_t attempts = 0;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t total_tokens = 0;
  /// Every answer came from an offline provider (false until one arrives).
  bool offline = false;
  std::vector<provider_usage> per_provider{};
};

/// The canonical form of a request used as the deduplication and cassette
/// key: a compact JSON text of messages, model, temperature, max tokens, stop,
/// JSON mode and tool names (streaming callbacks and cache hints excluded).
std::string canonical_request(const llm::chat_request& request);

/// The per-request front of a chat_client (see the file comment).
/// Ownership: borrows the client, which must outlive the session.
/// Thread safety: none; use it from the coroutines of one request, all on the
/// request's strand (concurrent coroutines of that request are fine).
class llm_session {
 public:
  /// How a call treats the budgets.
  enum class call_kind : std::uint8_t {
    normal,  ///< refused once any budget is spent
    final,   ///< the synthesis: allowed one call past the calls/tokens limit,
             ///< never past the wall time
  };

  llm_session(llm::chat_client& client, budget_options budget,
              std::function<void(std::uint64_t total_tokens)> on_tokens = {});

  /// Sends `request` (or shares an identical call's answer).
  /// Errors: errc::budget_exhausted (nothing sent, or cancelled at the wall
  /// time), the client's error otherwise (its code is grove::llm::errc).
  /// Cancellation: cancels the client call.
  boost::asio::awaitable<grove::result<llm::chat_response>> chat(
      llm::chat_request request, call_kind kind = call_kind::normal);

  /// The first budget that ran out, or none.
  budget_limit exhausted() const noexcept { return exhausted_; }
  const call_stats& stats() const noexcept { return stats_; }
  std::chrono::nanoseconds elapsed() const noexcept {
    return std::chrono::steady_clock::now() - start_;
  }
  const budget_options& budget() const noexcept { return budget_; }
  llm::chat_client& client() const noexcept { return *client_; }

 private:
  struct shared_call;

  grove::result<void> admit(call_kind kind);
  boost::asio::awaitable<grove::result<llm::chat_response>> send(llm::chat_request request);
  void account(const grove::result<llm::chat_response>& answer);

  llm::chat_client* client_;
  budget_options budget_;
  std::function<void(std::uint64_t)> on_tokens_;
  std::chrono::steady_clock::time_point start_;
  budget_limit exhausted_ = budget_limit::none;
  bool final_used_ = false;
  // Calls let through admit(), counted when they start rather than when they
  // finish, so concurrent agents cannot all pass the calls budget at once.
  std::uint64_t admitted_calls_ = 0;
  call_stats stats_;
  std::map<std::string, std::shared_ptr<shared_call>> calls_;
};

}  // namespace grove::agents
