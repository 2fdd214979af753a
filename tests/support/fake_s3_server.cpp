#include "fake_s3_server.hpp"

#include "handler_http_server.hpp"

#include <boost/beast/http.hpp>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "grove/storage/sigv4.hpp"

namespace grove::test {
namespace bhttp = boost::beast::http;
namespace sigv4 = grove::storage::sigv4;

namespace {

using request_t = bhttp::request<bhttp::string_body>;
using response_t = bhttp::response<bhttp::string_body>;

struct stored_object {
  std::string body;
  std::string content_type;
  std::map<std::string, std::string> meta;  // x-amz-meta-* fields, lowercase names
  std::string etag;
};

struct upload {
  std::string key;
  std::string content_type;
  std::map<std::string, std::string> meta;
  std::map<int, std::string> parts;  // number -> body
};

struct fault {
  std::string method;
  std::string query_part;
  int status;
  std::size_t count;
};

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string query_param(const std::string& query, const std::string& name) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t end = query.find('&', pos);
    if (end == std::string::npos) end = query.size();
    std::string piece = query.substr(pos, end - pos);
    std::size_t eq = piece.find('=');
    if (sigv4::uri_decode(piece.substr(0, eq)) == name) {
      return eq == std::string::npos ? "" : sigv4::uri_decode(piece.substr(eq + 1));
    }
    pos = end + 1;
  }
  return {};
}

bool has_param(const std::string& query, const std::string& name) {
  return ("&" + query + "&").find("&" + name) != std::string::npos;
}

std::string etag_of(const std::string& body) {
  return "\"" + sigv4::sha256_hex(std::string_view(body)).substr(0, 32) + "\"";
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out.push_back(c);
  }
  return out;
}

}  // namespace

struct fake_s3_server::impl {
  options opts;
  mutable std::mutex mutex;
  std::unique_ptr<handler_http_server> server;
  std::map<std::string, stored_object> objects;
  std::map<std::string, upload> uploads;
  std::vector<fault> faults;
  std::size_t next_upload = 1;
  std::size_t requests = 0;
  std::size_t signature_failures = 0;
  std::size_t virtual_hosted = 0;

  response_t error(const request_t& req, int status, const std::string& code,
                   const std::string& message) {
    response_t res{static_cast<bhttp::status>(status), req.version()};
    res.set(bhttp::field::content_type, "application/xml");
    res.body() = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
                 "</Code><Message>" + xml_escape(message) +
                 "</Message><RequestId>fake</RequestId>"
                 "</Error>";
    return res;
  }

