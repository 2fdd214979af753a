#include "grove/storage/filesystem_object_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "grove/storage/error.hpp"
#include "grove/storage/sigv4.hpp"

namespace grove::storage {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t chunk_bytes = 64 * 1024;
constexpr std::string_view meta_prefix = ".grove-meta.";
constexpr std::string_view lock_name = ".grove-lock";

grove::unexpected io_failure(const std::string& what, const fs::path& path, int err = errno) {
  return fail(errc::io_error, what + ": " + std::strerror(err), path.string());
}

// A file descriptor closed on scope exit.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~unique_fd() { reset(); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// flock() on a descriptor opened for this lock only: flock locks belong to
// the open file description, so sharing one descriptor between threads would
// let them all in at once.
class store_lock {
 public:
  static result<store_lock> acquire(const fs::path& root, bool exclusive) {
    fs::path path = root / lock_name;
    unique_fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) return io_failure("cannot open the store lock file", path);
    int rc;
    do {
      rc = ::flock(fd.get(), exclusive ? LOCK_EX : LOCK_SH);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return io_failure("cannot lock the store", path);
    store_lock lock;
    lock.fd_ = std::move(fd);
    return lock;
  }

 private:
  unique_fd fd_;  // closing it releases the lock
};

fs::path meta_path_of(const fs::path& object_path) {
  return object_path.parent_path() / (std::string(meta_prefix) + object_path.filename().string());
}

result<void> write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_failure("write failed", path);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// Reads up to `size` bytes; returns the count (0 at end of file) or -1.
ssize_t read_some(int fd, char* buffer, std::size_t size) {
  ssize_t n;
  do {
    n = ::read(fd, buffer, size);
  } while (n < 0 && errno == EINTR);
  return n;
}

result<void> sync_dir(const fs::path& dir) {
  unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0) return io_failure("cannot fsync directory", dir);
  return {};
}

// A temporary file in a directory, unlinked on scope exit unless committed by
// renaming it into place.
class temp_file {
 public:
  static result<temp_file> create(const fs::path& dir) {
    std::string pattern = (dir / ".grove-tmp-XXXXXX").string();
    int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd < 0) return io_failure("cannot create a temporary file", dir);
    temp_file tmp;
    tmp.fd_.reset(fd);
    tmp.path_ = pattern;
    return tmp;
  }
  temp_file() = default;
  temp_file(temp_file&& other) noexcept
      : fd_(std::move(other.fd_)), path_(std::exchange(other.path_, {})) {}
  temp_file& operator=(temp_file&&) = delete;
  ~temp_file() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  int fd() const { return fd_.get(); }
  const fs::path& path() const { return path_; }

  result<void> finish(bool do_fsync) {
    if (do_fsync && ::fsync(fd_.get()) != 0) return io_failure("fsync failed", path_);
    if (::fchmod(fd_.get(), 0644) != 0) return io_failure("chmod failed", path_);
    fd_.reset();
    return {};
  }
  result<void> rename_to(const fs::path& target) {
    if (::rename(path_.c_str(), target.c_str()) != 0) {
      return io_failure("cannot rename " + path_.string() + " to", target);
    }
    path_.clear();
    return {};
  }

 private:
  unique_fd fd_;
  fs::path path_;
};

std::int64_t to_millis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string encode_meta(const object_info& info) {
  nlohmann::json j = {{"format", 1},
                      {"size", info.size},
                      {"sha256", info.etag},
                      {"mtime_ms", to_millis(info.last_modified)},
                      {"content_type", info.metadata.content_type},
                      {"user", info.metadata.user}};
  // User metadata may hold invalid UTF-8; store U+FFFD for such bytes.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

result<object_info> decode_meta(std::string_view key, const std::string& text,
                                const fs::path& path) {
  object_info info;
  info.key = std::string(key);
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    info.size = j.at("size").get<std::uint64_t>();
    info.etag = j.at("sha256").get<std::string>();
    info.last_modified = std::chrono::system_clock::time_point(
        std::chrono::milliseconds(j.at("mtime_ms").get<std::int64_t>()));
    info.metadata.content_type = j.at("content_type").get<std::string>();
    info.metadata.user = j.at("user").get<std::map<std::string, std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return fail(errc::corrupt_data, std::string("object metadata does not parse: ") + e.what(),
                path.string());
  }
  return info;
}

