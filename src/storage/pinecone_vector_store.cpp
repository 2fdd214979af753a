#include "grove/storage/pinecone_vector_store.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

#include "../runtime/options_check.hpp"
#include "grove/http/client.hpp"
#include "grove/runtime/guarded_call.hpp"
#include "grove/storage/error.hpp"
#include "grove/storage/sigv4.hpp"
#include "remote_failure.hpp"

namespace grove::storage {
namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace {

constexpr std::size_t max_delete_ids = 1000;

// One buffered write: an upsert of a record or the delete of an id.
struct pending_write {
  bool is_delete = false;
  std::string name_space;
  vector_record record;  // for a delete only record.id is used
  std::size_t bytes = 0;
};

nlohmann::json record_json(const vector_record& r) {
  nlohmann::json j = {{"id", r.id}, {"values", r.values}};
  if (r.metadata.is_object() && !r.metadata.empty()) j["metadata"] = r.metadata;
  return j;
}

using detail::classify_remote_failure;
using detail::is_outage;
using detail::status_prefix;

}  // namespace

// ---------------------------------------------------------------------------

struct pinecone_vector_store::impl {
  pinecone_vector_store_options options;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::thread io_thread;
  std::shared_ptr<http::client> http;
  bool owns_http = false;

  std::unique_ptr<runtime::token_bucket> bucket;
  std::unique_ptr<runtime::circuit_breaker> breaker;
  std::unique_ptr<runtime::retrier> retry;

  mutable std::mutex write_mutex;  // guards the buffer and write ordering
  std::deque<pending_write> buffer;
  std::size_t buffer_bytes = 0;
  std::atomic<std::size_t> delivered{0}, dropped{0}, requests{0};

  ~impl() {
    if (http && owns_http) asio::co_spawn(io, http->async_close(), asio::use_future).wait();
    http.reset();
    guard.reset();
    if (io_thread.joinable()) io_thread.join();
  }

  // Sends one request through bucket, breaker and retrier. 2xx and 4xx other
  // than 429 are returned as responses; 429, 5xx and transport failures are
  // errors (retried by the guards).
  result<http::response> call(std::string method, std::string path, std::string body) {
    runtime::call_guards guards;
    guards.bucket = bucket.get();
    guards.breaker = breaker.get();
    guards.retry = retry.get();
    guards.classifier = classify_remote_failure;
    auto op = [&](runtime::attempt_context& at) -> asio::awaitable<result<http::response>> {
      http::request req;
      req.method = method;
      req.url = options.index_host + path;
      req.headers.add("Api-Key", options.api_key);
      req.headers.add("Accept", "application/json");
      if (!options.api_version.empty()) {
        req.headers.add("X-Pinecone-API-Version", options.api_version);
      }
      if (method != "GET") {
        req.headers.add("Content-Type", "application/json");
        req.body = body;
      }
      req.timeout = options.request_timeout;
      ++requests;
      auto res = co_await http->async_request(std::move(req));
      if (!res) co_return grove::fail(std::move(res).error());
      if (res->status == 429 || res->status >= 500) {
        at.set_retry_after(res->headers.get("retry-after-ms"), res->headers.get("retry-after"),
                           std::chrono::system_clock::now());
        co_return grove::fail(errc::remote_error,
                              "Pinecone answered HTTP " + std::to_string(res->status) + ": " +
                                  res->body.substr(0, 200),
                              std::string(status_prefix) + std::to_string(res->status));
      }
      co_return res;
    };
    return asio::co_spawn(io, runtime::guarded_call(guards, op), asio::use_future).get();
  }

  // call() plus: a 4xx becomes errc::remote_error (errc::invalid_argument for
  // 400), and the body is parsed as JSON.
  result<nlohmann::json> call_json(std::string method, std::string path, std::string body) {
    auto res = call(method, path, std::move(body));
    if (!res) return fail(res.error());
    if (!res->ok()) {
      return fail(
          errc::remote_error,
          "Pinecone answered HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300),
          std::string(status_prefix) + std::to_string(res->status));
    }
    try {
      return res->body.empty() ? nlohmann::json::object() : nlohmann::json::parse(res->body);
    } catch (const nlohmann::json::exception& e) {
      return fail(errc::remote_error, std::string("Pinecone sent invalid JSON: ") + e.what(),
                  method + " " + path);
    }
  }

