// Throughput of the storage layer, each figure next to a baseline measured in
// the same run (the build machine is shared and noisy: compare the ratios).
//
//   grove_storage_throughput_bench fs [--dir DIR] [--rounds R]
//   grove_storage_throughput_bench s3 --endpoint URL --bucket B [--dir DIR] [--rounds R]
//   grove_storage_throughput_bench vectors [--vectors N] [--files F] [--dir DIR]
//
// fs: filesystem_object_store put / get of random objects of 4 KiB, 1 MiB and
//   32 MiB (fsync on, the default) against the same bytes written by hand in
//   the same process (write a temporary file, fsync, rename) and read back
//   (open, read). Rounds alternate baseline and store; each row is the median
//   round.
// s3: s3_object_store against a running S3 server (bench/storage/run_s3.sh
//   starts s3rver on loopback), path-style, credentials S3RVER/S3RVER,
//   compression off, the request rate limit lifted; 32 MiB objects go up as
//   multipart (8 MiB parts), and again as one PUT each (threshold 64 MiB) to
//   separate multipart's cost. Baseline: the same bytes uploaded and downloaded
//   by one `curl` process per batch (-K config listing every transfer, so
//   curl reuses its connection), signed with --aws-sigv4 and the payload's
//   SHA-256 computed beforehand. Then a compressible 1 MiB object (JSON lines)
//   and a random one, stored with identity, gzip and zstd.
// vectors: hnsw_vector_store upsert of N random 384-dimensional vectors
//   (default 10,000; default settings: M 32, ef_construction 300, one insert
//   thread; batches of 1,000) against appending the normalised vectors and
//   ids to flat arrays (what a brute-force index does on insert); then
//   index_directory() (what grove-index runs: HNSW store in a directory,
//   feature-hashing embedder, chunks of 1,000 / overlap 150) over F generated
//   text files (default 600) against the embedder alone on the same chunks.
//
// Output: Markdown tables on stdout. Every run checks what it measured (sizes
// read back, curl answers 200, multipart used, chunk counts) and exits 1 with
// a message otherwise. Results and method: docs/benchmarks/storage.md.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "grove/llm/embedder.hpp"
#include "grove/storage/chunker.hpp"
#include "grove/storage/filesystem_object_store.hpp"
#include "grove/storage/hnsw_vector_store.hpp"
#include "grove/storage/indexer.hpp"
#include "grove/storage/s3_object_store.hpp"
#include "grove/storage/sigv4.hpp"

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

struct settings {
  std::string mode;
  fs::path dir = fs::temp_directory_path();
  std::size_t rounds = 3;
  std::string endpoint;
  std::string bucket;
  std::size_t vectors = 10'000;
  std::size_t files = 600;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "grove_storage_throughput_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T check(grove::result<T> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().describe());
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

settings parse_args(int argc, char** argv) {
  if (argc < 2) die("usage: grove_storage_throughput_bench fs|s3|vectors [flags]");
  settings s;
  s.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--dir") {
      s.dir = value;
    } else if (flag == "--rounds") {
      s.rounds = std::max<std::size_t>(1, std::strtoull(value.c_str(), nullptr, 10));
    } else if (flag == "--endpoint") {
      s.endpoint = value;
    } else if (flag == "--bucket") {
      s.bucket = value;
    } else if (flag == "--vectors") {
      s.vectors = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--files") {
      s.files = std::strtoull(value.c_str(), nullptr, 10);
    } else {
      die("unknown flag " + flag);
    }
  }
  return s;
}

double seconds_of(const std::function<void()>& work) {
  const auto start = clock_type::now();
  work();
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::string random_bytes(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    const std::uint64_t word = rng();
    std::memcpy(out.data() + i, &word, std::min<std::size_t>(8, size - i));
  }
  return out;
}

