#include "fake_pinecone_server.hpp"

#include <boost/beast/http.hpp>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "grove/storage/sigv4.hpp"
#include "handler_http_server.hpp"

namespace grove::test {
namespace bhttp = boost::beast::http;

namespace {

struct stored {
  std::vector<float> values;
  nlohmann::json metadata;
};

struct fault {
  std::string path_part;
  int status;
  std::size_t count;
  std::optional<int> retry_after;
};

}  // namespace

struct fake_pinecone_server::impl {
  std::string api_key;
  std::size_t dimension;
  mutable std::mutex mutex;
  std::map<std::string, std::map<std::string, stored>> spaces;
  std::vector<fault> faults;
  bool outage = false;
  std::chrono::milliseconds delay{0};
  std::size_t requests = 0;
  std::vector<std::pair<std::size_t, std::size_t>> upserts;
  std::unique_ptr<handler_http_server> server;

  static handler_http_server::response json(int status, const nlohmann::json& body) {
    handler_http_server::response res{static_cast<bhttp::status>(status), 11};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = body.dump();
    return res;
  }

  static bool matches(const nlohmann::json& metadata, const nlohmann::json& filter) {
    for (const auto& [name, want] : filter.items()) {
      const nlohmann::json& value = want.is_object() ? want.at("$eq") : want;
      if (!metadata.is_object() || !metadata.contains(name) || metadata.at(name) != value) {
        return false;
      }
    }
    return true;
  }

  handler_http_server::reply handle(const handler_http_server::request& req) {
    std::chrono::milliseconds wait{0};
    {
      std::lock_guard lock(mutex);
      if (outage) return {{}, true};
      wait = delay;
    }
    if (wait.count() > 0) std::this_thread::sleep_for(wait);

    std::lock_guard lock(mutex);
    ++requests;
    const std::string target(req.target());
    if (req["Api-Key"] != api_key) {
      return {json(401, {{"code", 16}, {"message", "Invalid API Key"}}), false};
    }
    for (fault& f : faults) {
      if (f.count > 0 && target.find(f.path_part) != std::string::npos) {
        --f.count;
        auto res = json(f.status, {{"code", f.status}, {"message", "injected"}});
        if (f.retry_after) res.set("retry-after", std::to_string(*f.retry_after));
        return {std::move(res), false};
      }
    }
    try {
      return {route(req, target), false};
    } catch (const std::exception& e) {
      return {json(400, {{"code", 3}, {"message", e.what()}}), false};
    }
  }

