// Bounded metrics and their Prometheus text exposition; the model is described
// in grove/obs/metrics.hpp.
#include "grove/obs/metrics.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <mutex>
#include <stdexcept>

#include "grove/core/hash.hpp"
#include "grove/obs/errc.hpp"

namespace grove::obs {
namespace {

constexpr std::size_t max_labels = 16;
constexpr std::size_t max_series_cap = 100'000;
constexpr std::size_t max_name_bytes = 200;

// Why a with() call went to the overflow series.
enum overflow_reason : std::size_t { cardinality = 0, invalid_labels = 1 };

bool is_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  while (i < text.size()) {
    const unsigned char lead = byte(i);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      low = lead == 0xE0 ? 0xA0 : 0x80;
      high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      low = lead == 0xF0 ? 0x90 : 0x80;
      high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) {
      return false;
    }
    for (std::size_t k = 2; k < length; ++k) {
      if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
        return false;
      }
    }
    i += length;
  }
  return true;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Heap bytes a string owns (0 while it fits in the small-string buffer).
std::size_t heap_bytes(const std::string& text) {
  const char* data = text.data();
  const auto* self = reinterpret_cast<const char*>(&text);
  const bool inline_buffer = data >= self && data < self + sizeof(std::string);
  return inline_buffer ? 0 : text.capacity() + 1;
}

std::string_view type_name(metric_type type) {
  switch (type) {
    case metric_type::counter:
      return "counter";
    case metric_type::gauge:
      return "gauge";
    case metric_type::histogram:
      return "histogram";
  }
  return "untyped";
}

// Name components that promtool's linter rejects: abbreviated or non-base
// units, and type names.
constexpr std::array<std::string_view, 27> discouraged_components = {
    "ms",           "us",           "ns",          "sec",     "secs",      "mins",    "hr",
    "hrs",          "kb",           "mb",          "gb",      "kib",       "mib",     "gib",
    "milliseconds", "microseconds", "nanoseconds", "minutes", "hours",     "days",    "kilobytes",
    "megabytes",    "gigabytes",    "counter",     "gauge",   "histogram", "summary",
};

result<void> check_metric_name(std::string_view name, metric_type type) {
  const std::string context(name);
  if (!name.starts_with("grove_") || name.size() > max_name_bytes ||
      !std::all_of(name.begin(), name.end(),
                   [](char c) { return is_lower_or_digit(c) || c == '_'; }) ||
      name.back() == '_' || name.size() == 6) {
    return fail(errc::invalid_metric_name,
                "metric names must match grove_[a-z0-9_]*[a-z0-9] and be at most 200 bytes",
                context);
  }
  if (name.starts_with("grove_metrics_")) {
    return fail(errc::reserved_metric_name,
                "the prefix grove_metrics_ is reserved for the registry's own metrics", context);
  }
  const bool total = ends_with(name, "_total");
  if (type == metric_type::counter && !total) {
    return fail(errc::invalid_metric_name, "counter names must end in _total", context);
  }
  if (type != metric_type::counter && total) {
    return fail(errc::invalid_metric_name, "only counter names may end in _total", context);
  }
  for (std::string_view suffix : {"_bucket", "_count", "_sum"}) {
    if (ends_with(name, suffix)) {
      return fail(errc::invalid_metric_name,
                  "metric names must not end in _bucket, _count or _sum (histogram series "
                  "names)",
                  context);
    }
  }
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t end = name.find('_', start);
    end = end == std::string_view::npos ? name.size() : end;
    const std::string_view component = name.substr(start, end - start);
    if (std::find(discouraged_components.begin(), discouraged_components.end(), component) !=
        discouraged_components.end()) {
      return fail(errc::invalid_metric_name,
                  "metric names use base units (seconds, bytes) and no type names; found \"" +
                      std::string(component) + "\"",
                  context);
    }
    start = end + 1;
  }
  return {};
}

