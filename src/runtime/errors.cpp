// runtime::errc's category and the default failure classifiers.
#include "grove/runtime/errors.hpp"

#include <string>

namespace grove::runtime {

namespace {

struct errc_info {
  std::string_view id;
  std::string_view text;
};

errc_info info(errc e) noexcept {
  switch (e) {
    case errc::invalid_options:
      return {"grove.runtime.invalid_options", "invalid options"};
    case errc::invalid_argument:
      return {"grove.runtime.invalid_argument", "argument out of range"};
    case errc::cost_exceeds_capacity:
      return {"grove.runtime.cost_exceeds_capacity",
              "requested cost exceeds the rate limiter's capacity"};
    case errc::cancelled:
      return {"grove.runtime.cancelled", "operation cancelled"};
    case errc::closed:
      return {"grove.runtime.closed", "component closed"};
    case errc::circuit_open:
      return {"grove.runtime.circuit_open", "circuit breaker is open"};
    case errc::deadline_exceeded:
      return {"grove.runtime.deadline_exceeded", "deadline exceeded"};
    case errc::too_many_keys:
      return {"grove.runtime.too_many_keys", "too many rate-limiter keys"};
  }
  return {"grove.runtime.unknown", "unknown runtime error"};
}

class runtime_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "grove.runtime"; }
  std::string message(int value) const override {
    const auto i = info(static_cast<errc>(value));
    return std::string(i.id) + ": " + std::string(i.text);
  }
};

}  // namespace

const std::error_category& runtime_category() noexcept {
  static const runtime_error_category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), runtime_category()};
}

std::string_view message_id(errc e) noexcept { return info(e).id; }

std::string_view to_string(failure_class c) noexcept {
  switch (c) {
    case failure_class::server_error:
      return "server_error";
    case failure_class::timeout:
      return "timeout";
    case failure_class::connection:
      return "connection";
    case failure_class::rate_limited:
      return "rate_limited";
    case failure_class::client_error:
      return "client_error";
    case failure_class::rejected:
      return "rejected";
    case failure_class::unknown:
      return "unknown";
  }
  return "unknown";
}

failure_class classify_http_status(int status) noexcept {
  if (status == 408) {
    return failure_class::timeout;
  }
  if (status == 429) {
    return failure_class::rate_limited;
  }
  if (status >= 400 && status < 500) {
    return failure_class::client_error;
  }
  if (status >= 500 && status < 600) {
    return failure_class::server_error;
  }
  return failure_class::unknown;
}

failure_class classify_error(const error& e) noexcept {
  const std::error_code& code = e.code;
  if (code.category() == runtime_category()) {
    switch (static_cast<errc>(code.value())) {
      case errc::deadline_exceeded:
        return failure_class::timeout;
      case errc::invalid_options:
      case errc::invalid_argument:
        return failure_class::client_error;
      default:
        return failure_class::rejected;
    }
  }

  // std::errc conditions match system and generic codes, including Boost.System
  // and Asio codes converted to std::error_code.
  if (code == std::errc::timed_out) {
    return failure_class::timeout;
  }
  if (code == std::errc::operation_canceled) {
    return failure_class::rejected;
  }
  if (code == std::errc::connection_reset || code == std::errc::connection_refused ||
      code == std::errc::connection_aborted || code == std::errc::broken_pipe ||
      code == std::errc::host_unreachable || code == std::errc::network_unreachable ||
      code == std::errc::network_down || code == std::errc::not_connected) {
    return failure_class::connection;
  }

  // Asio's own categories (end of stream, name resolution), by name so this
  // file needs no Asio headers.
  const std::string_view category = code.category().name();
  if (category == "asio.misc" || category == "asio.netdb" || category == "asio.addrinfo") {
    return failure_class::connection;
  }
  return failure_class::unknown;
}

}  // namespace grove::runtime
