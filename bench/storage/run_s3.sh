#!/usr/bin/env bash
# Runs grove_storage_throughput_bench's s3 mode against a real s3rver: starts
# s3rver on a free 127.0.0.1 port with a temporary data directory, runs the
# bench (which also runs the curl baseline), and stops s3rver by pid.
#
#   bench/storage/run_s3.sh [BUILD_DIR] [extra bench flags...]
#
# BUILD_DIR defaults to build/release. s3rver is $GROVE_S3RVER, else
# build/node/node_modules/.bin/s3rver (scripts/test installs it there:
# `npm install --prefix build/node s3rver@3.7.1`). Needs curl and python3.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build/release}"
shift || true
bench="$build/bench/storage/grove_storage_throughput_bench"
s3rver="${GROVE_S3RVER:-$root/build/node/node_modules/.bin/s3rver}"
[[ -x "$bench" ]] || { echo "missing $bench (build grove_storage_throughput_bench)" >&2; exit 1; }
[[ -x "$s3rver" ]] || {
  echo "missing s3rver: npm install --prefix build/node s3rver@3.7.1, or set GROVE_S3RVER" >&2
  exit 1
}

data="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT

# A port that was free a moment ago.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')"
# Listing with continuation tokens needs the legacy OpenSSL provider on Node 17+.
NODE_OPTIONS=--openssl-legacy-provider "$s3rver" -d "$data/s3" -a 127.0.0.1 -p "$port" --silent \
  --configure-bucket grove-bench >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  kill -0 "$pid" 2>/dev/null || { echo "s3rver exited during start-up" >&2; exit 1; }
  sleep 0.1
done
if ! (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "s3rver did not listen on $port" >&2
  exit 1
fi

"$bench" s3 --endpoint "http://127.0.0.1:$port" --bucket grove-bench --dir "$data" "$@"
