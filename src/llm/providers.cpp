// The remote chat providers (OpenAI-compatible and Anthropic) and the factory.
// Both providers are one class: they differ only in the wire format (wire.hpp)
// and the headers, and share every guard through remote_service.

#include <algorithm>

#include <spdlog/logger.h>

#include "grove/http/sse.hpp"
#include "grove/llm/config.hpp"
#include "grove/llm/wire.hpp"
#include "internal.hpp"
#include "remote.hpp"

namespace grove::llm {
namespace {

using nlohmann::json;

// Streams whose body arrives with a JSON content type (a server that ignored
// "stream": true) are decoded whole from a copy of at most this many bytes.
constexpr std::size_t max_raw_copy = std::size_t{1} << 20;

// Completion tokens assumed for the token limiter when an OpenAI request sets
// no max_tokens: a typical answer, refined by the reported usage afterwards.
constexpr double default_completion_estimate = 256.0;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

// chat_response <-> the string the response cache holds.
std::string to_payload(const chat_response& r) {
  json calls = json::array();
  for (const tool_call& call : r.tool_calls) {
    calls.push_back({{"id", call.id}, {"name", call.name}, {"arguments", call.arguments}});
  }
  return json{{"text", r.text},
              {"tool_calls", std::move(calls)},
              {"finish_reason", r.raw_finish_reason},
              {"finish", static_cast<int>(r.finish_reason)},
              {"usage",
               {{"prompt", r.usage.prompt_tokens},
                {"completion", r.usage.completion_tokens},
                {"total", r.usage.total_tokens},
                {"estimated", r.usage.estimated}}},
              {"model", r.model},
              {"id", r.id}}
      .dump();
}

result<chat_response> from_payload(std::string_view payload) {
  try {
    const json j = json::parse(payload);
    chat_response r;
    r.text = j.at("text").get<std::string>();
    for (const json& call : j.at("tool_calls")) {
      r.tool_calls.push_back(tool_call{.id = call.at("id").get<std::string>(),
                                       .name = call.at("name").get<std::string>(),
                                       .arguments = call.at("arguments")});
    }
    r.raw_finish_reason = j.at("finish_reason").get<std::string>();
    r.finish_reason = static_cast<finish_reason>(j.at("finish").get<int>());
    const json& u = j.at("usage");
    r.usage = usage{.prompt_tokens = u.at("prompt").get<std::uint64_t>(),
                    .completion_tokens = u.at("completion").get<std::uint64_t>(),
                    .total_tokens = u.at("total").get<std::uint64_t>(),
                    .estimated = u.at("estimated").get<bool>()};
    r.model = j.at("model").get<std::string>();
    r.id = j.at("id").get<std::string>();
    return r;
  } catch (const json::exception& e) {
    return fail(detail::make_error(errc::invalid_response,
                                   std::string("cached answer is unreadable: ") + e.what()));
  }
}

// One HTTP attempt of a chat call: SSE parsing and decoding for streams,
// content-type checks and decoding for whole answers.
class chat_exchange final : public detail::exchange {
 public:
  chat_exchange(dialect wire, bool stream, const text_callback* on_text, bool* delivered_any)
      : wire_(wire), stream_(stream), on_text_(on_text), delivered_any_(delivered_any) {}

  bool on_chunk(std::string_view chunk) override {
    if (failure_) {
      return false;
    }
    if (raw_.size() + chunk.size() <= max_raw_copy) {
      raw_.append(chunk);
    } else {
      raw_overflow_ = true;
    }
    auto fed = parser_.feed(chunk, [this](http::sse_event& event) { on_event(event); });
    if (!fed) {
      failure_ = detail::make_error(
          errc::invalid_response, provider() + ": malformed event stream: " + fed.error().message);
    }
    return !failure_;
  }

