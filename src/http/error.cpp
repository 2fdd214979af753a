// The grove.http error category.
#include "grove/http/error.hpp"

#include <string>

namespace grove::http {
namespace {

struct code_text {
  std::string_view id;
  std::string_view sentence;
};

code_text describe(errc e) noexcept {
  switch (e) {
    case errc::timeout:
      return {"grove.http.timeout", "the transfer timed out"};
    case errc::connect_timeout:
      return {"grove.http.connect_timeout", "the connection could not be made in time"};
    case errc::connect_failed:
      return {"grove.http.connect_failed", "the connection was refused or unreachable"};
    case errc::resolve_failed:
      return {"grove.http.resolve_failed", "the host name could not be resolved"};
    case errc::connection_reset:
      return {"grove.http.connection_reset", "the connection broke during the transfer"};
    case errc::truncated:
      return {"grove.http.truncated", "the connection closed before the whole body arrived"};
    case errc::too_large:
      return {"grove.http.too_large", "the response body exceeds the allowed size"};
    case errc::cancelled:
      return {"grove.http.cancelled", "the request was cancelled"};
    case errc::closed:
      return {"grove.http.closed", "the client is closed"};
    case errc::tls:
      return {"grove.http.tls", "TLS failed (handshake or certificate verification)"};
    case errc::invalid_url:
      return {"grove.http.invalid_url", "the URL is malformed or not http(s)"};
    case errc::invalid_request:
      return {"grove.http.invalid_request", "the request or its options are invalid"};
    case errc::protocol:
      return {"grove.http.protocol", "the peer violated the protocol"};
    case errc::too_many_redirects:
      return {"grove.http.too_many_redirects", "too many redirects"};
    case errc::aborted_by_callback:
      return {"grove.http.aborted_by_callback", "the body callback stopped the transfer"};
    case errc::other:
      return {"grove.http.other", "the transfer failed"};
  }
  return {"grove.http.unknown", "unknown grove.http error"};
}

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "grove.http"; }

  std::string message(int value) const override {
    code_text text = describe(static_cast<errc>(value));
    std::string out(text.id);
    out += ": ";
    out += text.sentence;
    return out;
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

std::string_view to_string(errc e) noexcept { return describe(e).id; }

bool is_transient(errc e) noexcept {
  switch (e) {
    case errc::timeout:
    case errc::connect_timeout:
    case errc::connect_failed:
    case errc::connection_reset:
    case errc::truncated:
      return true;
    default:
      return false;
  }
}

}  // namespace grove::http