  // --- Write path (callers hold write_mutex) ---

  // Sends buffer-like entries [first, last) of one kind and namespace as one
  // request. Requires: the range is a valid batch.
  result<void> send_batch(std::deque<pending_write>::const_iterator first,
                          std::deque<pending_write>::const_iterator last) {
    nlohmann::json body;
    if (first->is_delete) {
      body["ids"] = nlohmann::json::array();
      for (auto it = first; it != last; ++it) body["ids"].push_back(it->record.id);
    } else {
      body["vectors"] = nlohmann::json::array();
      for (auto it = first; it != last; ++it) body["vectors"].push_back(record_json(it->record));
    }
    if (!first->name_space.empty()) body["namespace"] = first->name_space;
    auto res =
        call_json("POST", first->is_delete ? "/vectors/delete" : "/vectors/upsert", body.dump());
    if (!res) return fail(res.error());
    delivered += static_cast<std::size_t>(last - first);
    return {};
  }

  // The end of the batch starting at `first`: same kind and namespace, within
  // the count and byte limits.
  std::deque<pending_write>::const_iterator batch_end(
      std::deque<pending_write>::const_iterator first,
      std::deque<pending_write>::const_iterator end) const {
    const std::size_t max_count = first->is_delete ? max_delete_ids : options.max_batch_vectors;
    std::size_t bytes = 0;
    std::size_t count = 0;
    auto it = first;
    for (; it != end && count < max_count; ++it, ++count) {
      if (it->is_delete != first->is_delete || it->name_space != first->name_space) break;
      if (count > 0 && bytes + it->bytes > options.max_batch_bytes) break;
      bytes += it->bytes;
    }
    return it;
  }

  // Delivers the buffer front to back. Stops at the first outage (returns
  // errc::unavailable, the rest stays); a 4xx drops that batch (counted,
  // logged) and continues.
  result<void> drain() {
    std::optional<error> refused;
    while (!buffer.empty()) {
      auto end = batch_end(buffer.begin(), buffer.end());
      auto sent = send_batch(buffer.begin(), end);
      const auto count = static_cast<std::size_t>(end - buffer.begin());
      if (!sent && is_outage(sent.error())) {
        save_spill();
        return fail(errc::unavailable,
                    "Pinecone is unreachable; " + std::to_string(buffer.size()) +
                        " buffered writes kept: " + sent.error().describe(),
                    options.index_host);
      }
      if (!sent) {
        dropped += count;
        if (options.logger) {
          options.logger->error("pinecone: dropped {} buffered writes the service refused: {}",
                                count, sent.error().describe());
        }
        refused = sent.error();
      }
      for (std::size_t i = 0; i < count; ++i) {
        buffer_bytes -= buffer.front().bytes;
        buffer.pop_front();
      }
    }
    save_spill();
    if (refused) return fail(*refused);
    return {};
  }

  // Adds writes to the buffer, applying the overflow policy.
  void enqueue(std::vector<pending_write> writes) {
    std::size_t dropped_now = 0;
    for (pending_write& w : writes) {
      if (w.bytes > options.buffer_max_bytes) {
        ++dropped_now;
        continue;
      }
      bool refused = false;
      while (buffer.size() + 1 > options.buffer_max_entries ||
             buffer_bytes + w.bytes > options.buffer_max_bytes) {
        if (options.overflow == buffer_overflow::drop_newest || buffer.empty()) {
          refused = true;
          break;
        }
        buffer_bytes -= buffer.front().bytes;
        buffer.pop_front();
        ++dropped_now;
      }
      if (refused) {
        ++dropped_now;
        continue;
      }
      buffer_bytes += w.bytes;
      buffer.push_back(std::move(w));
    }
    dropped += dropped_now;
    if (options.logger) {
      options.logger->warn("pinecone: service unreachable, {} writes buffered ({} bytes)",
                           buffer.size(), buffer_bytes);
      if (dropped_now > 0) {
        options.logger->warn(
            "pinecone: write buffer full, dropped {} writes ({}; {} in total)", dropped_now,
            options.overflow == buffer_overflow::drop_oldest ? "oldest" : "newest", dropped.load());
      }
    }
    save_spill();
  }

