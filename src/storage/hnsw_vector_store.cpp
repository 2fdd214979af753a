#include "grove/storage/hnsw_vector_store.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

// hnswlib 0.6.2 (Debian) reads past the end of a heap block when built with
// its SSE code: in searchBaseLayer() (used by every addPoint) the prefetch of
// the next neighbour evaluates *(datal + j + 1) for the last j as well, one
// 4-byte id beyond the link list. For an upper layer that list is a malloc of
// size_links_per_element_ * level + 1 bytes, so when a node's top list is
// full the read leaves the block (ASan: heap-buffer-overflow at hnswalg.h:214,
// reproduced with plain hnswlib, no resize, no deletes). Later hnswlib
// releases guard the prefetch. NO_MANUAL_VECTORIZATION compiles hnswlib
// without its SSE/AVX paths, prefetches included; the distance function that
// those paths also supplied is inner_product_distance below.
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "../runtime/options_check.hpp"
#include "grove/storage/error.hpp"
#include "grove/storage/sigv4.hpp"

namespace grove::storage {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view manifest_name = "manifest.json";
constexpr std::string_view format_name = "grove-hnsw";
constexpr int format_version = 1;
constexpr std::size_t max_top_k = 10'000;

using graph_t = hnswlib::HierarchicalNSW<float>;

grove::unexpected io_failure(const std::string& what, const fs::path& path, int err = errno) {
  return fail(errc::io_error, what + ": " + std::strerror(err), path.string());
}

grove::unexpected corrupt(const std::string& what, const fs::path& path) {
  return fail(errc::corrupt_data,
              "the vector index is corrupt or truncated: " + what +
                  " (the files were left as they are; restore a backup or delete the directory "
                  "to start over)",
              path.string());
}

// One record's bookkeeping; the vector itself lives in the hnswlib graph at
// the slot (hnswlib "label") with the same index.
struct slot_record {
  std::string id;
  float norm = 1.0f;  // original length under the cosine metric, else 1
  nlohmann::json metadata;
  bool live = false;
};

struct namespace_index {
  std::unique_ptr<graph_t> graph;
  std::unordered_map<std::string, std::size_t> slot_of;
  std::vector<slot_record> slots;
  std::vector<std::size_t> free_slots;  // deleted slots, reused by inserts
};

std::string file_sha256(const fs::path& path, std::uintmax_t& size) {
  std::ifstream in(path, std::ios::binary);
  sigv4::sha256 hasher;
  std::vector<char> buffer(1 << 20);
  size = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    hasher.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    size += static_cast<std::uintmax_t>(n);
  }
  return hasher.hex_digest();
}

result<void> fsync_path(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return io_failure("cannot open for fsync", path);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return io_failure("fsync failed", path, err);
  return {};
}

result<void> write_text_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return io_failure("cannot write", path);
  return {};
}

// hnswlib's inner-product distance, 1 - dot(a, b), over `*param` floats.
// Four independent SSE accumulators (16 floats per step) keep the adds out of
// one dependency chain; the tail is summed one value at a time.
float inner_product_distance(const void* a_ptr, const void* b_ptr, const void* param) {
  const auto* a = static_cast<const float*>(a_ptr);
  const auto* b = static_cast<const float*>(b_ptr);
  const std::size_t n = *static_cast<const std::size_t*>(param);
  std::size_t i = 0;
  float dot = 0.0f;
#if defined(__SSE__)
  __m128 s0 = _mm_setzero_ps();
  __m128 s1 = _mm_setzero_ps();
  __m128 s2 = _mm_setzero_ps();
  __m128 s3 = _mm_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
    s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(a + i + 4), _mm_loadu_ps(b + i + 4)));
    s2 = _mm_add_ps(s2, _mm_mul_ps(_mm_loadu_ps(a + i + 8), _mm_loadu_ps(b + i + 8)));
    s3 = _mm_add_ps(s3, _mm_mul_ps(_mm_loadu_ps(a + i + 12), _mm_loadu_ps(b + i + 12)));
  }
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, _mm_add_ps(_mm_add_ps(s0, s1), _mm_add_ps(s2, s3)));
  dot = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