// A temporary directory under `parent`, removed on destruction.
class scratch_dir {
 public:
  explicit scratch_dir(const fs::path& parent) {
    std::string pattern = (parent / "grove-throughput-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      die("cannot create a directory in " + parent.string());
    path_ = pattern;
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct object_size {
  const char* name;
  std::size_t bytes;
  std::size_t count;  // objects per round
};

// One measured batch: `count` operations moving `bytes` bytes each.
struct rate {
  double seconds = 0;
  std::size_t count = 0;
  std::size_t bytes = 0;
  double ops() const { return static_cast<double>(count) / seconds; }
  double mb_s() const { return static_cast<double>(count * bytes) / 1e6 / seconds; }
};

rate median_rate(const std::vector<double>& seconds, std::size_t count, std::size_t bytes) {
  return {median(seconds), count, bytes};
}

void print_header(const char* baseline) {
  std::printf(
      "| object | op | count | store MB/s | store ops/s | %s MB/s | %s ops/s | store / %s |\n",
      baseline, baseline, baseline);
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
}

void print_row(const object_size& size, const char* op, const rate& store, const rate& base) {
  std::printf("| %s | %s | %zu | %.1f | %.1f | %.1f | %.1f | %.2f |\n", size.name, op, size.count,
              store.mb_s(), store.ops(), base.mb_s(), base.ops(), base.seconds / store.seconds);
  std::fflush(stdout);
}

// --- Filesystem ---

void write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) die("write " + path.string());
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// The baseline writer: temporary file, fsync, rename.
void plain_put(const fs::path& target, std::string_view data) {
  fs::path tmp = target;
  tmp += ".tmp";
  const int fd = ::open(tmp.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + tmp.string());
  write_all(fd, data, tmp);
  if (::fsync(fd) != 0) die("fsync " + tmp.string());
  ::close(fd);
  if (::rename(tmp.c_str(), target.c_str()) != 0) die("rename " + tmp.string());
}

std::string plain_get(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open " + path.string());
  struct stat st {};
  ::fstat(fd, &st);
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n <= 0) die("read " + path.string());
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return out;
}

int run_fs(const settings& s) {
  const scratch_dir scratch(s.dir);
  const fs::path plain = scratch.path() / "plain";
  fs::create_directories(plain);
  grove::storage::filesystem_object_store_options options;
  options.root = scratch.path() / "store";
  auto store = check(grove::storage::filesystem_object_store::open(options), "open");

  const object_size sizes[] = {
      {"4 KiB", 4096, 300}, {"1 MiB", 1 << 20, 30}, {"32 MiB", 32 << 20, 4}};
  std::printf(
      "filesystem store (fsync on) vs write-temp+fsync+rename / read, %zu rounds, in %s\n\n",
      s.rounds, scratch.path().c_str());
  print_header("plain");
  for (const object_size& size : sizes) {
    const std::string data = random_bytes(size.bytes, size.bytes);
    std::vector<double> base_put, store_put, base_get, store_get;
    std::size_t checksum = 0;
    for (std::size_t round = 0; round < s.rounds; ++round) {
      base_put.push_back(seconds_of([&] {
        for (std::size_t i = 0; i < size.count; ++i) {
          plain_put(plain / (std::to_string(size.bytes) + "-" + std::to_string(i)), data);
        }
      }));
      store_put.push_back(seconds_of([&] {
        for (std::size_t i = 0; i < size.count; ++i) {
          check(store->put("o/" + std::to_string(size.bytes) + "/" + std::to_string(i), data),
                "put");
        }
      }));
      base_get.push_back(seconds_of([&] {
        for (std::size_t i = 0; i < size.count; ++i) {
          checksum +=
              plain_get(plain / (std::to_string(size.bytes) + "-" + std::to_string(i))).size();
        }
      }));
      store_get.push_back(seconds_of([&] {
        for (std::size_t i = 0; i < size.count; ++i) {
          checksum +=
              check(store->get("o/" + std::to_string(size.bytes) + "/" + std::to_string(i)), "get")
                  .data.size();
        }
      }));
    }
    if (checksum != 2 * s.rounds * size.count * size.bytes) die("short read");
    print_row(size, "put", median_rate(store_put, size.count, size.bytes),
              median_rate(base_put, size.count, size.bytes));
    print_row(size, "get", median_rate(store_get, size.count, size.bytes),
              median_rate(base_get, size.count, size.bytes));
  }
  return 0;
}

// --- S3 ---

constexpr const char* s3_key = "S3RVER";
constexpr const char* empty_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Runs one curl process over a -K config; returns its wall time. Every
// transfer must answer 200.
double run_curl(const fs::path& config, const std::string& payload_hash, std::size_t transfers) {
  const std::string command = "curl -sS --aws-sigv4 aws:amz:us-east-1:s3 --user " +
                              std::string(s3_key) + ":" + s3_key +
                              " -H 'x-amz-content-sha256: " + payload_hash +
                              "' -w '%{http_code}\\n' -K '" + config.string() + "'";
  std::size_t ok = 0;
  const double seconds = seconds_of([&] {
    FILE* out = ::popen(command.c_str(), "r");
    if (out == nullptr) die("cannot run curl");
    char line[64];
    while (std::fgets(line, sizeof line, out) != nullptr) ok += std::string(line) == "200\n";
    if (::pclose(out) != 0) die("curl failed: " + command);
  });
  if (ok != transfers) die("curl: " + std::to_string(transfers - ok) + " transfers not 200");
  return seconds;
}

std::unique_ptr<grove::storage::s3_object_store> open_s3(
    const settings& s, grove::storage::s3_compression codec,
    std::size_t multipart_threshold = std::size_t{8} << 20) {
  grove::storage::s3_object_store_options options;
  options.endpoint = s.endpoint;
  options.bucket = s.bucket;
  options.addressing = grove::storage::s3_addressing::path_style;
  options.credentials.access_key_id = s3_key;
  options.credentials.secret_access_key = s3_key;
  options.compression = codec;
  options.multipart_threshold = multipart_threshold;
  options.rate = {1e9, 1e9, 1e9, nullptr};  // measure the store, not the limiter
  return check(grove::storage::s3_object_store::open(options), "open s3");
}

// A compressible object: JSON lines like an event trace.
std::string trace_like(std::size_t size) {
  std::mt19937 rng(7);
  std::string out;
  const char* kinds[] = {"node_enter", "node_exit", "llm_request", "llm_response", "retrieve"};
  for (std::size_t i = 0; out.size() < size; ++i) {
    out += "{\"seq\":" + std::to_string(i) + ",\"kind\":\"" + kinds[rng() % 5] +
           "\",\"agent\":\"hrm\",\"elapsed_us\":" + std::to_string(rng() % 100000) +
           ",\"tokens\":" + std::to_string(rng() % 4000) + "}\n";
  }
  out.resize(size);
  return out;
}

int run_s3(const settings& s) {
  if (s.endpoint.empty() || s.bucket.empty()) die("s3 needs --endpoint and --bucket");
  const scratch_dir scratch(s.dir);
  auto store = open_s3(s, grove::storage::s3_compression::identity);
  const object_size sizes[] = {
      {"4 KiB", 4096, 200}, {"1 MiB", 1 << 20, 20}, {"32 MiB (multipart)", 32 << 20, 3}};
  std::printf("s3_object_store (compression off) vs curl --aws-sigv4, %zu rounds, %s\n\n", s.rounds,
              s.endpoint.c_str());
  print_header("curl");
  for (const object_size& size : sizes) {
    const std::string data = random_bytes(size.bytes, size.bytes);
    const fs::path file = scratch.path() / ("object-" + std::to_string(size.bytes));
    {
      std::ofstream out(file, std::ios::binary);
      out << data;
    }
    const std::string hash = grove::storage::sigv4::sha256_hex(std::string_view(data));
    const std::string base_url =
        s.endpoint + "/" + s.bucket + "/curl/" + std::to_string(size.bytes);
    const fs::path put_config = scratch.path() / "put.cfg";
    const fs::path get_config = scratch.path() / "get.cfg";
    {
      std::ofstream put(put_config);
      std::ofstream get(get_config);
      for (std::size_t i = 0; i < size.count; ++i) {
        put << "upload-file = \"" << file.string() << "\"\nurl = \"" << base_url << "/" << i
            << "\"\noutput = \"/dev/null\"\n";
        get << "url = \"" << base_url << "/" << i << "\"\noutput = \"/dev/null\"\n";
      }
    }
    std::vector<double> base_put, store_put, base_get, store_get;
    const std::size_t multipart_before = store->stats().multipart_uploads;
    for (std::size_t round = 0; round < s.rounds; ++round) {
      base_put.push_back(run_curl(put_config, hash, size.count));
      store_put.push_back(seconds_of([&] {
        for (std::size_t i = 0; i < size.count; ++i) {
          check(store->put("store/" + std::to_string(size.bytes) + "/" + std::to_string(i), data),
                "put");
        }
      }));
      base_get.push_back(run_curl(get_config, empty_sha256, size.count));
      store_get.push_back(seconds_of([&] {
        for (std::size_t i = 0; i < size.count; ++i) {
          auto got = check(
              store->get("store/" + std::to_string(size.bytes) + "/" + std::to_string(i)), "get");
          if (got.data.size() != size.bytes) die("short get");
        }
      }));
    }
    print_row(size, "put", median_rate(store_put, size.count, size.bytes),
              median_rate(base_put, size.count, size.bytes));
    print_row(size, "get", median_rate(store_get, size.count, size.bytes),
              median_rate(base_get, size.count, size.bytes));
    if (size.bytes > (8u << 20)) {
      // The same objects in one PUT each (threshold above their size), to
      // separate multipart's cost from the store's.
      auto single = open_s3(s, grove::storage::s3_compression::identity, std::size_t{64} << 20);
      std::vector<double> single_put;
      for (std::size_t round = 0; round < s.rounds; ++round) {
        single_put.push_back(seconds_of([&] {
          for (std::size_t i = 0; i < size.count; ++i) {
            check(single->put("single/" + std::to_string(i), data), "put");
          }
        }));
      }
      const object_size single_size{"32 MiB (one PUT)", size.bytes, size.count};
      print_row(single_size, "put", median_rate(single_put, size.count, size.bytes),
                median_rate(base_put, size.count, size.bytes));
      if (single->stats().multipart_uploads != 0) die("one-PUT objects went multipart");
    }
    if (size.bytes > (8u << 20) &&
        store->stats().multipart_uploads - multipart_before != s.rounds * size.count) {
      die("the large objects were not uploaded as multipart");
    }
  }

  // Compression: 1 MiB, compressible and random, through each codec.
  std::printf("\ncompression, 1 MiB objects x 10, median of %zu rounds\n\n", s.rounds);
  std::printf("| content | codec | stored bytes | put MB/s | get MB/s | put vs identity |\n");
  std::printf("| --- | --- | --- | --- | --- | --- |\n");
  const std::pair<const char*, std::string> contents[] = {{"JSON lines", trace_like(1 << 20)},
                                                          {"random", random_bytes(1 << 20, 99)}};
  const std::pair<const char*, grove::storage::s3_compression> codecs[] = {
      {"identity", grove::storage::s3_compression::identity},
      {"gzip (default)", grove::storage::s3_compression::gzip},
      {"zstd", grove::storage::s3_compression::zstd}};
  constexpr std::size_t count = 10;
  for (const auto& [content_name, content] : contents) {
    double identity_put = 0;
    for (const auto& [codec_name, codec] : codecs) {
      auto codec_store = open_s3(s, codec);
      const std::string prefix = std::string("comp/") + codec_name[0] + "/" + content_name[0] + "/";
      std::vector<double> puts, gets;
      for (std::size_t round = 0; round < s.rounds; ++round) {
        puts.push_back(seconds_of([&] {
          for (std::size_t i = 0; i < count; ++i) {
            check(codec_store->put(prefix + std::to_string(i), content), "put");
          }
        }));
        gets.push_back(seconds_of([&] {
          for (std::size_t i = 0; i < count; ++i) {
            if (check(codec_store->get(prefix + std::to_string(i)), "get").data != content) {
              die("compressed round trip differs");
            }
          }
        }));
      }
      const auto listed = check(
          codec_store->list({.prefix = prefix + "0", .max_keys = 1, .continuation_token = ""}),
          "list");
      const rate put = median_rate(puts, count, content.size());
      const rate get = median_rate(gets, count, content.size());
      if (codec == grove::storage::s3_compression::identity) identity_put = put.seconds;
      std::printf("| %s | %s | %llu | %.1f | %.1f | %.2f |\n", content_name, codec_name,
                  static_cast<unsigned long long>(listed.objects.at(0).size), put.mb_s(),
                  get.mb_s(), identity_put / put.seconds);
      std::fflush(stdout);
    }
  }
  return 0;
}

// --- Vectors and ingestion ---

constexpr std::size_t dim = 384;

void normalise_into(const std::vector<float>& v, std::vector<float>& out) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  const auto norm = static_cast<float>(std::sqrt(sum));
  for (float x : v) out.push_back(x / norm);
}

