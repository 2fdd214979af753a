// src/storage/remote_failure.hpp: internal to the compiled storage adapters.
// How the S3 and Pinecone stores tell the runtime guards what kind of failure
// a remote call had.
//
// A response with a status the guards must see as a failure (429, 5xx)
// becomes an error with code errc::remote_error and a context starting with
// "status=<code>"; transport failures keep their grove::http::errc code.
// classify_remote_failure() maps both onto runtime::failure_class.
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>

#include "grove/http/error.hpp"
#include "grove/runtime/errors.hpp"
#include "grove/storage/error.hpp"

namespace grove::storage::detail {

inline constexpr std::string_view status_prefix = "status=";

/// The failure for an HTTP status the guards should count or retry.
inline grove::unexpected status_failure(int status, std::string message, std::string where) {
  return fail(errc::remote_error, std::move(message),
              std::string(status_prefix) + std::to_string(status) + " " + where);
}

/// The class of a failed remote call (see the file comment).
inline runtime::failure_class classify_remote_failure(const error& e) {
  if (e.code == make_error_code(errc::remote_error) && e.context.starts_with(status_prefix)) {
    return runtime::classify_http_status(std::atoi(e.context.c_str() + status_prefix.size()));
  }
  if (e.code.category() == http::error_category()) {
    using http::errc;
    const auto c = static_cast<http::errc>(e.code.value());
    if (c == errc::timeout || c == errc::connect_timeout) return runtime::failure_class::timeout;
    if (c == errc::connect_failed || c == errc::connection_reset || c == errc::truncated ||
        c == errc::resolve_failed || c == errc::protocol) {
      return runtime::failure_class::connection;
    }
    if (c == errc::cancelled || c == errc::closed) return runtime::failure_class::rejected;
    return runtime::failure_class::client_error;
  }
  return runtime::classify_error(e);
}

/// Whether a failure means "the service cannot be reached now" rather than
/// "this request is wrong".
inline bool is_outage(const error& e) {
  switch (classify_remote_failure(e)) {
    case runtime::failure_class::server_error:
    case runtime::failure_class::timeout:
    case runtime::failure_class::connection:
    case runtime::failure_class::rate_limited:
    case runtime::failure_class::rejected:
      return true;
    default:
      return false;
  }
}

}  // namespace grove::storage::detail
