#include "grove/agents/store_retriever.hpp"

#include <spdlog/logger.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "../runtime/options_check.hpp"
#include "grove/core/utf8.hpp"
#include "grove/llm/embedder.hpp"
#include "grove/runtime/errors.hpp"
#include "grove/storage/vector_store.hpp"

namespace grove::agents {
namespace asio = boost::asio;
namespace {

// "file:begin-end" from grove-index's chunk metadata, else the record id.
std::string source_of(const storage::vector_match& match) {
  const nlohmann::json& meta = match.metadata;
  if (!meta.is_object() || !meta.contains("source") || !meta["source"].is_string()) {
    return match.id;
  }
  std::string source = meta["source"].get<std::string>();
  if (meta.contains("begin") && meta.contains("end") && meta["begin"].is_number_unsigned() &&
      meta["end"].is_number_unsigned()) {
    source += ":" + std::to_string(meta["begin"].get<std::uint64_t>()) + "-" +
              std::to_string(meta["end"].get<std::uint64_t>());
  }
  return source;
}

}  // namespace

struct store_retriever::impl {
  std::shared_ptr<storage::vector_store> store;
  std::shared_ptr<llm::embedder> embedder;
  store_retriever_options options;
  // The store's blocking calls run here, off the callers' event loops.
  asio::thread_pool blocking{1};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<std::uint64_t> passages{0};

  grove::error failed(grove::error e, const std::string& stage) {
    ++failures;
    e.message = "retrieval: " + stage + ": " + e.message;
    if (options.logger) {
      options.logger->warn("{}", e.describe());
    }
    return e;
  }
};

grove::result<void> store_retriever_options::validate() const {
  runtime::detail::options_check check("store_retriever_options");
  check.require(std::isfinite(min_score), "min_score", "must be finite");
  check.require(max_passage_bytes >= 16 && max_passage_bytes <= 1'000'000, "max_passage_bytes",
                "must be 16..1000000");
  if (!filter.is_null()) {
    check.merge(storage::validate_filter(filter));
  }
  return check.finish();
}

grove::result<std::shared_ptr<store_retriever>> store_retriever::create(
    std::shared_ptr<storage::vector_store> store, std::shared_ptr<llm::embedder> embedder,
    store_retriever_options options) {
  runtime::detail::options_check check("store_retriever");
  check.merge(options.validate());
  check.require(store != nullptr, "store", "must not be null");
  check.require(embedder != nullptr, "embedder", "must not be null");
  if (store && embedder && store->dimension() != embedder->dimension()) {
    check.require(false, "embedder",
                  "dimension " + std::to_string(embedder->dimension()) +
                      " differs from the store's " + std::to_string(store->dimension()) +
                      " (index and query with the same embedder settings)");
  }
  if (auto ok = check.finish(); !ok) {
    return grove::fail(std::move(ok).error());
  }
  auto state = std::make_unique<impl>();
  state->store = std::move(store);
  state->embedder = std::move(embedder);
  state->options = std::move(options);
  return std::shared_ptr<store_retriever>(new store_retriever(std::move(state)));
}

store_retriever::store_retriever(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

store_retriever::~store_retriever() { impl_->blocking.join(); }

asio::awaitable<grove::result<std::vector<context_passage>>> store_retriever::retrieve(
    std::string question, std::size_t top_k) {
  ++impl_->requests;

  // 1. The question's vector.
  // (A braced list inside co_await trips g++ 12: "array used as initializer".)
  std::vector<std::string> texts;
  texts.push_back(std::move(question));
  auto vectors = co_await impl_->embedder->async_embed(std::move(texts));
  if (!vectors) {
    co_return grove::fail(impl_->failed(std::move(vectors).error(), "embedding the question"));
  }
  storage::vector_query query;
  query.vector = std::move(vectors->front());
  query.top_k = std::max<std::size_t>(top_k, 1);
  query.name_space = impl_->options.name_space;
  query.filter = impl_->options.filter;

  // 2. The store, on the blocking thread (the lambda owns what it uses).
  auto search = [store = impl_->store, query = std::move(query)]()
      -> asio::awaitable<grove::result<std::vector<storage::vector_match>>> {
    co_return store->query(query);
  };
  auto matches = co_await asio::co_spawn(impl_->blocking, std::move(search), asio::use_awaitable);
  if (!matches) {
    co_return grove::fail(impl_->failed(std::move(matches).error(), "querying the store"));
  }

  // 3. Passages, best first.
  std::vector<context_passage> out;
  for (const storage::vector_match& m : *matches) {
    if (m.score < impl_->options.min_score || !m.metadata.is_object() ||
        !m.metadata.contains("text") || !m.metadata["text"].is_string()) {
      continue;
    }
    out.push_back({.text = std::string(core::utf8_prefix(m.metadata["text"].get<std::string>(),
                                                         impl_->options.max_passage_bytes)),
                   .source = source_of(m),
                   .score = m.score});
  }
  impl_->passages += out.size();
  co_return out;
}

retriever store_retriever::as_retriever() {
  return [self = shared_from_this()](std::string question, std::size_t top_k) {
    return self->retrieve(std::move(question), top_k);
  };
}

store_retriever_stats store_retriever::stats() const {
  return {.requests = impl_->requests.load(),
          .failures = impl_->failures.load(),
          .passages = impl_->passages.load()};
}

}  // namespace grove::agents
