// Error category of grove::obs.
#include "grove/obs/errc.hpp"

#include <string>

namespace grove::obs {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "grove.obs"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_metric_name:
        return "grove.obs.invalid_metric_name";
      case errc::invalid_label_name:
        return "grove.obs.invalid_label_name";
      case errc::duplicate_metric:
        return "grove.obs.duplicate_metric";
      case errc::too_many_metrics:
        return "grove.obs.too_many_metrics";
      case errc::invalid_buckets:
        return "grove.obs.invalid_buckets";
      case errc::invalid_options:
        return "grove.obs.invalid_options";
      case errc::invalid_log_level:
        return "grove.obs.invalid_log_level";
      case errc::log_file_open_failed:
        return "grove.obs.log_file_open_failed";
      case errc::reserved_metric_name:
        return "grove.obs.reserved_metric_name";
    }
    return "grove.obs.unknown(" + std::to_string(value) + ")";
  }
};

}  // namespace

const std::error_category& obs_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), obs_category()}; }

}  // namespace grove::obs
