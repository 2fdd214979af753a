// tests/support/fake_pinecone_server.hpp: an in-process Pinecone data plane
// for tests (on handler_http_server), with scripted outages, statuses and
// slow responses.
//
// Speaks the JSON of POST /vectors/upsert, POST /query (exact cosine search),
// GET /vectors/fetch, POST /vectors/delete (ids or a metadata equality
// filter) and POST /describe_index_stats. Requests without the right Api-Key
// get 401. Faults:
//   - set_outage(true): every connection is dropped without an answer;
//   - inject(path_part, status, count, retry_after): the next `count`
//     requests whose path contains path_part get `status` (with a
//     retry-after header when given);
//   - set_delay(d): every answer waits `d` first (a slow server).
// Thread safety: every public method may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace grove::test {

class fake_pinecone_server {
 public:
  fake_pinecone_server(std::string api_key, std::size_t dimension);
  ~fake_pinecone_server();
  fake_pinecone_server(const fake_pinecone_server&) = delete;
  fake_pinecone_server& operator=(const fake_pinecone_server&) = delete;

  /// "http://127.0.0.1:<port>".
  std::string endpoint() const;

  void set_outage(bool down);
  void inject(std::string path_part, int status, std::size_t count,
              std::optional<int> retry_after_s = std::nullopt);
  void set_delay(std::chrono::milliseconds delay);

  /// Records stored in `name_space`.
  std::size_t count(const std::string& name_space = "") const;
  /// Values of a stored record (empty when absent).
  std::vector<float> values(const std::string& id, const std::string& name_space = "") const;
  /// Requests answered (dropped ones not included), and per upsert request
  /// the number of vectors and body bytes.
  std::size_t requests() const;
  std::vector<std::pair<std::size_t, std::size_t>> upsert_sizes() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace grove::test