  // S3's check: rebuild the canonical request from the received request.
  std::optional<response_t> verify(const request_t& req, const std::string& path,
                                   const std::string& query) {
    const std::string auth(req[bhttp::field::authorization]);
    auto field = [&](const std::string& name) {
      std::size_t start = auth.find(name + "=");
      if (start == std::string::npos) return std::string();
      start += name.size() + 1;
      std::size_t end = auth.find_first_of(", ", start);
      return auth.substr(start, end == std::string::npos ? std::string::npos : end - start);
    };
    if (!auth.starts_with("AWS4-HMAC-SHA256 ")) {
      return error(req, 403, "AccessDenied", "Access Denied (no SigV4 authorization)");
    }
    const std::string credential = field("Credential");
    const std::string access_key = credential.substr(0, credential.find('/'));
    if (access_key != opts.access_key) {
      return error(req, 403, "InvalidAccessKeyId",
                   "The AWS Access Key Id you provided does not exist in our records.");
    }
    if (!opts.session_token.empty() && req["x-amz-security-token"] != opts.session_token) {
      return error(req, 403, "InvalidToken",
                   "The provided token is malformed or otherwise invalid.");
    }
    const std::string payload_hash(req["x-amz-content-sha256"]);
    if (payload_hash.empty()) {
      return error(req, 400, "InvalidRequest", "Missing required header x-amz-content-sha256");
    }
    if (payload_hash != "UNSIGNED-PAYLOAD" &&
        payload_hash != sigv4::sha256_hex(std::string_view(req.body()))) {
      return error(req, 400, "XAmzContentSHA256Mismatch",
                   "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }

    sigv4::request check;
    check.method = std::string(req.method_string());
    check.path = path;
    check.query = query;
    std::string signed_names = field("SignedHeaders");
    std::size_t pos = 0;
    while (pos <= signed_names.size()) {
      std::size_t end = signed_names.find(';', pos);
      if (end == std::string::npos) end = signed_names.size();
      std::string name = signed_names.substr(pos, end - pos);
      check.headers.push_back({name, std::string(req[name])});
      pos = end + 1;
    }
    std::tm tm{};
    const std::string amz_date(req["x-amz-date"]);
    if (::strptime(amz_date.c_str(), "%Y%m%dT%H%M%SZ", &tm) == nullptr) {
      return error(req, 403, "AccessDenied", "X-Amz-Date is missing or malformed");
    }
    sigv4::options sign_options;
    sign_options.credentials = {opts.access_key, opts.secret_key, ""};
    sign_options.region = opts.region;
    sign_options.service = "s3";
    sign_options.mode = sigv4::path_mode::s3;
    sign_options.payload_hash = payload_hash;
    sign_options.content_sha256_header = false;  // already among the signed headers
    auto expected =
        sigv4::sign(check, {}, sign_options, std::chrono::system_clock::from_time_t(::timegm(&tm)));
    if (!expected || expected->signature != field("Signature") ||
        expected->signed_headers != signed_names) {
      ++signature_failures;
      return error(req, 403, "SignatureDoesNotMatch",
                   "The request signature we calculated does not match the signature you "
                   "provided. Check your key and signing method.");
    }
    return std::nullopt;
  }

  response_t handle(const request_t& req) {
    std::lock_guard lock(mutex);
    ++requests;
    const std::string target(req.target());
    const std::size_t question = target.find('?');
    const std::string path = target.substr(0, question);
    const std::string query = question == std::string::npos ? "" : target.substr(question + 1);
    const std::string method(req.method_string());

    if (auto rejected = verify(req, path, query)) return *rejected;
    for (fault& f : faults) {
      if (f.count > 0 && (f.method.empty() || f.method == method) &&
          query.find(f.query_part) != std::string::npos) {
        --f.count;
        return error(req, f.status, f.status == 503 ? "SlowDown" : "InternalError",
                     "injected fault");
      }
    }

    // Bucket from the Host (virtual-hosted) or the first path segment.
    const std::string host(req[bhttp::field::host]);
    std::string bucket;
    std::string key;
    if (host.starts_with(opts.bucket + ".")) {
      ++virtual_hosted;
      bucket = opts.bucket;
      key = sigv4::uri_decode(path.substr(1));
    } else {
      std::size_t slash = path.find('/', 1);
      bucket = path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
      key = slash == std::string::npos ? "" : sigv4::uri_decode(path.substr(slash + 1));
    }
    if (bucket != opts.bucket) return error(req, 404, "NoSuchBucket", "no such bucket");

    if (key.empty()) return list(req, query);
    return object_operation(req, method, key, query);
  }

  response_t list(const request_t& req, const std::string& query) {
    const std::string prefix = query_param(query, "prefix");
    const std::string token = query_param(query, "continuation-token");
    std::size_t max_keys = 1000;
    if (has_param(query, "max-keys")) max_keys = std::stoul(query_param(query, "max-keys"));
    std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult>";
    std::size_t count = 0;
    std::string last;
    bool truncated = false;
    for (auto it = objects.upper_bound(token); it != objects.end(); ++it) {
      if (!it->first.starts_with(prefix)) continue;
      if (count == max_keys) {
        truncated = true;
        break;
      }
      body += "<Contents><Key>" + xml_escape(it->first) + "</Key><LastModified>" +
              "2026-12-04T12:00:00.000Z</LastModified><ETag>" + xml_escape(it->second.etag) +
              "</ETag><Size>" + std::to_string(it->second.body.size()) + "</Size></Contents>";
      last = it->first;
      ++count;
    }
    body += "<KeyCount>" + std::to_string(count) + "</KeyCount><IsTruncated>" +
            (truncated ? "true" : "false") + "</IsTruncated>";
    if (truncated)
      body += "<NextContinuationToken>" + xml_escape(last) + "</NextContinuationToken>";
    body += "</ListBucketResult>";
    response_t res{bhttp::status::ok, req.version()};
    res.set(bhttp::field::content_type, "application/xml");
    res.body() = body;
    return res;
  }

  static void read_meta(const request_t& req, std::string& content_type,
                        std::map<std::string, std::string>& meta) {
    content_type = std::string(req[bhttp::field::content_type]);
    for (const auto& f : req) {
      std::string name = lower(std::string(f.name_string()));
      if (name.starts_with("x-amz-meta-")) meta[name] = std::string(f.value());
    }
  }

  response_t object_operation(const request_t& req, const std::string& method,
                              const std::string& key, const std::string& query) {
    response_t res{bhttp::status::ok, req.version()};
    const std::string upload_id = query_param(query, "uploadId");

    if (method == "POST" && has_param(query, "uploads")) {
      upload u;
      u.key = key;
      read_meta(req, u.content_type, u.meta);
      const std::string id = "upload-" + std::to_string(next_upload++);
      uploads[id] = std::move(u);
      res.set(bhttp::field::content_type, "application/xml");
      res.body() = "<InitiateMultipartUploadResult><Key>" + xml_escape(key) + "</Key><UploadId>" +
                   id + "</UploadId></InitiateMultipartUploadResult>";
      return res;
    }
    if (!upload_id.empty()) {
      auto it = uploads.find(upload_id);
      if (it == uploads.end()) return error(req, 404, "NoSuchUpload", "no such upload");
      if (method == "PUT") {
        it->second.parts[std::stoi(query_param(query, "partNumber"))] = req.body();
        res.set(bhttp::field::etag, etag_of(req.body()));
        return res;
      }
      if (method == "DELETE") {
        uploads.erase(it);
        res.result(bhttp::status::no_content);
        return res;
      }
      if (method == "POST") {
        stored_object o;
        const std::string& list = req.body();
        std::size_t pos = 0;
        while ((pos = list.find("<PartNumber>", pos)) != std::string::npos) {
          int number = std::stoi(list.substr(pos + 12));
          auto part = it->second.parts.find(number);
          if (part == it->second.parts.end()) return error(req, 400, "InvalidPart", "no part");
          o.body += part->second;
          pos += 12;
        }
        o.content_type = it->second.content_type;
        o.meta = it->second.meta;
        o.etag = etag_of(o.body);
        objects[key] = std::move(o);
        uploads.erase(it);
        res.set(bhttp::field::content_type, "application/xml");
        res.body() = "<CompleteMultipartUploadResult><Key>" + xml_escape(key) + "</Key><ETag>" +
                     xml_escape(objects[key].etag) + "</ETag></CompleteMultipartUploadResult>";
        return res;
      }
    }
    if (method == "PUT") {
      stored_object o;
      o.body = req.body();
      read_meta(req, o.content_type, o.meta);
      o.etag = etag_of(o.body);
      res.set(bhttp::field::etag, o.etag);
      objects[key] = std::move(o);
      return res;
    }
    if (method == "DELETE") {
      objects.erase(key);
      res.result(bhttp::status::no_content);
      return res;
    }
    if (method == "GET" || method == "HEAD") {
      auto it = objects.find(key);
      if (it == objects.end()) {
        auto missing = error(req, 404, "NoSuchKey", "The specified key does not exist.");
        if (method == "HEAD") missing.body().clear();
        return missing;
      }
      res.set(bhttp::field::etag, it->second.etag);
      res.set(bhttp::field::last_modified, "Fri, 04 Dec 2026 12:00:00 GMT");
      if (!it->second.content_type.empty()) {
        res.set(bhttp::field::content_type, it->second.content_type);
      }
      for (const auto& [name, value] : it->second.meta) res.set(name, value);
      if (method == "GET") res.body() = it->second.body;
      res.content_length(it->second.body.size());
      return res;
    }
    return error(req, 405, "MethodNotAllowed", "method not allowed");
  }
};

fake_s3_server::fake_s3_server(options opts) : impl_(std::make_unique<impl>()) {
  impl_->opts = std::move(opts);
  impl_->server =
      std::make_unique<handler_http_server>([this](const handler_http_server::request& req) {
        return handler_http_server::reply{impl_->handle(req), false};
      });
}

fake_s3_server::~fake_s3_server() { stop(); }

void fake_s3_server::stop() { impl_->server->stop(); }

std::string fake_s3_server::endpoint() const { return impl_->server->endpoint(); }
unsigned short fake_s3_server::port() const { return impl_->server->port(); }

void fake_s3_server::inject(std::string method, std::string query_part, int status,
                            std::size_t count) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.push_back({std::move(method), std::move(query_part), status, count});
}

std::size_t fake_s3_server::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}
std::size_t fake_s3_server::signature_failures() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->signature_failures;
}
std::size_t fake_s3_server::objects() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->objects.size();
}
std::size_t fake_s3_server::open_uploads() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->uploads.size();
}
std::size_t fake_s3_server::virtual_hosted_requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->virtual_hosted;
}
std::string fake_s3_server::stored_body(const std::string& key) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->objects.find(key);
  return it == impl_->objects.end() ? std::string() : it->second.body;
}

}  // namespace grove::test
