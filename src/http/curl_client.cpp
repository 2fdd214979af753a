// The libcurl implementation of http::client.
//
// One CURLM multi handle per client, driven by the Asio event loop through
// libcurl's "multi_socket" API:
//   - CURLMOPT_SOCKETFUNCTION tells us which sockets to watch for reading or
//     writing. Sockets are opened and closed by us (CURLOPT_OPENSOCKETFUNCTION,
//     CURLOPT_CLOSESOCKETFUNCTION), wrapped in a posix::stream_descriptor, so
//     the reactor registration always ends before the descriptor is closed and
//     a reused descriptor number can never meet a stale registration.
//   - CURLMOPT_TIMERFUNCTION asks for one timer; a steady_timer calls
//     curl_multi_socket_action(CURL_SOCKET_TIMEOUT) when it fires.
//   - After every curl_multi_socket_action, curl_multi_info_read reports the
//     finished transfers, which complete their awaiting operation.
// Everything touching the multi handle runs on one strand. User code (the
// body callback) runs inside libcurl's write callback; anything it triggers
// on this client (a new request, a cancellation, close) is deferred until
// libcurl has returned, because libcurl forbids re-entrant multi calls.
#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include "grove/http/client.hpp"

namespace grove::http {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using completion_handler = asio::any_completion_handler<void(result<response>)>;

// Largest total size of one response's header lines; libcurl caps single lines
// (100 KiB) but not their sum in this version.
constexpr std::size_t max_header_bytes = std::size_t{1} << 20;

// Most reset easy handles kept for reuse (a few KiB each).
constexpr std::size_t max_idle_easy_handles = 1024;

// ---------------------------------------------------------------------------
// The one place where libcurl's result codes become grove::http::errc.
errc errc_from_curl(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return errc::timeout;
    case CURLE_COULDNT_CONNECT:
      return errc::connect_failed;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return errc::resolve_failed;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      return errc::connection_reset;
    case CURLE_PARTIAL_FILE:
      return errc::truncated;
    case CURLE_FILESIZE_EXCEEDED:
      return errc::too_large;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return errc::tls;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return errc::invalid_url;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_RANGE_ERROR:
      return errc::protocol;
    case CURLE_TOO_MANY_REDIRECTS:
      return errc::too_many_redirects;
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR:
      // Only our callbacks abort, and they record why before doing so.
      return errc::aborted_by_callback;
    default:
      return errc::other;
  }
}

// A field name or method: RFC 9110 "token" characters only.
bool is_token(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (unsigned char c : text) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
    if (!ok || c == 0) {
      return false;
    }
  }
  return true;
}