#endif
  for (; i < n; ++i) dot += a[i] * b[i];
  return 1.0f - dot;
}

// The inner-product space handed to hnswlib (see the note at the include).
class inner_product_space final : public hnswlib::SpaceInterface<float> {
 public:
  explicit inner_product_space(std::size_t dimension) : dimension_(dimension) {}
  std::size_t get_data_size() override { return dimension_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return inner_product_distance; }
  void* get_dist_func_param() override { return &dimension_; }

 private:
  std::size_t dimension_;
};

const char* metric_name(vector_metric metric) {
  return metric == vector_metric::cosine ? "cosine" : "inner_product";
}

}  // namespace

struct hnsw_vector_store::impl {
  hnsw_vector_store_options options;
  std::unique_ptr<inner_product_space> space;
  std::map<std::string, namespace_index, std::less<>> spaces;
  std::uint64_t generation = 0;
  int lock_fd = -1;
  mutable std::shared_mutex mutex;

  ~impl() {
    if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
  }

  bool cosine() const { return options.metric == vector_metric::cosine; }

  std::unique_ptr<graph_t> new_graph(std::size_t capacity) const {
    auto graph = std::make_unique<graph_t>(space.get(), capacity, options.m,
                                           options.ef_construction, options.seed);
    graph->setEf(options.ef_search);
    return graph;
  }

  // Makes room for `extra` more slots, doubling the graph when full.
  void reserve(namespace_index& ns, std::size_t extra) const {
    std::size_t needed = ns.graph->cur_element_count + extra;
    if (needed > ns.graph->max_elements_) {
      ns.graph->resizeIndex(std::max(needed, ns.graph->max_elements_ * 2));
    }
  }

  std::vector<float> values_of(const namespace_index& ns, std::size_t slot) const {
    std::vector<float> values = ns.graph->getDataByLabel<float>(slot);
    if (cosine()) {
      for (float& v : values) v *= ns.slots[slot].norm;
    }
    return values;
  }

  result<void> save();
  result<void> load();
};

// ---------------------------------------------------------------------------

result<void> hnsw_vector_store_options::validate() const {
  runtime::detail::options_check check("hnsw_vector_store_options");
  check.require(dimension <= 65'536, "dimension",
                "must be 0-65536, got " + std::to_string(dimension));
  check.require(m >= 2 && m <= 128, "m", "must be 2-128, got " + std::to_string(m));
  check.require(ef_construction >= m, "ef_construction",
                "must be >= m, got " + std::to_string(ef_construction));
  check.require(initial_capacity >= 1, "initial_capacity", "must be >= 1");
  check.require(ef_search >= 1 && ef_search <= 100'000, "ef_search",
                "must be 1-100000, got " + std::to_string(ef_search));
  check.require(insert_threads >= 1 && insert_threads <= 64, "insert_threads",
                "must be 1-64, got " + std::to_string(insert_threads));
  if (auto ok = check.finish(); !ok) {
    return fail(errc::invalid_argument, ok.error().message, "hnsw_vector_store_options");
  }
  return {};
}

result<std::unique_ptr<hnsw_vector_store>> hnsw_vector_store::open(
    hnsw_vector_store_options options) {
  if (auto ok = options.validate(); !ok) return fail(ok.error());
  auto state = std::make_unique<impl>();
  state->options = std::move(options);
  const fs::path& dir = state->options.directory;

  if (!dir.empty()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
      return fail(errc::io_error, "cannot create the index directory: " + ec.message(),
                  dir.string());
    fs::path lock_path = dir / ".grove-lock";
    state->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (state->lock_fd < 0) return io_failure("cannot open the index lock file", lock_path);
    if (::flock(state->lock_fd, LOCK_EX | LOCK_NB) != 0) {
      return fail(errc::io_error,
                  "the index directory is open in another process (or another store object)",
                  dir.string());
    }
    if (fs::exists(dir / manifest_name)) {
      if (auto ok = state->load(); !ok) return fail(ok.error());
    }
  }

  if (state->space == nullptr) {
    if (state->options.dimension == 0) {
      return fail(errc::invalid_argument,
                  "hnsw_vector_store_options.dimension must be set (1-65536) to create an index",
                  dir.empty() ? std::string("(in memory)") : dir.string());
    }
    state->space = std::make_unique<inner_product_space>(state->options.dimension);
  }
  if (state->options.logger) {
    std::size_t total = 0;
    for (const auto& [name, ns] : state->spaces) total += ns.slot_of.size();
    state->options.logger->info("hnsw_vector_store: opened {} ({} vectors, {} namespaces, dim {})",
                                dir.empty() ? "(in memory)" : dir.string(), total,
                                state->spaces.size(), state->options.dimension);
  }
  return std::unique_ptr<hnsw_vector_store>(new hnsw_vector_store(std::move(state)));
}

