#include "grove/storage/error.hpp"

#include <string>

namespace grove::storage {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "grove.storage"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_argument:
        return "grove.storage.invalid_argument: invalid argument";
      case errc::invalid_key:
        return "grove.storage.invalid_key: invalid object key";
      case errc::not_found:
        return "grove.storage.not_found: not found";
      case errc::dimension_mismatch:
        return "grove.storage.dimension_mismatch: vector dimension mismatch";
      case errc::io_error:
        return "grove.storage.io_error: local I/O failed";
      case errc::corrupt_data:
        return "grove.storage.corrupt_data: stored data is corrupt or truncated";
      case errc::remote_error:
        return "grove.storage.remote_error: the service returned an error";
      case errc::unavailable:
        return "grove.storage.unavailable: the service could not be reached";
      case errc::capacity_exceeded:
        return "grove.storage.capacity_exceeded: capacity exceeded";
      case errc::codec_error:
        return "grove.storage.codec_error: compression failed";
    }
    return "grove.storage.unknown: unknown storage error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& storage_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace grove::storage