// Reads `fd` to its end straight into the returned string. `expected` is the
// size the caller knows (0: unknown); the string starts one byte larger, so a
// file of that size takes one read plus the read that sees its end, with no
// copy. A file longer than expected is still read whole (the string doubles).
result<std::string> read_fd(int fd, const fs::path& path, std::size_t expected = 0) {
  std::string out(std::max<std::size_t>(expected + 1, 4096), '\0');
  std::size_t used = 0;
  for (;;) {
    if (used == out.size()) out.resize(out.size() * 2);
    ssize_t n = read_some(fd, out.data() + used, out.size() - used);
    if (n < 0) return io_failure("read failed", path);
    if (n == 0) {
      out.resize(used);
      return out;
    }
    used += static_cast<std::size_t>(n);
  }
}

// Descriptors of an object's content and metadata, opened together under the
// shared lock so they belong to the same write.
struct open_object {
  unique_fd content;
  unique_fd meta;  // may be empty: an object placed without metadata
  object_info info;
};

}  // namespace

// ---------------------------------------------------------------------------

result<void> filesystem_object_store_options::validate() const {
  if (root.empty()) {
    return fail(errc::invalid_argument, "filesystem_object_store_options.root is empty",
                "filesystem_object_store_options.root");
  }
  return {};
}

result<std::unique_ptr<filesystem_object_store>> filesystem_object_store::open(
    filesystem_object_store_options options) {
  if (auto ok = options.validate(); !ok) return fail(ok.error());
  std::error_code ec;
  fs::create_directories(options.root, ec);
  if (ec) {
    return fail(errc::io_error, "cannot create the store root: " + ec.message(),
                options.root.string());
  }
  if (!fs::is_directory(options.root)) {
    return fail(errc::io_error, "the store root is not a directory", options.root.string());
  }
  options.root = fs::absolute(options.root);
  if (auto lock = store_lock::acquire(options.root, false); !lock) return fail(lock.error());
  return std::unique_ptr<filesystem_object_store>(new filesystem_object_store(std::move(options)));
}

filesystem_object_store::filesystem_object_store(filesystem_object_store_options options)
    : options_(std::move(options)) {}

namespace {

// Writes an object: `fill(fd, hasher)` writes the content into the temporary
// file and returns its size; metadata follows; both are renamed under the
// exclusive lock.
template <class Fill>
result<object_info> write_object(const filesystem_object_store_options& options,
                                 std::string_view key, const object_metadata& metadata,
                                 Fill&& fill) {
  if (auto ok = validate_key(key); !ok) return fail(ok.error());
  if (auto ok = validate_metadata(metadata); !ok) return fail(ok.error());
  const fs::path target = options.root / fs::path(std::string(key));
  const fs::path dir = target.parent_path();

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    return fail(errc::io_error,
                "cannot create the directory for the key (does an object already use a prefix "
                "of this key as its name?)" +
                    (ec ? ": " + ec.message() : std::string()),
                dir.string());
  }
  if (fs::is_directory(target)) {
    return fail(errc::io_error, "the key is a prefix of other keys (a directory exists there)",
                target.string());
  }

  // 1. Content into a temporary file, hashed on the way.
  auto content = temp_file::create(dir);
  if (!content) return fail(content.error());
  sigv4::sha256 hasher;
  auto size = fill(content->fd(), content->path(), hasher);
  if (!size) return fail(size.error());
  if (auto ok = content->finish(options.fsync); !ok) return fail(ok.error());

  // 2. Metadata into a second temporary file.
  object_info info;
  info.key = std::string(key);
  info.size = *size;
  info.etag = hasher.hex_digest();
  info.last_modified = std::chrono::system_clock::now();
  info.metadata = metadata;
  auto meta = temp_file::create(dir);
  if (!meta) return fail(meta.error());
  if (auto ok = write_all(meta->fd(), encode_meta(info), meta->path()); !ok) {
    return fail(ok.error());
  }
  if (auto ok = meta->finish(options.fsync); !ok) return fail(ok.error());