hnsw_vector_store::hnsw_vector_store(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
hnsw_vector_store::~hnsw_vector_store() = default;

std::size_t hnsw_vector_store::dimension() const { return impl_->options.dimension; }

result<void> hnsw_vector_store::upsert(std::span<const vector_record> records,
                                       std::string_view name_space) {
  const std::size_t dim = impl_->options.dimension;
  if (auto ok = validate_records(records, dim); !ok) return fail(ok.error());

  // 1. Norms first, so a bad record rejects the batch before any change.
  std::vector<float> norms(records.size(), 1.0f);
  if (impl_->cosine()) {
    for (std::size_t i = 0; i < records.size(); ++i) {
      double sum = 0;
      for (float v : records[i].values) sum += static_cast<double>(v) * v;
      norms[i] = static_cast<float>(std::sqrt(sum));
      if (!(norms[i] > 0.0f) || !std::isfinite(norms[i])) {
        return fail(errc::invalid_argument,
                    "a zero (or overflowing) vector has no direction under the cosine metric",
                    "records[" + std::to_string(i) + "] id \"" + records[i].id + "\"");
      }
    }
  }

  std::unique_lock lock(impl_->mutex);
  auto it = impl_->spaces.find(name_space);
  if (it == impl_->spaces.end()) {
    namespace_index fresh;
    fresh.graph = impl_->new_graph(impl_->options.initial_capacity);
    it = impl_->spaces.emplace(std::string(name_space), std::move(fresh)).first;
  }
  namespace_index& ns = it->second;

  // 2. Room for the new ids (those neither present nor able to reuse a slot).
  std::size_t new_ids = 0;
  for (const vector_record& r : records) new_ids += !ns.slot_of.contains(r.id);
  std::size_t fresh_slots = new_ids > ns.free_slots.size() ? new_ids - ns.free_slots.size() : 0;
  try {
    impl_->reserve(ns, fresh_slots);
  } catch (const std::exception& e) {
    return fail(errc::capacity_exceeded, std::string("cannot grow the index: ") + e.what(),
                "namespace \"" + std::string(name_space) + "\"");
  }

  // 3. A slot per record: an existing id keeps its own, a new one reuses a
  //    deleted slot or takes the next. Ids are unique within the batch
  //    (validate_records), so every record gets a different slot.
  std::vector<std::size_t> slot_of_record(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (auto found = ns.slot_of.find(records[i].id); found != ns.slot_of.end()) {
      slot_of_record[i] = found->second;
    } else if (!ns.free_slots.empty()) {
      slot_of_record[i] = ns.free_slots.back();
      ns.free_slots.pop_back();
    } else {
      slot_of_record[i] = ns.slots.size();
      ns.slots.emplace_back();
    }
  }

  // 4. The vectors into the graph. addPoint on an existing slot (live or
  //    deleted) updates it in place; hnswlib allows concurrent addPoint calls
  //    on different labels, so several threads may share the batch.
  std::atomic<std::size_t> next{0};
  std::mutex failure_mutex;
  std::string failure;
  auto insert_some = [&] {
    std::vector<float> unit(dim);
    try {
      for (std::size_t i = next++; i < records.size(); i = next++) {
        for (std::size_t d = 0; d < dim; ++d) unit[d] = records[i].values[d] / norms[i];
        ns.graph->addPoint(unit.data(), slot_of_record[i]);
      }
    } catch (const std::exception& e) {  // out of memory: hnswlib's only throw here
      next = records.size();
      std::lock_guard guard(failure_mutex);
      failure = e.what();
    }
  };
  const std::size_t threads =
      std::min(impl_->options.insert_threads, std::max<std::size_t>(records.size() / 64, 1));
  if (threads <= 1) {
    insert_some();
  } else {
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < threads; ++t) workers.emplace_back(insert_some);
  }

  if (!failure.empty()) {
    // Slots taken for new ids go back to the free list; vectors that did
    // reach the graph stay there unlisted (queries skip slots not live) until
    // the slot is reused.
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (!ns.slot_of.contains(records[i].id)) ns.free_slots.push_back(slot_of_record[i]);
    }
    return fail(errc::capacity_exceeded, "hnswlib could not insert: " + failure,
                "namespace \"" + std::string(name_space) + "\"");
  }

  // 5. The bookkeeping.
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::size_t slot = slot_of_record[i];
    ns.slots[slot] = slot_record{records[i].id, norms[i], records[i].metadata, true};
    ns.slot_of[records[i].id] = slot;
  }
  return {};
}