  // Delivers `writes` (in order, after the buffer), buffering on an outage.
  result<void> write(std::vector<pending_write> writes) {
    std::lock_guard lock(write_mutex);
    if (!buffer.empty()) {
      (void)drain();  // an outage keeps the buffer; new writes queue behind it
      if (!buffer.empty()) {
        enqueue(std::move(writes));
        return {};
      }
    }
    std::deque<pending_write> queue(std::make_move_iterator(writes.begin()),
                                    std::make_move_iterator(writes.end()));
    while (!queue.empty()) {
      auto end = batch_end(queue.begin(), queue.end());
      auto sent = send_batch(queue.begin(), end);
      if (!sent && is_outage(sent.error())) {
        enqueue({std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.end())});
        return {};
      }
      if (!sent) return sent;
      queue.erase(queue.begin(), end);
    }
    return {};
  }

  // --- Spill file: one JSON object per line ---

  void save_spill() {
    if (options.spill_file.empty()) return;
    std::error_code ec;
    if (buffer.empty()) {
      fs::remove(options.spill_file, ec);
      return;
    }
    const fs::path tmp = options.spill_file.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      for (const pending_write& w : buffer) {
        nlohmann::json line = {{"delete", w.is_delete},
                               {"namespace", w.name_space},
                               {"record", record_json(w.record)}};
        out << line.dump() << '\n';
      }
      out.flush();
      if (!out) {
        if (options.logger)
          options.logger->error("pinecone: cannot write spill file {}", tmp.string());
        return;
      }
    }
    int fd = ::open(tmp.c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    fs::rename(tmp, options.spill_file, ec);
    if (ec && options.logger) {
      options.logger->error("pinecone: cannot replace spill file: {}", ec.message());
    }
  }

  result<void> load_spill() {
    if (options.spill_file.empty() || !fs::exists(options.spill_file)) return {};
    std::ifstream in(options.spill_file, std::ios::binary);
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      try {
        auto j = nlohmann::json::parse(line);
        pending_write w;
        w.is_delete = j.at("delete").get<bool>();
        w.name_space = j.at("namespace").get<std::string>();
        const auto& r = j.at("record");
        w.record.id = r.at("id").get<std::string>();
        w.record.values = r.at("values").get<std::vector<float>>();
        if (r.contains("metadata")) w.record.metadata = r.at("metadata");
        w.bytes = line.size();
        buffer_bytes += w.bytes;
        buffer.push_back(std::move(w));
      } catch (const nlohmann::json::exception& e) {
        buffer.clear();
        buffer_bytes = 0;
        return fail(errc::corrupt_data,
                    "spill file line " + std::to_string(number) + " does not parse: " + e.what(),
                    options.spill_file.string());
      }
    }
    return {};
  }
};

// ---------------------------------------------------------------------------

