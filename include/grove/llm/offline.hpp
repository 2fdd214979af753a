// grove/llm/offline.hpp: the offline chat provider (the default).
//
// offline_chat_client answers every request locally, without any network,
// with clearly labelled canned text derived from the prompt, so the agents
// pipeline, the examples and the tests run on a machine with no model and no
// key. Every response says `provider == "offline"` and `offline == true`, and
// every plain-text answer starts with "[offline]".
//
// What it answers:
// - A request that wants JSON (json_mode, or a prompt that mentions JSON and
//   either shows a JSON template or asks for a score) gets one valid JSON
//   object. Keys come from the last JSON template in the system or last user
//   message (`{"score": <0-1>, "reasoning": "..."}`); each value's type follows
//   the template (number, boolean, string, array, object) or, when the
//   template does not say, the key's name (`score`, `confidence`, `rating`...
//   are numbers; `is_...`, `valid`, `pass` are booleans). Numbers fall in the
//   range the prompt names ("0 to 1" by default, "1-10", "out of 100") and are
//   derived from a hash of the prompt, so different candidates get different,
//   repeatable scores. Without a template: {"score", "confidence", "reasoning"}.
// - Anything else gets "[offline] ..." text that names the prompt's digest and
//   its most frequent terms.
// The same request always gives byte-identical output. Stop sequences cut the
// text as a model would; max_tokens (estimated at 4 characters per token)
// truncates plain text with finish_reason::length, never JSON. Tools are never
// called. Usage is an estimate (usage::estimated is set).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "grove/llm/chat.hpp"

namespace grove::llm {

/// Settings of the offline provider.
struct offline_options {
  /// Model name reported in responses. Default "grove-offline"; non-empty.
  std::string model = "grove-offline";
  /// Streaming: characters per delta handed to chat_request::on_text (the text
  /// is cut at the first space at or after this many characters). Default 16;
  /// range 1..65536.
  std::size_t stream_chunk_chars = 16;

  /// Every bad field, reported at once (errc::invalid_config).
  result<void> validate() const;
};

/// The offline provider. Stateless after construction. Thread safety:
/// async_chat may run concurrently on any executors.
class offline_chat_client final : public chat_client {
 public:
  /// Requires: options.validate() succeeds (checked; throws
  /// std::invalid_argument with the validation message otherwise).
  explicit offline_chat_client(offline_options options = {});

  /// Completes without suspending. Fails only with errc::bad_request for a
  /// request that validate(chat_request) rejects.
  boost::asio::awaitable<result<chat_response>> async_chat(chat_request request) override;

  /// The same answer, synchronously (async_chat is a wrapper around it).
  result<chat_response> answer(const chat_request& request) const;

  std::string_view provider() const noexcept override { return "offline"; }
  std::string_view model() const noexcept override { return options_.model; }
  bool offline() const noexcept override { return true; }
  std::string to_string() const override;

 private:
  offline_options options_;
};

}  // namespace grove::llm