result<std::vector<vector_match>> hnsw_vector_store::query(const vector_query& q) {
  const std::size_t dim = impl_->options.dimension;
  if (q.vector.size() != dim) {
    return fail(errc::dimension_mismatch,
                "query vector has " + std::to_string(q.vector.size()) + " values, the store has " +
                    std::to_string(dim) + " dimensions",
                "vector_query.vector");
  }
  if (q.top_k < 1 || q.top_k > max_top_k) {
    return fail(errc::invalid_argument, "top_k must be 1-10000, got " + std::to_string(q.top_k),
                "vector_query.top_k");
  }
  if (auto ok = validate_filter(q.filter); !ok) return fail(ok.error());

  std::vector<float> unit(q.vector);
  if (impl_->cosine()) {
    double sum = 0;
    for (float v : unit) sum += static_cast<double>(v) * v;
    float norm = static_cast<float>(std::sqrt(sum));
    if (!(norm > 0.0f) || !std::isfinite(norm)) {
      return fail(errc::invalid_argument, "a zero query vector has no direction under cosine",
                  "vector_query.vector");
    }
    for (float& v : unit) v /= norm;
  }

  std::shared_lock lock(impl_->mutex);
  std::vector<vector_match> matches;
  auto it = impl_->spaces.find(q.name_space);
  if (it == impl_->spaces.end() || it->second.slot_of.empty()) return matches;
  const namespace_index& ns = it->second;
  const std::size_t live = ns.slot_of.size();
  const bool filtered = !q.filter.is_null() && !q.filter.empty();

  // Without a filter one search suffices; with one, widen until enough
  // candidates pass or the whole namespace was searched.
  std::size_t k = std::min(live, filtered ? std::max<std::size_t>(q.top_k * 4, 64) : q.top_k);
  for (;;) {
    auto heap = ns.graph->searchKnn(unit.data(), k);
    std::vector<std::pair<float, std::size_t>> found;
    found.reserve(heap.size());
    for (; !heap.empty(); heap.pop()) found.emplace_back(heap.top().first, heap.top().second);
    std::reverse(found.begin(), found.end());  // nearest first

    matches.clear();
    for (const auto& [distance, slot] : found) {
      const slot_record& rec = ns.slots[slot];
      if (!rec.live || !matches_filter(rec.metadata, q.filter)) continue;
      vector_match m;
      m.id = rec.id;
      m.score = 1.0f - distance;  // hnswlib's inner-product distance is 1 - dot
      if (q.include_metadata) m.metadata = rec.metadata;
      if (q.include_values) m.values = impl_->values_of(ns, slot);
      matches.push_back(std::move(m));
      if (matches.size() == q.top_k) break;
    }
    if (matches.size() >= q.top_k || k >= live) break;
    k = std::min(live, k * 2);
  }
  return matches;
}