  // 3. Both renames under the exclusive lock, so readers see both or neither.
  {
    auto lock = store_lock::acquire(options.root, /*exclusive=*/true);
    if (!lock) return fail(lock.error());
    if (auto ok = content->rename_to(target); !ok) return fail(ok.error());
    if (auto ok = meta->rename_to(meta_path_of(target)); !ok) return fail(ok.error());
  }
  if (options.fsync) {
    if (auto ok = sync_dir(dir); !ok) return fail(ok.error());
  }
  return info;
}

result<open_object> open_for_read(const filesystem_object_store_options& options,
                                  std::string_view key) {
  if (auto ok = validate_key(key); !ok) return fail(ok.error());
  const fs::path target = options.root / fs::path(std::string(key));
  open_object out;
  {
    auto lock = store_lock::acquire(options.root, /*exclusive=*/false);
    if (!lock) return fail(lock.error());
    out.content.reset(::open(target.c_str(), O_RDONLY | O_CLOEXEC));
    if (!out.content) {
      if (errno == ENOENT || errno == ENOTDIR) {
        return fail(errc::not_found, "no object with this key", std::string(key));
      }
      return io_failure("cannot open object", target);
    }
    out.meta.reset(::open(meta_path_of(target).c_str(), O_RDONLY | O_CLOEXEC));
  }

  struct stat st {};
  if (::fstat(out.content.get(), &st) != 0) return io_failure("cannot stat object", target);
  if (S_ISDIR(st.st_mode))
    return fail(errc::not_found, "no object with this key", std::string(key));
  if (!out.meta) {
    // Content placed in the tree by hand: serve it with default metadata.
    out.info.key = std::string(key);
    out.info.size = static_cast<std::uint64_t>(st.st_size);
    out.info.last_modified = std::chrono::system_clock::from_time_t(st.st_mtime);
    return out;
  }
  auto text = read_fd(out.meta.get(), meta_path_of(target));
  if (!text) return fail(text.error());
  auto info = decode_meta(key, *text, meta_path_of(target));
  if (!info) return fail(info.error());
  if (info->size != static_cast<std::uint64_t>(st.st_size)) {
    return fail(errc::corrupt_data,
                "object size " + std::to_string(st.st_size) + " differs from its metadata (" +
                    std::to_string(info->size) + ")",
                target.string());
  }
  out.info = std::move(*info);
  return out;
}

}  // namespace

result<object_info> filesystem_object_store::put(std::string_view key, std::string_view data,
                                                 const object_metadata& metadata) {
  return write_object(
      options_, key, metadata,
      [&](int fd, const fs::path& path, sigv4::sha256& hasher) -> result<std::uint64_t> {
        hasher.update(data);
        if (auto ok = write_all(fd, data, path); !ok) return fail(ok.error());
        return static_cast<std::uint64_t>(data.size());
      });
}

result<object_info> filesystem_object_store::put_file(std::string_view key, const fs::path& file,
                                                      const object_metadata& metadata) {
  unique_fd source(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!source) {
    if (errno == ENOENT) return fail(errc::not_found, "source file does not exist", file.string());
    return io_failure("cannot open source file", file);
  }
  return write_object(
      options_, key, metadata,
      [&](int fd, const fs::path& path, sigv4::sha256& hasher) -> result<std::uint64_t> {
        std::uint64_t total = 0;
        char buffer[chunk_bytes];
        for (;;) {
          ssize_t n = read_some(source.get(), buffer, sizeof buffer);
          if (n < 0) return io_failure("read failed", file);
          if (n == 0) return total;
          std::string_view chunk(buffer, static_cast<std::size_t>(n));
          hasher.update(chunk);
          if (auto ok = write_all(fd, chunk, path); !ok) return fail(ok.error());
          total += chunk.size();
        }
      });
}

result<object> filesystem_object_store::get(std::string_view key) {
  auto opened = open_for_read(options_, key);
  if (!opened) return fail(opened.error());
  auto data = read_fd(opened->content.get(), options_.root / std::string(key),
                      static_cast<std::size_t>(opened->info.size));
  if (!data) return fail(data.error());
  if (data->size() != opened->info.size) {
    return fail(errc::corrupt_data, "object changed size while being read", std::string(key));
  }
  return object{std::move(opened->info), std::move(*data)};
}

