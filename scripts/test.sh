#!/usr/bin/env bash
# The README's test command: installs what is missing, builds everything, runs every test.
# Then a short run of the request fuzzer (tests/fuzz, docs/fuzzing.md). Its exit code is the
# result. ETL_WERROR=ON (CI sets it) turns warnings into errors;
# ETL_BUILD_DIR picks the build folder (default: build), ETL_FUZZ_SECONDS the fuzz run's length
# (default 30; 0 skips it), ETL_DOCKER_TESTS=off leaves the Docker engine alone (the docker
# tests then skip unless an engine already runs).
#
# The docker tests (ctest -L docker, tests/docker) need an engine and the base images. As root,
# where Debian's docker.io can be installed, scripts/docker-local-images.sh makes both (in the
# background, while the project builds); when it cannot, it says why and the docker tests skip.
# They run after the rest, one at a time.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

build_dir=${ETL_BUILD_DIR:-build}
mkdir -p "$build_dir"
docker_pid=
docker_log=$build_dir/docker-local-images.log
if [[ ${ETL_DOCKER_TESTS:-auto} == off ]]; then
  echo "test.sh: ETL_DOCKER_TESTS=off: the Docker engine is left alone"
elif [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: not root: no Docker engine started here; the docker tests run only if one answers"
elif ! command -v dockerd >/dev/null && [[ $(apt-cache policy docker.io 2>/dev/null | awk '/Candidate:/ { print $2 }') =~ ^(|\(none\))$ ]]; then
  echo "test.sh: docker.io cannot be installed from this machine's apt sources; the docker tests will skip"
else
  scripts/docker-local-images.sh >"$docker_log" 2>&1 &
  docker_pid=$!
fi
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
# The Parquet round-trip test's independent readers, DuckDB and hyparquet
# (tests/parquet/package-lock.json), the same way.
readers=tests/parquet
if [[ ! -d $readers/node_modules || $readers/package-lock.json -nt $readers/node_modules ]]; then
  npm ci --prefix "$readers" --no-audit --no-fund
fi
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" --timeout 300 -LE '^docker$'

# The docker tests: the image is built once (docker.image), then one compose stack at a time.
if [[ -n $docker_pid ]]; then
  if wait "$docker_pid"; then
    grep -E 'engine|built|imported' "$docker_log" || true
  else
    tail -n 15 "$docker_log"
    echo "test.sh: no Docker engine or base images (log: $docker_log); the docker tests will skip"
    export ETL_DOCKER_TESTS=off  # the tests are not to try again, each on its own
  fi
fi
docker_start=$SECONDS
ctest --test-dir "$build_dir" --output-on-failure -L '^docker$'
echo "test.sh: the docker tests took $(((SECONDS - docker_start) / 60)) min $(((SECONDS - docker_start) % 60)) s"

# The request fuzzer: clang's libFuzzer with ASan and UBSan, built in a folder of its own from
# only the sources it needs, run from the seed corpus (new inputs go to a scratch folder, not
# into the checked-in corpus). A crash or a broken invariant fails the run; its input is kept as
# <fuzz build folder>/crash-*.
fuzz_seconds=${ETL_FUZZ_SECONDS:-30}
if [[ $fuzz_seconds -gt 0 ]]; then
  fuzz_dir=$build_dir-fuzz
  cmake -S . -B "$fuzz_dir" -G Ninja -DETL_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DETL_WERROR="${ETL_WERROR:-OFF}" >/dev/null
  cmake --build "$fuzz_dir" -j "$jobs"
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  if ! "$fuzz_dir/bin/request_fuzz" -max_total_time="$fuzz_seconds" -dict=tests/fuzz/request.dict \
    -artifact_prefix="$fuzz_dir/" -print_final_stats=1 "$scratch" tests/fuzz/corpus \
    2>"$fuzz_dir/fuzz.log"; then
    tail -n 60 "$fuzz_dir/fuzz.log"
    echo "test.sh: the request fuzzer failed; the input is in $fuzz_dir/crash-*" >&2
    exit 1
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$fuzz_dir/fuzz.log" || true
fi
