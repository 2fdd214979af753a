// grove/storage/filesystem_object_store.hpp: the default object store, a
// directory tree on the local filesystem.
//
// Layout under the root directory, for key "runs/2026/result.json":
//   runs/2026/result.json                  the content, byte for byte
//   runs/2026/.grove-meta.result.json      JSON: content type, user metadata,
//                                          size, SHA-256, modification time
//   .grove-lock                            the store's lock file (flock)
//   runs/2026/.grove-tmp-<random>          temporary files while writing
//
// Writes are atomic: content and metadata are written to temporary files in
// the target directory, flushed (fsync, unless disabled), and renamed over
// the old ones while holding an exclusive flock on .grove-lock; readers open
// both files under a shared lock. So two writers of one key, in one process
// or in several, leave the content and metadata of one of them, never a mix,
// and a crash never leaves a half-written object (only a stray temporary
// file, which list() ignores). Empty directories left by remove() stay.
#pragma once

#include <filesystem>
#include <memory>

#include "grove/storage/object_store.hpp"

namespace grove::storage {

/// Options of filesystem_object_store.
struct filesystem_object_store_options {
  /// Root directory of the store. Required (non-empty). Created if missing.
  std::filesystem::path root;
  /// fsync files and directories after writing, so a write that returned
  /// survives a power loss. Default true; tests may turn it off for speed.
  bool fsync = true;

  /// Reports every bad field at once. Errors: errc::invalid_argument.
  [[nodiscard]] result<void> validate() const;
};

/// object_store over a local directory (see the file comment).
///
/// Thread safety: all methods may be called concurrently, also from several
/// processes sharing the root directory.
class filesystem_object_store final : public object_store {
 public:
  /// Opens (and creates if needed) the store. Errors: invalid_argument,
  /// io_error when the root cannot be created or the lock file opened.
  [[nodiscard]] static result<std::unique_ptr<filesystem_object_store>> open(
      filesystem_object_store_options options);

  result<object_info> put(std::string_view key, std::string_view data,
                          const object_metadata& metadata = {}) override;
  result<object_info> put_file(std::string_view key, const std::filesystem::path& file,
                               const object_metadata& metadata = {}) override;
  result<object> get(std::string_view key) override;
  result<object_info> get_to_file(std::string_view key, const std::filesystem::path& file) override;
  result<object_info> head(std::string_view key) override;
  result<void> remove(std::string_view key) override;
  /// Note: walks the directory under the prefix on every call, O(objects).
  result<list_page> list(const list_options& options) override;

  const std::filesystem::path& root() const noexcept { return options_.root; }

 private:
  explicit filesystem_object_store(filesystem_object_store_options options);

  filesystem_object_store_options options_;
};

}  // namespace grove::storage