result<std::vector<vector_record>> hnsw_vector_store::fetch(std::span<const std::string> ids,
                                                            std::string_view name_space) {
  std::shared_lock lock(impl_->mutex);
  std::vector<vector_record> out;
  auto it = impl_->spaces.find(name_space);
  if (it == impl_->spaces.end()) return out;
  const namespace_index& ns = it->second;
  for (const std::string& id : ids) {
    auto found = ns.slot_of.find(id);
    if (found == ns.slot_of.end()) continue;
    out.push_back({id, impl_->values_of(ns, found->second), ns.slots[found->second].metadata});
  }
  return out;
}

result<void> hnsw_vector_store::remove(std::span<const std::string> ids,
                                       std::string_view name_space) {
  std::unique_lock lock(impl_->mutex);
  auto it = impl_->spaces.find(name_space);
  if (it == impl_->spaces.end()) return {};
  namespace_index& ns = it->second;
  for (const std::string& id : ids) {
    auto found = ns.slot_of.find(id);
    if (found == ns.slot_of.end()) continue;
    std::size_t slot = found->second;
    ns.graph->markDelete(slot);
    ns.slots[slot] = slot_record{};
    ns.free_slots.push_back(slot);
    ns.slot_of.erase(found);
  }
  return {};
}

result<std::size_t> hnsw_vector_store::remove_matching(const nlohmann::json& filter,
                                                       std::string_view name_space) {
  if (auto ok = validate_filter(filter); !ok) return fail(ok.error());
  std::vector<std::string> doomed;
  {
    std::shared_lock lock(impl_->mutex);
    auto it = impl_->spaces.find(name_space);
    if (it == impl_->spaces.end()) return std::size_t{0};
    for (const slot_record& rec : it->second.slots) {
      if (rec.live && matches_filter(rec.metadata, filter)) doomed.push_back(rec.id);
    }
  }
  // A record written between the two locks is judged by the filter it had;
  // writers that need exactness hold their own ordering.
  if (auto ok = remove(doomed, name_space); !ok) return fail(ok.error());
  return doomed.size();
}

result<vector_store_stats> hnsw_vector_store::stats() {
  std::shared_lock lock(impl_->mutex);
  vector_store_stats out;
  out.dimension = impl_->options.dimension;
  for (const auto& [name, ns] : impl_->spaces) {
    out.namespaces[name] = ns.slot_of.size();
    out.total_vectors += ns.slot_of.size();
  }
  return out;
}

result<void> hnsw_vector_store::flush() {
  if (impl_->options.directory.empty()) return {};
  std::unique_lock lock(impl_->mutex);
  return impl_->save();
}

void hnsw_vector_store::set_ef_search(std::size_t ef) {
  std::unique_lock lock(impl_->mutex);
  impl_->options.ef_search = std::max<std::size_t>(ef, 1);
  for (auto& [name, ns] : impl_->spaces) ns.graph->setEf(impl_->options.ef_search);
}

std::size_t hnsw_vector_store::index_bytes() const {
  std::shared_lock lock(impl_->mutex);
  std::size_t bytes = 0;
  for (const auto& [name, ns] : impl_->spaces) {
    const graph_t& g = *ns.graph;
    bytes += g.max_elements_ * g.size_data_per_element_;  // layer 0 + vectors
    bytes += g.max_elements_ * sizeof(void*);             // upper-layer pointers
    for (std::size_t i = 0; i < g.cur_element_count; ++i) {
      bytes += static_cast<std::size_t>(g.element_levels_[i]) * g.size_links_per_element_;
    }
  }
  return bytes;
}

// ---------------------------------------------------------------------------
// Persistence

