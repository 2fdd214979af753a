// grove/http/message.hpp: HTTP requests, responses and header lists.
//
// Plain value types with no dependency on libcurl or Asio. A request says what
// to send and how long to wait; a response holds the status, the headers of
// the final response and the body (unless the body was streamed to a
// callback, see request::on_body).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace grove::http {

/// One header field as it was sent or received.
struct header_field {
  std::string name;
  std::string value;
};

/// An ordered list of header fields with case-insensitive name lookup.
///
/// Duplicates are kept in order (HTTP allows repeated fields); find() returns
/// the first match. Lookups are linear, which is faster than hashing for the
/// 5-30 fields a typical message has.
/// Thread safety: none; a value type.
class header_map {
 public:
  using const_iterator = std::vector<header_field>::const_iterator;

  header_map() = default;
  header_map(std::initializer_list<header_field> fields) : fields_(fields) {}

  /// Appends a field, keeping any earlier field with the same name.
  void add(std::string name, std::string value);

  /// Replaces every field named `name` (any case) with one field.
  void set(std::string name, std::string value);

  /// Appends `text` to the value of the last field (for obsolete folded
  /// header lines). Requires: !empty().
  void append_to_last(std::string_view text) { fields_.back().value.append(text); }

  /// Removes every field named `name` (any case); returns how many were removed.
  std::size_t erase(std::string_view name);

  /// The value of the first field named `name` (any case), or nullopt.
  /// The view is valid until the map is modified or destroyed.
  std::optional<std::string_view> find(std::string_view name) const;

  /// find(name), or an empty string when absent.
  std::string_view get(std::string_view name) const;

  /// Whether a field named `name` (any case) is present.
  bool contains(std::string_view name) const { return find(name).has_value(); }

  /// Every value of fields named `name` (any case), in order.
  std::vector<std::string_view> get_all(std::string_view name) const;

  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }
  void clear() noexcept { fields_.clear(); }
  const_iterator begin() const noexcept { return fields_.begin(); }
  const_iterator end() const noexcept { return fields_.end(); }

 private:
  std::vector<header_field> fields_;
};

/// ASCII case-insensitive equality, as HTTP field names compare.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// Called with each piece of a streamed response body, in order, on the
/// client's executor. Return false to stop the transfer (the request then
/// fails with errc::aborted_by_callback). Must not block.
using body_callback = std::function<bool(std::string_view chunk)>;

/// What to send. Fields left unset take the client's defaults
/// (see client_options).
struct request {
  /// The method token: GET, POST, PUT, PATCH, DELETE, HEAD or any other
  /// RFC 9110 token. Default GET.
  std::string method = "GET";

  /// Absolute http:// or https:// URL. Required.
  std::string url;

  /// Request header fields. Content-Length is computed by the client; an
  /// empty value sends the field with no value. Names and values must not
  /// contain CR, LF or NUL (errc::invalid_request otherwise).
  header_map headers;

  /// The request body, sent as is (Content-Length framing). May be empty.
  std::string body;

  /// Maximum time to establish the connection (TCP and TLS). Unset: the
  /// client's connect_timeout. Must be positive.
  std::optional<std::chrono::milliseconds> connect_timeout;

  /// Maximum time for the whole transfer, connection included. Unset: the
  /// client's timeout. Zero means no limit.
  std::optional<std::chrono::milliseconds> timeout;

  /// Maximum time without receiving any byte (headers or body) while the
  /// transfer runs: catches a stalled server or a stream that stops mid-way.
  /// Unset: the client's idle_timeout. Zero means no limit.
  std::optional<std::chrono::milliseconds> idle_timeout;

  /// Largest accepted response body in bytes (decoded, streamed or not).
  /// Unset: the client's max_response_bytes. Must be positive.
  std::optional<std::size_t> max_response_bytes;

  /// Streaming. When set, the body of a 2xx response goes to this callback
  /// piece by piece as it arrives and response::body stays empty. The body of
  /// any other status is still collected in response::body, so the caller can
  /// read an error object without a second code path.
  body_callback on_body;
};

/// What came back. A non-2xx status is still a response, not an error.
struct response {
  /// The status code of the final response (100-199 interim responses are
  /// skipped), for example 200.
  int status = 0;

  /// The header fields of the final response, names as the server sent them
  /// (HTTP/2 sends them in lower case).
  header_map headers;

  /// The whole body, unless it was streamed to request::on_body.
  std::string body;

  /// Body bytes received (after content decoding), streamed or collected.
  std::size_t body_bytes = 0;

  /// HTTP version used: 10, 11, 20 or 30 (0 when unknown).
  int http_version = 0;

  /// Whether the status is 2xx.
  bool ok() const noexcept { return status >= 200 && status < 300; }
};

}  // namespace grove::http