  result<std::string> finish(const http::response& response) override {
    const std::string type = lower(response.headers.get("content-type"));
    const bool json_type = type.find("json") != std::string::npos;
    if (!stream_) {
      if (!type.empty() && !json_type) {
        return fail(wrong_type(type, "application/json"));
      }
      return encode(decode_whole(response.body));
    }
    if (type.find("text/event-stream") == std::string::npos) {
      // Some compatible servers ignore "stream": true and answer whole.
      if (json_type && !raw_overflow_ && !delivered_) {
        return encode(decode_whole(raw_));
      }
      return fail(wrong_type(type, "text/event-stream"));
    }
    if (!failure_) {
      if (auto done = parser_.finish([this](http::sse_event& event) { on_event(event); }); !done) {
        failure_ =
            detail::make_error(errc::invalid_response,
                               provider() + ": malformed event stream: " + done.error().message);
      }
    }
    if (failure_) {
      return fail(*failure_);
    }
    return encode(wire_ == dialect::openai ? openai_.finish() : anthropic_.finish());
  }

  std::optional<grove::error> abort_reason() const override { return failure_; }
  bool delivered() const override { return delivered_; }

 private:
  std::string provider() const { return wire_ == dialect::openai ? "openai" : "anthropic"; }

  grove::error wrong_type(const std::string& type, std::string_view expected) const {
    return detail::make_error(errc::invalid_response, provider() + ": wrong content type '" + type +
                                                          "' (expected " + std::string(expected) +
                                                          ")");
  }

  result<chat_response> decode_whole(std::string_view body) const {
    return wire_ == dialect::openai ? wire::decode_openai_response(body)
                                    : wire::decode_anthropic_response(body);
  }

  static result<std::string> encode(result<chat_response> r) {
    if (!r) {
      return fail(std::move(r).error());
    }
    return to_payload(*r);
  }

  void on_event(http::sse_event& event) {
    if (failure_) {
      return;
    }
    auto delta = wire_ == dialect::openai
                     ? openai_.on_event(event.data)
                     : anthropic_.on_event(event.type == "message" ? "" : event.type, event.data);
    if (!delta) {
      failure_ = std::move(delta).error();
      return;
    }
    if (!delta->empty() && on_text_ != nullptr && *on_text_) {
      delivered_ = true;
      *delivered_any_ = true;
      (*on_text_)(*delta);
    }
  }

  dialect wire_;
  bool stream_;
  const text_callback* on_text_;
  bool* delivered_any_;
  http::sse_parser parser_;
  wire::openai_stream_decoder openai_;
  wire::anthropic_stream_decoder anthropic_;
  std::optional<grove::error> failure_;
  std::string raw_;
  bool raw_overflow_ = false;
  bool delivered_ = false;
};

class remote_chat_client final : public chat_client {
 public:
  remote_chat_client(const llm_config& config, boost::asio::any_io_executor executor)
      : wire_(config.provider == provider_kind::anthropic ? dialect::anthropic : dialect::openai),
        provider_(std::string(llm::to_string(config.provider))),
        model_(config.effective_model()),
        default_max_tokens_(config.default_max_tokens),
        max_tokens_field_(config.use_max_completion_tokens
                              ? wire::openai_max_tokens_field::max_completion_tokens
                              : wire::openai_max_tokens_field::max_tokens) {
    std::string base = config.effective_base_url();
    while (!base.empty() && base.back() == '/') {
      base.pop_back();
    }
    http::header_map headers;
    if (wire_ == dialect::openai) {
      base = detail::openai_root_url(std::move(base));
      path_ = "/chat/completions";
      if (!config.api_key.empty()) {
        headers.add("authorization", "Bearer " + config.api_key.reveal());
      }
      if (!config.organization.empty()) {
        headers.add("openai-organization", config.organization);
      }
      if (!config.project.empty()) {
        headers.add("openai-project", config.project);
      }
    } else {
      path_ = base.ends_with("/v1") ? "/messages" : "/v1/messages";
      if (!config.api_key.empty()) {
        headers.add("x-api-key", config.api_key.reveal());
      }
      headers.add("anthropic-version", config.anthropic_version);
    }
    service_ = std::make_unique<detail::remote_service>(config, wire_, provider_, base,
                                                        std::move(headers), std::move(executor));
  }

