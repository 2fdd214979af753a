#include "grove/storage/object_store.hpp"

#include <string>

#include "grove/storage/error.hpp"

namespace grove::storage {
namespace {

constexpr std::size_t max_key_bytes = 1024;
constexpr std::size_t max_metadata_bytes = 2048;

result<void> bad_key(std::string_view key, const std::string& why) {
  std::string shown(key.substr(0, 200));
  return fail(errc::invalid_key,
              "invalid object key: " + why +
                  " (keys are 1-1024 bytes of '/'-separated segments; no empty, '.', '..' or "
                  "'.grove*' segments, no leading or trailing '/', no backslash or control bytes)",
              "key \"" + shown + "\"");
}

}  // namespace

result<void> validate_key(std::string_view key) {
  if (key.empty()) return bad_key(key, "the key is empty");
  if (key.size() > max_key_bytes) {
    return bad_key(key, "the key is " + std::to_string(key.size()) + " bytes long");
  }
  for (char c : key) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return bad_key(key, "it contains a control byte");
    if (c == '\\') return bad_key(key, "it contains a backslash");
  }
  if (key.front() == '/') return bad_key(key, "it starts with '/'");
  if (key.back() == '/') return bad_key(key, "it ends with '/'");

  std::size_t start = 0;
  while (start <= key.size()) {
    std::size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment.empty()) return bad_key(key, "it has an empty segment ('//')");
    if (segment == "." || segment == "..") {
      return bad_key(key, "it has a '" + std::string(segment) + "' segment");
    }
    if (segment.starts_with(".grove")) {
      return bad_key(key, "segments starting with '.grove' are reserved");
    }
    start = end + 1;
  }
  return {};
}

result<void> validate_metadata(const object_metadata& metadata) {
  std::string problems;
  auto add = [&](const std::string& text) {
    if (!problems.empty()) problems += "; ";
    problems += text;
  };
  std::size_t total = 0;
  for (const auto& [name, value] : metadata.user) {
    total += name.size() + value.size();
    bool name_ok = !name.empty();
    for (char c : name) {
      bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      name_ok = name_ok && allowed;
    }
    if (!name_ok) add("name \"" + name + "\" must be non-empty lowercase [a-z0-9-_]");
    for (char c : value) {
      if (c < 0x20 || c > 0x7e) {
        add("value of \"" + name + "\" must be printable ASCII");
        break;
      }
    }
  }
  if (total > max_metadata_bytes) {
    add("user metadata is " + std::to_string(total) + " bytes, more than 2048");
  }
  for (char c : metadata.content_type) {
    if (c < 0x20 || c > 0x7e) {
      add("content_type must be printable ASCII");
      break;
    }
  }
  if (!problems.empty()) {
    return fail(errc::invalid_argument, "invalid object metadata: " + problems, "metadata");
  }
  return {};
}

}  // namespace grove::storage