bool has_control_breaks(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

// The URL without query or fragment, for logs and error context: a query may
// carry credentials.
std::string redacted_url(std::string_view url) {
  std::size_t cut = url.find_first_of("?#");
  std::string out(url.substr(0, cut));
  if (cut != std::string_view::npos) {
    out += "?...";
  }
  return out;
}

void global_init() {
  static const CURLcode status = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (status != CURLE_OK) {
    throw std::runtime_error(std::string("curl_global_init failed: ") + curl_easy_strerror(status));
  }
}

// ---------------------------------------------------------------------------

// One watched socket. Shared with its pending waits, which may complete after
// the socket was closed.
struct socket_watch {
  explicit socket_watch(asio::posix::stream_descriptor d) : descriptor(std::move(d)) {}
  socket_watch(const socket_watch&) = delete;
  socket_watch& operator=(const socket_watch&) = delete;
  ~socket_watch() {
    if (!owned && descriptor.is_open()) {
      (void)descriptor.release();  // never close a descriptor libcurl owns
    }
  }

  asio::posix::stream_descriptor descriptor;
  int wanted = 0;        // CURL_POLL_IN / CURL_POLL_OUT bits libcurl asked for
  bool reading = false;  // a wait_read is pending
  bool writing = false;  // a wait_write is pending
  bool closed = false;
  bool owned = true;  // opened by on_open_socket (else libcurl's own, e.g. the resolver's)
};

// One transfer in flight. Owned by curl_client::transfers_; libcurl holds a
// raw pointer to it (CURLOPT_PRIVATE and the callbacks' user data).
struct transfer {
  // The handler is move-constructed, never move-assigned: Asio 1.81's
  // any_completion_handler::operator=(&&) recurses without end.
  explicit transfer(completion_handler h) : handler(std::move(h)) {}
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;

  std::uint64_t id = 0;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  bool shared_header_list = false;  // header_list belongs to the client (not freed here)
  request req;
  response res;
  std::size_t max_bytes = 0;
  std::size_t header_bytes = 0;
  bool added = false;      // the easy handle is in the multi handle
  bool streaming = false;  // body goes to req.on_body
  bool limited = false;    // counts toward the cap on running transfers (cannot multiplex)
  bool queued = false;     // waiting in the client's queue for a free slot
  std::optional<errc> abort_code;
  std::string abort_message;
  char error_buffer[CURL_ERROR_SIZE] = {};
  milliseconds idle_timeout{0};
  std::chrono::steady_clock::time_point started;  // accepted by the client (queue time included)
  std::optional<std::chrono::steady_clock::time_point> deadline;  // of the total timeout
  std::chrono::steady_clock::time_point last_activity;
  std::unique_ptr<asio::steady_timer> idle_timer;
  completion_handler handler;
  asio::cancellation_slot slot;
  asio::any_io_executor work;  // the handler's executor, with outstanding work

  ~transfer() {
    if (header_list != nullptr && !shared_header_list) {
      curl_slist_free_all(header_list);
    }
    if (easy != nullptr) {
      curl_easy_cleanup(easy);
    }
  }
};

class curl_client final : public client, public std::enable_shared_from_this<curl_client> {
 public:
  curl_client(asio::any_io_executor executor, client_options options)
      : strand_(asio::make_strand(std::move(executor))),
        options_(std::move(options)),
        timer_(strand_),
        queue_timer_(strand_),
        slot_limit_(options_.max_total_connections) {
    global_init();
    multi_ = curl_multi_init();
    if (multi_ == nullptr) {
      throw std::runtime_error("curl_multi_init failed");
    }
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &curl_client::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &curl_client::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(options_.max_connections_per_host));
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      static_cast<long>(options_.max_total_connections));
    if (options_.max_idle_connections > 0) {
      curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                        static_cast<long>(options_.max_idle_connections));
    }
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);

    // The header lists of requests without header fields, shared by their
    // transfers instead of being built for each one.
    bare_headers_ = curl_slist_append(nullptr, "Expect:");
    curl_slist* content_type = curl_slist_append(nullptr, "Content-Type:");
    body_headers_ = content_type != nullptr ? curl_slist_append(content_type, "Expect:") : nullptr;
    if (bare_headers_ == nullptr || body_headers_ == nullptr) {
      if (body_headers_ == nullptr) {
        curl_slist_free_all(content_type);  // the second append failed and kept the list
      }
      free_shared_headers();
      curl_multi_cleanup(multi_);
      throw std::runtime_error("out of memory building the default header lists");
    }
  }

  curl_client(const curl_client&) = delete;
  curl_client& operator=(const curl_client&) = delete;

  // Requires: no other thread uses the client (it is the last reference).
  ~curl_client() override {
    close_now();
    free_shared_headers();
  }

  asio::awaitable<result<response>> async_request(request req) override {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(result<response>)>(
        // A weak reference: a pending request does not keep the client alive,
        // so dropping the last reference closes it (pending requests then
        // complete with errc::closed), like destroying an Asio socket.
        [weak = weak_from_this()](auto handler, request r) {
          auto self = weak.lock();
          if (!self) {
            auto executor = asio::get_associated_executor(handler);
            asio::post(executor, [handler = std::move(handler)]() mutable {
              std::move(handler)(result<response>(fail(errc::closed, "the HTTP client is gone")));
            });
            return;
          }
          asio::any_io_executor work =
              asio::prefer(asio::get_associated_executor(handler, self->strand_),
                           asio::execution::outstanding_work.tracked);
          self->initiate(completion_handler(std::move(handler)), std::move(work), std::move(r));
        },
        asio::use_awaitable, std::move(req));
  }

  asio::awaitable<void> async_close() override {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
        [self = shared_from_this()](auto handler) {
          auto work = asio::prefer(asio::get_associated_executor(handler, self->strand_),
                                   asio::execution::outstanding_work.tracked);
          asio::dispatch(self->strand_,
                         [self, handler = std::move(handler), work = std::move(work)]() mutable {
                           self->outside_curl([self, handler = std::move(handler),
                                               work = std::move(work)]() mutable {
                             self->close_now();
                             asio::post(work, std::move(handler));
                           });
                         });
        },
        asio::use_awaitable);
  }

  client_stats stats() const override {
    client_stats s;
    s.requests_started = started_.load(std::memory_order_relaxed);
    s.requests_succeeded = succeeded_.load(std::memory_order_relaxed);
    s.requests_failed = failed_.load(std::memory_order_relaxed);
    s.requests_cancelled = cancelled_.load(std::memory_order_relaxed);
    s.connections_opened = connections_.load(std::memory_order_relaxed);
    s.in_flight = in_flight_.load(std::memory_order_relaxed);
    s.queued = queued_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  // Cancellation slot handler: forwards a signal to the strand by transfer id,
  // so a transfer that finished in the meantime is simply not found.
  struct cancel_handler {
    cancel_handler(std::weak_ptr<curl_client> c, std::uint64_t transfer_id)
        : client(std::move(c)), id(transfer_id) {}

    std::weak_ptr<curl_client> client;
    std::uint64_t id;

    void operator()(asio::cancellation_type_t type) const {
      if (type == asio::cancellation_type::none) {
        return;
      }
      if (auto self = client.lock()) {
        std::uint64_t transfer_id = id;
        asio::dispatch(self->strand_, [self, transfer_id] {
          self->outside_curl([self, transfer_id] {
            self->abort(transfer_id, errc::cancelled, "cancelled by the caller");
          });
        });
      }
    }
  };

  // Runs in the initiating context (the awaiting coroutine's thread), where the
  // cancellation slot may be touched; then moves to the strand.
  void initiate(completion_handler handler, asio::any_io_executor work, request req) {
    auto t = std::make_unique<transfer>(std::move(handler));
    t->id = next_id_.fetch_add(1, std::memory_order_relaxed) + 1;
    t->work = std::move(work);
    t->slot = asio::get_associated_cancellation_slot(t->handler);
    if (t->slot.is_connected()) {
      t->slot.emplace<cancel_handler>(weak_from_this(), t->id);
    }
    t->req = std::move(req);
    asio::dispatch(strand_, [self = shared_from_this(), t = std::move(t)]() mutable {
      self->outside_curl([self, t = std::move(t)]() mutable { self->begin(std::move(t)); });
    });
  }

  // Runs `fn` now, or right after libcurl returns when called from inside a
  // libcurl callback (libcurl rejects re-entrant multi calls).
  template <class F>
  void outside_curl(F&& fn) {
    if (inside_curl_ > 0) {
      asio::post(strand_, std::forward<F>(fn));
    } else {
      fn();
    }
  }

  // --- Starting a transfer (on the strand) ---

  result<void> check_request(const transfer& t) const {
    const request& req = t.req;
    if (!is_token(req.method)) {
      return fail(errc::invalid_request,
                  "invalid HTTP method '" + req.method + "': expected a token such as GET or POST");
    }
    for (const header_field& field : req.headers) {
      if (!is_token(field.name)) {
        return fail(errc::invalid_request,
                    "invalid header name '" + field.name + "': expected a token");
      }
      if (has_control_breaks(field.value)) {
        return fail(errc::invalid_request,
                    "header '" + field.name + "' has CR, LF or NUL in its value");
      }
    }
    if (req.connect_timeout && req.connect_timeout->count() <= 0) {
      return fail(errc::invalid_request, "request connect_timeout must be > 0 ms");
    }
    if (req.timeout && req.timeout->count() < 0) {
      return fail(errc::invalid_request, "request timeout must be >= 0 ms");
    }
    if (req.idle_timeout && req.idle_timeout->count() < 0) {
      return fail(errc::invalid_request, "request idle_timeout must be >= 0 ms");
    }
    if (req.max_response_bytes && *req.max_response_bytes == 0) {
      return fail(errc::invalid_request, "request max_response_bytes must be > 0");
    }

    // Parse the URL now so a bad one fails with a precise message and no I/O.
    CURLU* url = curl_url();
    if (url == nullptr) {
      return fail(errc::other, "out of memory parsing the URL");
    }
    CURLUcode parsed = curl_url_set(url, CURLUPART_URL, req.url.c_str(), 0);
    char* scheme = nullptr;
    if (parsed == CURLUE_OK) {
      parsed = curl_url_get(url, CURLUPART_SCHEME, &scheme, 0);
    }
    bool http_scheme = scheme != nullptr &&
                       (std::strcmp(scheme, "http") == 0 || std::strcmp(scheme, "https") == 0);
    std::string reason =
        parsed == CURLUE_OK ? "scheme must be http or https" : curl_url_strerror(parsed);
    curl_free(scheme);
    curl_url_cleanup(url);
    if (req.url.empty() || !http_scheme) {
      return fail(errc::invalid_url, "invalid URL '" + redacted_url(req.url) + "': " + reason);
    }
    return {};
  }

  // Sets every option of the easy handle; false when libcurl refused one.
  // `total` is what is left of the total timeout (0: no limit).
  bool configure(transfer& t, milliseconds total) {
    CURL* e = t.easy;
    const request& req = t.req;
    bool ok = true;
    auto set = [&](CURLoption option, auto value) {
      ok = ok && curl_easy_setopt(e, option, value) == CURLE_OK;
    };

    set(CURLOPT_PRIVATE, static_cast<void*>(&t));
    set(CURLOPT_ERRORBUFFER, t.error_buffer);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_URL, req.url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");

    // Method and body. POSTFIELDS does not copy: t.req owns the body for the
    // whole transfer.
    if (req.method == "HEAD") {
      set(CURLOPT_NOBODY, 1L);
    } else if (req.method == "GET" && req.body.empty()) {
      set(CURLOPT_HTTPGET, 1L);
    } else {
      if (req.method != "POST" || req.body.empty()) {
        set(CURLOPT_CUSTOMREQUEST, req.method.c_str());
      }
      if (!req.body.empty() || req.method == "POST") {
        set(CURLOPT_POSTFIELDS, req.body.data());
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      }
    }

    // Header fields. libcurl adds a form content type to bodies and an
    // "Expect: 100-continue" round trip to large ones; both are suppressed
    // unless the caller asked for them ("Name:" removes a field, "Name;"
    // sends it empty).
    auto append = [&](const std::string& line) {
      curl_slist* next = curl_slist_append(t.header_list, line.c_str());
      ok = ok && next != nullptr;
      if (next != nullptr) {
        t.header_list = next;
      }
    };
    if (req.headers.empty()) {
      t.header_list = req.body.empty() ? bare_headers_ : body_headers_;
      t.shared_header_list = true;
    } else {
      for (const header_field& field : req.headers) {
        append(field.value.empty() ? field.name + ";" : field.name + ": " + field.value);
      }
      if (!req.body.empty() && !req.headers.contains("content-type")) {
        append("Content-Type:");
      }
      if (!req.headers.contains("expect")) {
        append("Expect:");
      }
    }
    set(CURLOPT_HTTPHEADER, t.header_list);
    if (!options_.user_agent.empty() && !req.headers.contains("user-agent")) {
      set(CURLOPT_USERAGENT, options_.user_agent.c_str());
    }
    if (options_.accept_compressed && !req.headers.contains("accept-encoding")) {
      set(CURLOPT_ACCEPT_ENCODING, "");
    }

    // Callbacks, including our own socket management.
    set(CURLOPT_HEADERFUNCTION, &curl_client::on_header);
    set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
    set(CURLOPT_WRITEFUNCTION, &curl_client::on_write);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
    set(CURLOPT_OPENSOCKETFUNCTION, &curl_client::on_open_socket);
    set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(this));
    set(CURLOPT_CLOSESOCKETFUNCTION, &curl_client::on_close_socket);
    set(CURLOPT_CLOSESOCKETDATA, static_cast<void*>(this));

    // Limits and timeouts.
    milliseconds connect = req.connect_timeout.value_or(options_.connect_timeout);
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect.count()));
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()));
    set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t.max_bytes));

    // Protocol, redirects, TLS.
    set(CURLOPT_HTTP_VERSION, options_.http2 ? static_cast<long>(CURL_HTTP_VERSION_2TLS)
                                             : static_cast<long>(CURL_HTTP_VERSION_1_1));
    // PIPEWAIT makes a transfer wait for a connection that might multiplex
    // rather than open a new one. Only HTTP/2 over TLS multiplexes; on plain
    // HTTP/1.1 it serialised concurrent requests onto one connection
    // (measured: 1,000 requests in flight ran no faster than one at a time).
    if (options_.http2 && req.url.compare(0, 8, "https://") == 0) {
      set(CURLOPT_PIPEWAIT, 1L);
    }
    set(CURLOPT_FOLLOWLOCATION, options_.follow_redirects ? 1L : 0L);
    set(CURLOPT_MAXREDIRS, static_cast<long>(options_.max_redirects));
    set(CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    set(CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_file.empty()) {
      set(CURLOPT_CAINFO, options_.ca_file.c_str());
    }
    if (!options_.ca_path.empty()) {
      set(CURLOPT_CAPATH, options_.ca_path.c_str());
    }
    return ok;
  }

  // Accepts a transfer: checks it, then starts it, or queues it when it
  // cannot multiplex and slot_limit_ such transfers already run.
  void begin(std::unique_ptr<transfer> t) {
    if (closed_) {
      return complete(std::move(t), fail(errc::closed, "the HTTP client is closed"));
    }
    if (auto valid = check_request(*t); !valid) {
      return complete(std::move(t), fail(std::move(valid).error()));
    }

    t->max_bytes = t->req.max_response_bytes.value_or(options_.max_response_bytes);
    t->idle_timeout = t->req.idle_timeout.value_or(options_.idle_timeout);
    t->started = std::chrono::steady_clock::now();
    if (milliseconds total = t->req.timeout.value_or(options_.timeout); total.count() > 0) {
      t->deadline = t->started + total;
    }
    t->limited = slot_limit_ > 0 && !(options_.http2 && t->req.url.compare(0, 8, "https://") == 0);
    transfer& accepted = *t;
    transfers_.emplace(accepted.id, std::move(t));
    if (accepted.limited && limited_running_ >= slot_limit_) {
      accepted.queued = true;
      queued_.fetch_add(1, std::memory_order_relaxed);
      waiting_.push_back(accepted.id);
      if (accepted.deadline) {
        watch_queue_deadline(*accepted.deadline);
      }
      return;
    }
    start(accepted);
  }

  // Hands an accepted transfer to libcurl. On failure the transfer is
  // completed (and `t` destroyed).
  void start(transfer& t) {
    const std::uint64_t id = t.id;
    milliseconds remaining{0};
    if (t.deadline) {
      remaining =
          std::chrono::duration_cast<milliseconds>(*t.deadline - std::chrono::steady_clock::now());
      if (remaining.count() <= 0) {
        return abort(id, errc::timeout, queue_timeout_message(t));
      }
    }
    t.easy = take_easy_handle();
    if (t.easy == nullptr || !configure(t, remaining)) {
      return abort(id, errc::other, "libcurl refused the transfer options");
    }
    if (CURLMcode added = curl_multi_add_handle(multi_, t.easy); added != CURLM_OK) {
      return abort(id, errc::other, curl_multi_strerror(added));
    }

    t.added = true;
    t.last_activity = std::chrono::steady_clock::now();
    if (t.idle_timeout.count() > 0) {
      t.idle_timer = std::make_unique<asio::steady_timer>(strand_);
      arm_idle_timer(t, t.idle_timeout);
    }
    if (t.limited) {
      ++limited_running_;
    }
    started_.fetch_add(1, std::memory_order_relaxed);
    in_flight_.fetch_add(1, std::memory_order_relaxed);
  }

  std::string queue_timeout_message(const transfer& t) const {
    auto waited =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t.started);
    return "timed out after " + std::to_string(waited.count()) +
           " ms waiting for a free connection (max_total_connections = " +
           std::to_string(slot_limit_) + ")";
  }

  // Starts queued transfers, oldest first, while slots are free. Ids of
  // transfers that ended while queued (cancelled, timed out) are skipped.
  void fill_slots() {
    if (filling_) {
      return;  // a start that failed completed its transfer from inside this loop
    }
    filling_ = true;
    while (!closed_ && limited_running_ < slot_limit_ && !waiting_.empty()) {
      const std::uint64_t id = waiting_.front();
      waiting_.pop_front();
      auto it = transfers_.find(id);
      if (it == transfers_.end() || !it->second->queued) {
        continue;
      }
      it->second->queued = false;
      queued_.fetch_sub(1, std::memory_order_relaxed);
      start(*it->second);
    }
    filling_ = false;
  }

  // One timer serves the total timeouts of every queued transfer: it is armed
  // for the earliest deadline and re-armed only when an earlier one arrives
  // (FIFO order with equal timeouts makes that rare).
  void watch_queue_deadline(std::chrono::steady_clock::time_point at) {
    if (queue_timer_armed_ && queue_timer_.expiry() <= at) {
      return;
    }
    queue_timer_armed_ = true;
    queue_timer_.expires_at(at);  // aborts a pending wait, whose handler then does nothing
    queue_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) {
        return;
      }
      if (auto self = weak.lock()) {
        self->expire_queued();
      }
    });
  }

  // Fails the queued transfers whose total timeout passed; re-arms for the next.
  void expire_queued() {
    queue_timer_armed_ = false;
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::uint64_t> expired;
    std::optional<std::chrono::steady_clock::time_point> next;
    for (std::uint64_t id : waiting_) {
      auto it = transfers_.find(id);
      if (it == transfers_.end() || !it->second->queued || !it->second->deadline) {
        continue;
      }
      const auto deadline = *it->second->deadline;
      if (deadline <= now) {
        expired.push_back(id);
      } else if (!next || deadline < *next) {
        next = deadline;
      }
    }
    for (std::uint64_t id : expired) {
      auto it = transfers_.find(id);
      abort(id, errc::timeout, queue_timeout_message(*it->second));
    }
    if (next && !closed_) {
      watch_queue_deadline(*next);
    }
  }

  // Easy handles are reused through curl_easy_reset: a fresh curl_easy_init
  // and curl_easy_cleanup per request were the largest allocation cost in the
  // perf profile of BM_in_flight/1000. Reset keeps no options, callbacks or
  // request data; the handle is detached from the multi handle before reuse.
  CURL* take_easy_handle() {
    if (idle_easy_.empty()) {
      return curl_easy_init();
    }
    CURL* easy = idle_easy_.back();
    idle_easy_.pop_back();
    return easy;
  }

  // Requires: `easy` is null or not in the multi handle.
  void recycle_easy_handle(CURL* easy) {
    if (easy == nullptr) {
      return;
    }
    if (closed_ || idle_easy_.size() >= max_idle_easy_handles) {
      curl_easy_cleanup(easy);
      return;
    }
    curl_easy_reset(easy);
    idle_easy_.push_back(easy);
  }

  void arm_idle_timer(transfer& t, milliseconds after) {
    t.idle_timer->expires_after(after);
    t.idle_timer->async_wait(
        [weak = weak_from_this(), id = t.id](const boost::system::error_code& ec) {
          auto self = weak.lock();
          if (ec || !self) {
            return;
          }
          self->check_idle(id);
        });
  }

  void check_idle(std::uint64_t id) {
    auto it = transfers_.find(id);
    if (it == transfers_.end()) {
      return;
    }
    transfer& t = *it->second;
    auto quiet = std::chrono::steady_clock::now() - t.last_activity;
    if (quiet >= t.idle_timeout) {
      abort(id, errc::timeout,
            "no data received for " + std::to_string(t.idle_timeout.count()) + " ms");
      return;
    }
    arm_idle_timer(
        t, std::chrono::duration_cast<milliseconds>(t.idle_timeout - quiet) + milliseconds{1});
  }

  // --- Finishing a transfer (on the strand, outside libcurl) ---

  // Detaches the transfer from libcurl (which closes its connection if it was
  // mid-transfer, so no half-read connection returns to the pool), frees the
  // handle, and posts the completion to the awaiting operation's executor.
  void complete(std::unique_ptr<transfer> t, result<response> outcome) {
    bool freed_slot = false;
    if (t->added) {
      curl_multi_remove_handle(multi_, t->easy);
      t->added = false;
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      if (t->limited) {
        --limited_running_;
        freed_slot = true;
      }
    }
    if (t->queued) {
      t->queued = false;  // its id stays in waiting_ and is skipped there
      queued_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (t->idle_timer) {
      t->idle_timer->cancel();
    }
    log_outcome(*t, outcome);
    if (outcome) {
      succeeded_.fetch_add(1, std::memory_order_relaxed);
    } else {
      failed_.fetch_add(1, std::memory_order_relaxed);
      if (outcome.error().code == errc::cancelled) {
        cancelled_.fetch_add(1, std::memory_order_relaxed);
      }
    }

    completion_handler handler = std::move(t->handler);
    asio::cancellation_slot slot = t->slot;
    asio::any_io_executor work = std::move(t->work);
    recycle_easy_handle(std::exchange(t->easy, nullptr));
    t.reset();  // frees the header list now
    asio::post(work, [handler = std::move(handler), slot, outcome = std::move(outcome)]() mutable {
      // The slot belongs to the awaiting coroutine; clear it on its executor.
      if (slot.is_connected()) {
        slot.clear();
      }
      std::move(handler)(std::move(outcome));
    });
    if (freed_slot) {
      fill_slots();
    }
  }

  void log_outcome(const transfer& t, const result<response>& outcome) const {
    if (!options_.logger) {
      return;
    }
    auto elapsed =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t.started);
    if (outcome) {
      options_.logger->debug("http #{} {} {} -> {} ({} bytes, {} ms)", t.id, t.req.method,
                             redacted_url(t.req.url), outcome->status, outcome->body_bytes,
                             elapsed.count());
    } else if (outcome.error().code != errc::cancelled) {
      options_.logger->warn("http #{} {} {} failed after {} ms: {}", t.id, t.req.method,
                            redacted_url(t.req.url), elapsed.count(), outcome.error().message);
    }
  }

  // Ends a running transfer with `code` (a cancellation, an idle timeout).
  // Requires: not inside a libcurl callback.
  void abort(std::uint64_t id, errc code, std::string message) {
    auto it = transfers_.find(id);
    if (it == transfers_.end()) {
      return;
    }
    std::unique_ptr<transfer> t = std::move(it->second);
    transfers_.erase(it);
    std::string url = redacted_url(t->req.url);
    complete(std::move(t), fail(code, std::move(message), std::move(url)));
  }

  // Turns libcurl's verdict on a finished transfer into the result.
  result<response> outcome_of(transfer& t, CURLcode code) {
    std::string url = redacted_url(t.req.url);
    if (t.abort_code) {
      return fail(*t.abort_code, t.abort_message, url);
    }
    if (code != CURLE_OK) {
      errc mapped = errc_from_curl(code);
      std::string text = t.error_buffer[0] != '\0' ? t.error_buffer : curl_easy_strerror(code);
      if (mapped == errc::timeout) {
        // libcurl reports connect and total timeouts with the same code; no
        // established connection means it was the connect phase.
        curl_off_t connected = 0;
        curl_easy_getinfo(t.easy, CURLINFO_CONNECT_TIME_T, &connected);
        if (connected == 0) {
          mapped = errc::connect_timeout;
        }
      }
      if (mapped == errc::too_large) {
        // Refused up front from Content-Length (CURLOPT_MAXFILESIZE).
        text =
            "response body exceeds max_response_bytes (" + std::to_string(t.max_bytes) + " bytes)";
      }
      return fail(mapped, std::move(text), std::move(url));
    }
    long version = 0;
    curl_easy_getinfo(t.easy, CURLINFO_HTTP_VERSION, &version);
    switch (version) {
      case CURL_HTTP_VERSION_1_0:
        t.res.http_version = 10;
        break;
      case CURL_HTTP_VERSION_1_1:
        t.res.http_version = 11;
        break;
      case CURL_HTTP_VERSION_2_0:
        t.res.http_version = 20;
        break;
      case CURL_HTTP_VERSION_3:
        t.res.http_version = 30;
        break;
      default:
        break;
    }
    return std::move(t.res);
  }

  // Completes every transfer libcurl reports as done.
  void process_done() {
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &left)) {
      if (message->msg != CURLMSG_DONE) {
        continue;
      }
      transfer* raw = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &raw);
      CURLcode code = message->data.result;
      auto it = transfers_.find(raw->id);
      if (it == transfers_.end()) {
        continue;
      }
      std::unique_ptr<transfer> t = std::move(it->second);
      transfers_.erase(it);
      result<response> outcome = outcome_of(*t, code);
      complete(std::move(t), std::move(outcome));
    }
  }

  // Calls curl_multi_socket_action and then completes what finished.
  void socket_action(curl_socket_t fd, int events) {
    int running = 0;
    ++inside_curl_;
    curl_multi_socket_action(multi_, fd, events, &running);
    --inside_curl_;
    process_done();
  }

  void free_shared_headers() {
    curl_slist_free_all(bare_headers_);
    curl_slist_free_all(body_headers_);
    bare_headers_ = body_headers_ = nullptr;
  }

  void close_now() {
    if (closed_) {
      return;
    }
    closed_ = true;
    std::vector<std::unique_ptr<transfer>> pending;
    pending.reserve(transfers_.size());
    for (auto& [id, t] : transfers_) {
      pending.push_back(std::move(t));
    }
    transfers_.clear();
    for (auto& t : pending) {
      std::string url = redacted_url(t->req.url);
      complete(std::move(t), fail(errc::closed, "the HTTP client was closed", std::move(url)));
    }
    timer_.cancel();
    queue_timer_.cancel();
    waiting_.clear();
    if (multi_ != nullptr) {
      curl_multi_cleanup(multi_);  // closes pooled connections through on_close_socket
      multi_ = nullptr;
    }
    for (CURL* easy : idle_easy_) {
      curl_easy_cleanup(easy);
    }
    idle_easy_.clear();
    for (auto& [fd, watch] : sockets_) {
      boost::system::error_code ignored;
      watch->closed = true;
      if (watch->owned) {
        watch->descriptor.close(ignored);
      } else {
        (void)watch->descriptor.release();
      }
    }
    sockets_.clear();
  }

  // --- Socket and timer plumbing ---

  void watch(const std::shared_ptr<socket_watch>& w) {
    if ((w->wanted & CURL_POLL_IN) != 0 && !w->reading) {
      w->reading = true;
      w->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                               [weak = weak_from_this(), w](const boost::system::error_code& ec) {
                                 w->reading = false;
                                 if (auto self = weak.lock()) {
                                   self->on_ready(w, CURL_CSELECT_IN, ec);
                                 }
                               });
    }
    if ((w->wanted & CURL_POLL_OUT) != 0 && !w->writing) {
      w->writing = true;
      w->descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                               [weak = weak_from_this(), w](const boost::system::error_code& ec) {
                                 w->writing = false;
                                 if (auto self = weak.lock()) {
                                   self->on_ready(w, CURL_CSELECT_OUT, ec);
                                 }
                               });
    }
  }

  void on_ready(const std::shared_ptr<socket_watch>& w, int event,
                const boost::system::error_code& ec) {
    if (ec || w->closed || closed_) {
      return;  // closed (operation_aborted) or the client is gone
    }
    int wanted_bit = event == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
    if ((w->wanted & wanted_bit) == 0) {
      return;  // libcurl lost interest while the wait was pending
    }
    socket_action(w->descriptor.native_handle(), event);
    if (!w->closed && !closed_) {
      watch(w);
    }
  }

  void on_timeout() {
    if (!closed_) {
      socket_action(CURL_SOCKET_TIMEOUT, 0);
    }
  }

  // --- libcurl callbacks ---

  static int on_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) {
    auto* self = static_cast<curl_client*>(userp);
    auto it = self->sockets_.find(fd);
    if (it == self->sockets_.end()) {
      if (what == CURL_POLL_REMOVE) {
        return 0;
      }
      // A descriptor libcurl opened itself: the threaded resolver's wake-up
      // socket pair. Watch it without owning it.
      asio::posix::stream_descriptor descriptor(self->strand_);
      boost::system::error_code ec;
      descriptor.assign(fd, ec);
      if (ec) {
        return -1;  // libcurl fails the transfers that use this socket
      }
      auto w = std::make_shared<socket_watch>(std::move(descriptor));
      w->owned = false;
      it = self->sockets_.emplace(fd, std::move(w)).first;
    }
    const std::shared_ptr<socket_watch>& w = it->second;
    if (what == CURL_POLL_REMOVE && !w->owned) {
      // Deregister before libcurl closes the descriptor; release() leaves it
      // open and aborts the pending waits.
      w->closed = true;
      w->wanted = 0;
      (void)w->descriptor.release();
      self->sockets_.erase(it);
      return 0;
    }
    w->wanted = what == CURL_POLL_REMOVE ? 0 : what;
    self->watch(w);
    return 0;
  }

  // libcurl's timer callback: it replaces the one deadline libcurl wants.
  // Re-arming an Asio timer costs a timerfd_settime system call plus an
  // aborted wait, and libcurl moves its deadline after nearly every socket
  // event: perf showed 30% of the samples in timerfd_settime with
  // 1,000 requests in flight. So the steady_timer is re-armed only when the
  // deadline moves earlier; a later or cleared deadline is only recorded and
  // checked when the armed wait fires. "Run now" (0 ms) is a post, not a timer
  // (calling socket_action from inside this callback would be re-entrant).
  static int on_timer(CURLM*, long timeout_ms, void* userp) {
    auto* self = static_cast<curl_client*>(userp);
    if (timeout_ms < 0) {
      self->deadline_.reset();
      return 0;
    }
    if (timeout_ms == 0) {
      self->deadline_.reset();
      if (!self->timeout_posted_) {
        self->timeout_posted_ = true;
        asio::post(self->strand_, [weak = self->weak_from_this()] {
          if (auto client = weak.lock()) {
            client->timeout_posted_ = false;
            client->on_timeout();
          }
        });
      }
      return 0;
    }
    auto deadline = std::chrono::steady_clock::now() + milliseconds(timeout_ms);
    self->deadline_ = deadline;
    if (!self->timer_armed_ || self->timer_.expiry() > deadline) {
      self->arm_timer(deadline);
    }
    return 0;
  }

  void arm_timer(std::chrono::steady_clock::time_point at) {
    timer_armed_ = true;
    timer_.expires_at(at);  // aborts a pending wait, whose handler then does nothing
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) {
        return;
      }
      if (auto client = weak.lock()) {
        client->on_timer_fired();
      }
    });
  }

  void on_timer_fired() {
    timer_armed_ = false;
    if (!deadline_ || closed_) {
      return;  // libcurl cleared its deadline after this wait was armed
    }
    if (*deadline_ > std::chrono::steady_clock::now()) {
      arm_timer(*deadline_);  // the deadline moved later meanwhile
      return;
    }
    deadline_.reset();
    on_timeout();
  }

  static curl_socket_t on_open_socket(void* userp, curlsocktype purpose, curl_sockaddr* address) {
    auto* self = static_cast<curl_client*>(userp);
    if (purpose != CURLSOCKTYPE_IPCXN) {
      return CURL_SOCKET_BAD;
    }
    int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd < 0) {
      return CURL_SOCKET_BAD;
    }
    // A stale entry under this number can only be a libcurl-owned descriptor
    // that was closed without CURL_POLL_REMOVE; drop it without closing.
    // Release it before the new assign, while the number is not registered.
    if (auto stale = self->sockets_.find(fd); stale != self->sockets_.end()) {
      stale->second->closed = true;
      (void)stale->second->descriptor.release();
      self->sockets_.erase(stale);
    }
    asio::posix::stream_descriptor descriptor(self->strand_);
    boost::system::error_code ec;
    descriptor.assign(fd, ec);
    if (ec) {
      ::close(fd);
      return CURL_SOCKET_BAD;
    }
    self->sockets_[fd] = std::make_shared<socket_watch>(std::move(descriptor));
    self->connections_.fetch_add(1, std::memory_order_relaxed);
    return fd;
  }

  static int on_close_socket(void* userp, curl_socket_t fd) {
    auto* self = static_cast<curl_client*>(userp);
    auto it = self->sockets_.find(fd);
    if (it == self->sockets_.end()) {
      return ::close(fd);
    }
    // close() deregisters from the reactor before closing the descriptor;
    // pending waits complete with operation_aborted.
    boost::system::error_code ignored;
    it->second->closed = true;
    it->second->descriptor.close(ignored);
    self->sockets_.erase(it);
    return 0;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* userp) {
    auto* t = static_cast<transfer*>(userp);
    std::size_t length = size * count;
    t->last_activity = std::chrono::steady_clock::now();
    t->header_bytes += length;
    if (t->header_bytes > max_header_bytes) {
      t->abort_code = errc::too_large;
      t->abort_message = "response headers exceed " + std::to_string(max_header_bytes) + " bytes";
      return 0;
    }

    std::string_view line(data, length);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
      line.remove_suffix(1);
    }
    if (line.rfind("HTTP/", 0) == 0) {
      // A new status line: interim (1xx) and redirect responses come first.
      t->res.headers.clear();
      std::size_t space = line.find(' ');
      int status = 0;
      if (space != std::string_view::npos && line.size() >= space + 4) {
        for (char c : line.substr(space + 1, 3)) {
          status = (c >= '0' && c <= '9') ? status * 10 + (c - '0') : -1000;
        }
      }
      t->res.status = status > 0 ? status : 0;
    } else if (line.empty()) {
      // The end of a header block; 1xx blocks are followed by another one.
      if (t->res.status >= 200) {
        t->streaming = t->req.on_body && t->res.ok();
      }
    } else if (line.front() == ' ' || line.front() == '\t') {
      // An obsolete folded continuation of the previous field.
      if (t->res.headers.size() > 0) {
        t->res.headers.append_to_last(" " + std::string(trim(line)));
      }
    } else if (std::size_t colon = line.find(':'); colon != std::string_view::npos) {
      t->res.headers.add(std::string(trim(line.substr(0, colon))),
                         std::string(trim(line.substr(colon + 1))));
    }
    return length;
  }

  static std::size_t on_write(char* data, std::size_t size, std::size_t count, void* userp) {
    auto* t = static_cast<transfer*>(userp);
    std::size_t length = size * count;
    if (t->abort_code) {
      return 0;
    }
    t->last_activity = std::chrono::steady_clock::now();
    if (length > t->max_bytes - t->res.body_bytes) {
      t->abort_code = errc::too_large;
      t->abort_message =
          "response body exceeds max_response_bytes (" + std::to_string(t->max_bytes) + " bytes)";
      return 0;
    }
    t->res.body_bytes += length;
    if (!t->streaming) {
      t->res.body.append(data, length);
      return length;
    }
    try {
      if (!t->req.on_body(std::string_view(data, length))) {
        t->abort_code = errc::aborted_by_callback;
        t->abort_message = "the body callback stopped the transfer";
        return 0;
      }
    } catch (const std::exception& e) {
      t->abort_code = errc::aborted_by_callback;
      t->abort_message = std::string("the body callback threw: ") + e.what();
      return 0;
    } catch (...) {
      t->abort_code = errc::aborted_by_callback;
      t->abort_message = "the body callback threw an unknown exception";
      return 0;
    }
    return length;
  }

  asio::strand<asio::any_io_executor> strand_;
  client_options options_;
  asio::steady_timer timer_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;  // libcurl's, if any
  bool timer_armed_ = false;     // a wait on timer_ is pending (or its success is queued)
  bool timeout_posted_ = false;  // a "run now" on_timeout is posted
  CURLM* multi_ = nullptr;
  bool closed_ = false;
  int inside_curl_ = 0;  // depth of curl_multi_socket_action calls on the stack
  std::unordered_map<curl_socket_t, std::shared_ptr<socket_watch>> sockets_;
  std::unordered_map<std::uint64_t, std::unique_ptr<transfer>> transfers_;
  std::vector<CURL*> idle_easy_;  // reset handles ready for reuse (see take_easy_handle)

  // The client's own queue. Transfers that cannot multiplex (everything but
  // HTTP/2 over TLS) run at most slot_limit_ at once; the others wait here
  // rather than in libcurl's pending list, whose upkeep grows with its length.
  asio::steady_timer queue_timer_;  // the earliest total timeout of a queued transfer
  bool queue_timer_armed_ = false;
  std::size_t slot_limit_ = 0;       // max_total_connections; 0: no queue
  std::size_t limited_running_ = 0;  // running transfers with `limited` set
  std::deque<std::uint64_t> waiting_;
  bool filling_ = false;  // fill_slots() is on the stack

  curl_slist* bare_headers_ = nullptr;  // "Expect:" for requests without fields or body
  curl_slist* body_headers_ = nullptr;  // "Content-Type:", "Expect:" with a body

  std::atomic<std::uint64_t> next_id_{0};
  std::atomic<std::uint64_t> started_{0};
  std::atomic<std::uint64_t> succeeded_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> cancelled_{0};
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> queued_{0};
};

}  // namespace

