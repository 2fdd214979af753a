// Embedders: local feature hashing and the OpenAI-compatible /embeddings
// client (see grove/llm/embedder.hpp).

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "grove/core/hash.hpp"
#include "grove/llm/embedder.hpp"
#include "internal.hpp"
#include "remote.hpp"

namespace grove::llm {
namespace {

using nlohmann::json;

constexpr double word_weight = 1.0;
constexpr double pair_weight = 0.5;
constexpr double trigram_weight = 0.25;

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || u >= 0x80) {
      word += c;
    } else if (u >= 'A' && u <= 'Z') {
      word += static_cast<char>(u - 'A' + 'a');
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) {
    words.push_back(std::move(word));
  }
  return words;
}

result<void> check_texts(const std::vector<std::string>& texts) {
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (texts[i].empty()) {
      return fail(detail::make_error(
          errc::bad_request, "texts[" + std::to_string(i) + "] is empty; embed non-empty text"));
    }
  }
  return {};
}

// One /embeddings answer: checks its shape and returns {"v": [[...]...],
// "t": prompt_tokens} with the vectors in input order.
class embedding_exchange final : public detail::exchange {
 public:
  embedding_exchange(std::size_t expected, std::size_t dimension)
      : expected_(expected), dimension_(dimension) {}

  bool on_chunk(std::string_view) override { return true; }
  std::optional<grove::error> abort_reason() const override { return std::nullopt; }
  bool delivered() const override { return false; }

  result<std::string> finish(const http::response& response) override {
    auto bad = [](std::string what) {
      return fail(detail::make_error(errc::invalid_response, "openai embeddings: " + what));
    };
    const std::string_view type = response.headers.get("content-type");
    if (!type.empty() && type.find("json") == std::string_view::npos) {
      return bad("wrong content type '" + std::string(type) + "' (expected application/json)");
    }
    const json doc = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      return bad("response is not a JSON object");
    }
    if (doc.contains("error")) {
      return fail(detail::from_classified(
          classify_http_failure(dialect::openai, 200, {}, response.body), "openai", 200));
    }
    const auto data = doc.find("data");
    if (data == doc.end() || !data->is_array()) {
      return bad("no data array");
    }
    if (data->size() != expected_) {
      return bad("got " + std::to_string(data->size()) + " vectors for " +
                 std::to_string(expected_) + " texts");
    }
    json vectors = json::array();
    std::vector<json> ordered(expected_);
    std::vector<bool> seen(expected_, false);
    for (std::size_t i = 0; i < data->size(); ++i) {
      const json& item = (*data)[i];
      std::size_t index = i;
      if (auto it = item.find("index"); it != item.end()) {
        if (!it->is_number_unsigned() || it->get<std::size_t>() >= expected_) {
          return bad("data[" + std::to_string(i) + "].index is out of range");
        }
        index = it->get<std::size_t>();
      }
      const auto vector = item.find("embedding");
      if (vector == item.end() || !vector->is_array()) {
        return bad("data[" + std::to_string(i) + "].embedding is not an array of numbers");
      }
      if (vector->size() != dimension_) {
        return bad("data[" + std::to_string(i) + "] has " + std::to_string(vector->size()) +
                   " dimensions, expected " + std::to_string(dimension_));
      }
      for (const json& x : *vector) {
        if (!x.is_number()) {
          return bad("data[" + std::to_string(i) + "].embedding holds a non-number");
        }
      }
      if (seen[index]) {
        return bad("index " + std::to_string(index) + " appears twice");
      }
      seen[index] = true;
      ordered[index] = *vector;
    }
    for (json& v : ordered) {
      vectors.push_back(std::move(v));
    }
    std::uint64_t tokens = 0;
    if (auto usage = doc.find("usage"); usage != doc.end() && usage->is_object()) {
      if (auto p = usage->find("prompt_tokens"); p != usage->end() && p->is_number_unsigned()) {
        tokens = p->get<std::uint64_t>();
      }
    }
    return json{{"v", std::move(vectors)}, {"t", tokens}}.dump();
  }

 private:
  std::size_t expected_;
  std::size_t dimension_;
};

