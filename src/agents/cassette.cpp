#include "grove/agents/cassette.hpp"

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "grove/agents/errc.hpp"
#include "grove/agents/llm_session.hpp"

namespace grove::agents {
namespace {

constexpr auto json_replace = nlohmann::json::error_handler_t::replace;

nlohmann::json response_json(const llm::chat_response& r) {
  return {{"text", r.text},
          {"finish_reason", llm::to_string(r.finish_reason)},
          {"raw_finish_reason", r.raw_finish_reason},
          {"provider", r.provider},
          {"model", r.model},
          {"id", r.id},
          {"offline", r.offline},
          {"attempts", r.attempts}};
}

llm::finish_reason finish_from(std::string_view text) {
  for (auto r : {llm::finish_reason::stop, llm::finish_reason::length,
                 llm::finish_reason::tool_calls, llm::finish_reason::content_filter}) {
    if (llm::to_string(r) == text) {
      return r;
    }
  }
  return llm::finish_reason::other;
}

// Error codes are stored as (category name, value) and restored for the two
// categories the pipeline branches on; anything else becomes io_error.
std::error_code code_from(const std::string& category, int value) {
  if (category == llm::llm_category().name()) {
    return {value, llm::llm_category()};
  }
  if (category == agents_category().name()) {
    return {value, agents_category()};
  }
  return std::make_error_code(std::errc::io_error);
}

}  // namespace

recording_client::recording_client(std::shared_ptr<llm::chat_client> inner, std::ofstream out)
    : inner_(std::move(inner)), out_(std::move(out)) {}

grove::result<std::shared_ptr<recording_client>> recording_client::open(
    std::shared_ptr<llm::chat_client> inner, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  if (!out) {
    return grove::fail(std::make_error_code(std::errc::io_error),
                       "cannot open the cassette for writing", path);
  }
  return std::make_shared<recording_client>(std::move(inner), std::move(out));
}

boost::asio::awaitable<grove::result<llm::chat_response>> recording_client::async_chat(
    llm::chat_request request) {
  std::string key = canonical_request(request);
  auto start = std::chrono::steady_clock::now();
  auto answer = co_await inner_->async_chat(std::move(request));
  std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;

  nlohmann::json line{{"key", key},
                      {"request", nlohmann::json::parse(key, nullptr, false)},
                      {"timing_ms", took.count()}};
  if (answer) {
    line["response"] = response_json(*answer);
    line["usage"] = {{"prompt_tokens", answer->usage.prompt_tokens},
                     {"completion_tokens", answer->usage.completion_tokens},
                     {"total_tokens", answer->usage.total_tokens},
                     {"estimated", answer->usage.estimated}};
  } else {
    const auto& e = answer.error();
    line["error"] = {{"category", e.code.category().name()},
                     {"value", e.code.value()},
                     {"message", e.message},
                     {"context", e.context}};
  }
  std::string text = line.dump(-1, ' ', false, json_replace);
  {
    std::lock_guard lock(mutex_);
    out_ << text << '\n';
    out_.flush();
    ++recorded_;
  }
  co_return answer;
}

std::size_t recording_client::recorded() const {
  std::lock_guard lock(mutex_);
  return recorded_;
}

grove::result<std::shared_ptr<replaying_client>> replaying_client::load(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return grove::fail(errc::cassette, "the cassette is a directory; expected a JSON-lines file",
                       path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return grove::fail(errc::cassette, "cannot read the cassette", path);
  }
  std::shared_ptr<replaying_client> client(new replaying_client());
  client->path_ = path;
  std::string text;
  std::size_t number = 0;
  while (std::getline(in, text)) {
    ++number;
    if (text.empty()) {
      continue;
    }
    auto line = nlohmann::json::parse(text, nullptr, false);
    if (line.is_discarded() || !line.is_object() || !line.contains("key") ||
        !line["key"].is_string() || !(line.contains("response") || line.contains("error"))) {
      return grove::fail(errc::cassette, "line is not a recording",
                         path + ":" + std::to_string(number));
    }
    recording r;
    try {
      if (line.contains("response")) {
        const auto& j = line["response"];
        r.response.text = j.value("text", "");
        r.response.finish_reason = finish_from(j.value("finish_reason", "stop"));
        r.response.raw_finish_reason = j.value("raw_finish_reason", "");
        r.response.provider = j.value("provider", "");
        r.response.model = j.value("model", "");
        r.response.id = j.value("id", "");
        r.response.offline = j.value("offline", false);
        r.response.attempts = j.value("attempts", std::uint32_t{0});
        if (line.contains("usage")) {
          const auto& u = line["usage"];
          r.response.usage.prompt_tokens = u.value("prompt_tokens", std::uint64_t{0});
          r.response.usage.completion_tokens = u.value("completion_tokens", std::uint64_t{0});
          r.response.usage.total_tokens = u.value("total_tokens", std::uint64_t{0});
          r.response.usage.estimated = u.value("estimated", false);
        }
        if (client->provider_.empty()) {
          client->provider_ = r.response.provider;
          client->model_ = r.response.model;
        }
      } else {
        const auto& e = line["error"];
        r.ok = false;
        r.error.code = code_from(e.value("category", ""), e.value("value", 0));
        r.error.message = e.value("message", "");
        r.error.context = e.value("context", "");
      }
    } catch (const nlohmann::json::exception& e) {
      return grove::fail(errc::cassette, std::string("malformed recording: ") + e.what(),
                         path + ":" + std::to_string(number));
    }
    client->recordings_[line["key"].get<std::string>()].push_back(std::move(r));
    ++client->size_;
  }
  if (client->size_ == 0) {
    // Nothing could be answered from it: a wrong path, not a cassette.
    return grove::fail(errc::cassette, "the cassette holds no recordings", path);
  }
  return client;
}

boost::asio::awaitable<grove::result<llm::chat_response>> replaying_client::async_chat(
    llm::chat_request request) {
  std::string key = canonical_request(request);
  std::lock_guard lock(mutex_);
  auto it = recordings_.find(key);
  if (it == recordings_.end() || it->second.empty()) {
    co_return grove::fail(errc::cassette, "no recording for this request in the cassette", path_);
  }
  recording r = it->second.front();
  if (it->second.size() > 1) {
    it->second.pop_front();
  }
  if (!r.ok) {
    co_return grove::fail(r.error);
  }
  co_return r.response;
}

}  // namespace grove::agents
