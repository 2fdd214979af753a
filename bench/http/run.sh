#!/usr/bin/env bash
# Measures grove's HTTP client against `curl --parallel --parallel-max 100` on
# the same local server, in the same run, and prints the throughput ratio.
#
#   bench/http/run.sh [build-dir]        (default: build/release)
#
# Environment: GROVE_BENCH_REQUESTS (curl requests per round, default 20000),
# GROVE_BENCH_ROUNDS (rounds of each, default 3; the best round counts).
# Only 127.0.0.1 is contacted; the server is stopped by its pid on exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build/release}"
requests="${GROVE_BENCH_REQUESTS:-20000}"
rounds="${GROVE_BENCH_ROUNDS:-3}"

if [[ ! -x "$build/bench/http/grove_http_bench" ]]; then
  cmake --preset release -S "$root" >/dev/null
  cmake --build "$build" --target grove_http_bench grove_http_bench_server
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$build/bench/http/grove_http_bench_server" >"$work/server.out" &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^port ' "$work/server.out" 2>/dev/null && break
  sleep 0.05
done
port="$(awk '/^port /{print $2}' "$work/server.out")"
if [[ -z "$port" ]]; then
  echo "error: the benchmark server did not start" >&2
  exit 1
fi
url="http://127.0.0.1:$port/"
echo "server: $url (pid $server_pid)"

# curl: $requests GETs, at most 100 at once, bodies discarded.
curl_round() {
  local start end
  start=$(date +%s.%N)
  curl -sS --fail --parallel --parallel-max 100 "${url}r[1-$requests]" >/dev/null
  end=$(date +%s.%N)
  awk -v n="$requests" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }'
}

# grove: BM_in_flight/1000 (1,000 requests in flight on one thread).
grove_round() {
  GROVE_BENCH_HTTP_URL="$url" "$build/bench/http/grove_http_bench" \
    --benchmark_filter='BM_in_flight' --benchmark_min_time=2 --benchmark_format=json \
    >"$work/grove.json"
  awk -F': ' '/"items_per_second"/ { gsub(/,/, "", $2); printf "%.0f", $2; exit }' "$work/grove.json"
}

best_curl=0
best_grove=0
for round in $(seq "$rounds"); do
  c=$(curl_round)
  g=$(grove_round)
  echo "round $round: curl --parallel ${c} req/s, grove ${g} req/s"
  ((c > best_curl)) && best_curl=$c
  ((g > best_grove)) && best_grove=$g
done

ratio=$(awk -v g="$best_grove" -v c="$best_curl" 'BEGIN { printf "%.2f", g / c }')
echo "best: curl --parallel --parallel-max 100: ${best_curl} req/s"
echo "best: grove http client (1000 in flight, one thread): ${best_grove} req/s"
echo "ratio grove/curl: ${ratio} (target >= 0.5)"