class openai_embedder final : public embedder {
 public:
  openai_embedder(const embedder_config& config, boost::asio::any_io_executor executor)
      : model_(config.model),
        dimension_(config.dimension),
        send_dimensions_(config.send_dimensions),
        batch_size_(config.batch_size) {
    http::header_map headers;
    if (!config.service.api_key.empty()) {
      headers.add("authorization", "Bearer " + config.service.api_key.reveal());
    }
    if (!config.service.organization.empty()) {
      headers.add("openai-organization", config.service.organization);
    }
    if (!config.service.project.empty()) {
      headers.add("openai-project", config.service.project);
    }
    service_ = std::make_unique<detail::remote_service>(
        config.service, dialect::openai, "openai",
        detail::openai_root_url(config.service.effective_base_url()), std::move(headers),
        std::move(executor));
  }

  boost::asio::awaitable<result<std::vector<embedding>>> async_embed(
      std::vector<std::string> texts) override {
    if (auto ok = check_texts(texts); !ok) {
      co_return fail(std::move(ok).error());
    }
    std::vector<embedding> out;
    out.reserve(texts.size());
    for (std::size_t begin = 0; begin < texts.size(); begin += batch_size_) {
      const std::size_t end = std::min(texts.size(), begin + batch_size_);
      json body = {
          {"model", model_},
          {"input", json(std::vector<std::string>(texts.begin() + begin, texts.begin() + end))},
          {"encoding_format", "float"}};
      if (send_dimensions_) {
        body["dimensions"] = dimension_;
      }
      double estimate = 0;
      for (std::size_t i = begin; i < end; ++i) {
        estimate += static_cast<double>((texts[i].size() + 3) / 4);
      }
      detail::call_spec spec;
      spec.path = "/embeddings";
      spec.body = body.dump();
      spec.model = model_;
      spec.estimated_tokens = estimate;
      spec.cache_key = detail::digest128({"openai-embeddings", service_->root_url(), spec.body});
      const std::size_t count = end - begin;
      const std::size_t dimension = dimension_;
      spec.make_exchange = [count, dimension] {
        return std::make_unique<embedding_exchange>(count, dimension);
      };
      auto outcome = co_await service_->call(std::move(spec));
      if (!outcome) {
        co_return fail(std::move(outcome).error());
      }
      const json payload = json::parse(outcome->payload, nullptr, false);
      if (payload.is_discarded()) {
        co_return fail(detail::make_error(errc::invalid_response, "cached embeddings unreadable"));
      }
      for (const json& v : payload.at("v")) {
        embedding e;
        e.reserve(dimension_);
        for (const json& x : v) {
          e.push_back(x.get<float>());
        }
        out.push_back(std::move(e));
      }
      if (!outcome->from_cache) {
        const auto tokens = payload.at("t").get<std::uint64_t>();
        service_->record_usage(model_, estimate,
                               usage{.prompt_tokens = tokens,
                                     .completion_tokens = 0,
                                     .total_tokens = tokens,
                                     .estimated = false});
      }
    }
    co_return out;
  }

  std::size_t dimension() const noexcept override { return dimension_; }
  std::string_view provider() const noexcept override { return "openai"; }
  bool offline() const noexcept override { return false; }
  boost::asio::awaitable<void> async_close() override { co_await service_->async_close(); }

 private:
  std::string model_;
  std::size_t dimension_;
  bool send_dimensions_;
  std::size_t batch_size_;
  std::unique_ptr<detail::remote_service> service_;
};

}  // namespace

boost::asio::awaitable<void> embedder::async_close() { co_return; }

result<void> hashing_options::validate() const {
  if (dimension < 1 || dimension > 65'536) {
    return fail(detail::make_error(
        errc::invalid_config, "invalid hashing_options: dimension: " + std::to_string(dimension) +
                                  " is outside 1..65536"));
  }
  return {};
}

