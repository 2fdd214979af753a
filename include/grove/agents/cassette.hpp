// grove/agents/cassette.hpp: record every LLM call to a file and replay it
// later without a network.
//
// A cassette is a JSON-lines file, one call per line:
//   {"key": <canonical request text>, "request": {...}, "response": {...}
//    | "error": {...}, "usage": {...}, "timing_ms": 12.5}
// recording_client wraps any chat_client and appends a line per finished call.
// replaying_client answers from a cassette: a request is looked up by its
// canonical form (canonical_request()), so the order in which concurrent calls
// happen does not matter; repeated identical requests get their recordings in
// order (the last one repeats). Replaying a request the cassette does not hold
// is an error (agents::errc::cassette), never a guess. Because the pipeline is
// deterministic given its answers, a replayed request gives byte-identical
// results.
#pragma once

#include <cstddef>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "grove/llm/chat.hpp"
#include "grove/runtime/result.hpp"

namespace grove::agents {

/// Decorator that records each call of `inner` to a cassette file.
/// Ownership: shares `inner`. Thread safety: async_chat may be called
/// concurrently (lines are written whole under a mutex and flushed).
class recording_client final : public llm::chat_client {
 public:
  /// Opens `path` for appending (created if missing).
  /// Errors: the file cannot be opened (std::errc::io_error).
  [[nodiscard]] static grove::result<std::shared_ptr<recording_client>> open(
      std::shared_ptr<llm::chat_client> inner, const std::string& path);

  boost::asio::awaitable<grove::result<llm::chat_response>> async_chat(
      llm::chat_request request) override;
  std::string_view provider() const noexcept override { return inner_->provider(); }
  std::string_view model() const noexcept override { return inner_->model(); }
  bool offline() const noexcept override { return inner_->offline(); }
  std::string to_string() const override { return "recording(" + inner_->to_string() + ")"; }

  /// Calls recorded so far.
  std::size_t recorded() const;

  recording_client(std::shared_ptr<llm::chat_client> inner, std::ofstream out);

 private:
  std::shared_ptr<llm::chat_client> inner_;
  mutable std::mutex mutex_;
  std::ofstream out_;
  std::size_t recorded_ = 0;
};

/// A chat_client that answers from a cassette (see the file comment). Reports
/// itself as offline (no network) with the provider and model of the first
/// recording.
/// Thread safety: async_chat may be called concurrently.
class replaying_client final : public llm::chat_client {
 public:
  /// Loads a cassette. Errors (agents::errc::cassette): the path is a
  /// directory, the file cannot be read, it holds no recording, or a line is
  /// not a recording (the message names the line number).
  [[nodiscard]] static grove::result<std::shared_ptr<replaying_client>> load(
      const std::string& path);

  boost::asio::awaitable<grove::result<llm::chat_response>> async_chat(
      llm::chat_request request) override;
  std::string_view provider() const noexcept override { return provider_; }
  std::string_view model() const noexcept override { return model_; }
  bool offline() const noexcept override { return true; }
  std::string to_string() const override { return "replay(" + path_ + ")"; }

  /// Recordings loaded.
  std::size_t size() const noexcept { return size_; }

 private:
  struct recording {
    bool ok = true;
    llm::chat_response response;
    grove::error error;
  };
  replaying_client() = default;

  std::string path_;
  std::string provider_;
  std::string model_;
  std::size_t size_ = 0;
  std::mutex mutex_;
  std::map<std::string, std::deque<recording>> recordings_;
};

}  // namespace grove::agents