result<void> check_label_names(const std::vector<std::string>& labels, const std::string& metric) {
  if (labels.size() > max_labels) {
    return fail(errc::invalid_options, "a metric has at most 16 labels", metric);
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& label = labels[i];
    const bool shape = !label.empty() && !(label[0] >= '0' && label[0] <= '9') &&
                       std::all_of(label.begin(), label.end(),
                                   [](char c) { return is_lower_or_digit(c) || c == '_'; });
    if (!shape || label.starts_with("__") || label == "le" || label == "quantile" ||
        label.size() > 100) {
      return fail(errc::invalid_label_name,
                  "label \"" + label +
                      "\" must match [a-z_][a-z0-9_]*, be at most 100 bytes, not start with __ "
                      "and not be le or quantile",
                  metric);
    }
    if (std::find(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(i), label) !=
        labels.begin() + static_cast<std::ptrdiff_t>(i)) {
      return fail(errc::invalid_label_name, "label \"" + label + "\" is repeated", metric);
    }
  }
  return {};
}

result<void> check_buckets(const std::vector<double>& bounds, metric_type type,
                           std::size_t max_buckets, const std::string& metric) {
  if (type != metric_type::histogram) {
    if (!bounds.empty()) {
      return fail(errc::invalid_buckets, "only histograms have buckets", metric);
    }
    return {};
  }
  if (bounds.empty() || bounds.size() > max_buckets) {
    return fail(errc::invalid_buckets,
                "a histogram needs 1.." + std::to_string(max_buckets) + " bucket bounds (got " +
                    std::to_string(bounds.size()) + ")",
                metric);
  }
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) {
      return fail(errc::invalid_buckets,
                  "bucket bounds must be finite (+Inf is implicit); bounds[" + std::to_string(i) +
                      "] is not",
                  metric);
    }
    if (i > 0 && !(bounds[i - 1] < bounds[i])) {
      return fail(errc::invalid_buckets,
                  "bucket bounds must be strictly increasing; bounds[" + std::to_string(i) +
                      "] is not above bounds[" + std::to_string(i - 1) + "]",
                  metric);
    }
  }
  return {};
}

void append_number(std::uint64_t value, std::string& out) {
  std::array<char, 24> text{};
  const auto end = std::to_chars(text.data(), text.data() + text.size(), value).ptr;
  out.append(text.data(), end);
}

// Prometheus float syntax: shortest round-trip form, NaN, +Inf, -Inf.
void append_number(double value, std::string& out) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    std::array<char, 32> text{};
    const auto end = std::to_chars(text.data(), text.data() + text.size(), value).ptr;
    out.append(text.data(), end);
  }
}

// HELP text escaping: backslash and newline.
void append_help(std::string_view text, std::string& out) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// Label value escaping: backslash, double quote and newline.
void append_label_value(std::string_view text, std::string& out) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_header(std::string_view name, std::string_view help, std::string_view type,
                   std::string& out) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_help(help, out);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

