# Shared by scripts/demo and scripts/test; not meant to be run on its own.
# Installs what the build needs on Debian 12 when it is missing, and configures
# and builds a CMake preset.

set -euo pipefail

GROVE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GROVE_ROOT

# Debian packages the build and the demo need.
GROVE_BUILD_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev nlohmann-json3-dev libcurl4-openssl-dev libspdlog-dev catch2
  libbenchmark-dev libxxhash-dev libssl-dev libhiredis-dev zlib1g-dev
  libzstd-dev libcli11-dev libhnswlib-dev
)

# Further packages the test command needs: formatting, the fuzz build, real peers
# (redis-server; Node.js for the s3rver S3 server; nghttpd for HTTP/2 over TLS).
GROVE_TEST_PACKAGES=(
  clang-format clang-tidy clang-14 libfuzzer-14-dev libclang-rt-14-dev curl
  redis-server nodejs nghttp2-server
)

log() { printf '\n==> %s\n' "$*"; }

# Installs the Debian packages that are not installed yet (needs root).
install_packages() {
  local missing=()
  local package
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$package")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return
  fi
  log "installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: missing packages (${missing[*]}) and not root; install them with apt-get" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# npm ships inside some Node.js builds (NodeSource) and as its own package in
# Debian; installing Debian's npm next to the former fails, so only add it when
# the command is missing.
install_npm() {
  if ! command -v npm >/dev/null 2>&1; then
    install_packages npm
  fi
}

# Configures and builds one preset; extra arguments are ninja targets.
build_preset() {
  local preset="$1"
  shift
  cmake --preset "$preset" -S "$GROVE_ROOT" >/dev/null
  cmake --build "$GROVE_ROOT/build/$preset" -- "$@"
}

# ccache makes rebuilds cheap; keep its cache bounded.
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
export CCACHE_BASEDIR="$GROVE_ROOT"
# Sanitizer builds carry -g; without this the build folder's path is part of
# every cache key and a fresh clone elsewhere would miss the cache.
export CCACHE_NOHASHDIR=1

# s3rver (npm), the real S3 peer of the storage tests, installed under
# build/node when missing; the tests find it through GROVE_S3RVER.
install_s3rver() {
  local bin="$GROVE_ROOT/build/node/node_modules/.bin/s3rver"
  if [[ ! -x "$bin" ]]; then
    log "installing s3rver@3.7.1 into build/node"
    npm install --prefix "$GROVE_ROOT/build/node" --no-audit --no-fund s3rver@3.7.1 >/dev/null
  fi
  export GROVE_S3RVER="$bin"
}
