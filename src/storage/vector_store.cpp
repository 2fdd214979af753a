#include "grove/storage/vector_store.hpp"

#include <cmath>
#include <string>
#include <unordered_set>

#include "grove/storage/error.hpp"

namespace grove::storage {
namespace {

constexpr std::size_t max_id_bytes = 512;

const nlohmann::json& wanted_value(const nlohmann::json& condition) {
  if (condition.is_object()) return condition.at("$eq");
  return condition;
}

std::string record_context(std::size_t index, const std::string& id) {
  return "records[" + std::to_string(index) + "] id \"" + id.substr(0, 100) + "\"";
}

}  // namespace

result<void> validate_filter(const nlohmann::json& filter) {
  if (filter.is_null()) return {};
  if (!filter.is_object()) {
    return fail(errc::invalid_argument,
                "a metadata filter must be a JSON object of member: value or member: "
                "{\"$eq\": value}, got " +
                    std::string(filter.type_name()),
                "filter");
  }
  for (const auto& [name, condition] : filter.items()) {
    if (condition.is_object() && (condition.size() != 1 || !condition.contains("$eq"))) {
      return fail(errc::invalid_argument,
                  "only equality filters are supported (a value or {\"$eq\": value}); member \"" +
                      name + "\" has " + condition.dump(),
                  "filter." + name);
    }
  }
  return {};
}

bool matches_filter(const nlohmann::json& metadata, const nlohmann::json& filter) {
  if (filter.is_null() || filter.empty()) return true;
  if (!metadata.is_object()) return false;
  for (const auto& [name, condition] : filter.items()) {
    auto it = metadata.find(name);
    if (it == metadata.end() || *it != wanted_value(condition)) return false;
  }
  return true;
}

result<void> validate_records(std::span<const vector_record> records, std::size_t dimension) {
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const vector_record& r = records[i];
    if (r.id.empty() || r.id.size() > max_id_bytes) {
      return fail(errc::invalid_argument, "a vector id must be 1-512 bytes long",
                  record_context(i, r.id));
    }
    if (!seen.insert(r.id).second) {
      return fail(errc::invalid_argument, "the id appears twice in one upsert",
                  record_context(i, r.id));
    }
    if (r.values.size() != dimension) {
      return fail(errc::dimension_mismatch,
                  "vector has " + std::to_string(r.values.size()) + " values, the store has " +
                      std::to_string(dimension) + " dimensions",
                  record_context(i, r.id));
    }
    for (float v : r.values) {
      if (!std::isfinite(v)) {
        return fail(errc::invalid_argument, "vector values must be finite (no NaN or infinity)",
                    record_context(i, r.id));
      }
    }
    if (!r.metadata.is_null() && !r.metadata.is_object()) {
      return fail(
          errc::invalid_argument,
          "metadata must be a JSON object or null, got " + std::string(r.metadata.type_name()),
          record_context(i, r.id));
    }
  }
  return {};
}

}  // namespace grove::storage