// English-looking text from a fixed vocabulary: sentences of 6-20 words,
// paragraphs of 2-6 sentences.
std::string generated_text(std::mt19937& rng, std::size_t bytes) {
  static const std::vector<std::string> vocabulary = [] {
    const char* syllables[] = {"ka",  "lo", "mi",  "ren", "tu",  "sa", "vel", "dor", "ix", "an",
                               "pre", "to", "ser", "qua", "lin", "mo", "ta",  "gre", "nu", "bis"};
    std::mt19937 words(3);
    std::vector<std::string> out;
    for (int i = 0; i < 3000; ++i) {
      std::string word;
      for (unsigned n = 1 + words() % 3; n > 0; --n) word += syllables[words() % 20];
      out.push_back(word);
    }
    return out;
  }();
  std::string out;
  while (out.size() < bytes) {
    for (unsigned sentences = 2 + rng() % 5; sentences > 0; --sentences) {
      for (unsigned words = 6 + rng() % 15; words > 0; --words) {
        out += vocabulary[rng() % vocabulary.size()];
        out += words == 1 ? ". " : " ";
      }
    }
    out += "\n\n";
  }
  return out;
}

int run_vectors(const settings& s) {
  // 1. HNSW upsert vs appending to flat arrays.
  std::mt19937 rng(42);
  std::normal_distribution<float> normal;
  std::vector<grove::storage::vector_record> records(s.vectors);
  for (std::size_t i = 0; i < s.vectors; ++i) {
    std::vector<float> v(dim);
    for (float& x : v) x = normal(rng);
    records[i] = {std::to_string(i), std::move(v), nullptr};
  }
  std::vector<double> flat_runs;
  for (int run = 0; run < 5; ++run) {
    std::vector<std::string> ids;
    std::vector<float> flat;
    flat_runs.push_back(seconds_of([&] {
      for (const auto& record : records) {
        ids.push_back(record.id);
        normalise_into(record.values, flat);
      }
    }));
    if (flat.size() != s.vectors * dim) die("flat append lost vectors");
  }
  const double flat_s = median(flat_runs);

  grove::storage::hnsw_vector_store_options options;
  options.dimension = dim;
  auto store = check(grove::storage::hnsw_vector_store::open(options), "open hnsw");
  constexpr std::size_t batch = 1000;
  std::vector<double> batches;
  const double hnsw_s = seconds_of([&] {
    for (std::size_t first = 0; first < s.vectors; first += batch) {
      const std::size_t n = std::min(batch, s.vectors - first);
      batches.push_back(seconds_of([&] {
        check(store->upsert({records.data() + first, n}), "upsert");
      }));
    }
  });
  if (check(store->stats(), "stats").total_vectors != s.vectors) die("upsert lost vectors");
  std::printf(
      "HNSW upsert, %zu random vectors x %zu, defaults (M %zu, ef_construction %zu, "
      "%zu insert thread), batches of %zu\n\n",
      s.vectors, dim, options.m, options.ef_construction, options.insert_threads, batch);
  std::printf("| insert | seconds | vectors/s | first batch vectors/s | last batch vectors/s |\n");
  std::printf("| --- | --- | --- | --- | --- |\n");
  const auto n = static_cast<double>(s.vectors);
  std::printf("| hnsw_vector_store::upsert | %.2f | %.0f | %.0f | %.0f |\n", hnsw_s, n / hnsw_s,
              static_cast<double>(std::min(batch, s.vectors)) / batches.front(),
              static_cast<double>(s.vectors - (batches.size() - 1) * batch) / batches.back());
  std::printf("| flat array append (baseline, median of 5) | %.4f | %.0f | | |\n", flat_s,
              n / flat_s);
  std::printf("\nHNSW / flat: %.5f (flat is %.0fx faster)\n\n", flat_s / hnsw_s, hnsw_s / flat_s);
  std::fflush(stdout);
  store.reset();
  records.clear();

  // 2. The indexer vs the embedder alone.
  const scratch_dir scratch(s.dir);
  const fs::path docs = scratch.path() / "docs";
  fs::create_directories(docs / "sub");
  std::mt19937 text_rng(11);
  std::size_t input_bytes = 0;
  for (std::size_t i = 0; i < s.files; ++i) {
    const std::string text = generated_text(text_rng, 4000 + text_rng() % 16000);
    input_bytes += text.size();
    std::ofstream(docs / (i % 3 == 0 ? "sub" : ".") / ("f" + std::to_string(i) + ".md"),
                  std::ios::binary)
        << text;
  }

  grove::llm::hashing_options embed_options;
  embed_options.dimension = dim;
  const grove::llm::hashing_embedder embedder(embed_options);
  const grove::storage::embed_function embed =
      [&](std::span<const std::string> texts) -> grove::result<std::vector<std::vector<float>>> {
    std::vector<std::vector<float>> vectors;
    for (const std::string& text : texts) vectors.push_back(embedder.embed(text));
    return vectors;
  };
  grove::storage::index_options index_options;  // grove-index's defaults: 1000 / 150
  index_options.sources_file = scratch.path() / "index" / "grove-index-sources.json";

  // Baseline: read and chunk the files (timed apart), then embed every chunk.
  std::vector<std::string> chunks;
  const double chunk_s = seconds_of([&] {
    for (const auto& entry : fs::recursive_directory_iterator(docs)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string text((std::istreambuf_iterator<char>(in)), {});
      for (auto& c : check(grove::storage::chunk_text(text, index_options.chunking), "chunk")) {
        chunks.push_back(std::move(c.text));
      }
    }
  });
  std::vector<double> embed_runs;
  for (int run = 0; run < 3; ++run) {
    embed_runs.push_back(seconds_of([&] {
      for (std::size_t first = 0; first < chunks.size(); first += index_options.embed_batch) {
        const std::size_t count = std::min(index_options.embed_batch, chunks.size() - first);
        if (check(embed({chunks.data() + first, count}), "embed").size() != count) die("embed");
      }
    }));
  }
  const double embed_s = median(embed_runs);

  grove::storage::hnsw_vector_store_options index_store;
  index_store.directory = scratch.path() / "index";
  index_store.dimension = dim;
  auto indexed = check(grove::storage::hnsw_vector_store::open(index_store), "open index");
  grove::storage::index_report report;
  const double index_s = seconds_of([&] {
    report = check(grove::storage::index_directory(docs, *indexed, embed, index_options), "index");
  });
  grove::storage::index_report again;
  const double reindex_s = seconds_of([&] {
    again = check(grove::storage::index_directory(docs, *indexed, embed, index_options), "reindex");
  });
  if (report.chunks_written != chunks.size() || again.files_unchanged != s.files) {
    die("the indexer did not write every chunk once");
  }

  const auto mb = static_cast<double>(input_bytes) / 1e6;
  const auto chunk_count = static_cast<double>(chunks.size());
  std::printf(
      "indexing %zu generated .md files, %.2f MB, %zu chunks (1000 / 150), dimension %zu\n\n",
      s.files, mb, chunks.size(), dim);
  std::printf("| step | seconds | chunks/s | MB/s |\n| --- | --- | --- | --- |\n");
  std::printf("| index_directory (HNSW store, fsync, defaults) | %.2f | %.0f | %.2f |\n", index_s,
              chunk_count / index_s, mb / index_s);
  std::printf("| read + chunk only | %.3f | %.0f | %.2f |\n", chunk_s, chunk_count / chunk_s,
              mb / chunk_s);
  std::printf("| embedder alone (baseline, median of 3) | %.3f | %.0f | %.2f |\n", embed_s,
              chunk_count / embed_s, mb / embed_s);
  std::printf("| re-run, every file unchanged | %.3f | | %.2f |\n", reindex_s, mb / reindex_s);
  std::printf(
      "\nindexer / embedder alone: %.3f; share of the indexer's time: embedding %.1f%%, "
      "read + chunk %.1f%%, the rest (store: upsert, remove, fetch, flush) %.1f%%\n",
      embed_s / index_s, 100 * embed_s / index_s, 100 * chunk_s / index_s,
      100 * (index_s - embed_s - chunk_s) / index_s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const settings s = parse_args(argc, argv);
  if (s.mode == "fs") return run_fs(s);
  if (s.mode == "s3") return run_s3(s);
  if (s.mode == "vectors") return run_vectors(s);
  die("unknown mode " + s.mode + " (fs, s3 or vectors)");
}
