// grove/obs/metrics.hpp: counters, gauges and histograms with bounded memory,
// exported in the Prometheus text format.
//
// A metrics_registry owns metric families. A family is one metric name with a
// fixed list of label names; each distinct list of label values is a series.
// All storage a family can ever use (its series slots, histogram buckets and
// label lookup table) is allocated when it is registered; recording a sample
// never allocates. The only later allocations are the label value strings of a
// new series, at most max_series of them, each at most max_label_value_bytes.
// So memory is bounded by design: there is no list that grows with samples.
//
// Cardinality cap. Each family has room for max_series label sets. A label set
// that arrives when the family is full, or that is malformed (wrong number of
// values, a value longer than max_label_value_bytes or not valid UTF-8), does
// not get a series of its own: its samples go to one reserved overflow series
// whose label values are all registry_options::overflow_label_value, and the
// registry's own counter grove_metrics_series_overflow_total{metric,reason}
// counts it. Totals across series therefore stay right, and nothing is dropped
// silently.
//
// Names. Every metric is in the `grove_` namespace: names match
// `grove_[a-z0-9_]*[a-z0-9]`, counters end in `_total` and nothing else does,
// no name ends in `_bucket`, `_count` or `_sum`, and `grove_metrics_` is
// reserved for the registry's own metrics. Label names are snake_case, not
// `le` and not `__`-prefixed. Registering a name twice with the same
// definition returns the same family; with another definition it is an error.
//
// Thread safety. Recording (counter::inc, gauge::set/add, histogram::observe)
// is lock-free: relaxed atomic read-modify-writes on per-series cells. Finding
// a series (with()) is lock-free when the series exists; creating one takes
// the family's mutex. Registration takes the registry's mutex. expose() may run
// concurrently with all of these; it reads each cell once, so a scrape during
// recording sees each series at some recent point, histogram _count always
// equals its `+Inf` bucket, and _sum may trail the buckets by the samples in
// flight.
//
// Example:
//   grove::obs::metrics_registry registry;
//   auto latency = registry.add_histogram({
//       .name = "grove_llm_request_duration_seconds",
//       .help = "LLM request latency.",
//       .labels = {"provider"},
//       .buckets = grove::obs::latency_buckets_seconds()});
//   grove::obs::histogram& openai = latency->with({"openai"});  // cache this
//   openai.observe(0.42);
//   std::string page = registry.expose();  // serve with content_type
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "grove/runtime/result.hpp"

namespace grove::obs {

namespace detail {
class family;
}  // namespace detail

/// A monotonically increasing count (requests, tokens, errors).
///
/// Owned by its family; references stay valid for the registry's lifetime.
/// Thread-safe: inc() is one relaxed atomic add.
class counter {
 public:
  counter() = default;
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

  /// Adds n. A counter counts whole events; for fractional amounts such as
  /// seconds use a histogram (its _sum) or a gauge.
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }

  /// The current count.
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down (in-flight requests, queue depth, bytes).
///
/// Owned by its family; references stay valid for the registry's lifetime.
/// Thread-safe: every operation is one atomic operation.
class gauge {
 public:
  gauge() = default;
  gauge(const gauge&) = delete;
  gauge& operator=(const gauge&) = delete;

  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void add(double delta) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
  void sub(double delta) noexcept { value_.fetch_sub(delta, std::memory_order_relaxed); }
  void inc() noexcept { add(1.0); }
  void dec() noexcept { sub(1.0); }

  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

/// Counts of a histogram at one moment.
struct histogram_snapshot {
  /// Upper bounds of the finite buckets, strictly increasing.
  std::vector<double> bounds{};
  /// cumulative[i]: samples <= bounds[i]; the last element (index
  /// bounds.size()) is the `+Inf` bucket and equals count.
  std::vector<std::uint64_t> cumulative{};
  std::uint64_t count = 0;
  double sum = 0.0;
};

/// A distribution over fixed buckets (latency in seconds, tokens per call).
///
/// Owned by its family; references stay valid for the registry's lifetime.
/// Thread-safe: observe() is a binary search over the bounds and two relaxed
/// atomic adds; it never allocates.
class histogram {
 public:
  histogram() = default;
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  /// Records one sample: it lands in the first bucket whose upper bound is
  /// >= value (or `+Inf`) and is added to the sum. NaN is not recorded; it is
  /// counted in grove_metrics_invalid_samples_total{metric} instead.
  void observe(double value) noexcept;

  /// The bucket bounds (without `+Inf`).
  std::span<const double> bounds() const noexcept { return {bounds_, bound_count_}; }

  /// Copies the current counts (allocates; not for hot paths).
  histogram_snapshot snapshot() const;

 private:
  friend class detail::family;

  const double* bounds_ = nullptr;
  std::size_t bound_count_ = 0;
  std::atomic<std::uint64_t>* buckets_ = nullptr;  // bound_count_ + 1 cells, not cumulative
  std::atomic<std::uint64_t>* invalid_ = nullptr;  // the family's NaN counter
  std::atomic<double> sum_{0.0};
};

/// What a metric is, in Prometheus terms.
enum class metric_type { counter, gauge, histogram };

/// The definition of a metric family.
struct metric_spec {
  /// `grove_` + snake_case; counters end in `_total` (e.g.
  /// grove_llm_requests_total), other types do not. Use base units in the name
  /// (seconds, bytes).
  std::string name{};

  /// One sentence for the HELP line. Required (non-empty). Backslashes and
  /// newlines are escaped in the output.
  std::string help{};

