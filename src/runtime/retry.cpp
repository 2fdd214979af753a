// Retry decisions, server hints and the retry budget.
#include "grove/runtime/retry.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "options_check.hpp"

namespace grove::runtime {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Hints beyond a day are nonsense; clamping keeps the arithmetic in range.
constexpr double max_hint_seconds = 86400.0;

std::chrono::nanoseconds from_seconds(double seconds) {
  return std::chrono::nanoseconds(
      static_cast<std::int64_t>(std::min(seconds, max_hint_seconds) * 1e9));
}

std::optional<int> parse_int(std::string_view s) {
  int value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return value;
}

// IMF-fixdate, the form RFC 9110 requires senders to use:
// "Sun, 06 Nov 1994 08:49:37 GMT" (29 characters).
std::optional<std::chrono::system_clock::time_point> parse_imf_fixdate(std::string_view s) {
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  static constexpr std::array<std::string_view, 12> months = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto month = std::find(months.begin(), months.end(), s.substr(8, 3));
  const auto day = parse_int(s.substr(5, 2));
  const auto year = parse_int(s.substr(12, 4));
  const auto hour = parse_int(s.substr(17, 2));
  const auto minute = parse_int(s.substr(20, 2));
  const auto second = parse_int(s.substr(23, 2));
  if (month == months.end() || !day || !year || !hour || !minute || !second || *hour > 23 ||
      *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{
      std::chrono::year(*year),
      std::chrono::month(static_cast<unsigned>(month - months.begin() + 1)),
      std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) {
    return std::nullopt;
  }
  return std::chrono::sys_days(date) + std::chrono::hours(*hour) + std::chrono::minutes(*minute) +
         std::chrono::seconds(*second);
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_retry_after(
    std::string_view retry_after_ms, std::string_view retry_after,
    std::chrono::system_clock::time_point now) {
  // retry-after-ms: milliseconds, possibly fractional.
  retry_after_ms = trim(retry_after_ms);
  if (!retry_after_ms.empty()) {
    double ms = 0;
    auto [end, ec] =
        std::from_chars(retry_after_ms.data(), retry_after_ms.data() + retry_after_ms.size(), ms);
    if (ec == std::errc{} && end == retry_after_ms.data() + retry_after_ms.size() &&
        std::isfinite(ms) && ms >= 0) {
      return from_seconds(ms / 1000.0);
    }
  }

  // retry-after: delay-seconds (digits only) or an HTTP-date.
  retry_after = trim(retry_after);
  if (retry_after.empty()) {
    return std::nullopt;
  }
  if (std::all_of(retry_after.begin(), retry_after.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    // Long digit strings overflow int; anything that long is "very long".
    const auto seconds =
        retry_after.size() > 9 ? std::optional<int>(86400) : parse_int(retry_after);
    return from_seconds(static_cast<double>(*seconds));
  }
  if (auto date = parse_imf_fixdate(retry_after)) {
    if (*date <= now) {
      return std::chrono::nanoseconds::zero();
    }
    return from_seconds(std::chrono::duration<double>(*date - now).count());
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// retry_budget

result<void> retry_budget_options::validate() const {
  detail::options_check check("retry_budget_options");
  check.require(std::isfinite(max_tokens) && max_tokens >= 0, "max_tokens",
                "must be finite and >= 0");
  check.require(!initial_tokens || (std::isfinite(*initial_tokens) && *initial_tokens >= 0 &&
                                    *initial_tokens <= max_tokens),
                "initial_tokens", "must be in [0, max_tokens]");
  check.require(detail::positive(retry_cost), "retry_cost", "must be finite and > 0");
  check.require(std::isfinite(success_refund) && success_refund >= 0, "success_refund",
                "must be finite and >= 0");
  return check.finish();
}

retry_budget::retry_budget(retry_budget_options options) : options_(options) {
  detail::throw_if_invalid(options_.validate());
  tokens_ = options_.initial_tokens.value_or(options_.max_tokens);
}

bool retry_budget::try_spend() noexcept {
  std::lock_guard lock(mutex_);
  if (tokens_ < options_.retry_cost) {
    return false;
  }
  tokens_ -= options_.retry_cost;
  return true;
}

void retry_budget::refund() noexcept {
  std::lock_guard lock(mutex_);
  tokens_ = std::min(options_.max_tokens, tokens_ + options_.success_refund);
}

double retry_budget::tokens() const noexcept {
  std::lock_guard lock(mutex_);
  return tokens_;
}

// ---------------------------------------------------------------------------
// retrier

bool is_retryable(failure_class c) noexcept {
  switch (c) {
    case failure_class::server_error:
    case failure_class::timeout:
    case failure_class::connection:
    case failure_class::rate_limited:
      return true;
    case failure_class::client_error:
    case failure_class::rejected:
    case failure_class::unknown:
      return false;
  }
  return false;
}

void attempt_context::set_retry_after(std::string_view retry_after_ms, std::string_view retry_after,
                                      std::chrono::system_clock::time_point now) {
  if (auto hint = parse_retry_after(retry_after_ms, retry_after, now)) {
    hint_ = hint;
  }
}

result<void> retry_options::validate() const {
  detail::options_check check("retry_options");
  check.require(max_attempts >= 1, "max_attempts", "must be >= 1");
  check.require(base_delay.count() > 0, "base_delay", "must be > 0");
  check.require(max_delay >= base_delay, "max_delay", "must be >= base_delay");
  check.require(max_server_hint.count() >= 0, "max_server_hint", "must be >= 0");
  return check.finish();
}

retrier::retrier(retry_options options)
    : options_(std::move(options)),
      clock_(or_real_clock(options_.time_source)),
      rng_(options_.seed) {
  detail::throw_if_invalid(options_.validate());
  if (!options_.budget) {
    options_.budget = std::make_shared<retry_budget>();
  }
}

failure_class retrier::classify(const error& e) const {
  // The runtime's own refusals are never the remote side's fault.
  if (e.code.category() == runtime_category() || !options_.classifier) {
    return classify_error(e);
  }
  return options_.classifier(e);
}

void retrier::on_attempt(int number) {
  std::lock_guard lock(mutex_);
  ++stats_.attempts;
  if (number == 1) {
    ++stats_.calls;
  } else {
    ++stats_.retries;
  }
}

void retrier::on_success() {
  options_.budget->refund();
  std::lock_guard lock(mutex_);
  ++stats_.succeeded;
}

std::optional<std::chrono::nanoseconds> retrier::next_delay(const attempt_context& at,
                                                            failure_class c) {
  std::lock_guard lock(mutex_);
  if (!is_retryable(c)) {
    ++stats_.gave_up_not_retryable;
    return std::nullopt;
  }
  if (at.streamed()) {
    ++stats_.gave_up_streamed;
    return std::nullopt;
  }
  if (at.number() >= options_.max_attempts) {
    ++stats_.gave_up_attempts;
    return std::nullopt;
  }
  if (!options_.budget->try_spend()) {
    ++stats_.gave_up_budget;
    return std::nullopt;
  }
  if (auto hint = at.retry_after()) {
    ++stats_.server_hints;
    return std::min(*hint, options_.max_server_hint);
  }

  // Full jitter: uniform in [0, min(cap, base * 2^(n-1))].
  const double exponent = std::min(at.number() - 1, 62);
  const double ceiling =
      std::min(static_cast<double>(options_.max_delay.count()),
               static_cast<double>(options_.base_delay.count()) * std::exp2(exponent));
  std::uniform_real_distribution<double> jitter(0.0, ceiling);
  return std::chrono::nanoseconds(static_cast<std::int64_t>(jitter(rng_)));
}

retry_stats retrier::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace grove::runtime
