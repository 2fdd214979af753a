#include "grove/storage/s3_object_store.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <thread>

#include "../runtime/options_check.hpp"
#include "grove/http/client.hpp"
#include "grove/runtime/guarded_call.hpp"
#include "grove/storage/error.hpp"
#include "remote_failure.hpp"

namespace grove::storage {
namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace {

constexpr std::string_view meta_header_prefix = "x-amz-meta-";
constexpr std::string_view encoding_meta = "grove-encoding";
constexpr std::string_view size_meta = "grove-size";
constexpr std::size_t read_chunk = 1 << 20;
constexpr std::uint64_t unlimited_body = std::uint64_t{1} << 40;

// --- Minimal XML reading for S3's flat response documents ---

std::string xml_unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    std::size_t semi = text.find(';', i);
    if (semi == std::string_view::npos) {
      out.push_back('&');
      continue;
    }
    std::string_view entity = text.substr(i + 1, semi - i - 1);
    if (entity == "amp")
      out.push_back('&');
    else if (entity == "lt")
      out.push_back('<');
    else if (entity == "gt")
      out.push_back('>');
    else if (entity == "quot")
      out.push_back('"');
    else if (entity == "apos")
      out.push_back('\'');
    else if (entity.starts_with("#")) {
      bool hex = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X');
      unsigned long code =
          std::strtoul(std::string(entity.substr(hex ? 2 : 1)).c_str(), nullptr, hex ? 16 : 10);
      // UTF-8 encode the code point.
      if (code < 0x80) {
        out.push_back(static_cast<char>(code));
      } else if (code < 0x800) {
        out.push_back(static_cast<char>(0xc0 | (code >> 6)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
      } else if (code < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | (code >> 12)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
      } else {
        out.push_back(static_cast<char>(0xf0 | (code >> 18)));
        out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
      }
    } else {
      out.append(text.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// Every element <tag>...</tag> in `xml`, in order (no nesting of the same tag).
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  std::size_t pos = 0;
  for (;;) {
    std::size_t start = xml.find(open, pos);
    if (start == std::string_view::npos) break;
    start += open.size();
    std::size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(start, end - start));
    pos = end + close.size();
  }
  return out;
}

std::string xml_text(std::string_view xml, std::string_view tag) {
  auto found = xml_elements(xml, tag);
  return found.empty() ? std::string() : xml_unescape(found.front());
}

std::string strip_quotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

std::chrono::system_clock::time_point parse_time(const std::string& text, const char* format) {
  std::tm tm{};
  if (::strptime(text.c_str(), format, &tm) == nullptr) return {};
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

grove::unexpected io_failure(const std::string& what, const fs::path& path, int err = errno) {
  return fail(errc::io_error, what + ": " + std::strerror(err), path.string());
}

bool retryable_status(int status) { return status == 429 || status >= 500; }

}  // namespace

// ---------------------------------------------------------------------------

struct s3_object_store::impl {
  s3_object_store_options options;
  std::string scheme;  // "http" or "https"
  std::string host;    // host[:port] of the endpoint

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::thread io_thread;
  std::shared_ptr<http::client> http;
  bool owns_http = false;

  std::unique_ptr<runtime::token_bucket> bucket;
  std::unique_ptr<runtime::circuit_breaker> breaker;
  std::unique_ptr<runtime::retrier> retry;

  std::atomic<std::size_t> requests{0}, retries{0}, multipart_uploads{0}, multipart_aborts{0},
      compressed_puts{0};

  ~impl() {
    if (http && owns_http) {
      asio::co_spawn(io, http->async_close(), asio::use_future).wait();
    }
    http.reset();
    guard.reset();
    if (io_thread.joinable()) io_thread.join();
  }

  std::string full_key(std::string_view key) const { return options.key_prefix + std::string(key); }

  std::string request_host() const {
    return options.addressing == s3_addressing::virtual_hosted ? options.bucket + "." + host : host;
  }

  // Path of an object (or of the bucket when key is empty), percent-encoded.
  std::string path_of(std::string_view full) const {
    std::string encoded = sigv4::uri_encode(full, /*keep_slash=*/true);
    if (options.addressing == s3_addressing::path_style) {
      return "/" + options.bucket + (full.empty() ? std::string() : "/" + encoded);
    }
    return "/" + encoded;
  }

  struct call {
    std::string method = "GET";
    std::string full_key;  // empty: the bucket
    std::string query;     // already encoded
    std::vector<sigv4::header> headers;
    std::string_view body;
    http::body_callback on_body;
    std::function<void()> before_attempt;  // e.g. rewind a download file
    std::uint64_t max_response_bytes = 64u << 20;
  };

  // Signs and sends one request through the runtime guards (token bucket,
  // circuit breaker, retrier): transport failures, 429 and 5xx are retried
  // (re-signed each time), other statuses are returned as responses.
  result<http::response> send(const call& c) {
    runtime::call_guards guards;
    guards.bucket = bucket.get();
    guards.breaker = breaker.get();
    guards.retry = retry.get();
    guards.classifier = detail::classify_remote_failure;
    auto op = [&](runtime::attempt_context& at) -> asio::awaitable<result<http::response>> {
      if (at.number() > 1) {
        ++retries;
        log_retry(c, at.number());
      }
      if (c.before_attempt) c.before_attempt();

      sigv4::request signing;
      signing.method = c.method;
      signing.path = path_of(c.full_key);
      signing.query = c.query;
      signing.headers = c.headers;
      signing.headers.push_back({"Host", request_host()});
      sigv4::options sign_options;
      sign_options.credentials = options.credentials;
      sign_options.region = options.region;
      sign_options.service = "s3";
      sign_options.mode = sigv4::path_mode::s3;
      sign_options.unsigned_payload = options.unsigned_payload;
      auto signature = sigv4::sign(signing, std::as_bytes(std::span(c.body.data(), c.body.size())),
                                   sign_options, std::chrono::system_clock::now());
      if (!signature) co_return grove::fail(std::move(signature).error());

      http::request req;
      req.method = c.method;
      req.url = scheme + "://" + request_host() + signing.path +
                (c.query.empty() ? std::string() : "?" + c.query);
      for (const auto& h : signing.headers) req.headers.add(h.name, h.value);
      req.body = std::string(c.body);
      req.on_body = c.on_body;
      req.timeout = options.request_timeout;
      req.max_response_bytes = static_cast<std::size_t>(c.max_response_bytes);
      ++requests;
      auto res = co_await http->async_request(std::move(req));
      if (!res) co_return grove::fail(std::move(res).error());
      if (retryable_status(res->status)) {
        at.set_retry_after(res->headers.get("retry-after-ms"), res->headers.get("retry-after"),
                           std::chrono::system_clock::now());
        co_return detail::status_failure(res->status, s3_error(*res, c).value.message,
                                         c.method + " " + c.full_key);
      }
      co_return res;
    };
    auto out = asio::co_spawn(io, runtime::guarded_call(guards, op), asio::use_future).get();
    if (!out && out.error().code != make_error_code(errc::remote_error)) {
      return fail(errc::unavailable, "S3 request failed: " + out.error().describe(),
                  c.method + " " + options.bucket + "/" + c.full_key);
    }
    return out;
  }

  void log_retry(const call& c, int attempt) const {
    if (options.logger) {
      options.logger->warn("s3: retrying {} {} (attempt {})", c.method, c.full_key, attempt);
    }
  }

  // The error for a non-2xx response, with S3's XML code and message.
  grove::unexpected s3_error(const http::response& res, const call& c) const {
    std::string code = xml_text(res.body, "Code");
    std::string message = xml_text(res.body, "Message");
    const std::string context = c.method + " " + options.bucket + "/" + c.full_key;
    if (res.status == 404 && code != "NoSuchBucket") {
      return fail(errc::not_found, "no object with this key", context);
    }
    std::string text = "S3 answered HTTP " + std::to_string(res.status);
    if (!code.empty()) text += " " + code;
    if (!message.empty()) text += ": " + message;
    return fail(errc::remote_error, text, context);
  }

  result<http::response> send_ok(const call& c) {
    auto res = send(c);
    if (!res) return res;
    if (!res->ok()) return s3_error(*res, c);
    return res;
  }

  // Object info from GET/HEAD response headers.
  object_info info_from(std::string_view key, const http::response& res) const {
    object_info info;
    info.key = std::string(key);
    info.etag = strip_quotes(res.headers.get("etag"));
    info.last_modified =
        parse_time(std::string(res.headers.get("last-modified")), "%a, %d %b %Y %H:%M:%S GMT");
    if (auto type = res.headers.find("content-type")) info.metadata.content_type = *type;
    info.size = std::strtoull(std::string(res.headers.get("content-length")).c_str(), nullptr, 10);
    for (const auto& field : res.headers) {
      if (field.name.size() <= meta_header_prefix.size() ||
          !http::iequals(field.name.substr(0, meta_header_prefix.size()), meta_header_prefix)) {
        continue;
      }
      std::string name = field.name.substr(meta_header_prefix.size());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (name == size_meta) {
        info.size = std::strtoull(field.value.c_str(), nullptr, 10);
      } else if (name != encoding_meta) {
        info.metadata.user[name] = field.value;
      }
    }
    return info;
  }

  static result<detail::encoding> encoding_of(const http::response& res) {
    for (const auto& field : res.headers) {
      if (http::iequals(field.name, "x-amz-meta-grove-encoding")) {
        return detail::parse_encoding(field.value);
      }
    }
    return detail::encoding::identity;
  }

  // --- Upload pipeline ---

  // Reads up to `capacity` bytes into `out`; returns the count, 0 at the end.
  using reader = std::function<result<std::size_t>(std::string& out, std::size_t capacity)>;

  result<object_info> upload(std::string_view key, const object_metadata& metadata,
                             std::uint64_t size, const reader& read);

  result<void> abort_multipart(const std::string& full, const std::string& upload_id) {
    call c;
    c.method = "DELETE";
    c.full_key = full;
    c.query = "uploadId=" + sigv4::uri_encode(upload_id, false);
    auto res = send(c);
    ++multipart_aborts;
    if (!res || (!res->ok() && res->status != 404)) {
      if (options.logger) {
        options.logger->error("s3: could not abort multipart upload {} of {}: parts may remain",
                              upload_id, full);
      }
      return res ? fail(s3_error(*res, c).value) : fail(res.error());
    }
    return {};
  }
};

// ---------------------------------------------------------------------------

result<void> s3_object_store_options::validate() const {
  runtime::detail::options_check check("s3_object_store_options");
  check.require(
      endpoint.empty() || endpoint.starts_with("http://") || endpoint.starts_with("https://"),
      "endpoint", "must start with http:// or https://, got \"" + endpoint + "\"");
  bool bucket_ok = bucket.size() >= 3 && bucket.size() <= 63;
  for (char c : bucket) {
    bucket_ok =
        bucket_ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-');
  }
  check.require(bucket_ok, "bucket",
                "must be 3-63 characters of [a-z0-9.-], got \"" + bucket + "\"");
  check.require(!region.empty(), "region", "is empty");
  check.require(key_prefix.empty() || key_prefix.back() == '/', "key_prefix",
                "must be empty or end with '/'");
  check.require(!credentials.access_key_id.empty() && !credentials.secret_access_key.empty(),
                "credentials.access_key_id and credentials.secret_access_key", "are required");
  check.require(part_size >= (std::size_t{5} << 20) && part_size <= (std::size_t{5} << 30),
                "part_size", "must be 5 MiB to 5 GiB, got " + std::to_string(part_size));
  check.require(multipart_threshold >= part_size, "multipart_threshold", "must be >= part_size");
  check.merge(rate.validate());
  check.merge(breaker.validate());
  check.merge(retry.validate());
  check.require(request_timeout.count() > 0, "request_timeout", "must be positive");
  check.require(compression_level >= 0 && compression_level <= 19, "compression_level",
                "must be 0-19");
  if (auto ok = check.finish(); !ok) {
    return fail(errc::invalid_argument, ok.error().message, "s3_object_store_options");
  }
  return {};
}

result<std::unique_ptr<s3_object_store>> s3_object_store::open(s3_object_store_options options) {
  if (auto ok = options.validate(); !ok) return fail(ok.error());
  auto state = std::make_unique<impl>();
  if (options.endpoint.empty())
    options.endpoint = "https://s3." + options.region + ".amazonaws.com";
  std::string_view rest = options.endpoint;
  std::size_t scheme_end = rest.find("://");
  state->scheme = std::string(rest.substr(0, scheme_end));
  state->host = std::string(rest.substr(scheme_end + 3));
  while (!state->host.empty() && state->host.back() == '/') state->host.pop_back();
  if (state->host.empty() || state->host.find('/') != std::string::npos) {
    return fail(errc::invalid_argument, "endpoint must be scheme://host[:port] without a path",
                "s3_object_store_options.endpoint");
  }
  state->options = std::move(options);
  state->options.retry.classifier = detail::classify_remote_failure;
  state->bucket = std::make_unique<runtime::token_bucket>(state->options.rate);
  state->breaker = std::make_unique<runtime::circuit_breaker>(state->options.breaker);
  state->retry = std::make_unique<runtime::retrier>(state->options.retry);

  if (state->options.http) {
    state->http = state->options.http;
  } else {
    http::client_options client_options;
    client_options.accept_compressed = false;  // the store decodes its own encodings
    client_options.timeout = state->options.request_timeout;
    client_options.max_response_bytes = static_cast<std::size_t>(unlimited_body);
    client_options.logger = state->options.logger;
    try {
      state->http = http::make_curl_client(state->io.get_executor(), client_options);
    } catch (const std::exception& e) {
      return fail(errc::unavailable, std::string("cannot create the HTTP client: ") + e.what(),
                  "s3_object_store");
    }
    state->owns_http = true;
  }
  state->io_thread = std::thread([io = &state->io] { io->run(); });
  return std::unique_ptr<s3_object_store>(new s3_object_store(std::move(state)));
}

s3_object_store::s3_object_store(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
s3_object_store::~s3_object_store() = default;

s3_object_store_stats s3_object_store::stats() const {
  return {impl_->requests, impl_->retries, impl_->multipart_uploads, impl_->multipart_aborts,
          impl_->compressed_puts};
}

result<object_info> s3_object_store::impl::upload(std::string_view key,
                                                  const object_metadata& metadata,
                                                  std::uint64_t size, const reader& read) {
  if (auto ok = validate_key(key); !ok) return fail(ok.error());
  if (auto ok = validate_metadata(metadata); !ok) return fail(ok.error());
  for (const auto& [name, value] : metadata.user) {
    if (name.starts_with("grove-")) {
      return fail(errc::invalid_argument, "user metadata names starting with grove- are reserved",
                  "metadata." + name);
    }
  }
  const std::string full = full_key(key);
  const bool compress =
      options.compression != detail::encoding::identity && size >= options.compression_threshold;
  auto encoder = detail::make_encoder(compress ? options.compression : detail::encoding::identity,
                                      options.compression_level);

  std::vector<sigv4::header> headers = {{"Content-Type", metadata.content_type}};
  for (const auto& [name, value] : metadata.user) {
    headers.push_back({std::string(meta_header_prefix) + name, value});
  }
  if (compress) {
    headers.push_back(
        {"x-amz-meta-grove-encoding", std::string(detail::encoding_name(options.compression))});
    headers.push_back({"x-amz-meta-grove-size", std::to_string(size)});
  }

  // 1. Read, encode, and cut the output into parts once it outgrows a single
  //    request; at most multipart_threshold + part_size bytes wait in memory.
  std::string pending;
  std::string chunk;
  std::string upload_id;
  std::vector<std::pair<int, std::string>> parts;  // number, ETag
  std::uint64_t consumed = 0;
  bool last = false;

  auto upload_part = [&](std::string_view body) -> result<void> {
    const int number = static_cast<int>(parts.size()) + 1;
    call c;
    c.method = "PUT";
    c.full_key = full;
    c.query =
        "partNumber=" + std::to_string(number) + "&uploadId=" + sigv4::uri_encode(upload_id, false);
    c.body = body;
    auto res = send_ok(c);
    if (!res) return fail(res.error());
    parts.emplace_back(number, std::string(res->headers.get("etag")));
    return {};
  };

  auto fail_upload = [&](grove::error e) -> grove::unexpected {
    if (!upload_id.empty()) (void)abort_multipart(full, upload_id);  // logged inside
    return fail(std::move(e));
  };

  while (!last) {
    chunk.clear();
    auto n = read(chunk, read_chunk);
    if (!n) return fail_upload(n.error());
    consumed += *n;
    last = *n == 0;
    if (auto ok = encoder->feed(chunk, last, pending); !ok) return fail_upload(ok.error());

    if (upload_id.empty() && pending.size() > options.multipart_threshold) {
      call c;
      c.method = "POST";
      c.full_key = full;
      c.query = "uploads=";
      c.headers = headers;
      auto res = send_ok(c);
      if (!res) return fail(res.error());
      upload_id = xml_text(res->body, "UploadId");
      if (upload_id.empty()) {
        return fail(errc::remote_error, "S3 returned no UploadId for a multipart upload", full);
      }
    }
    while (!upload_id.empty() && pending.size() >= options.part_size) {
      if (auto ok = upload_part(std::string_view(pending).substr(0, options.part_size)); !ok) {
        return fail_upload(ok.error());
      }
      pending.erase(0, options.part_size);
    }
  }
  if (consumed != size) {
    return fail_upload(grove::error{make_error_code(errc::io_error),
                                    "the source changed size while being uploaded", full});
  }

  // 2. Finish: one PUT, or the last part and the completion.
  object_info info;
  info.key = std::string(key);
  info.size = size;
  info.last_modified = std::chrono::system_clock::now();
  info.metadata = metadata;
  if (upload_id.empty()) {
    call c;
    c.method = "PUT";
    c.full_key = full;
    c.headers = headers;
    c.body = pending;
    auto res = send_ok(c);
    if (!res) return fail(res.error());
    info.etag = strip_quotes(res->headers.get("etag"));
  } else {
    if (!pending.empty()) {
      if (auto ok = upload_part(pending); !ok) return fail_upload(ok.error());
    }
    std::string body = "<CompleteMultipartUpload>";
    for (const auto& [number, etag] : parts) {
      body += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" +
              xml_escape(etag) + "</ETag></Part>";
    }
    body += "</CompleteMultipartUpload>";
    call c;
    c.method = "POST";
    c.full_key = full;
    c.query = "uploadId=" + sigv4::uri_encode(upload_id, false);
    c.headers = {{"Content-Type", "application/xml"}};
    c.body = body;
    auto res = send_ok(c);
    if (!res) return fail_upload(res.error());
    // S3 may answer 200 and still report an error in the body.
    if (res->body.find("<Error>") != std::string::npos) {
      return fail_upload(s3_error(http::response{500, {}, res->body, 0, 0}, c).value);
    }
    info.etag = strip_quotes(xml_text(res->body, "ETag"));
    ++multipart_uploads;
  }
  if (compress) ++compressed_puts;
  return info;
}

result<object_info> s3_object_store::put(std::string_view key, std::string_view data,
                                         const object_metadata& metadata) {
  std::size_t offset = 0;
  return impl_->upload(key, metadata, data.size(),
                       [&](std::string& out, std::size_t capacity) -> result<std::size_t> {
                         std::size_t n = std::min(capacity, data.size() - offset);
                         out.append(data.substr(offset, n));
                         offset += n;
                         return n;
                       });
}

result<object_info> s3_object_store::put_file(std::string_view key, const fs::path& file,
                                              const object_metadata& metadata) {
  std::ifstream in(file, std::ios::binary);
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (!in || ec) {
    if (!fs::exists(file))
      return fail(errc::not_found, "source file does not exist", file.string());
    return fail(errc::io_error, "cannot read source file", file.string());
  }
  return impl_->upload(key, metadata, size,
                       [&](std::string& out, std::size_t capacity) -> result<std::size_t> {
                         out.resize(capacity);
                         in.read(out.data(), static_cast<std::streamsize>(capacity));
                         if (in.bad()) return fail(errc::io_error, "read failed", file.string());
                         out.resize(static_cast<std::size_t>(in.gcount()));
                         return out.size();
                       });
}

result<object> s3_object_store::get(std::string_view key) {
  if (auto ok = validate_key(key); !ok) return fail(ok.error());
  impl::call c;
  c.full_key = impl_->full_key(key);
  c.max_response_bytes = unlimited_body;
  auto res = impl_->send_ok(c);
  if (!res) return fail(res.error());
  auto encoding = impl::encoding_of(*res);
  if (!encoding) return fail(encoding.error());
  object out;
  out.info = impl_->info_from(key, *res);
  if (*encoding == detail::encoding::identity) {
    out.data = std::move(res->body);
  } else {
    auto decoded = detail::decode(*encoding, res->body);
    if (!decoded) return fail(decoded.error());
    out.data = std::move(*decoded);
  }
  if (out.data.size() != out.info.size) {
    return fail(errc::corrupt_data,
                "object has " + std::to_string(out.data.size()) + " bytes, its metadata says " +
                    std::to_string(out.info.size),
                std::string(key));
  }
  return out;
}

result<object_info> s3_object_store::get_to_file(std::string_view key, const fs::path& file) {
  if (auto ok = validate_key(key); !ok) return fail(ok.error());
  const fs::path dir = fs::absolute(file).parent_path();
  std::string raw_path = (dir / ".grove-tmp-XXXXXX").string();
  int fd = ::mkostemp(raw_path.data(), O_CLOEXEC);
  if (fd < 0) return io_failure("cannot create a temporary file", dir);
  struct cleanup {
    int fd;
    std::string path;
    ~cleanup() {
      if (fd >= 0) ::close(fd);
      if (!path.empty()) ::unlink(path.c_str());
    }
  } raw{fd, raw_path};

  // 1. Stream the stored bytes into the temporary file.
  bool write_failed = false;
  impl::call c;
  c.full_key = impl_->full_key(key);
  c.max_response_bytes = unlimited_body;
  c.before_attempt = [&] {
    write_failed = ::ftruncate(raw.fd, 0) != 0 || ::lseek(raw.fd, 0, SEEK_SET) != 0;
  };
  c.on_body = [&](std::string_view piece) {
    while (!piece.empty() && !write_failed) {
      ssize_t n = ::write(raw.fd, piece.data(), piece.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        write_failed = true;
      else
        piece.remove_prefix(static_cast<std::size_t>(n));
    }
    return !write_failed;
  };
  auto res = impl_->send_ok(c);
  if (write_failed) return io_failure("cannot write the download", raw_path);
  if (!res) return fail(res.error());
  object_info info = impl_->info_from(key, *res);
  auto encoding = impl::encoding_of(*res);
  if (!encoding) return fail(encoding.error());

  // 2. Decode into a second temporary file when the object is compressed.
  std::string final_path = raw_path;
  cleanup decoded{-1, {}};
  if (*encoding != detail::encoding::identity) {
    decoded.path = (dir / ".grove-tmp-XXXXXX").string();
    decoded.fd = ::mkostemp(decoded.path.data(), O_CLOEXEC);
    if (decoded.fd < 0) {
      decoded.path.clear();
      return io_failure("cannot create a temporary file", dir);
    }
    auto decoder = detail::make_decoder(*encoding);
    if (::lseek(raw.fd, 0, SEEK_SET) != 0) return io_failure("cannot rewind", raw_path);
    std::string in(read_chunk, '\0');
    std::string out;
    for (bool last = false; !last;) {
      ssize_t n = ::read(raw.fd, in.data(), in.size());
      if (n < 0) return io_failure("cannot read the download", raw_path);
      last = n == 0;
      out.clear();
      auto ok = decoder->feed(std::string_view(in.data(), static_cast<std::size_t>(n)), last, out);
      if (!ok) return fail(ok.error());
      if (::write(decoded.fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
        return io_failure("cannot write the download", decoded.path);
      }
    }
    final_path = decoded.path;
  }

  // 3. Check the size and move the file into place.
  struct stat st {};
  if (::stat(final_path.c_str(), &st) != 0) return io_failure("cannot stat", final_path);
  if (static_cast<std::uint64_t>(st.st_size) != info.size) {
    return fail(errc::corrupt_data,
                "downloaded " + std::to_string(st.st_size) + " bytes, the object has " +
                    std::to_string(info.size),
                std::string(key));
  }
  ::fchmod(final_path == raw_path ? raw.fd : decoded.fd, 0644);
  if (::rename(final_path.c_str(), file.c_str()) != 0) return io_failure("cannot rename to", file);
  (final_path == raw_path ? raw.path : decoded.path).clear();
  return info;
}

result<object_info> s3_object_store::head(std::string_view key) {
  if (auto ok = validate_key(key); !ok) return fail(ok.error());
  impl::call c;
  c.method = "HEAD";
  c.full_key = impl_->full_key(key);
  auto res = impl_->send_ok(c);
  if (!res) return fail(res.error());
  return impl_->info_from(key, *res);
}

result<void> s3_object_store::remove(std::string_view key) {
  if (auto ok = validate_key(key); !ok) return fail(ok.error());
  impl::call c;
  c.method = "DELETE";
  c.full_key = impl_->full_key(key);
  auto res = impl_->send_ok(c);
  if (!res && res.error().code != make_error_code(errc::not_found)) return fail(res.error());
  return {};
}

result<list_page> s3_object_store::list(const list_options& options) {
  if (options.max_keys < 1 || options.max_keys > 1000) {
    return fail(errc::invalid_argument,
                "list max_keys must be 1-1000, got " + std::to_string(options.max_keys),
                "list_options.max_keys");
  }
  impl::call c;
  c.query = "list-type=2&max-keys=" + std::to_string(options.max_keys) +
            "&prefix=" + sigv4::uri_encode(impl_->full_key(options.prefix), false);
  if (!options.continuation_token.empty()) {
    c.query += "&continuation-token=" + sigv4::uri_encode(options.continuation_token, false);
  }
  auto res = impl_->send_ok(c);
  if (!res) return fail(res.error());

  list_page page;
  const std::size_t strip = impl_->options.key_prefix.size();
  for (std::string_view entry : xml_elements(res->body, "Contents")) {
    object_info info;
    std::string key = xml_text(entry, "Key");
    info.key = key.size() >= strip ? key.substr(strip) : key;
    info.etag = strip_quotes(xml_text(entry, "ETag"));
    info.size = std::strtoull(xml_text(entry, "Size").c_str(), nullptr, 10);
    info.last_modified = parse_time(xml_text(entry, "LastModified"), "%Y-%m-%dT%H:%M:%S");
    info.metadata.content_type.clear();
    page.objects.push_back(std::move(info));
  }
  if (xml_text(res->body, "IsTruncated") == "true") {
    page.next_token = xml_text(res->body, "NextContinuationToken");
    if (page.next_token.empty()) {
      return fail(errc::remote_error, "S3 listing is truncated but has no continuation token",
                  impl_->options.bucket);
    }
  }
  return page;
}

// ---------------------------------------------------------------------------

result<std::string> make_content_key(std::string_view prefix, std::string_view name,
                                     std::string_view content,
                                     std::chrono::system_clock::time_point when) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char date[16];
  std::strftime(date, sizeof date, "%Y/%m/%d", &utc);
  std::string key;
  if (!prefix.empty()) {
    key = std::string(prefix);
    if (key.back() != '/') key.push_back('/');
  }
  key += date;
  key += '/';
  key += name;
  key += '_';
  key += sigv4::sha256_hex(content).substr(0, 12);
  if (auto ok = validate_key(key); !ok) return fail(ok.error());
  return key;
}

}  // namespace grove::storage
