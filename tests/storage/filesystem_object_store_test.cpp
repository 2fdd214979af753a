#include "grove/storage/filesystem_object_store.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <random>
#include <thread>

#include "grove/storage/error.hpp"
#include "storage_test_util.hpp"

namespace fs = std::filesystem;
using grove::storage::errc;
using grove::storage::filesystem_object_store;
using grove::storage::object_metadata;

namespace {

std::unique_ptr<filesystem_object_store> open_store(const fs::path& root) {
  auto store = filesystem_object_store::open({.root = root, .fsync = false});
  REQUIRE(store);
  return std::move(*store);
}

// Content written by writer `id` in round `round`: its length varies so a mix
// of two writes would show in the size, and every byte names the writer.
std::string content_of(int id, int round) {
  return std::string(100 + static_cast<std::size_t>((id * 37 + round * 11) % 900),
                     static_cast<char>('A' + id));
}

object_metadata metadata_of(int id) {
  object_metadata m;
  m.content_type = "text/plain";
  m.user["writer"] = std::to_string(id);
  return m;
}

// True when the object read is exactly one writer's content and metadata.
bool consistent(const grove::storage::object& o) {
  if (o.data.empty()) return false;
  const int id = o.data.front() - 'A';
  bool same_bytes = o.data.find_first_not_of(o.data.front()) == std::string::npos;
  return same_bytes && o.info.metadata.user.at("writer") == std::to_string(id) &&
         o.info.size == o.data.size();
}

grove::storage::list_options list_with_prefix(std::string prefix) {
  grove::storage::list_options options;
  options.prefix = std::move(prefix);
  return options;
}

int count_temp_files(const fs::path& root) {
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    n += e.path().filename().string().starts_with(".grove-tmp");
  }
  return n;
}

}  // namespace

TEST_CASE("filesystem_object_store: put, get, head, remove", "[storage]") {
  grove::test::temp_dir dir;
  auto store = open_store(dir.path());

  std::string binary("a\0b\xff", 4);
  object_metadata meta;
  meta.content_type = "application/json";
  meta.user = {{"run-id", "42"}, {"agent", "hrm"}};
  auto put = store->put("runs/2026/result.json", binary, meta);
  REQUIRE(put);
  CHECK(put->size == 4);
  CHECK(put->etag.size() == 64);

  auto got = store->get("runs/2026/result.json");
  REQUIRE(got);
  CHECK(got->data == binary);
  CHECK(got->info.metadata.content_type == "application/json");
  CHECK(got->info.metadata.user == meta.user);
  CHECK(got->info.etag == put->etag);

  auto head = store->head("runs/2026/result.json");
  REQUIRE(head);
  CHECK(head->size == 4);

  SECTION("replacing changes the etag") {
    auto again = store->put("runs/2026/result.json", "other");
    REQUIRE(again);
    CHECK(again->etag != put->etag);
    CHECK(store->get("runs/2026/result.json")->info.metadata.user.empty());
  }
  SECTION("remove, then not_found; removing again succeeds") {
    REQUIRE(store->remove("runs/2026/result.json"));
    auto missing = store->get("runs/2026/result.json");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == errc::not_found);
    CHECK(store->head("runs/2026/result.json").error().code == errc::not_found);
    CHECK(store->remove("runs/2026/result.json"));
  }
  SECTION("a key that is a directory is not an object") {
    CHECK(store->get("runs/2026").error().code == errc::not_found);
    auto clash = store->put("runs/2026", "x");
    REQUIRE_FALSE(clash);
    CHECK(clash.error().code == errc::io_error);
    auto under_object = store->put("runs/2026/result.json/child", "x");
    REQUIRE_FALSE(under_object);
    CHECK(under_object.error().code == errc::io_error);
  }
  CHECK(count_temp_files(dir.path()) == 0);
}