  boost::asio::awaitable<result<chat_response>> async_chat(chat_request request) override {
    if (auto valid = validate(request); !valid) {
      co_return fail(std::move(valid).error());
    }
    const std::string model = request.model.empty() ? model_ : request.model;
    const bool stream = static_cast<bool>(request.on_text);
    auto body = encode(request, stream);
    if (!body) {
      co_return fail(std::move(body).error());
    }

    detail::call_spec spec;
    spec.path = path_;
    spec.body = body->dump();
    spec.model = model;
    spec.stream = stream;
    const double estimate = static_cast<double>(detail::estimate_usage(request, "").prompt_tokens) +
                            (request.max_tokens            ? *request.max_tokens
                             : wire_ == dialect::anthropic ? default_max_tokens_
                                                           : default_completion_estimate);
    spec.estimated_tokens = estimate;
    const bool deterministic =
        request.cacheable || (request.temperature && *request.temperature == 0.0);
    if (deterministic) {
      // The key ignores the streaming switch: a streamed and a whole answer
      // to the same request are the same answer.
      auto plain = stream ? encode(request, false) : body;
      spec.cache_key = detail::digest128({provider_, service_->root_url(), path_, plain->dump()});
    }
    bool delivered_any = false;
    const text_callback* on_text = &request.on_text;
    const dialect wire = wire_;
    spec.make_exchange = [wire, stream, on_text, &delivered_any] {
      return std::make_unique<chat_exchange>(wire, stream, on_text, &delivered_any);
    };

    auto outcome = co_await service_->call(std::move(spec));
    if (!outcome) {
      co_return fail(std::move(outcome).error());
    }
    auto response = from_payload(outcome->payload);
    if (!response) {
      co_return fail(std::move(response).error());
    }
    response->provider = provider_;
    response->attempts = outcome->attempts;
    response->from_cache = outcome->from_cache;
    response->offline = false;
    if (response->usage.estimated) {
      response->usage = detail::estimate_usage(request, response->text);
    }
    if (!outcome->from_cache) {
      service_->record_usage(model, estimate, response->usage);
    }
    // A cached or coalesced answer, or a server that ignored "stream", never
    // called the callback: hand it the whole text so the contract holds.
    if (stream && !delivered_any && !response->text.empty()) {
      request.on_text(response->text);
    }
    co_return std::move(*response);
  }

  std::string_view provider() const noexcept override { return provider_; }
  std::string_view model() const noexcept override { return model_; }
  bool offline() const noexcept override { return false; }

  std::string to_string() const override {
    return provider_ + " chat client (model " + model_ + ", endpoint " + service_->root_url() +
           path_ + ", key " + std::string(service_->key().masked()) + ")";
  }

  boost::asio::awaitable<void> async_close() override { co_await service_->async_close(); }

 private:
  result<json> encode(const chat_request& request, bool stream) const {
    if (wire_ == dialect::openai) {
      return wire::encode_openai_request(request, model_, stream, max_tokens_field_);
    }
    return wire::encode_anthropic_request(request, model_, default_max_tokens_, stream);
  }

  dialect wire_;
  std::string provider_;
  std::string model_;
  std::uint32_t default_max_tokens_;
  wire::openai_max_tokens_field max_tokens_field_;
  std::string path_;
  std::unique_ptr<detail::remote_service> service_;
};

}  // namespace

result<std::shared_ptr<chat_client>> make_chat_client(const llm_config& config,
                                                      boost::asio::any_io_executor executor) {
  if (auto valid = config.validate(); !valid) {
    return fail(std::move(valid).error());
  }
  if (config.provider == provider_kind::offline) {
    offline_options options = config.offline;
    if (!config.model.empty()) {
      options.model = config.model;
    }
    return std::shared_ptr<chat_client>(std::make_shared<offline_chat_client>(std::move(options)));
  }
  try {
    return std::shared_ptr<chat_client>(
        std::make_shared<remote_chat_client>(config, std::move(executor)));
  } catch (const std::exception& e) {
    // Runtime or HTTP options that validate() let through but a component
    // refused; the messages name fields, never the key.
    return fail(detail::make_error(errc::invalid_config,
                                   detail::redact(e.what(), config.api_key.reveal())));
  }
}

}  // namespace grove::llm
