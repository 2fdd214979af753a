// grove-obs-demo: what an application sees from grove/obs.
//
// Writes two JSON-lines log records to stderr (the second carries an API key,
// which arrives masked) and prints a Prometheus metrics page to stdout.
//
//   grove-obs-demo                        # level info
//   GROVE_LOG_LEVEL=debug grove-obs-demo  # also the debug record
#include <spdlog/logger.h>

#include <cstdio>
#include <string>

#include "grove/obs/log.hpp"
#include "grove/obs/metrics.hpp"

int main(int argc, char** argv) {
  if (argc > 1) {
    const std::string arg = argv[1];
    const bool help = arg == "--help" || arg == "-h";
    std::fprintf(help ? stdout : stderr,
                 "%s"
                 "usage: grove-obs-demo\n"
                 "Writes two JSON-lines log records to stderr (the second carries an API key, "
                 "which arrives masked) and prints a Prometheus metrics page to stdout.\n"
                 "It takes no arguments. GROVE_LOG_LEVEL=debug also shows the debug record.\n",
                 help ? "" : ("grove-obs-demo: unknown argument '" + arg + "'\n").c_str());
    return help ? 0 : 2;
  }
  auto log = grove::obs::make_logger(
      {.name = "grove-obs-demo", .format = grove::obs::log_format::json_lines});
  if (!log) {
    std::fprintf(stderr, "grove-obs-demo: %s\n", log.error().describe().c_str());
    return 1;
  }
  (*log)->info("starting; {} buckets per latency histogram",
               grove::obs::latency_buckets_seconds().size());
  (*log)->debug("calling the provider with Authorization: Bearer {}",
                "sk-demo-0123456789abcdefghijklmnop");
  (*log)->warn("provider rejected api_key={}", "sk-demo-0123456789abcdefghijklmnop");

  grove::obs::metrics_registry registry;
  auto requests = registry.add_counter({.name = "grove_demo_requests_total",
                                        .help = "Requests by provider and outcome.",
                                        .labels = {"provider", "outcome"}});
  auto latency = registry.add_histogram({.name = "grove_demo_request_duration_seconds",
                                         .help = "Request latency.",
                                         .labels = {"provider"},
                                         .buckets = grove::obs::latency_buckets_seconds()});
  if (!requests || !latency) {
    std::fprintf(stderr, "grove-obs-demo: cannot register metrics\n");
    return 1;
  }
  grove::obs::histogram& offline = latency->with({"offline"});
  for (int i = 0; i < 100; ++i) {
    requests->with({"offline", i % 10 == 0 ? "error" : "ok"}).inc();
    offline.observe(0.001 * (i + 1));
  }
  const std::string page = registry.expose();
  std::fwrite(page.data(), 1, page.size(), stdout);
  return 0;
}