result<void> client_options::validate() const {
  std::string problems;
  auto bad = [&](std::string_view text) {
    problems += text;
    problems += "; ";
  };
  if (connect_timeout.count() <= 0) {
    bad("connect_timeout must be > 0 ms");
  }
  if (timeout.count() < 0) {
    bad("timeout must be >= 0 ms (0 = no limit)");
  }
  if (idle_timeout.count() < 0) {
    bad("idle_timeout must be >= 0 ms (0 = no limit)");
  }
  if (max_response_bytes == 0) {
    bad("max_response_bytes must be > 0");
  }
  if (max_redirects < 0 || max_redirects > 50) {
    bad("max_redirects must be in 0..50");
  }
  constexpr std::size_t long_max = static_cast<std::size_t>(std::numeric_limits<long>::max());
  if (max_connections_per_host > long_max || max_total_connections > long_max ||
      max_idle_connections > long_max) {
    bad("connection limits must fit in a long");
  }
  if (has_control_breaks(user_agent)) {
    bad("user_agent must not contain CR, LF or NUL");
  }
  if (problems.empty()) {
    return {};
  }
  problems.resize(problems.size() - 2);
  return fail(errc::invalid_request, "invalid http::client_options: " + problems);
}

std::shared_ptr<client> make_curl_client(boost::asio::any_io_executor executor,
                                         client_options options) {
  if (auto valid = options.validate(); !valid) {
    throw std::invalid_argument(valid.error().message);
  }
  return std::make_shared<curl_client>(std::move(executor), std::move(options));
}

std::shared_ptr<client> make_curl_client(boost::asio::any_io_executor executor) {
  return make_curl_client(std::move(executor), client_options{});
}

}  // namespace grove::http
