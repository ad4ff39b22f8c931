#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds, tests and runs with, when any is missing.
# Quiet and quick when everything is there. Needs root (or sudo) only when it installs.
#
#   scripts/install-deps.sh                  build and test groups (what scripts/test.sh needs)
#   scripts/install-deps.sh GROUP...         only these groups: build, test, runtime, bench, demo
#   scripts/install-deps.sh --print GROUP    print a group's packages, one a line
#
# These lists are the only ones: the Dockerfile installs its build stage with `build` and its
# runtime stage with `runtime`, and tests/packaging checks that `runtime` is exactly the packages
# holding the shared libraries the four binaries link.
set -euo pipefail

# Compiler, build tools and the libraries' headers (their -dev packages pull in `runtime`).
build_packages=(
  g++ cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev
  libhiredis-dev libpqxx-dev libspdlog-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsnappy-dev libzstd-dev  # formats/parquet's codecs
  libssl-dev  # libcrypto: the transform's stable keys and salted secret hashes
)
# What the tests, the demo and the benchmarks start or call (docker-compose validates the
# compose file; it needs no Docker engine for that; chromium runs the dashboard's browser test).
test_packages=(
  git redis-server postgresql wrk curl jq procps docker-compose chromium
  prometheus  # for promtool: the metrics test checks /metrics with Prometheus's own parser
  clang-14 libclang-rt-14-dev  # the request fuzzer: libFuzzer, ASan and UBSan (tests/fuzz)
)
# What scripts/demo.sh starts or calls beside the build group, and nothing the tests alone
# need (no chromium, clang or prometheus).
demo_packages=(
  redis-server postgresql curl procps
)
# The reference ETLs bench/compare.sh runs beside the service (bench/baselines).
bench_packages=(
  python3 python3-requests python3-httpx wrk curl
)
# The shared libraries etl-server, etl-worker, etl-verify and animals-sim link, nothing else.
runtime_packages=(
  libboost-json1.81.0 libhiredis0.14 libpqxx-6.4 libspdlog1.10 libfmt9 libyaml-cpp0.7
  libsnappy1v5 libzstd1  # the files sink's Parquet codecs
  libssl3  # libcrypto
  libstdc++6 libgcc-s1 libc6
)

group_packages() {
  case $1 in
    build) printf '%s\n' "${build_packages[@]}" ;;
    test) printf '%s\n' "${test_packages[@]}" ;;
    runtime) printf '%s\n' "${runtime_packages[@]}" ;;
    bench) printf '%s\n' "${bench_packages[@]}" ;;
    demo) printf '%s\n' "${demo_packages[@]}" ;;
    *) echo "install-deps: unknown group '$1' (build, test, runtime, bench or demo)" >&2; return 1 ;;
  esac
}

if [[ ${1:-} == --print ]]; then
  [[ $# -eq 2 ]] || { echo "usage: install-deps.sh --print build|test|runtime|bench|demo" >&2; exit 2; }
  group_packages "$2"
  exit 0
fi

groups=("$@")
[[ ${#groups[@]} -gt 0 ]] || groups=(build test)
packages=()
for g in "${groups[@]}"; do
  list=$(group_packages "$g")
  mapfile -t -O "${#packages[@]}" packages <<<"$list"
done

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# The browser test runs playwright-core with node (>= 18): any node will do, Debian's or one
# already on the machine (whose npm may come with it rather than as a package of its own).
if [[ " ${groups[*]} " == *" test "* ]]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