  /// Label names, in the order values are given to with(). Default none.
  /// At most 16.
  std::vector<std::string> labels{};

  /// Cap on distinct label sets (series), not counting the overflow series.
  /// 0 (the default) means registry_options::default_max_series. At most
  /// 100,000. Ignored for metrics without labels (they have one series).
  std::size_t max_series = 0;

  /// Histograms only: finite, strictly increasing upper bounds; `+Inf` is
  /// implicit. 1..registry_options::max_buckets values. Must be empty for
  /// counters and gauges. See latency_buckets_seconds(), token_buckets().
  std::vector<double> buckets{};
};

/// A handle to a registered counter family; cheap to copy, valid while its
/// registry lives. Thread-safe.
class counter_family {
 public:
  /// The series for these label values (one per label name, in order),
  /// created on first use; or the overflow series when the family is full or
  /// the values are malformed (see the header comment). Never fails.
  counter& with(std::initializer_list<std::string_view> label_values = {}) const;
  counter& with(std::span<const std::string_view> label_values) const;

  const std::string& name() const noexcept;
  /// Series created so far, not counting the overflow series.
  std::size_t series_count() const noexcept;

 private:
  friend class metrics_registry;
  explicit counter_family(detail::family* core) : core_(core) {}
  detail::family* core_;
};

/// A handle to a registered gauge family; see counter_family.
class gauge_family {
 public:
  gauge& with(std::initializer_list<std::string_view> label_values = {}) const;
  gauge& with(std::span<const std::string_view> label_values) const;

  const std::string& name() const noexcept;
  std::size_t series_count() const noexcept;

 private:
  friend class metrics_registry;
  explicit gauge_family(detail::family* core) : core_(core) {}
  detail::family* core_;
};

/// A handle to a registered histogram family; see counter_family.
class histogram_family {
 public:
  histogram& with(std::initializer_list<std::string_view> label_values = {}) const;
  histogram& with(std::span<const std::string_view> label_values) const;

  const std::string& name() const noexcept;
  std::size_t series_count() const noexcept;

 private:
  friend class metrics_registry;
  explicit histogram_family(detail::family* core) : core_(core) {}
  detail::family* core_;
};

/// Limits of a registry.
struct registry_options {
  /// Most metric families the registry accepts. Default 256, range 1..4096.
  std::size_t max_metrics = 256;

  /// Series cap of a family whose spec leaves max_series at 0. Default 64,
  /// range 1..100,000.
  std::size_t default_max_series = 64;

  /// Longest label value, in bytes, that gets a series of its own. Default
  /// 256, range 1..65,536.
  std::size_t max_label_value_bytes = 256;

  /// Most finite buckets per histogram. Default 64, range 1..1024.
  std::size_t max_buckets = 64;

  /// Label value of every label of the overflow series. Default "_overflow".
  /// 1..64 bytes of valid UTF-8.
  std::string overflow_label_value = "_overflow";

  /// Reports every bad field at once (errc::invalid_options).
  result<void> validate() const;
};

/// The set of metric families of a process or component, and their export.
///
/// Not copyable or movable: families point into it. Thread-safe (see the
/// header comment).
class metrics_registry {
 public:
  /// Content-Type of expose()'s output (Prometheus text format 0.0.4).
  static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

  metrics_registry();
  /// Throws std::invalid_argument with the validate() message for bad options.
  explicit metrics_registry(registry_options options);
  ~metrics_registry();
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  /// Registers a family, or returns the existing one with the same definition.
  /// Errors: errc::invalid_metric_name, reserved_metric_name,
  /// invalid_label_name, invalid_buckets, invalid_options (empty help, too
  /// many labels or series), duplicate_metric, too_many_metrics. The error's
  /// context is the metric name.
  result<counter_family> add_counter(const metric_spec& spec);
  result<gauge_family> add_gauge(const metric_spec& spec);
  result<histogram_family> add_histogram(const metric_spec& spec);

  /// Every family with at least one series, in registration order, then the
  /// registry's own metrics, in the Prometheus text exposition format 0.0.4.
  std::string expose() const;
  /// Appends the same text to out.
  void expose_to(std::string& out) const;

  /// Bytes the registry has allocated: family storage reserved at
  /// registration plus label value strings of created series. Recording
  /// samples never changes it.
  std::size_t memory_bytes() const noexcept;

  /// Registered families.
  std::size_t metric_count() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The process-wide registry (default options), created on first use.
/// Thread-safe. Components that take a registry should still accept one
/// explicitly, so tests and hosts can use their own.
metrics_registry& default_registry();

/// Latency bounds in seconds: 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
/// 2.5, 5, 10, 30, 60, 120 (remote calls from milliseconds to minutes).
std::vector<double> latency_buckets_seconds();

/// Token-count bounds: powers of two from 16 to 262,144 (prompt and completion
/// sizes).
std::vector<double> token_buckets();

/// count bounds start, start*factor, start*factor^2, ...
/// Errors (errc::invalid_buckets): start <= 0, factor <= 1, count 0 or > 1024,
/// or a bound that overflows to infinity.
result<std::vector<double>> exponential_buckets(double start, double factor, std::size_t count);

/// count bounds start, start+width, ...
/// Errors (errc::invalid_buckets): width <= 0 or not finite, start not finite,
/// count 0 or > 1024.
result<std::vector<double>> linear_buckets(double start, double width, std::size_t count);

}  // namespace grove::obs
