// A checker for the Prometheus text exposition format 0.0.4, written for the
// obs tests from the rules in the Prometheus documentation and the checks
// `promtool check metrics` applies (its parser plus its linter). It returns
// the problems it finds, one string each, naming the line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace grove::obs::testing {

/// Every problem in text; empty when the exposition is valid. Checks:
/// - line syntax: `# HELP name text`, `# TYPE name type`, other `#` comments,
///   `name{label="value",...} value`; the text ends with a newline, no blank
///   lines;
/// - metric names `[a-zA-Z_:][a-zA-Z0-9_:]*` (and, as a grove rule, `grove_`
///   with no `:`), label names `[a-zA-Z_][a-zA-Z0-9_]*` not starting `__`, no
///   repeated label in a sample;
/// - escapes: HELP allows `\\` and `\n`; label values allow `\\`, `\"`, `\n`;
/// - values parse as Prometheus floats (decimal, NaN, +Inf, -Inf);
/// - at most one HELP and one TYPE per family, TYPE before its samples, each
///   family's lines contiguous, every family has HELP and TYPE, no duplicate
///   series;
/// - counters: names end in `_total`, values >= 0; other types do not end in
///   `_total`;
/// - histograms: only `_bucket`, `_sum`, `_count` samples; every `_bucket` has
///   `le`, le values strictly increasing per series, the last is `+Inf`,
///   cumulative counts never decrease, `_count` equals the `+Inf` bucket, and
///   each series has `_sum` and `_count`.
std::vector<std::string> check_exposition(std::string_view text);

}  // namespace grove::obs::testing
