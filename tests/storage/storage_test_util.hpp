// Helpers shared by the storage tests (not a test support library: only this
// suite uses them).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace grove::test {

/// A fresh directory under the system temp dir, removed with its content on
/// destruction.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "grove-storage-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace grove::test
