// header_map: an ordered field list with case-insensitive lookup.
#include "grove/http/message.hpp"

#include <algorithm>

namespace grove::http {
namespace {

char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) {
      return false;
    }
  }
  return true;
}

void header_map::add(std::string name, std::string value) {
  fields_.push_back({std::move(name), std::move(value)});
}

void header_map::set(std::string name, std::string value) {
  erase(name);
  add(std::move(name), std::move(value));
}

std::size_t header_map::erase(std::string_view name) {
  auto removed = std::remove_if(fields_.begin(), fields_.end(),
                                [&](const header_field& f) { return iequals(f.name, name); });
  auto count = static_cast<std::size_t>(fields_.end() - removed);
  fields_.erase(removed, fields_.end());
  return count;
}

std::optional<std::string_view> header_map::find(std::string_view name) const {
  for (const header_field& field : fields_) {
    if (iequals(field.name, name)) {
      return std::string_view(field.value);
    }
  }
  return std::nullopt;
}

std::string_view header_map::get(std::string_view name) const {
  return find(name).value_or(std::string_view{});
}

std::vector<std::string_view> header_map::get_all(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const header_field& field : fields_) {
    if (iequals(field.name, name)) {
      values.emplace_back(field.value);
    }
  }
  return values;
}

}  // namespace grove::http