namespace detail {

// One metric family: storage for every series it may ever have, allocated in
// the constructor, and the insert-only lookup table from label values to slot.
//
// Slot 0 is the overflow series; slots 1..created_ are the created series. A
// family without labels has exactly one series, slot 1, created at once.
class family {
 public:
  family(metric_type type, const metric_spec& spec, std::size_t max_series,
         const registry_options& options)
      : type_(type),
        name_(spec.name),
        help_(spec.help),
        labels_(spec.labels),
        bounds_(spec.buckets),
        max_series_(spec.labels.empty() ? 1 : max_series),
        max_value_bytes_(options.max_label_value_bytes),
        slots_(max_series_ + 1) {
    std::size_t table_size = 1;
    while (table_size < 2 * slots_) {
      table_size *= 2;
    }
    table_mask_ = table_size - 1;
    table_ = std::make_unique<std::atomic<std::uint32_t>[]>(table_size);
    hashes_ = std::make_unique<std::uint64_t[]>(slots_);
    values_ = std::make_unique<std::string[]>(slots_ * labels_.size());
    for (std::size_t k = 0; k < labels_.size(); ++k) {
      values_[k] = options.overflow_label_value;
    }

    memory_ = sizeof(family) + table_size * sizeof(std::atomic<std::uint32_t>) +
              slots_ * sizeof(std::uint64_t) + slots_ * labels_.size() * sizeof(std::string) +
              heap_bytes(name_) + heap_bytes(help_) + labels_.capacity() * sizeof(std::string) +
              bounds_.capacity() * sizeof(double);
    for (const std::string& label : labels_) {
      memory_ += heap_bytes(label);
    }
    for (std::size_t k = 0; k < labels_.size(); ++k) {
      memory_ += heap_bytes(values_[k]);
    }

    switch (type_) {
      case metric_type::counter:
        counters_ = std::make_unique<counter[]>(slots_);
        memory_ += slots_ * sizeof(counter);
        break;
      case metric_type::gauge:
        gauges_ = std::make_unique<gauge[]>(slots_);
        memory_ += slots_ * sizeof(gauge);
        break;
      case metric_type::histogram: {
        const std::size_t cells = bounds_.size() + 1;
        buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(slots_ * cells);
        histograms_ = std::make_unique<histogram[]>(slots_);
        for (std::size_t slot = 0; slot < slots_; ++slot) {
          histogram& h = histograms_[slot];
          h.bounds_ = bounds_.data();
          h.bound_count_ = bounds_.size();
          h.buckets_ = &buckets_[slot * cells];
          h.invalid_ = &invalid_samples_;
        }
        memory_ += slots_ * (sizeof(histogram) + cells * sizeof(std::atomic<std::uint64_t>));
        break;
      }
    }
    if (labels_.empty()) {
      created_.store(1, std::memory_order_release);
    }
  }

  metric_type type() const noexcept { return type_; }
  const std::string& name() const noexcept { return name_; }
  std::size_t series_count() const noexcept { return created_.load(std::memory_order_acquire); }
  std::size_t memory_bytes() const noexcept { return memory_.load(std::memory_order_relaxed); }

  bool same_definition(metric_type type, const metric_spec& spec, std::size_t max_series) const {
    return type == type_ && spec.help == help_ && spec.labels == labels_ &&
           spec.buckets == bounds_ && (labels_.empty() || max_series == max_series_);
  }

  counter& counter_at(std::size_t slot) { return counters_[slot]; }
  gauge& gauge_at(std::size_t slot) { return gauges_[slot]; }
  histogram& histogram_at(std::size_t slot) { return histograms_[slot]; }

  // The slot for these label values, creating the series when there is room.
  std::size_t slot_for(std::span<const std::string_view> values) {
    if (labels_.empty()) {
      if (!values.empty()) {
        overflow_[invalid_labels].fetch_add(1, std::memory_order_relaxed);
      }
      return 1;
    }
    if (values.size() != labels_.size()) {
      return overflow(invalid_labels);
    }
    if (std::all_of(values.begin(), values.end(),
                    [&](std::string_view value) { return value == values_[0]; })) {
      return overflow_slot();  // the overflow series' own label set
    }
    for (std::string_view value : values) {
      if (value.size() > max_value_bytes_ || !valid_utf8(value)) {
        return overflow(invalid_labels);
      }
    }
    const std::uint64_t hash = hash_values(values);
    if (const std::size_t slot = find(hash, values); slot != 0) {
      return slot;
    }

    const std::lock_guard lock(create_mutex_);
    if (const std::size_t slot = find(hash, values); slot != 0) {
      return slot;
    }
    const std::size_t created = created_.load(std::memory_order_relaxed);
    if (created == max_series_) {
      return overflow(cardinality);
    }
    const std::size_t slot = created + 1;
    std::size_t added = 0;
    for (std::size_t k = 0; k < values.size(); ++k) {
      std::string& stored = values_[slot * labels_.size() + k];
      stored.assign(values[k]);
      added += heap_bytes(stored);
    }
    hashes_[slot] = hash;
    memory_.fetch_add(added, std::memory_order_relaxed);
    std::size_t position = hash & table_mask_;
    while (table_[position].load(std::memory_order_relaxed) != 0) {
      position = (position + 1) & table_mask_;
    }
    // Release: a reader that sees the slot number also sees its label values.
    table_[position].store(static_cast<std::uint32_t>(slot), std::memory_order_release);
    created_.store(slot, std::memory_order_release);
    return slot;
  }