TEST_CASE("filesystem_object_store: keys are validated with a clear error", "[storage]") {
  grove::test::temp_dir dir;
  auto store = open_store(dir.path());
  for (std::string key : std::vector<std::string>{
           "", "/abs", "a/", "a//b", "../escape", "a/../../b", "a/./b", "a\\b",
           std::string("nul\0x", 5), ".grove-lock", "x/.grove-meta.y", std::string(1025, 'k')}) {
    auto put = store->put(key, "data");
    REQUIRE_FALSE(put);
    CHECK(put.error().code == errc::invalid_key);
    CHECK(put.error().message.find("invalid object key") != std::string::npos);
    CHECK(store->get(key).error().code == errc::invalid_key);
    CHECK(store->remove(key).error().code == errc::invalid_key);
  }
  CHECK_FALSE(fs::exists(dir.path().parent_path() / "escape"));
  CHECK(store->put("ok/..dots../x.y", "fine"));

  object_metadata bad;
  bad.user = {{"Upper", "v"}, {"fine", "tab\there"}};
  auto put = store->put("k", "v", bad);
  REQUIRE_FALSE(put);
  CHECK(put.error().code == errc::invalid_argument);
  CHECK(put.error().message.find("Upper") != std::string::npos);
  CHECK(put.error().message.find("printable") != std::string::npos);
}

TEST_CASE("filesystem_object_store: streamed put_file and get_to_file", "[storage]") {
  grove::test::temp_dir dir;
  auto store = open_store(dir.path() / "store");
  const fs::path source = dir.path() / "source.bin";
  std::string content(3 * 1024 * 1024 + 17, '\0');
  std::mt19937 rng(7);
  for (char& c : content) c = static_cast<char>(rng());
  {
    std::ofstream out(source, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }

  auto put = store->put_file("big/blob.bin", source);
  REQUIRE(put);
  CHECK(put->size == content.size());
  const fs::path copy = dir.path() / "copy.bin";
  auto got = store->get_to_file("big/blob.bin", copy);
  REQUIRE(got);
  CHECK(got->etag == put->etag);
  std::ifstream in(copy, std::ios::binary);
  std::string read((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(read == content);

  CHECK(store->put_file("k", dir.path() / "missing").error().code == errc::not_found);
  CHECK(store->get_to_file("missing", copy).error().code == errc::not_found);
  CHECK(fs::file_size(copy) == content.size());  // untouched by the failed get
}

TEST_CASE("filesystem_object_store: get reads every size whole, around its buffer sizes",
          "[storage]") {
  // get() reads straight into a string sized from the metadata (plus the
  // byte that detects the end); objects placed by hand have no metadata and
  // take the size from the file. Cover empty, the 4 KiB minimum, the old
  // 64 KiB read buffer, and sizes one off each.
  grove::test::temp_dir dir;
  auto store = open_store(dir.path());
  std::mt19937 rng(11);
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{4095}, std::size_t{4096}, std::size_t{4097},
        std::size_t{65535}, std::size_t{65536}, std::size_t{65537}, std::size_t{(1u << 20) + 3}}) {
    CAPTURE(size);
    std::string content(size, '\0');
    for (char& c : content) c = static_cast<char>(rng());
    REQUIRE(store->put("sizes/" + std::to_string(size), content));
    auto got = store->get("sizes/" + std::to_string(size));
    REQUIRE(got);
    CHECK(got->data.size() == size);
    CHECK(got->data == content);
    CHECK(got->info.size == size);

    {
      std::ofstream out(dir.path() / ("by-hand-" + std::to_string(size)), std::ios::binary);
      out.write(content.data(), static_cast<std::streamsize>(content.size()));
    }
    auto by_hand = store->get("by-hand-" + std::to_string(size));
    REQUIRE(by_hand);
    CHECK(by_hand->data == content);
  }
}

TEST_CASE("filesystem_object_store: list with prefix and pagination", "[storage]") {
  grove::test::temp_dir dir;
  auto store = open_store(dir.path());
  for (int i = 0; i < 25; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "logs/%02d.txt", i);
    REQUIRE(store->put(key, std::to_string(i)));
  }
  REQUIRE(store->put("logsX", "not under logs/"));
  REQUIRE(store->put("other/a", "a"));

  std::vector<std::string> seen;
  grove::storage::list_options options;
  options.prefix = "logs/";
  options.max_keys = 10;
  int pages = 0;
  do {
    auto page = store->list(options);
    REQUIRE(page);
    ++pages;
    for (const auto& o : page->objects) seen.push_back(o.key);
    options.continuation_token = page->next_token;
  } while (!options.continuation_token.empty());
  CHECK(pages == 3);
  REQUIRE(seen.size() == 25);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(seen.front() == "logs/00.txt");

  auto all = store->list(list_with_prefix("logs"));
  REQUIRE(all);
  CHECK(all->objects.size() == 26);
  CHECK(all->next_token.empty());
  CHECK(store->list(list_with_prefix("nothing/"))->objects.empty());
  options = {};
  options.max_keys = 0;
  CHECK(store->list(options).error().code == errc::invalid_argument);
}