result<object_info> filesystem_object_store::get_to_file(std::string_view key,
                                                         const fs::path& file) {
  auto opened = open_for_read(options_, key);
  if (!opened) return fail(opened.error());
  fs::path dir = fs::absolute(file).parent_path();
  auto tmp = temp_file::create(dir);
  if (!tmp) return fail(tmp.error());

  std::uint64_t total = 0;
  char buffer[chunk_bytes];
  for (;;) {
    ssize_t n = read_some(opened->content.get(), buffer, sizeof buffer);
    if (n < 0) return io_failure("read failed", options_.root / std::string(key));
    if (n == 0) break;
    std::string_view chunk(buffer, static_cast<std::size_t>(n));
    if (auto ok = write_all(tmp->fd(), chunk, tmp->path()); !ok) return fail(ok.error());
    total += chunk.size();
  }
  if (total != opened->info.size) {
    return fail(errc::corrupt_data, "object changed size while being read", std::string(key));
  }
  if (auto ok = tmp->finish(options_.fsync); !ok) return fail(ok.error());
  if (auto ok = tmp->rename_to(file); !ok) return fail(ok.error());
  return std::move(opened->info);
}

result<object_info> filesystem_object_store::head(std::string_view key) {
  auto opened = open_for_read(options_, key);
  if (!opened) return fail(opened.error());
  return std::move(opened->info);
}

result<void> filesystem_object_store::remove(std::string_view key) {
  if (auto ok = validate_key(key); !ok) return fail(ok.error());
  const fs::path target = options_.root / fs::path(std::string(key));
  auto lock = store_lock::acquire(options_.root, /*exclusive=*/true);
  if (!lock) return fail(lock.error());
  if (fs::is_directory(target)) return {};
  if (::unlink(target.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR) {
    return io_failure("cannot delete object", target);
  }
  if (::unlink(meta_path_of(target).c_str()) != 0 && errno != ENOENT && errno != ENOTDIR) {
    return io_failure("cannot delete object metadata", meta_path_of(target));
  }
  return {};
}

result<list_page> filesystem_object_store::list(const list_options& options) {
  if (options.max_keys < 1 || options.max_keys > 1000) {
    return fail(errc::invalid_argument,
                "list max_keys must be 1-1000, got " + std::to_string(options.max_keys),
                "list_options.max_keys");
  }

  // 1. Start the walk at the deepest directory the prefix names.
  fs::path start = options_.root;
  if (auto slash = options.prefix.rfind('/'); slash != std::string::npos) {
    std::string dir_part = options.prefix.substr(0, slash);
    if (validate_key(dir_part)) start = options_.root / dir_part;
  }
  std::vector<std::string> keys;
  std::error_code ec;
  if (fs::is_directory(start, ec)) {
    fs::recursive_directory_iterator it(start, ec), end;
    if (ec) return fail(errc::io_error, "cannot list: " + ec.message(), start.string());
    for (; it != end; it.increment(ec)) {
      if (ec) return fail(errc::io_error, "cannot list: " + ec.message(), start.string());
      const std::string name = it->path().filename().string();
      if (name.starts_with(".grove")) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      std::string key = it->path().lexically_relative(options_.root).generic_string();
      if (key.starts_with(options.prefix) && key > options.continuation_token) {
        keys.push_back(std::move(key));
      }
    }
  }

  // 2. Sort, cut the page, read each object's metadata.
  std::sort(keys.begin(), keys.end());
  list_page page;
  const bool more = keys.size() > options.max_keys;
  if (more) keys.resize(options.max_keys);
  for (const std::string& key : keys) {
    auto info = head(key);
    if (!info && info.error().code == make_error_code(errc::not_found)) continue;  // deleted
    if (!info) return fail(info.error());
    page.objects.push_back(std::move(*info));
  }
  if (more) page.next_token = keys.back();
  return page;
}

}  // namespace grove::storage