result<void> hnsw_vector_store::impl::save() {
  const fs::path& dir = options.directory;
  const std::uint64_t next = generation + 1;
  nlohmann::json manifest = {{"format", format_name},
                             {"version", format_version},
                             {"generation", next},
                             {"dimension", options.dimension},
                             {"metric", metric_name(options.metric)},
                             {"m", options.m},
                             {"ef_construction", options.ef_construction},
                             {"namespaces", nlohmann::json::array()}};
  std::unordered_set<std::string> keep = {std::string(manifest_name), ".grove-lock"};

  // 1. Each namespace's graph and records under new names: temp, fsync, rename.
  std::size_t index = 0;
  for (const auto& [name, ns] : spaces) {
    const std::string stem = "ns" + std::to_string(index++) + "." + std::to_string(next);
    const fs::path graph_path = dir / (stem + ".hnsw");
    const fs::path records_path = dir / (stem + ".records");
    const fs::path graph_tmp = dir / (stem + ".hnsw.tmp");
    const fs::path records_tmp = dir / (stem + ".records.tmp");

    try {
      ns.graph->saveIndex(graph_tmp.string());
    } catch (const std::exception& e) {
      return fail(errc::io_error, std::string("hnswlib could not save: ") + e.what(),
                  graph_tmp.string());
    }
    nlohmann::json slots = nlohmann::json::array();
    for (const slot_record& rec : ns.slots) {
      slots.push_back(
          {{"id", rec.id}, {"norm", rec.norm}, {"live", rec.live}, {"metadata", rec.metadata}});
    }
    // Metadata is the caller's text and may hold invalid UTF-8 (a chunk of a
    // binary file); store U+FFFD for such bytes rather than fail the save.
    const std::string records =
        slots.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (auto ok = write_text_file(records_tmp, records); !ok) return ok;
    for (const fs::path& p : {graph_tmp, records_tmp}) {
      if (options.fsync) {
        if (auto ok = fsync_path(p, false); !ok) return ok;
      }
    }

    std::uintmax_t graph_bytes = 0;
    std::uintmax_t records_bytes = 0;
    std::string graph_sum = file_sha256(graph_tmp, graph_bytes);
    std::string records_sum = file_sha256(records_tmp, records_bytes);
    if (::rename(graph_tmp.c_str(), graph_path.c_str()) != 0) {
      return io_failure("cannot rename", graph_tmp);
    }
    if (::rename(records_tmp.c_str(), records_path.c_str()) != 0) {
      return io_failure("cannot rename", records_tmp);
    }
    keep.insert(graph_path.filename().string());
    keep.insert(records_path.filename().string());
    manifest["namespaces"].push_back({{"name", name},
                                      {"count", ns.slot_of.size()},
                                      {"graph_file", graph_path.filename().string()},
                                      {"graph_bytes", graph_bytes},
                                      {"graph_sha256", graph_sum},
                                      {"records_file", records_path.filename().string()},
                                      {"records_bytes", records_bytes},
                                      {"records_sha256", records_sum}});
  }

  // 2. The manifest switches to the new generation in one rename.
  const fs::path manifest_tmp = dir / "manifest.json.tmp";
  if (auto ok = write_text_file(manifest_tmp, manifest.dump(2)); !ok) return ok;
  if (options.fsync) {
    if (auto ok = fsync_path(manifest_tmp, false); !ok) return ok;
  }
  if (::rename(manifest_tmp.c_str(), (dir / manifest_name).c_str()) != 0) {
    return io_failure("cannot rename", manifest_tmp);
  }
  if (options.fsync) {
    if (auto ok = fsync_path(dir, true); !ok) return ok;
  }
  generation = next;

  // 3. The previous generation is garbage now; failing to delete it is harmless.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    bool ours = file.starts_with("ns") &&
                (file.ends_with(".hnsw") || file.ends_with(".records") || file.ends_with(".tmp"));
    if (ours && !keep.contains(file)) fs::remove(entry.path(), ec);
  }
  if (options.logger) {
    options.logger->info("hnsw_vector_store: saved generation {} to {}", next, dir.string());
  }
  return {};
}