TEST_CASE("filesystem_object_store: corrupt metadata is reported, not served", "[storage]") {
  grove::test::temp_dir dir;
  auto store = open_store(dir.path());
  REQUIRE(store->put("a/b", "content"));
  { std::ofstream(dir.path() / "a" / ".grove-meta.b") << "{\"size\": 7"; }
  auto got = store->get("a/b");
  REQUIRE_FALSE(got);
  CHECK(got.error().code == errc::corrupt_data);
  CHECK(got.error().context.find(".grove-meta.b") != std::string::npos);

  // Content changed behind the store's back: the size check catches it.
  REQUIRE(store->put("a/c", "content"));
  { std::ofstream(dir.path() / "a" / "c") << "longer content"; }
  CHECK(store->get("a/c").error().code == errc::corrupt_data);
}

// Property: with several threads writing the same key and a reader polling it,
// every read returns one writer's content together with that writer's
// metadata (never content of one and metadata of another, never a torn
// size). Evidence: each object read is checked with consistent().
TEST_CASE("filesystem_object_store: concurrent writer threads never mix", "[storage]") {
  grove::test::temp_dir dir;
  auto store = open_store(dir.path());
  REQUIRE(store->put("shared", content_of(0, 0), metadata_of(0)));

  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int id = 0; id < 4; ++id) {
    writers.emplace_back([&, id] {
      for (int round = 0; round < 60; ++round) {
        if (!store->put("shared", content_of(id, round), metadata_of(id))) ++failures;
      }
    });
  }
  int reads = 0;
  std::thread reader([&] {
    while (!done) {
      auto o = store->get("shared");
      if (!o || !consistent(*o)) ++failures;
      ++reads;
    }
  });
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  CHECK(failures == 0);
  CHECK(reads > 0);
  CHECK(count_temp_files(dir.path()) == 0);
}

// Property: the same as above across processes sharing the directory (the
// flock on .grove-lock is what excludes them). Two forked children write; the
// parent reads and checks every object; children report failures by exit code.
TEST_CASE("filesystem_object_store: concurrent writer processes never mix", "[storage]") {
  grove::test::temp_dir dir;
  {
    auto store = open_store(dir.path());
    REQUIRE(store->put("shared", content_of(0, 0), metadata_of(0)));
  }
  std::vector<pid_t> children;
  for (int id = 1; id <= 2; ++id) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int status = 0;
      auto store = filesystem_object_store::open({.root = dir.path(), .fsync = false});
      for (int round = 0; store && round < 80; ++round) {
        if (!(*store)->put("shared", content_of(id, round), metadata_of(id))) status = 1;
      }
      ::_exit(store ? status : 2);
    }
    children.push_back(pid);
  }

  auto store = open_store(dir.path());
  int failures = 0;
  int running = static_cast<int>(children.size());
  while (running > 0) {
    auto o = store->get("shared");
    if (!o || !consistent(*o)) ++failures;
    for (pid_t& pid : children) {
      int status = 0;
      if (pid > 0 && ::waitpid(pid, &status, WNOHANG) == pid) {
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
        pid = -1;
        --running;
      }
    }
  }
  CHECK(failures == 0);
  auto final_object = store->get("shared");
  REQUIRE(final_object);
  CHECK(consistent(*final_object));
}
