#!/usr/bin/env bash
# The README's test command: installs what is missing, builds everything, runs every test.
# Its exit code is the result. ETL_WERROR=ON (CI sets it) turns warnings into errors;
# ETL_BUILD_DIR picks the build folder (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

build_dir=${ETL_BUILD_DIR:-build}
jobs=${ETL_JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE="${ETL_BUILD_TYPE:-RelWithDebInfo}" \
  -DETL_WERROR="${ETL_WERROR:-OFF}" \
  -DETL_SANITIZE="${ETL_SANITIZE:-}" >/dev/null
cmake --build "$build_dir" -j "$jobs"
# The browser test's playwright-core (tests/browser/package-lock.json), when missing or older
# than the lock file.
browser=tests/browser
if [[ ! -d $browser/node_modules || $browser/package-lock.json -nt $browser/node_modules ]]; then
  npm ci --prefix "$browser" --no-audit --no-fund
fi
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" --timeout 300
