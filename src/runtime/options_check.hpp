// src/runtime/options_check.hpp: internal to grove::runtime (not installed).
// Collects every bad field of an options struct into one error.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

#include "grove/runtime/errors.hpp"
#include "grove/runtime/result.hpp"

namespace grove::runtime::detail {

/// Usage: options_check check("token_bucket_options");
///        check.require(capacity > 0, "capacity", "must be > 0");
///        return check.finish();
class options_check {
 public:
  explicit options_check(std::string_view what) : what_(what) {}

  /// Records `field: rule` when `ok` is false.
  void require(bool ok, std::string_view field, std::string_view rule) {
    if (ok) {
      return;
    }
    if (!problems_.empty()) {
      problems_ += "; ";
    }
    problems_ += field;
    problems_ += ' ';
    problems_ += rule;
  }

  /// Appends the problems of a nested validate().
  void merge(const result<void>& nested) {
    if (nested) {
      return;
    }
    if (!problems_.empty()) {
      problems_ += "; ";
    }
    problems_ += nested.error().message;
  }

  /// Success, or errc::invalid_options listing every problem.
  result<void> finish() const {
    if (problems_.empty()) {
      return {};
    }
    return fail(errc::invalid_options, "invalid " + what_ + ": " + problems_);
  }

  std::string what_;
  std::string problems_;
};

/// True for finite values > 0.
inline bool positive(double v) { return std::isfinite(v) && v > 0; }

/// Throws std::invalid_argument with the error's text when `checked` failed
/// (used by constructors: bad options are a programmer error at the API edge).
inline void throw_if_invalid(const result<void>& checked) {
  if (!checked) {
    throw std::invalid_argument(checked.error().message);
  }
}

}  // namespace grove::runtime::detail
