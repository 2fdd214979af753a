// Tests for grove/obs/metrics.hpp: recording, registration rules, the
// cardinality cap, the Prometheus text format (checked line by line with
// exposition_checker), bounded memory and exact counts under concurrency.
#include "grove/obs/metrics.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "exposition_checker.hpp"
#include "grove/obs/errc.hpp"

// Counts every allocation through the global operator new of this test
// program, so the memory test can show that recording allocates nothing.
namespace {
std::atomic<std::size_t> allocation_count{0};
}  // namespace

void* operator new(std::size_t size) {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  if (void* memory = std::malloc(size == 0 ? 1 : size)) {
    return memory;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t) noexcept { std::free(memory); }

namespace {

using grove::obs::errc;
using grove::obs::metrics_registry;
using grove::obs::testing::check_exposition;

std::string describe(const std::vector<std::string>& problems) {
  std::string text;
  for (const std::string& problem : problems) {
    text += problem + "\n";
  }
  return text;
}

// Resident set size in bytes, from /proc/self/statm.
std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t total_pages = 0;
  std::size_t resident_pages = 0;
  statm >> total_pages >> resident_pages;
  return resident_pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST_CASE("metrics: the exposition checker rejects broken text", "[obs]") {
  // The checker is what the format tests rely on, so it must be able to fail.
  const std::string good =
      "# HELP grove_a_total A.\n# TYPE grove_a_total counter\ngrove_a_total{x=\"1\"} 3\n"
      "# HELP grove_h_seconds H.\n# TYPE grove_h_seconds histogram\n"
      "grove_h_seconds_bucket{le=\"0.5\"} 1\ngrove_h_seconds_bucket{le=\"+Inf\"} 2\n"
      "grove_h_seconds_sum 1.5\ngrove_h_seconds_count 2\n";
  CHECK(check_exposition(good).empty());

  const std::vector<std::pair<const char*, std::string>> broken = {
      {"bad escape",
       "# HELP grove_a_total A.\n# TYPE grove_a_total counter\n"
       "grove_a_total{x=\"a\\qb\"} 1\n"},
      {"raw quote",
       "# HELP grove_a_total A.\n# TYPE grove_a_total counter\n"
       "grove_a_total{x=\"a\"b\"} 1\n"},
      {"bad metric name", "# HELP 9a_total A.\n# TYPE 9a_total counter\n9a_total 1\n"},
      {"bad label name",
       "# HELP grove_a_total A.\n# TYPE grove_a_total counter\n"
       "grove_a_total{__x=\"1\"} 1\n"},
      {"bad value", "# HELP grove_g G.\n# TYPE grove_g gauge\ngrove_g one\n"},
      {"counter without _total", "# HELP grove_a A.\n# TYPE grove_a counter\ngrove_a 1\n"},
      {"gauge with _total",
       "# HELP grove_a_total A.\n# TYPE grove_a_total gauge\ngrove_a_total 1\n"},
      {"duplicate series", "# HELP grove_g G.\n# TYPE grove_g gauge\ngrove_g 1\ngrove_g 2\n"},
      {"second TYPE", "# HELP grove_g G.\n# TYPE grove_g gauge\n# TYPE grove_g gauge\ngrove_g 1\n"},
      {"no HELP", "# TYPE grove_g gauge\ngrove_g 1\n"},
      {"not contiguous",
       "# HELP grove_g G.\n# TYPE grove_g gauge\ngrove_g{a=\"1\"} 1\n"
       "# HELP grove_f F.\n# TYPE grove_f gauge\ngrove_f 1\ngrove_g{a=\"2\"} 1\n"},
      {"no newline at the end", "# HELP grove_g G.\n# TYPE grove_g gauge\ngrove_g 1"},
      {"+Inf differs from _count",
       "# HELP grove_h H.\n# TYPE grove_h histogram\ngrove_h_bucket{le=\"1\"} 1\n"
       "grove_h_bucket{le=\"+Inf\"} 2\ngrove_h_sum 1\ngrove_h_count 3\n"},
      {"buckets decrease",
       "# HELP grove_h H.\n# TYPE grove_h histogram\ngrove_h_bucket{le=\"1\"} 2\n"
       "grove_h_bucket{le=\"+Inf\"} 1\ngrove_h_sum 1\ngrove_h_count 1\n"},
      {"le out of order",
       "# HELP grove_h H.\n# TYPE grove_h histogram\ngrove_h_bucket{le=\"2\"} 1\n"
       "grove_h_bucket{le=\"1\"} 1\ngrove_h_bucket{le=\"+Inf\"} 1\ngrove_h_sum 1\n"
       "grove_h_count 1\n"},
      {"no +Inf bucket",
       "# HELP grove_h H.\n# TYPE grove_h histogram\ngrove_h_bucket{le=\"1\"} 1\n"
       "grove_h_sum 1\ngrove_h_count 1\n"},
      {"outside the namespace", "# HELP other_g G.\n# TYPE other_g gauge\nother_g 1\n"},
  };
  for (const auto& [what, text] : broken) {
    INFO(what);
    CHECK_FALSE(check_exposition(text).empty());
  }
}

TEST_CASE("metrics: counters, gauges and histograms in the text format", "[obs]") {
  metrics_registry registry;
  auto requests = registry.add_counter({.name = "grove_test_requests_total",
                                        .help = "Requests sent.",
                                        .labels = {"provider", "status"}});
  REQUIRE(requests);
  requests->with({"openai", "200"}).inc(3);
  requests->with({"anthropic", "529"}).inc();
  requests->with({"openai", "200"}).inc();

  auto in_flight = registry.add_gauge(
      {.name = "grove_test_in_flight", .help = "Calls in flight.\nSecond line, a \\ backslash."});
  REQUIRE(in_flight);
  in_flight->with().set(4);
  in_flight->with().dec();
  in_flight->with().add(-0.5);

  auto latency = registry.add_histogram({.name = "grove_test_latency_seconds",
                                         .help = "Latency.",
                                         .labels = {"provider"},
                                         .buckets = {0.1, 1, 10}});
  REQUIRE(latency);
  for (double sample : {0.25, 0.5, 20.0}) {
    latency->with({"openai"}).observe(sample);
  }
  auto unused = registry.add_counter(
      {.name = "grove_test_unused_total", .help = "Never used.", .labels = {"x"}});
  REQUIRE(unused);

  const std::string text = registry.expose();
  INFO(text);
  const std::string expected =
      "# HELP grove_test_requests_total Requests sent.\n"
      "# TYPE grove_test_requests_total counter\n"
      "grove_test_requests_total{provider=\"openai\",status=\"200\"} 4\n"
      "grove_test_requests_total{provider=\"anthropic\",status=\"529\"} 1\n"
      "# HELP grove_test_in_flight Calls in flight.\\nSecond line, a \\\\ backslash.\n"
      "# TYPE grove_test_in_flight gauge\n"
      "grove_test_in_flight 2.5\n"
      "# HELP grove_test_latency_seconds Latency.\n"
      "# TYPE grove_test_latency_seconds histogram\n"
      "grove_test_latency_seconds_bucket{provider=\"openai\",le=\"0.1\"} 0\n"
      "grove_test_latency_seconds_bucket{provider=\"openai\",le=\"1\"} 2\n"
      "grove_test_latency_seconds_bucket{provider=\"openai\",le=\"10\"} 2\n"
      "grove_test_latency_seconds_bucket{provider=\"openai\",le=\"+Inf\"} 3\n"
      "grove_test_latency_seconds_sum{provider=\"openai\"} 20.75\n"
      "grove_test_latency_seconds_count{provider=\"openai\"} 3\n"
      "# HELP grove_metrics_series_overflow_total ";
  CHECK(text.substr(0, expected.size()) == expected);
  // A family with no series yet has no HELP, TYPE or samples.
  CHECK(text.find("# HELP grove_test_unused_total") == std::string::npos);
  CHECK(text.find("\ngrove_test_unused_total") == std::string::npos);
  CHECK(text.find("grove_metrics_series_overflow_total{metric=\"grove_test_requests_total\",reason="
                  "\"cardinality\"} 0\n") != std::string::npos);
  CHECK(
      text.find("grove_metrics_invalid_samples_total{metric=\"grove_test_latency_seconds\"} 0\n") !=
      std::string::npos);
  CHECK(text.find("# TYPE grove_metrics_memory_bytes gauge\ngrove_metrics_memory_bytes " +
                  std::to_string(registry.memory_bytes()) + "\n") != std::string::npos);
  CHECK(describe(check_exposition(text)).empty());
}

TEST_CASE("metrics: histogram buckets are inclusive upper bounds", "[obs]") {
  metrics_registry registry;
  auto sizes = registry.add_histogram(
      {.name = "grove_test_size_bytes", .help = "Sizes.", .buckets = {1, 2, 4}});
  REQUIRE(sizes);
  grove::obs::histogram& h = sizes->with();
  for (double sample : {-3.0, 1.0, 1.5, 2.0, 4.0, 4.0000001,
                        std::numeric_limits<double>::infinity(), std::nan("")}) {
    h.observe(sample);
  }
  const auto snapshot = h.snapshot();
  CHECK(snapshot.bounds == std::vector<double>{1, 2, 4});
  CHECK(snapshot.cumulative == std::vector<std::uint64_t>{2, 4, 5, 7});
  CHECK(snapshot.count == 7);
  CHECK(std::isinf(snapshot.sum));
  const std::string text = registry.expose();
  CHECK(text.find("grove_test_size_bytes_sum +Inf\n") != std::string::npos);
  CHECK(text.find("grove_metrics_invalid_samples_total{metric=\"grove_test_size_bytes\"} 1\n") !=
        std::string::npos);
  CHECK(describe(check_exposition(text)).empty());
}

TEST_CASE("metrics: label values and help are escaped", "[obs]") {
  metrics_registry registry;
  auto errors = registry.add_counter({.name = "grove_test_errors_total",
                                      .help = "Errors; \\d+ \"quoted\"",
                                      .labels = {"message"}});
  REQUIRE(errors);
  errors->with({"back\\slash"}).inc();
  errors->with({"a \"quote\""}).inc();
  errors->with({"two\nlines"}).inc();
  errors->with({"caf\xc3\xa9 {}=,"}).inc();
  const std::string text = registry.expose();
  INFO(text);
  CHECK(text.find("# HELP grove_test_errors_total Errors; \\\\d+ \"quoted\"\n") !=
        std::string::npos);
  CHECK(text.find("{message=\"back\\\\slash\"} 1\n") != std::string::npos);
  CHECK(text.find("{message=\"a \\\"quote\\\"\"} 1\n") != std::string::npos);
  CHECK(text.find("{message=\"two\\nlines\"} 1\n") != std::string::npos);
  CHECK(text.find("{message=\"caf\xc3\xa9 {}=,\"} 1\n") != std::string::npos);
  CHECK(describe(check_exposition(text)).empty());
}

TEST_CASE("metrics: names, labels and buckets are validated", "[obs]") {
  metrics_registry registry;
  struct bad_counter {
    const char* name;
    std::vector<std::string> labels;
    errc expected;
  };
  const std::vector<bad_counter> bad_counters = {
      {"requests_total", {}, errc::invalid_metric_name},
      {"grove_Requests_total", {}, errc::invalid_metric_name},
      {"grove_requests", {}, errc::invalid_metric_name},
      {"grove_requests_total_", {}, errc::invalid_metric_name},
      {"grove_", {}, errc::invalid_metric_name},
      {"grove_a:b_total", {}, errc::invalid_metric_name},
      {"grove_latency_ms_total", {}, errc::invalid_metric_name},
      {"grove_metrics_things_total", {}, errc::reserved_metric_name},
      {"grove_ok_total", {"le"}, errc::invalid_label_name},
      {"grove_ok_total", {"__name"}, errc::invalid_label_name},
      {"grove_ok_total", {"Provider"}, errc::invalid_label_name},
      {"grove_ok_total", {"9x"}, errc::invalid_label_name},
      {"grove_ok_total", {""}, errc::invalid_label_name},
      {"grove_ok_total", {"a", "a"}, errc::invalid_label_name},
      {"grove_ok_total",
       {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q"},
       errc::invalid_options},
  };
  for (const auto& bad : bad_counters) {
    INFO(bad.name);
    const auto added = registry.add_counter({.name = bad.name, .help = "x", .labels = bad.labels});
    REQUIRE_FALSE(added);
    CHECK(added.error().code == bad.expected);
    CHECK(added.error().context == bad.name);
  }
  CHECK(registry.add_gauge({.name = "grove_queue_total", .help = "x"}).error().code ==
        errc::invalid_metric_name);
  CHECK(registry.add_gauge({.name = "grove_queue_count", .help = "x"}).error().code ==
        errc::invalid_metric_name);
  CHECK(registry.add_gauge({.name = "grove_queue_depth", .help = ""}).error().code ==
        errc::invalid_options);
  CHECK(
      registry.add_gauge({.name = "grove_queue_depth", .help = "x", .buckets = {1}}).error().code ==
      errc::invalid_buckets);
  const double inf = std::numeric_limits<double>::infinity();
  for (const auto& buckets : std::vector<std::vector<double>>{
           {}, {1, 1}, {2, 1}, {1, inf}, {std::nan("")}, std::vector<double>(65, 0)}) {
    CHECK(registry.add_histogram({.name = "grove_h_seconds", .help = "x", .buckets = buckets})
              .error()
              .code == errc::invalid_buckets);
  }
  CHECK(registry
            .add_counter(
                {.name = "grove_big_total", .help = "x", .labels = {"a"}, .max_series = 100'001})
            .error()
            .code == errc::invalid_options);
  CHECK(registry.metric_count() == 0);
}

TEST_CASE("metrics: registering a name twice", "[obs]") {
  metrics_registry registry;
  const grove::obs::metric_spec spec{
      .name = "grove_calls_total", .help = "Calls.", .labels = {"provider"}};
  auto first = registry.add_counter(spec);
  auto again = registry.add_counter(spec);
  REQUIRE(first);
  REQUIRE(again);
  CHECK(&first->with({"a"}) == &again->with({"a"}));
  CHECK(registry.metric_count() == 1);

  auto other_labels = spec;
  other_labels.labels = {"model"};
  auto other_help = spec;
  other_help.help = "Other.";
  auto other_cap = spec;
  other_cap.max_series = 5;
  CHECK(registry.add_counter(other_labels).error().code == errc::duplicate_metric);
  CHECK(registry.add_counter(other_help).error().code == errc::duplicate_metric);
  CHECK(registry.add_counter(other_cap).error().code == errc::duplicate_metric);
  CHECK(registry.add_gauge({.name = "grove_temp", .help = "T."}));
  CHECK(registry.add_histogram({.name = "grove_temp", .help = "T.", .buckets = {1}}).error().code ==
        errc::duplicate_metric);
  CHECK(registry.metric_count() == 2);
}

TEST_CASE("metrics: the registry holds at most max_metrics families", "[obs]") {
  metrics_registry registry({.max_metrics = 2});
  CHECK(registry.add_counter({.name = "grove_a_total", .help = "a"}));
  CHECK(registry.add_counter({.name = "grove_b_total", .help = "b"}));
  const auto third = registry.add_counter({.name = "grove_c_total", .help = "c"});
  REQUIRE_FALSE(third);
  CHECK(third.error().code == errc::too_many_metrics);
  CHECK(registry.add_counter({.name = "grove_a_total", .help = "a"}));  // existing: fine
}

TEST_CASE("metrics: label sets beyond the cap go to the overflow series", "[obs]") {
  metrics_registry registry;
  auto calls = registry.add_counter(
      {.name = "grove_calls_total", .help = "Calls.", .labels = {"model"}, .max_series = 3});
  REQUIRE(calls);
  for (const char* model : {"m1", "m2", "m3", "m4", "m5", "m4", "m1"}) {
    calls->with({model}).inc();
  }
  CHECK(calls->series_count() == 3);
  CHECK(calls->with({"m1"}).value() == 2);
  CHECK(calls->with({"m4"}).value() == 3);  // m4, m5, m4 share the overflow series
  CHECK(&calls->with({"m5"}) == &calls->with({"_overflow"}));

  const std::string text = registry.expose();
  INFO(text);
  CHECK(text.find("grove_calls_total{model=\"_overflow\"} 3\n") != std::string::npos);
  CHECK(text.find("grove_calls_total{model=\"m3\"} 1\n") != std::string::npos);
  // The three over-cap lookups in the loop plus m4 and m5 in the CHECKs; asking
  // for the overflow series by its own label values is not an overflow.
  CHECK(text.find("grove_metrics_series_overflow_total{metric=\"grove_calls_total\",reason="
                  "\"cardinality\"} 5\n") != std::string::npos);
  CHECK(describe(check_exposition(text)).empty());
}

TEST_CASE("metrics: malformed label values go to the overflow series", "[obs]") {
  metrics_registry registry({.max_label_value_bytes = 8});
  auto calls = registry.add_counter(
      {.name = "grove_calls_total", .help = "Calls.", .labels = {"provider", "model"}});
  REQUIRE(calls);
  calls->with({"only-one"}).inc();
  calls->with({"a", "b", "c"}).inc();
  calls->with({"p", "123456789"}).inc();
  calls->with({"p", "bad\xff"}).inc();
  calls->with({"p", "ok"}).inc();
  CHECK(calls->series_count() == 1);
  CHECK(calls->with({"_overflow", "_overflow"}).value() == 4);

  auto plain = registry.add_gauge({.name = "grove_level", .help = "Level."});
  REQUIRE(plain);
  plain->with({"unexpected"}).set(1);  // a family without labels has one series
  CHECK(plain->with().value() == 1);

  const std::string text = registry.expose();
  INFO(text);
  CHECK(text.find("grove_metrics_series_overflow_total{metric=\"grove_calls_total\",reason="
                  "\"invalid_labels\"} 4\n") != std::string::npos);
  CHECK(text.find("grove_metrics_series_overflow_total{metric=\"grove_level\",reason="
                  "\"invalid_labels\"} 1\n") != std::string::npos);
  CHECK(describe(check_exposition(text)).empty());
}

TEST_CASE("metrics: options and bucket helpers are validated", "[obs]") {
  const grove::obs::registry_options bad{.max_metrics = 0,
                                         .default_max_series = 0,
                                         .max_label_value_bytes = 0,
                                         .max_buckets = 2000,
                                         .overflow_label_value = ""};
  const auto valid = bad.validate();
  REQUIRE_FALSE(valid);
  for (const char* field : {"max_metrics", "default_max_series", "max_label_value_bytes",
                            "max_buckets", "overflow_label_value"}) {
    CHECK(valid.error().message.find(field) != std::string::npos);
  }
  CHECK_THROWS_AS(metrics_registry(bad), std::invalid_argument);

  CHECK(*grove::obs::exponential_buckets(1, 2, 4) == std::vector<double>{1, 2, 4, 8});
  CHECK(*grove::obs::linear_buckets(0.5, 0.5, 3) == std::vector<double>{0.5, 1, 1.5});
  CHECK_FALSE(grove::obs::exponential_buckets(0, 2, 4));
  CHECK_FALSE(grove::obs::exponential_buckets(1, 1, 4));
  CHECK_FALSE(grove::obs::exponential_buckets(1e300, 1e10, 4));
  CHECK_FALSE(grove::obs::linear_buckets(0, 0, 4));
  CHECK_FALSE(grove::obs::linear_buckets(0, 1, 0));

  metrics_registry registry;
  CHECK(registry.add_histogram({.name = "grove_test_latency_seconds",
                                .help = "x",
                                .buckets = grove::obs::latency_buckets_seconds()}));
  CHECK(registry.add_histogram(
      {.name = "grove_test_tokens", .help = "x", .buckets = grove::obs::token_buckets()}));
  CHECK(&grove::obs::default_registry() == &grove::obs::default_registry());
}

TEST_CASE("metrics: 10 million samples do not grow memory", "[obs]") {
  // Property: once every series exists, recording allocates nothing and the
  // registry's memory stays the same. Evidence: the registry's own accounting,
  // the count of operator new calls in this program and the resident set size,
  // compared after the first million samples and after ten million. More label
  // sets arrive (120) than the caps allow (32 and 8), so the overflow path is
  // exercised the whole time.
  metrics_registry registry({.default_max_series = 32});
  auto requests = registry.add_counter(
      {.name = "grove_test_requests_total", .help = "Requests.", .labels = {"provider", "status"}});
  auto latency = registry.add_histogram({.name = "grove_test_latency_seconds",
                                         .help = "Latency.",
                                         .labels = {"provider"},
                                         .max_series = 8,
                                         .buckets = grove::obs::latency_buckets_seconds()});
  auto depth = registry.add_gauge({.name = "grove_test_queue_depth", .help = "Depth."});
  REQUIRE(requests);
  REQUIRE(latency);
  REQUIRE(depth);

  std::vector<std::string> providers;
  std::vector<std::string> statuses;
  for (int i = 0; i < 12; ++i) {
    providers.push_back("provider-with-a-long-name-" + std::to_string(i));
  }
  for (int i = 0; i < 10; ++i) {
    statuses.push_back(std::to_string(200 + i * 37));
  }
  std::vector<grove::obs::histogram*> latency_by_provider;
  for (const std::string& provider : providers) {
    latency_by_provider.push_back(&latency->with({provider}));
  }
  grove::obs::gauge& queue = depth->with();

  constexpr std::size_t total = 10'000'000;
  constexpr std::size_t warm_up = 1'000'000;
  std::size_t increments = 0;
  auto record = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      latency_by_provider[i % 12]->observe(static_cast<double>(i % 1000) * 0.001);
      if (i % 4 == 0) {
        const std::size_t j = i / 4;
        requests->with({providers[j % 12], statuses[(j / 12) % 10]}).inc();
        ++increments;
      }
      queue.set(static_cast<double>(i % 64));
    }
  };

  record(0, warm_up);
  const std::size_t resident_before = resident_bytes();
  const std::size_t memory_before = registry.memory_bytes();
  const std::size_t allocations_before = allocation_count.load();
  record(warm_up, total);
  const std::size_t allocations_after = allocation_count.load();
  const std::size_t memory_after = registry.memory_bytes();
  const std::size_t resident_after = resident_bytes();

  CHECK(allocations_after == allocations_before);
  CHECK(memory_after == memory_before);
  CHECK(memory_before < 256 * 1024);
  // Nine million samples that each kept even 8 bytes would add 72 MB.
  CHECK(resident_after < resident_before + 4 * 1024 * 1024);

  CHECK(requests->series_count() == 32);
  CHECK(latency->series_count() == 8);
  // Providers 8..11 arrived after the cap of 8 and share the overflow series.
  CHECK(latency_by_provider[11] == latency_by_provider[8]);
  std::uint64_t observed = latency_by_provider[8]->snapshot().count;
  for (std::size_t p = 0; p < 8; ++p) {
    observed += latency_by_provider[p]->snapshot().count;
  }
  CHECK(observed == total);
  const std::string text = registry.expose();
  CHECK(describe(check_exposition(text)).empty());
  // Every increment is in some series: the sum of the counter lines.
  std::uint64_t counted = 0;
  for (std::size_t at = text.find("\ngrove_test_requests_total{"); at != std::string::npos;
       at = text.find("\ngrove_test_requests_total{", at + 1)) {
    const std::size_t line_end = text.find('\n', at + 1);
    const std::size_t space = text.rfind(' ', line_end);
    counted += std::stoull(text.substr(space + 1, line_end - space - 1));
  }
  CHECK(counted == increments);
}

TEST_CASE("metrics: two threads record exact counts", "[obs]") {
  // Property: concurrent recording and series creation lose no update and
  // create each label set once, while a scraper reads consistent text.
  // Evidence: after both threads finish, every counter equals the number of
  // increments made, the histogram count equals the observations, and every
  // scrape taken meanwhile passes the format checker (+Inf equals _count).
  metrics_registry registry;
  auto shared = registry.add_counter({.name = "grove_test_shared_total", .help = "Shared."});
  auto keyed = registry.add_counter(
      {.name = "grove_test_keyed_total", .help = "Keyed.", .labels = {"key"}, .max_series = 64});
  auto latency = registry.add_histogram(
      {.name = "grove_test_latency_seconds", .help = "Latency.", .buckets = {0.5, 1.5}});
  auto level = registry.add_gauge({.name = "grove_test_level", .help = "Level."});
  REQUIRE(shared);
  REQUIRE(keyed);
  REQUIRE(latency);
  REQUIRE(level);

  std::vector<std::string> keys;
  for (int k = 0; k < 50; ++k) {
    keys.push_back("key-" + std::to_string(k));
  }
  constexpr int per_thread = 200'000;
  std::atomic<int> running{2};
  auto work = [&] {
    grove::obs::counter& total = shared->with();
    grove::obs::histogram& h = latency->with();
    grove::obs::gauge& g = level->with();
    for (int i = 0; i < per_thread; ++i) {
      total.inc();
      keyed->with({keys[static_cast<std::size_t>(i % 50)]}).inc(2);
      h.observe(i % 3);
      g.add(1);
    }
    running.fetch_sub(1);
  };
  std::thread first(work);
  std::thread second(work);
  int scrapes = 0;
  bool scrapes_valid = true;
  while (running.load() > 0 || scrapes == 0) {
    const auto problems = check_exposition(registry.expose());
    scrapes_valid = scrapes_valid && problems.empty();
    ++scrapes;
  }
  first.join();
  second.join();

  CHECK(scrapes_valid);
  CHECK(shared->with().value() == 2 * per_thread);
  CHECK(keyed->series_count() == 50);
  for (const std::string& key : keys) {
    CHECK(keyed->with({key}).value() == 2 * 2 * per_thread / 50);
  }
  const auto snapshot = latency->with().snapshot();
  CHECK(snapshot.count == 2 * per_thread);
  CHECK(snapshot.cumulative[0] == 2 * 66'667);  // i % 3 == 0
  CHECK(snapshot.sum == 2.0 * (66'667 * 0 + 66'667 * 1 + 66'666 * 2));
  CHECK(level->with().value() == 2.0 * per_thread);
  CHECK(describe(check_exposition(registry.expose())).empty());
}