  void expose(std::string& out, std::string& scratch) const {
    const std::size_t created = created_.load(std::memory_order_acquire);
    const bool overflow_used = overflow_used_.load(std::memory_order_acquire);
    if (created == 0 && !overflow_used) {
      return;
    }
    append_header(name_, help_, type_name(type_), out);
    for (std::size_t slot = overflow_used ? 0 : 1; slot <= created; ++slot) {
      scratch.clear();
      for (std::size_t k = 0; k < labels_.size(); ++k) {
        scratch += k == 0 ? "" : ",";
        scratch += labels_[k];
        scratch += "=\"";
        append_label_value(values_[slot * labels_.size() + k], scratch);
        scratch += '"';
      }
      expose_series(slot, scratch, out);
    }
  }

  std::uint64_t overflow_count(std::size_t reason) const noexcept {
    return overflow_[reason].load(std::memory_order_relaxed);
  }
  std::uint64_t invalid_samples() const noexcept {
    return invalid_samples_.load(std::memory_order_relaxed);
  }

 private:
  std::size_t overflow(overflow_reason reason) {
    overflow_[reason].fetch_add(1, std::memory_order_relaxed);
    return overflow_slot();
  }

  // Marks the overflow series as used, so expose() shows it from now on.
  std::size_t overflow_slot() {
    if (!overflow_used_.load(std::memory_order_relaxed)) {
      overflow_used_.store(true, std::memory_order_release);
    }
    return 0;
  }

  static std::uint64_t hash_values(std::span<const std::string_view> values) {
    std::uint64_t hash = 0x9E3779B97F4A7C15ULL;
    for (std::string_view value : values) {
      hash = core::hash_bytes(value, hash ^ value.size());
    }
    return hash;
  }

  // The slot holding these values, or 0 when none does yet.
  std::size_t find(std::uint64_t hash, std::span<const std::string_view> values) const {
    std::size_t position = hash & table_mask_;
    for (;;) {
      const std::uint32_t slot = table_[position].load(std::memory_order_acquire);
      if (slot == 0) {
        return 0;
      }
      if (hashes_[slot] == hash && matches(slot, values)) {
        return slot;
      }
      position = (position + 1) & table_mask_;
    }
  }

  bool matches(std::size_t slot, std::span<const std::string_view> values) const {
    for (std::size_t k = 0; k < values.size(); ++k) {
      if (values_[slot * labels_.size() + k] != values[k]) {
        return false;
      }
    }
    return true;
  }

  void expose_series(std::size_t slot, const std::string& labels, std::string& out) const {
    const auto sample = [&](std::string_view suffix, std::string_view extra_label) {
      out += name_;
      out += suffix;
      if (!labels.empty() || !extra_label.empty()) {
        out += '{';
        out += labels;
        if (!labels.empty() && !extra_label.empty()) {
          out += ',';
        }
        out += extra_label;
        out += '}';
      }
      out += ' ';
    };
    switch (type_) {
      case metric_type::counter:
        sample("", "");
        append_number(counters_[slot].value(), out);
        out += '\n';
        break;
      case metric_type::gauge:
        sample("", "");
        append_number(gauges_[slot].value(), out);
        out += '\n';
        break;
      case metric_type::histogram: {
        const histogram& h = histograms_[slot];
        std::uint64_t cumulative = 0;
        std::string le;
        for (std::size_t b = 0; b <= bounds_.size(); ++b) {
          cumulative += h.buckets_[b].load(std::memory_order_relaxed);
          le = "le=\"";
          if (b < bounds_.size()) {
            append_number(bounds_[b], le);
          } else {
            le += "+Inf";
          }
          le += '"';
          sample("_bucket", le);
          append_number(cumulative, out);
          out += '\n';
        }
        sample("_sum", "");
        append_number(h.sum_.load(std::memory_order_relaxed), out);
        out += '\n';
        sample("_count", "");
        append_number(cumulative, out);
        out += '\n';
        break;
      }
    }
  }