result<void> pinecone_vector_store_options::validate() const {
  runtime::detail::options_check check("pinecone_vector_store_options");
  check.require(index_host.starts_with("http://") || index_host.starts_with("https://"),
                "index_host", "must be an http:// or https:// URL, got \"" + index_host + "\"");
  check.require(!api_key.empty(), "api_key", "is required");
  check.require(dimension >= 1 && dimension <= 20'000, "dimension", "must be 1-20000");
  check.require(max_batch_vectors >= 1 && max_batch_vectors <= 1000, "max_batch_vectors",
                "must be 1-1000");
  check.require(max_batch_bytes >= 1024 && max_batch_bytes <= (std::size_t{2} << 20),
                "max_batch_bytes", "must be 1 KiB - 2 MiB");
  check.require(buffer_max_entries >= 1, "buffer_max_entries", "must be >= 1");
  check.require(buffer_max_bytes >= 1, "buffer_max_bytes", "must be >= 1");
  check.require(request_timeout.count() > 0, "request_timeout", "must be positive");
  check.merge(rate.validate());
  check.merge(breaker.validate());
  check.merge(retry.validate());
  if (auto ok = check.finish(); !ok) {
    return fail(errc::invalid_argument, ok.error().message, "pinecone_vector_store_options");
  }
  return {};
}

result<std::unique_ptr<pinecone_vector_store>> pinecone_vector_store::open(
    pinecone_vector_store_options options) {
  if (auto ok = options.validate(); !ok) return fail(ok.error());
  while (options.index_host.ends_with('/')) options.index_host.pop_back();
  auto state = std::make_unique<impl>();
  state->options = std::move(options);
  state->options.retry.classifier = classify_remote_failure;
  state->bucket = std::make_unique<runtime::token_bucket>(state->options.rate);
  state->breaker = std::make_unique<runtime::circuit_breaker>(state->options.breaker);
  state->retry = std::make_unique<runtime::retrier>(state->options.retry);
  if (auto ok = state->load_spill(); !ok) return fail(ok.error());

  if (state->options.http) {
    state->http = state->options.http;
  } else {
    http::client_options client_options;
    client_options.timeout = state->options.request_timeout;
    client_options.logger = state->options.logger;
    try {
      state->http = http::make_curl_client(state->io.get_executor(), client_options);
    } catch (const std::exception& e) {
      return fail(errc::unavailable, std::string("cannot create the HTTP client: ") + e.what(),
                  "pinecone_vector_store");
    }
    state->owns_http = true;
  }
  state->io_thread = std::thread([io = &state->io] { io->run(); });
  return std::unique_ptr<pinecone_vector_store>(new pinecone_vector_store(std::move(state)));
}

pinecone_vector_store::pinecone_vector_store(std::unique_ptr<impl> state)
    : impl_(std::move(state)) {}
pinecone_vector_store::~pinecone_vector_store() = default;

std::size_t pinecone_vector_store::dimension() const { return impl_->options.dimension; }

result<void> pinecone_vector_store::upsert(std::span<const vector_record> records,
                                           std::string_view name_space) {
  if (auto ok = validate_records(records, impl_->options.dimension); !ok) return fail(ok.error());
  std::vector<pending_write> writes;
  writes.reserve(records.size());
  for (const vector_record& r : records) {
    pending_write w{false, std::string(name_space), r, record_json(r).dump().size()};
    if (w.bytes > impl_->options.max_batch_bytes) {
      return fail(errc::invalid_argument,
                  "record is " + std::to_string(w.bytes) + " bytes of JSON, more than " +
                      "max_batch_bytes (" + std::to_string(impl_->options.max_batch_bytes) + ")",
                  "id \"" + r.id + "\"");
    }
    writes.push_back(std::move(w));
  }
  return impl_->write(std::move(writes));
}

result<void> pinecone_vector_store::remove(std::span<const std::string> ids,
                                           std::string_view name_space) {
  std::vector<pending_write> writes;
  for (const std::string& id : ids) {
    pending_write w;
    w.is_delete = true;
    w.name_space = std::string(name_space);
    w.record.id = id;
    w.bytes = id.size() + 4;
    writes.push_back(std::move(w));
  }
  return impl_->write(std::move(writes));
}

result<std::size_t> pinecone_vector_store::remove_matching(const nlohmann::json& filter,
                                                           std::string_view name_space) {
  if (auto ok = validate_filter(filter); !ok) return fail(ok.error());
  if (filter.is_null() || filter.empty()) {
    return fail(errc::invalid_argument, "remove_matching needs a non-empty filter", "filter");
  }
  nlohmann::json body = {{"filter", filter}};
  if (!name_space.empty()) body["namespace"] = name_space;
  std::lock_guard lock(impl_->write_mutex);  // after earlier buffered writes
  if (!impl_->buffer.empty()) {
    if (auto ok = impl_->drain(); !ok) return fail(ok.error());
  }
  auto res = impl_->call_json("POST", "/vectors/delete", body.dump());
  if (!res) return fail(res.error());
  return std::size_t{0};
}

result<std::vector<vector_match>> pinecone_vector_store::query(const vector_query& q) {
  if (q.vector.size() != impl_->options.dimension) {
    return fail(errc::dimension_mismatch,
                "query vector has " + std::to_string(q.vector.size()) + " values, the index has " +
                    std::to_string(impl_->options.dimension),
                "vector_query.vector");
  }
  if (q.top_k < 1 || q.top_k > 10'000) {
    return fail(errc::invalid_argument, "top_k must be 1-10000", "vector_query.top_k");
  }
  if (auto ok = validate_filter(q.filter); !ok) return fail(ok.error());
  nlohmann::json body = {{"vector", q.vector},
                         {"topK", q.top_k},
                         {"includeValues", q.include_values},
                         {"includeMetadata", q.include_metadata}};
  if (!q.name_space.empty()) body["namespace"] = q.name_space;
  if (!q.filter.is_null() && !q.filter.empty()) body["filter"] = q.filter;
  auto res = impl_->call_json("POST", "/query", body.dump());
  if (!res) return fail(res.error());
  std::vector<vector_match> out;
  try {
    for (const auto& m : res->value("matches", nlohmann::json::array())) {
      vector_match match;
      match.id = m.at("id").get<std::string>();
      match.score = m.value("score", 0.0f);
      if (q.include_values && m.contains("values")) {
        match.values = m.at("values").get<std::vector<float>>();
      }
      if (q.include_metadata && m.contains("metadata")) match.metadata = m.at("metadata");
      out.push_back(std::move(match));
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(errc::remote_error, std::string("unexpected query response: ") + e.what(),
                "/query");
  }
  return out;
}

result<std::vector<vector_record>> pinecone_vector_store::fetch(std::span<const std::string> ids,
                                                                std::string_view name_space) {
  std::vector<vector_record> out;
  if (ids.empty()) return out;
  std::string path = "/vectors/fetch?";
  for (const std::string& id : ids) path += "ids=" + sigv4::uri_encode(id, false) + "&";
  path += "namespace=" + sigv4::uri_encode(name_space, false);
  auto res = impl_->call_json("GET", path, {});
  if (!res) return fail(res.error());
  try {
    const auto vectors = res->value("vectors", nlohmann::json::object());
    for (const std::string& id : ids) {
      auto it = vectors.find(id);
      if (it == vectors.end()) continue;
      vector_record r;
      r.id = id;
      r.values = it->at("values").get<std::vector<float>>();
      if (it->contains("metadata")) r.metadata = it->at("metadata");
      out.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(errc::remote_error, std::string("unexpected fetch response: ") + e.what(),
                "/vectors/fetch");
  }
  return out;
}

result<vector_store_stats> pinecone_vector_store::stats() {
  auto res = impl_->call_json("POST", "/describe_index_stats", "{}");
  if (!res) return fail(res.error());
  vector_store_stats out;
  try {
    out.dimension = res->value("dimension", impl_->options.dimension);
    const nlohmann::json namespaces = res->value("namespaces", nlohmann::json::object());
    for (const auto& [name, ns] : namespaces.items()) {
      out.namespaces[name] = ns.value("vectorCount", std::size_t{0});
      out.total_vectors += out.namespaces[name];
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(errc::remote_error, std::string("unexpected stats response: ") + e.what(),
                "/describe_index_stats");
  }
  if (out.dimension != impl_->options.dimension) {
    return fail(errc::dimension_mismatch,
                "the index has " + std::to_string(out.dimension) + " dimensions, the options say " +
                    std::to_string(impl_->options.dimension),
                impl_->options.index_host);
  }
  return out;
}

result<void> pinecone_vector_store::flush() {
  std::lock_guard lock(impl_->write_mutex);
  return impl_->drain();
}

pinecone_write_stats pinecone_vector_store::write_stats() const {
  std::lock_guard lock(impl_->write_mutex);
  return {impl_->delivered, impl_->buffer.size(), impl_->buffer_bytes, impl_->dropped,
          impl_->requests};
}

}  // namespace grove::storage