hashing_embedder::hashing_embedder(hashing_options options) : options_(options) {
  if (auto ok = options_.validate(); !ok) {
    throw std::invalid_argument(ok.error().message);
  }
}

embedding hashing_embedder::embed(std::string_view text) const {
  std::vector<double> sums(options_.dimension, 0.0);
  auto add = [this, &sums](std::string_view feature, std::uint64_t kind, double weight) {
    const std::uint64_t h = core::hash_bytes(feature, options_.seed ^ kind);
    const std::size_t slot = static_cast<std::size_t>(((h & 0xffffffffULL) * sums.size()) >> 32);
    sums[slot] += (h >> 63) != 0 ? -weight : weight;
  };
  const std::vector<std::string> words = words_of(text);
  for (std::size_t i = 0; i < words.size(); ++i) {
    add(words[i], 1, word_weight);
    if (options_.word_pairs && i + 1 < words.size()) {
      add(words[i] + ' ' + words[i + 1], 2, pair_weight);
    }
    if (options_.char_trigrams) {
      const std::string padded = '#' + words[i] + '#';
      for (std::size_t at = 0; at + 3 <= padded.size(); ++at) {
        add(std::string_view(padded).substr(at, 3), 3, trigram_weight);
      }
    }
  }
  double norm = 0.0;
  for (double x : sums) {
    norm += x * x;
  }
  norm = std::sqrt(norm);
  embedding out(options_.dimension, 0.0f);
  if (norm > 0.0) {
    for (std::size_t i = 0; i < sums.size(); ++i) {
      out[i] = static_cast<float>(sums[i] / norm);
    }
  }
  return out;
}

boost::asio::awaitable<result<std::vector<embedding>>> hashing_embedder::async_embed(
    std::vector<std::string> texts) {
  if (auto ok = check_texts(texts); !ok) {
    co_return fail(std::move(ok).error());
  }
  std::vector<embedding> out;
  out.reserve(texts.size());
  for (const std::string& text : texts) {
    out.push_back(embed(text));
  }
  co_return out;
}

result<void> embedder_config::validate() const {
  std::vector<std::string> problems;
  if (service.provider == provider_kind::anthropic) {
    problems.push_back("service.provider: anthropic has no embeddings API (use openai or offline)");
  }
  if (service.provider == provider_kind::openai) {
    if (auto ok = service.validate(); !ok) {
      problems.push_back("service: " + ok.error().message);
    }
    if (model.empty()) {
      problems.push_back("model: must not be empty");
    }
  }
  if (dimension < 1 || dimension > 65'536) {
    problems.push_back("dimension: " + std::to_string(dimension) + " is outside 1..65536");
  }
  if (batch_size < 1 || batch_size > 2048) {
    problems.push_back("batch_size: " + std::to_string(batch_size) + " is outside 1..2048");
  }
  if (problems.empty()) {
    return {};
  }
  std::string text = "invalid embedder_config: ";
  for (std::size_t i = 0; i < problems.size(); ++i) {
    text += (i == 0 ? "" : "; ") + problems[i];
  }
  return fail(detail::make_error(errc::invalid_config, std::move(text)));
}

result<std::shared_ptr<embedder>> make_embedder(const embedder_config& config,
                                                boost::asio::any_io_executor executor) {
  if (auto ok = config.validate(); !ok) {
    return fail(std::move(ok).error());
  }
  if (config.service.provider == provider_kind::offline) {
    hashing_options options = config.hashing;
    options.dimension = config.dimension;
    return std::shared_ptr<embedder>(std::make_shared<hashing_embedder>(options));
  }
  try {
    return std::shared_ptr<embedder>(
        std::make_shared<openai_embedder>(config, std::move(executor)));
  } catch (const std::exception& e) {
    return fail(detail::make_error(errc::invalid_config,
                                   detail::redact(e.what(), config.service.api_key.reveal())));
  }
}

}  // namespace grove::llm