result<void> hnsw_vector_store::impl::load() {
  const fs::path& dir = options.directory;
  const fs::path manifest_path = dir / manifest_name;

  // 1. The manifest: format, shape, and the list of files.
  nlohmann::json manifest;
  try {
    std::ifstream in(manifest_path, std::ios::binary);
    manifest = nlohmann::json::parse(in);
    if (manifest.at("format") != format_name || manifest.at("version") != format_version) {
      return corrupt("unknown manifest format", manifest_path);
    }
    generation = manifest.at("generation").get<std::uint64_t>();
    std::size_t stored_dimension = manifest.at("dimension").get<std::size_t>();
    if (options.dimension != 0 && options.dimension != stored_dimension) {
      return fail(errc::dimension_mismatch,
                  "the index has " + std::to_string(stored_dimension) +
                      " dimensions, the options ask for " + std::to_string(options.dimension),
                  dir.string());
    }
    if (stored_dimension == 0 || stored_dimension > 65'536) {
      return corrupt("dimension out of range", manifest_path);
    }
    options.dimension = stored_dimension;
    const std::string metric = manifest.at("metric").get<std::string>();
    if (metric != "cosine" && metric != "inner_product") {
      return corrupt("unknown metric \"" + metric + "\"", manifest_path);
    }
    options.metric = metric == "cosine" ? vector_metric::cosine : vector_metric::inner_product;
    options.m = manifest.at("m").get<std::size_t>();
    options.ef_construction = manifest.at("ef_construction").get<std::size_t>();
  } catch (const nlohmann::json::exception& e) {
    return corrupt(std::string("manifest does not parse: ") + e.what(), manifest_path);
  }
  space = std::make_unique<inner_product_space>(options.dimension);

  // 2. Every file must have the recorded size and checksum before hnswlib
  //    reads it: hnswlib trusts the counts in its header and would allocate
  //    or read out of bounds on a damaged file.
  try {
    for (const auto& entry : manifest.at("namespaces")) {
      const std::string name = entry.at("name").get<std::string>();
      for (const char* kind : {"graph", "records"}) {
        const fs::path path = dir / entry.at(std::string(kind) + "_file").get<std::string>();
        const auto want_bytes = entry.at(std::string(kind) + "_bytes").get<std::uintmax_t>();
        std::error_code ec;
        if (!fs::is_regular_file(path, ec)) return corrupt("file is missing", path);
        std::uintmax_t has_bytes = fs::file_size(path, ec);
        if (has_bytes != want_bytes) {
          return corrupt("file has " + std::to_string(has_bytes) + " bytes, the manifest says " +
                             std::to_string(want_bytes),
                         path);
        }
        std::uintmax_t hashed = 0;
        if (file_sha256(path, hashed) != entry.at(std::string(kind) + "_sha256")) {
          return corrupt("file fails its SHA-256 checksum", path);
        }
      }

      // 3. Load the graph, then the records, and cross-check them.
      namespace_index ns;
      const fs::path graph_path = dir / entry.at("graph_file").get<std::string>();
      try {
        ns.graph = std::make_unique<graph_t>(space.get(), graph_path.string(), false, 0);
      } catch (const std::exception& e) {
        return corrupt(std::string("hnswlib cannot load the graph: ") + e.what(), graph_path);
      }
      ns.graph->setEf(options.ef_search);
      const fs::path records_path = dir / entry.at("records_file").get<std::string>();
      std::ifstream in(records_path, std::ios::binary);
      nlohmann::json slots = nlohmann::json::parse(in);
      if (slots.size() != ns.graph->cur_element_count) {
        return corrupt("records and graph disagree on the number of slots", records_path);
      }
      for (std::size_t slot = 0; slot < slots.size(); ++slot) {
        const auto& s = slots[slot];
        slot_record rec{s.at("id").get<std::string>(), s.at("norm").get<float>(), s.at("metadata"),
                        s.at("live").get<bool>()};
        if (rec.live) {
          ns.slot_of[rec.id] = slot;
        } else {
          ns.free_slots.push_back(slot);
        }
        ns.slots.push_back(std::move(rec));
      }
      spaces.emplace(name, std::move(ns));
    }
  } catch (const nlohmann::json::exception& e) {
    return corrupt(std::string("index metadata does not parse: ") + e.what(), dir);
  }
  return {};
}

}  // namespace grove::storage