  handler_http_server::response route(const handler_http_server::request& req,
                                      const std::string& target) {
    const nlohmann::json body =
        req.body().empty() ? nlohmann::json::object() : nlohmann::json::parse(req.body());
    const std::string ns = body.value("namespace", std::string());
    if (target == "/vectors/upsert") {
      const auto& vectors = body.at("vectors");
      upserts.emplace_back(vectors.size(), req.body().size());
      for (const auto& v : vectors) {
        auto values = v.at("values").get<std::vector<float>>();
        if (values.size() != dimension) {
          return json(400, {{"code", 3}, {"message", "Vector dimension does not match"}});
        }
        spaces[ns][v.at("id").get<std::string>()] = {values, v.value("metadata", nlohmann::json())};
      }
      return json(200, {{"upsertedCount", vectors.size()}});
    }
    if (target == "/query") {
      auto q = body.at("vector").get<std::vector<float>>();
      std::vector<std::pair<float, std::string>> scored;
      for (const auto& [id, s] : spaces[ns]) {
        if (body.contains("filter") && !matches(s.metadata, body.at("filter"))) continue;
        double dot = 0, a = 0, b = 0;
        for (std::size_t i = 0; i < q.size(); ++i) {
          dot += q[i] * s.values[i];
          a += q[i] * q[i];
          b += s.values[i] * s.values[i];
        }
        scored.emplace_back(static_cast<float>(dot / std::sqrt(a * b)), id);
      }
      std::sort(scored.begin(), scored.end(), std::greater<>());
      nlohmann::json matches = nlohmann::json::array();
      for (std::size_t i = 0; i < scored.size() && i < body.at("topK").get<std::size_t>(); ++i) {
        nlohmann::json m = {{"id", scored[i].second}, {"score", scored[i].first}};
        const stored& s = spaces[ns][scored[i].second];
        if (body.value("includeValues", false)) m["values"] = s.values;
        if (body.value("includeMetadata", false) && !s.metadata.is_null())
          m["metadata"] = s.metadata;
        matches.push_back(m);
      }
      return json(200, {{"matches", matches}, {"namespace", ns}});
    }
    if (target.starts_with("/vectors/fetch?")) {
      std::vector<std::string> ids;
      std::string fetch_ns;
      std::string query = target.substr(target.find('?') + 1);
      std::size_t pos = 0;
      while (pos <= query.size()) {
        std::size_t end = query.find('&', pos);
        if (end == std::string::npos) end = query.size();
        std::string piece = query.substr(pos, end - pos);
        std::size_t eq = piece.find('=');
        std::string value = grove::storage::sigv4::uri_decode(piece.substr(eq + 1));
        if (piece.starts_with("ids=")) ids.push_back(value);
        if (piece.starts_with("namespace=")) fetch_ns = value;
        pos = end + 1;
      }
      nlohmann::json vectors = nlohmann::json::object();
      for (const auto& id : ids) {
        auto it = spaces[fetch_ns].find(id);
        if (it == spaces[fetch_ns].end()) continue;
        vectors[id] = {{"id", id}, {"values", it->second.values}};
        if (!it->second.metadata.is_null()) vectors[id]["metadata"] = it->second.metadata;
      }
      return json(200, {{"vectors", vectors}, {"namespace", fetch_ns}});
    }
    if (target == "/vectors/delete") {
      auto& space = spaces[ns];
      if (body.contains("ids")) {
        for (const auto& id : body.at("ids")) space.erase(id.get<std::string>());
      } else {
        std::erase_if(
            space, [&](const auto& kv) { return matches(kv.second.metadata, body.at("filter")); });
      }
      return json(200, nlohmann::json::object());
    }
    if (target == "/describe_index_stats") {
      nlohmann::json namespaces = nlohmann::json::object();
      std::size_t total = 0;
      for (const auto& [name, space] : spaces) {
        if (space.empty()) continue;
        namespaces[name] = {{"vectorCount", space.size()}};
        total += space.size();
      }
      return json(200, {{"namespaces", namespaces},
                        {"dimension", dimension},
                        {"indexFullness", 0.0},
                        {"totalVectorCount", total}});
    }
    return json(404, {{"code", 5}, {"message", "Not Found"}});
  }
};

fake_pinecone_server::fake_pinecone_server(std::string api_key, std::size_t dimension)
    : impl_(std::make_unique<impl>()) {
  impl_->api_key = std::move(api_key);
  impl_->dimension = dimension;
  impl_->server = std::make_unique<handler_http_server>(
      [this](const handler_http_server::request& req) { return impl_->handle(req); });
}

fake_pinecone_server::~fake_pinecone_server() { impl_->server->stop(); }

std::string fake_pinecone_server::endpoint() const { return impl_->server->endpoint(); }

void fake_pinecone_server::set_outage(bool down) {
  std::lock_guard lock(impl_->mutex);
  impl_->outage = down;
}

void fake_pinecone_server::inject(std::string path_part, int status, std::size_t count,
                                  std::optional<int> retry_after_s) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.push_back({std::move(path_part), status, count, retry_after_s});
}

void fake_pinecone_server::set_delay(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mutex);
  impl_->delay = delay;
}

std::size_t fake_pinecone_server::count(const std::string& name_space) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->spaces.find(name_space);
  return it == impl_->spaces.end() ? 0 : it->second.size();
}

std::vector<float> fake_pinecone_server::values(const std::string& id,
                                                const std::string& name_space) const {
  std::lock_guard lock(impl_->mutex);
  auto space = impl_->spaces.find(name_space);
  if (space == impl_->spaces.end()) return {};
  auto it = space->second.find(id);
  return it == space->second.end() ? std::vector<float>{} : it->second.values;
}

std::size_t fake_pinecone_server::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::vector<std::pair<std::size_t, std::size_t>> fake_pinecone_server::upsert_sizes() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->upserts;
}

}  // namespace grove::test
