// The incremental server-sent-events parser (algorithm in grove/http/sse.hpp).
#include "grove/http/sse.hpp"

#include <stdexcept>

#include "grove/http/error.hpp"

namespace grove::http {
namespace {

constexpr std::string_view bom = "\xEF\xBB\xBF";

bool all_digits(std::string_view text) noexcept {
  if (text.empty()) {
    return false;
  }
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

}  // namespace

result<void> sse_limits::validate() const {
  std::string problems;
  if (max_line_bytes == 0) {
    problems += "max_line_bytes must be > 0; ";
  }
  if (max_event_bytes == 0) {
    problems += "max_event_bytes must be > 0; ";
  }
  if (!problems.empty()) {
    problems.resize(problems.size() - 2);
    return fail(errc::invalid_request, "invalid sse_limits: " + problems);
  }
  return {};
}

sse_parser::sse_parser(sse_limits limits) : limits_(limits) {
  if (auto valid = limits_.validate(); !valid) {
    throw std::invalid_argument(valid.error().message);
  }
}

result<void> sse_parser::fail_with(std::string message) {
  failure_ = std::move(message);
  return fail(errc::protocol, *failure_);
}

result<void> sse_parser::feed(std::string_view bytes, const sse_handler& on_event) {
  if (failure_) {
    return fail(errc::protocol, *failure_);
  }

  // Drop one leading byte-order mark, which may itself arrive split. Bytes
  // that start like a BOM but diverge are ordinary content.
  while (at_stream_start_ && !bytes.empty()) {
    if (bytes.front() == bom[bom_bytes_seen_]) {
      bytes.remove_prefix(1);
      if (++bom_bytes_seen_ == bom.size()) {
        at_stream_start_ = false;
      }
      continue;
    }
    at_stream_start_ = false;
    std::string_view matched = bom.substr(0, bom_bytes_seen_);
    bom_bytes_seen_ = 0;
    if (!matched.empty()) {
      if (auto r = feed(matched, on_event); !r) {
        return r;
      }
    }
  }

  std::size_t pos = 0;
  while (pos < bytes.size()) {
    // A CR ended the previous line; an LF right after it belongs to that break.
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes[pos] == '\n') {
        ++pos;
        continue;
      }
    }

    std::size_t end = bytes.find_first_of("\r\n", pos);
    std::string_view piece = bytes.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (line_.size() + piece.size() > limits_.max_line_bytes) {
      return fail_with("event-stream line longer than " + std::to_string(limits_.max_line_bytes) +
                       " bytes");
    }
    if (end == std::string_view::npos) {
      line_.append(piece);
      break;
    }

    skip_lf_ = bytes[end] == '\r';
    pos = end + 1;
    result<void> done;
    if (line_.empty()) {
      done = process_line(piece, on_event);
    } else {
      line_.append(piece);
      done = process_line(line_, on_event);
      line_.clear();
    }
    if (!done) {
      return done;
    }
  }
  return {};
}

result<void> sse_parser::process_line(std::string_view line, const sse_handler& on_event) {
  if (line.empty()) {
    dispatch(on_event);
    return {};
  }
  if (line.front() == ':') {
    return {};  // a comment (servers send them as keep-alives)
  }

  std::string_view name = line;
  std::string_view value;
  if (std::size_t colon = line.find(':'); colon != std::string_view::npos) {
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
  }
  has_fields_ = true;

  if (name == "data") {
    if (data_.size() + value.size() + 1 > limits_.max_event_bytes) {
      return fail_with("event-stream event larger than " + std::to_string(limits_.max_event_bytes) +
                       " bytes");
    }
    data_.append(value);
    data_.push_back('\n');
  } else if (name == "event") {
    type_.assign(value);
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) {
      last_id_.assign(value);
    }
  } else if (name == "retry") {
    // Values too long for an int64 are ignored like any other invalid value.
    if (all_digits(value) && value.size() <= 18) {
      retry_ = std::chrono::milliseconds(std::stoll(std::string(value)));
    }
  }
  return {};
}

void sse_parser::dispatch(const sse_handler& on_event) {
  has_fields_ = false;
  if (data_.empty()) {
    type_.clear();
    return;
  }
  sse_event event;
  data_.pop_back();  // the '\n' after the last data line
  event.data = std::move(data_);
  if (!type_.empty()) {
    event.type = std::move(type_);
  }
  event.id = last_id_;
  event.retry = retry_;
  data_.clear();
  type_.clear();
  if (on_event) {
    on_event(event);
  }
}

result<void> sse_parser::finish(const sse_handler& on_event) {
  if (failure_) {
    return fail(errc::protocol, *failure_);
  }
  // A stream that ends inside a partial BOM holds content bytes, not a BOM.
  if (at_stream_start_ && bom_bytes_seen_ > 0) {
    std::string_view matched = bom.substr(0, bom_bytes_seen_);
    at_stream_start_ = false;
    bom_bytes_seen_ = 0;
    if (auto r = feed(matched, on_event); !r) {
      return r;
    }
  }
  if (!line_.empty()) {
    std::string last = std::move(line_);
    line_.clear();
    if (auto r = process_line(last, on_event); !r) {
      return r;
    }
  }
  dispatch(on_event);

  // Ready for a new stream; the last event id and retry survive, as they do
  // across a reconnection.
  at_stream_start_ = true;
  bom_bytes_seen_ = 0;
  skip_lf_ = false;
  return {};
}

bool sse_parser::in_event() const noexcept {
  return !line_.empty() || has_fields_ || bom_bytes_seen_ > 0;
}

void sse_parser::reset() {
  line_.clear();
  data_.clear();
  type_.clear();
  last_id_.clear();
  retry_.reset();
  bom_bytes_seen_ = 0;
  at_stream_start_ = true;
  skip_lf_ = false;
  has_fields_ = false;
  failure_.reset();
}

}  // namespace grove::http