  const metric_type type_;
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> labels_;
  const std::vector<double> bounds_;
  const std::size_t max_series_;
  const std::size_t max_value_bytes_;
  const std::size_t slots_;

  std::size_t table_mask_ = 0;
  std::unique_ptr<std::atomic<std::uint32_t>[]> table_;  // slot numbers; 0 is empty
  std::unique_ptr<std::uint64_t[]> hashes_;              // per slot
  std::unique_ptr<std::string[]> values_;                // slots_ x labels_.size()
  std::unique_ptr<counter[]> counters_;
  std::unique_ptr<gauge[]> gauges_;
  std::unique_ptr<histogram[]> histograms_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // slots_ x (bounds + 1)

  std::mutex create_mutex_;
  std::atomic<std::size_t> created_{0};
  std::atomic<std::size_t> memory_{0};
  std::array<std::atomic<std::uint64_t>, 2> overflow_{};
  std::atomic<bool> overflow_used_{false};
  std::atomic<std::uint64_t> invalid_samples_{0};
};

}  // namespace detail

// --- histogram -------------------------------------------------------------

void histogram::observe(double value) noexcept {
  if (std::isnan(value)) {
    invalid_->fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const double* bucket = std::lower_bound(bounds_, bounds_ + bound_count_, value);
  buckets_[bucket - bounds_].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

histogram_snapshot histogram::snapshot() const {
  histogram_snapshot snapshot;
  snapshot.bounds.assign(bounds_, bounds_ + bound_count_);
  snapshot.cumulative.resize(bound_count_ + 1);
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b <= bound_count_; ++b) {
    cumulative += buckets_[b].load(std::memory_order_relaxed);
    snapshot.cumulative[b] = cumulative;
  }
  snapshot.count = cumulative;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

// --- family handles ----------------------------------------------------------

counter& counter_family::with(std::initializer_list<std::string_view> label_values) const {
  return with(std::span<const std::string_view>(label_values.begin(), label_values.size()));
}
counter& counter_family::with(std::span<const std::string_view> label_values) const {
  return core_->counter_at(core_->slot_for(label_values));
}
const std::string& counter_family::name() const noexcept { return core_->name(); }
std::size_t counter_family::series_count() const noexcept { return core_->series_count(); }

gauge& gauge_family::with(std::initializer_list<std::string_view> label_values) const {
  return with(std::span<const std::string_view>(label_values.begin(), label_values.size()));
}
gauge& gauge_family::with(std::span<const std::string_view> label_values) const {
  return core_->gauge_at(core_->slot_for(label_values));
}
const std::string& gauge_family::name() const noexcept { return core_->name(); }
std::size_t gauge_family::series_count() const noexcept { return core_->series_count(); }

histogram& histogram_family::with(std::initializer_list<std::string_view> label_values) const {
  return with(std::span<const std::string_view>(label_values.begin(), label_values.size()));
}
histogram& histogram_family::with(std::span<const std::string_view> label_values) const {
  return core_->histogram_at(core_->slot_for(label_values));
}
const std::string& histogram_family::name() const noexcept { return core_->name(); }
std::size_t histogram_family::series_count() const noexcept { return core_->series_count(); }

// --- registry ------------------------------------------------------------------

result<void> registry_options::validate() const {
  std::string problems;
  auto add = [&](const std::string& problem) {
    problems += problems.empty() ? "" : "; ";
    problems += problem;
  };
  auto range = [&](std::string_view field, std::size_t value, std::size_t low, std::size_t high) {
    if (value < low || value > high) {
      add(std::string(field) + " must be in " + std::to_string(low) + ".." + std::to_string(high) +
          " (got " + std::to_string(value) + ")");
    }
  };
  range("max_metrics", max_metrics, 1, 4096);
  range("default_max_series", default_max_series, 1, max_series_cap);
  range("max_label_value_bytes", max_label_value_bytes, 1, 65'536);
  range("max_buckets", max_buckets, 1, 1024);
  if (overflow_label_value.empty() || overflow_label_value.size() > 64 ||
      !valid_utf8(overflow_label_value)) {
    add("overflow_label_value must be 1..64 bytes of valid UTF-8");
  }
  if (!problems.empty()) {
    return fail(errc::invalid_options, "invalid registry_options: " + problems, "registry_options");
  }
  return {};
}

struct metrics_registry::impl {
  registry_options options;
  mutable std::mutex mutex;
  std::vector<std::unique_ptr<detail::family>> families;  // capacity max_metrics, never grows
  std::size_t base_memory = 0;

  // Requires: mutex is held.
  std::size_t memory_bytes() const noexcept {
    std::size_t total = base_memory;
    for (const auto& family : families) {
      total += family->memory_bytes();
    }
    return total;
  }

  result<detail::family*> add(metric_type type, const metric_spec& spec) {
    if (auto ok = check_metric_name(spec.name, type); !ok) {
      return fail(std::move(ok).error());
    }
    if (spec.help.empty() || !valid_utf8(spec.help)) {
      return fail(errc::invalid_options, "help must be non-empty valid UTF-8", spec.name);
    }
    if (auto ok = check_label_names(spec.labels, spec.name); !ok) {
      return fail(std::move(ok).error());
    }
    if (auto ok = check_buckets(spec.buckets, type, options.max_buckets, spec.name); !ok) {
      return fail(std::move(ok).error());
    }
    if (spec.max_series > max_series_cap) {
      return fail(errc::invalid_options,
                  "max_series must be at most 100000 (got " + std::to_string(spec.max_series) + ")",
                  spec.name);
    }
    const std::size_t max_series =
        spec.max_series == 0 ? options.default_max_series : spec.max_series;

    const std::lock_guard lock(mutex);
    for (const auto& existing : families) {
      if (existing->name() == spec.name) {
        if (existing->same_definition(type, spec, max_series)) {
          return existing.get();
        }
        return fail(errc::duplicate_metric,
                    "the name is already registered with another type, help, labels, series "
                    "cap or buckets",
                    spec.name);
      }
    }
    if (families.size() == options.max_metrics) {
      return fail(errc::too_many_metrics,
                  "the registry is full (max_metrics " + std::to_string(options.max_metrics) + ")",
                  spec.name);
    }
    families.push_back(std::make_unique<detail::family>(type, spec, max_series, options));
    return families.back().get();
  }
};

metrics_registry::metrics_registry() : metrics_registry(registry_options{}) {}

metrics_registry::metrics_registry(registry_options options) : impl_(std::make_unique<impl>()) {
  if (auto valid = options.validate(); !valid) {
    throw std::invalid_argument(valid.error().describe());
  }
  impl_->options = std::move(options);
  impl_->families.reserve(impl_->options.max_metrics);
  impl_->base_memory = sizeof(metrics_registry) + sizeof(impl) +
                       impl_->families.capacity() * sizeof(std::unique_ptr<detail::family>) +
                       heap_bytes(impl_->options.overflow_label_value);
}

metrics_registry::~metrics_registry() = default;

result<counter_family> metrics_registry::add_counter(const metric_spec& spec) {
  auto core = impl_->add(metric_type::counter, spec);
  if (!core) {
    return fail(std::move(core).error());
  }
  return counter_family(*core);
}

result<gauge_family> metrics_registry::add_gauge(const metric_spec& spec) {
  auto core = impl_->add(metric_type::gauge, spec);
  if (!core) {
    return fail(std::move(core).error());
  }
  return gauge_family(*core);
}

result<histogram_family> metrics_registry::add_histogram(const metric_spec& spec) {
  auto core = impl_->add(metric_type::histogram, spec);
  if (!core) {
    return fail(std::move(core).error());
  }
  return histogram_family(*core);
}

std::string metrics_registry::expose() const {
  std::string out;
  expose_to(out);
  return out;
}

void metrics_registry::expose_to(std::string& out) const {
  const std::lock_guard lock(impl_->mutex);
  std::string scratch;
  for (const auto& family : impl_->families) {
    family->expose(out, scratch);
  }

  // The registry's own metrics.
  if (!impl_->families.empty()) {
    append_header("grove_metrics_series_overflow_total",
                  "Label-set lookups that got no series of their own and went to the overflow "
                  "series, by metric and reason (cardinality: the metric was full; "
                  "invalid_labels: wrong count, too long or not UTF-8).",
                  "counter", out);
    for (const auto& family : impl_->families) {
      for (const auto& [reason, name] :
           {std::pair{cardinality, "cardinality"}, std::pair{invalid_labels, "invalid_labels"}}) {
        out += "grove_metrics_series_overflow_total{metric=\"";
        out += family->name();
        out += "\",reason=\"";
        out += name;
        out += "\"} ";
        append_number(family->overflow_count(reason), out);
        out += '\n';
      }
    }
  }
  const bool any_histogram =
      std::any_of(impl_->families.begin(), impl_->families.end(),
                  [](const auto& family) { return family->type() == metric_type::histogram; });
  if (any_histogram) {
    append_header("grove_metrics_invalid_samples_total",
                  "Histogram samples that were not recorded because they were NaN, by metric.",
                  "counter", out);
    for (const auto& family : impl_->families) {
      if (family->type() == metric_type::histogram) {
        out += "grove_metrics_invalid_samples_total{metric=\"";
        out += family->name();
        out += "\"} ";
        append_number(family->invalid_samples(), out);
        out += '\n';
      }
    }
  }
  append_header("grove_metrics_memory_bytes",
                "Bytes allocated by the metrics registry (reserved at registration).", "gauge",
                out);
  out += "grove_metrics_memory_bytes ";
  append_number(static_cast<std::uint64_t>(impl_->memory_bytes()), out);
  out += '\n';
}

std::size_t metrics_registry::memory_bytes() const noexcept {
  const std::lock_guard lock(impl_->mutex);
  return impl_->memory_bytes();
}

std::size_t metrics_registry::metric_count() const noexcept {
  const std::lock_guard lock(impl_->mutex);
  return impl_->families.size();
}

metrics_registry& default_registry() {
  static metrics_registry instance;
  return instance;
}

// --- bucket layouts ------------------------------------------------------------------

std::vector<double> latency_buckets_seconds() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
}

std::vector<double> token_buckets() {
  std::vector<double> bounds;
  for (double bound = 16; bound <= 262'144; bound *= 2) {
    bounds.push_back(bound);
  }
  return bounds;
}

result<std::vector<double>> exponential_buckets(double start, double factor, std::size_t count) {
  if (!(start > 0) || !std::isfinite(start) || !(factor > 1) || !std::isfinite(factor) ||
      count == 0 || count > 1024) {
    return fail(errc::invalid_buckets,
                "exponential_buckets needs start > 0, factor > 1 (both finite) and count in "
                "1..1024",
                "exponential_buckets");
  }
  std::vector<double> bounds;
  bounds.reserve(count);
  double bound = start;
  for (std::size_t i = 0; i < count; ++i) {
    if (!std::isfinite(bound)) {
      return fail(errc::invalid_buckets, "exponential_buckets overflows to infinity",
                  "exponential_buckets");
    }
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

result<std::vector<double>> linear_buckets(double start, double width, std::size_t count) {
  if (!std::isfinite(start) || !(width > 0) || !std::isfinite(width) || count == 0 ||
      count > 1024) {
    return fail(errc::invalid_buckets,
                "linear_buckets needs a finite start, a finite width > 0 and count in 1..1024",
                "linear_buckets");
  }
  std::vector<double> bounds;
  bounds.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    bounds.push_back(start + width * static_cast<double>(i));
  }
  for (std::size_t i = 1; i < count; ++i) {
    if (!(bounds[i - 1] < bounds[i]) || !std::isfinite(bounds[i])) {
      return fail(errc::invalid_buckets,
                  "linear_buckets: bounds are not strictly increasing and finite at this scale",
                  "linear_buckets");
    }
  }
  return bounds;
}

}  // namespace grove::obs
