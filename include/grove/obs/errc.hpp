// grove/obs/errc.hpp: error codes of the logging and metrics layer.
//
// Every failure that grove::obs reports through grove::result carries one of
// these codes, in the category named "grove.obs". Messages of the category are
// stable identifiers ("grove.obs.invalid_metric_name"); the grove::error that
// carries the code adds a sentence for people and the offending field.
#pragma once

#include <system_error>

namespace grove::obs {

/// Why an obs call failed.
enum class errc {
  /// A metric name breaks the naming rules: it must match
  /// `grove_[a-z0-9_]*[a-z0-9]`, end in `_total` exactly when it is a counter,
  /// and not end in `_bucket`, `_count` or `_sum`.
  invalid_metric_name = 1,
  /// A label name is empty, not snake_case `[a-z_][a-z0-9_]*`, starts with
  /// `__` (reserved by Prometheus), is `le` (reserved for histogram buckets) or
  /// repeats another label name of the same metric.
  invalid_label_name,
  /// A name was registered before with another type, help text, label names,
  /// series cap or bucket layout. Registering the same definition twice is not
  /// an error: it returns the existing metric.
  duplicate_metric,
  /// The registry already holds registry_options::max_metrics metrics.
  too_many_metrics,
  /// Histogram bucket bounds are empty, not finite, not strictly increasing or
  /// more than registry_options::max_buckets; or buckets were given for a
  /// counter or gauge.
  invalid_buckets,
  /// An options aggregate failed validate(); the message lists every bad field.
  invalid_options,
  /// A log level name is not one of trace, debug, info, warn, error,
  /// critical, off (case-insensitive; `warning` is accepted for warn).
  invalid_log_level,
  /// The log file could not be opened or created.
  log_file_open_failed,
  /// A metric name starts with `grove_metrics_`, the prefix reserved for the
  /// registry's own metrics.
  reserved_metric_name,
};

/// The category of obs::errc ("grove.obs").
const std::error_category& obs_category() noexcept;

/// Makes std::error_code{e, obs_category()}; found by argument-dependent lookup.
std::error_code make_error_code(errc e) noexcept;

}  // namespace grove::obs

template <>
struct std::is_error_code_enum<grove::obs::errc> : std::true_type {};
