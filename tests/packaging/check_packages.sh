#!/usr/bin/env bash
# The Dockerfile installs no package list of its own: its build stage runs
# `scripts/install-deps.sh build` and its runtime stage `scripts/install-deps.sh runtime`, the
# script scripts/test.sh runs. The runtime group is exactly the Debian packages holding the
# shared libraries the binaries link (readelf NEEDED, resolved by ldd, owned per dpkg -S), and
# the image builds and copies each binary.
#
#   check_packages.sh SOURCE_DIR BINARY...
set -euo pipefail
src=$1
shift
fail() { echo "FAIL: $*" >&2; exit 1; }
dockerfile=$src/Dockerfile

# Stage N of the Dockerfile (1-based), comments and blank lines left out.
stage() { awk -v n="$1" '/^FROM / { i++ } i == n && !/^[[:space:]]*(#|$)/' "$dockerfile"; }
stages=$(grep -c '^FROM ' "$dockerfile")
[[ $stages -eq 2 ]] || fail "expected 2 stages, found $stages"
if grep -Eq 'apt(-get)? +install' "$dockerfile"; then
  fail "the Dockerfile installs packages itself; use scripts/install-deps.sh GROUP"
fi
stage 1 | grep -Eq '^FROM debian:12 ' || fail "the build stage is not Debian 12"
stage 1 | grep -q 'install-deps.sh build' || fail "the build stage does not run install-deps.sh build"
stage 2 | grep -Eq '^FROM debian:12-slim$' || fail "the runtime stage is not debian:12-slim"
stage 2 | grep -q 'install-deps.sh runtime' || fail "the runtime stage does not run install-deps.sh runtime"
stage 2 | grep -q '^USER etl$' || fail "the runtime stage does not run as the etl user"
stage 2 | grep -q '^HEALTHCHECK ' || fail "no health check"
for bin in "$@"; do
  name=$(basename "$bin")
  stage 1 | grep -Eq -- "--target .*\b$name\b" || fail "the build stage does not build $name"
  stage 2 | grep -q -- "/src/build/bin/$name" || fail "the runtime stage does not copy $name"
done

# The package owning a library file: dpkg knows it under /lib or /usr/lib (merged /usr).
owner() {
  local f real
  real=$(readlink -f "$1")
  for f in "$1" "$real" "${real/#\/usr\/lib\//\/lib\/}"; do
    dpkg -S "$f" 2>/dev/null | sed -n 1p | cut -d: -f1 && return 0
  done
  fail "no Debian package owns $1"
}
needed=()
for bin in "$@"; do
  libs=$(ldd "$bin")
  for soname in $(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    path=$(awk -v s="$soname" '$1 == s && $2 == "=>" { print $3 }' <<<"$libs")
    [[ -n $path ]] || fail "$bin: ldd does not resolve $soname"
    needed+=("$(owner "$path")")
  done
done
want=$(printf '%s\n' "${needed[@]}" | sort -u)
have=$("$src/scripts/install-deps.sh" --print runtime | sort -u)
if [[ $want != "$have" ]]; then
  fail "install-deps.sh runtime differs from what the binaries link:
  missing: $(comm -23 <(echo "$want") <(echo "$have") | tr '\n' ' ')
  extra:   $(comm -13 <(echo "$want") <(echo "$have") | tr '\n' ' ')"
fi
echo "runtime packages match the binaries: $(tr '\n' ' ' <<<"$have")"
