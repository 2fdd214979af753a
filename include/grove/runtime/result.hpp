// grove/runtime/result.hpp: errors as values.
//
// Functions that can fail for ordinary reasons (a refused connection, JSON of
// the wrong shape, an exhausted budget, a missing key) return result<T>: either
// a T or a grove::error. Programmer errors (a violated precondition) are
// GROVE_ASSERTs or exceptions at the synchronous API edge, never a result.
//
// result<T> follows the shape of C++23 std::expected<T, error> (value(),
// error(), has_value(), operator bool, operator*, operator->, value_or), so the
// move to std::expected is a change to the alias below and nothing else.
//
// Example:
//   grove::result<int> parse_port(std::string_view text);
//   if (auto port = parse_port(arg); !port) {
//     log->warn("bad port: {}", port.error().message);
//   }
#pragma once

#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace grove {

/// What went wrong: a machine-readable code, a message for people and,
/// optionally, where it happened (a field, a file and line, a URL).
struct error {
  std::error_code code;
  std::string message;
  std::string context;

  /// "message (context) [category:value]", for logs and exceptions.
  std::string describe() const {
    std::string text = message.empty() ? code.message() : message;
    if (!context.empty()) {
      text += " (" + context + ")";
    }
    if (code) {
      text += " [";
      text += code.category().name();
      text += ':';
      text += std::to_string(code.value());
      text += ']';
    }
    return text;
  }
};

/// Tag that marks the error alternative when constructing a result.
struct unexpected {
  grove::error value;
};

/// Shorthand for returning a failure: `return grove::fail(errc::x, "why");`
inline unexpected fail(std::error_code code, std::string message = {}, std::string context = {}) {
  return unexpected{error{code, std::move(message), std::move(context)}};
}
inline unexpected fail(error e) { return unexpected{std::move(e)}; }

/// Thrown by result<T>::value() on a failed result.
class bad_result_access : public std::system_error {
 public:
  explicit bad_result_access(const error& e) : std::system_error(e.code, e.describe()) {}
};

/// Either a T or an error. T may be void.
template <class T>
class [[nodiscard]] basic_result {
 public:
  using value_type = T;

  basic_result() requires std::is_default_constructible_v<T> : storage_(std::in_place_index<0>) {}
  basic_result(const T& value) : storage_(std::in_place_index<0>, value) {}
  basic_result(T&& value) : storage_(std::in_place_index<0>, std::move(value)) {}
  basic_result(unexpected failure) : storage_(std::in_place_index<1>, std::move(failure.value)) {}

  bool has_value() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value. Throws bad_result_access when this holds an error.
  T& value() & {
    throw_if_error();
    return std::get<0>(storage_);
  }
  const T& value() const& {
    throw_if_error();
    return std::get<0>(storage_);
  }
  T&& value() && {
    throw_if_error();
    return std::get<0>(std::move(storage_));
  }

  /// Requires: !has_value().
  const grove::error& error() const& { return std::get<1>(storage_); }
  grove::error&& error() && { return std::get<1>(std::move(storage_)); }

  /// Requires: has_value().
  T& operator*() & { return std::get<0>(storage_); }
  const T& operator*() const& { return std::get<0>(storage_); }
  T&& operator*() && { return std::get<0>(std::move(storage_)); }
  T* operator->() { return &std::get<0>(storage_); }
  const T* operator->() const { return &std::get<0>(storage_); }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(storage_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void throw_if_error() const {
    if (!has_value()) {
      throw bad_result_access(std::get<1>(storage_));
    }
  }

  std::variant<T, grove::error> storage_;
};

/// result<void>: success carries nothing.
template <>
class [[nodiscard]] basic_result<void> {
 public:
  using value_type = void;

  basic_result() = default;
  basic_result(unexpected failure) : error_(std::move(failure.value)), failed_(true) {}

  bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (failed_) {
      throw bad_result_access(error_);
    }
  }
  const grove::error& error() const& { return error_; }
  grove::error&& error() && { return std::move(error_); }

 private:
  grove::error error_;
  bool failed_ = false;
};

/// The alias every API uses; becomes std::expected<T, error> under C++23.
template <class T>
using result = basic_result<T>;

}  // namespace grove
