#!/usr/bin/env bash
# docker.image: builds the project's Dockerfile as animals-etl:latest (the compose file's image),
# once for every docker test (a ctest fixture), and checks the image: its four binaries run as
# the unprivileged user etl, and the runtime stage holds no compiler. Prints the build time and
# the image's size.
#
#   image.sh SOURCE_DIR
set -euo pipefail
SRC=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
need_engine

start=$SECONDS
# The legacy builder: Debian's docker.io has no buildx, and it honours .dockerignore the same.
DOCKER_BUILDKIT=0 docker build -t "$image" "$SRC" >"${TMPDIR:-/tmp}/animals-etl-image.$$.log" 2>&1 || {
  tail -n 60 "${TMPDIR:-/tmp}/animals-etl-image.$$.log"; rm -f "${TMPDIR:-/tmp}/animals-etl-image.$$.log"
  fail "docker build of $SRC failed"
}
rm -f "${TMPDIR:-/tmp}/animals-etl-image.$$.log"
note "docker build: $((SECONDS - start)) s"

size=$(docker image inspect --format '{{.Size}}' "$image")
note "$image: $((size / 1000000)) MB"
user=$(docker run --rm --entrypoint id "$image" -un)
[[ $user == etl ]] || fail "the image runs as '$user', not etl"
for bin in etl-server etl-worker etl-verify animals-sim; do
  docker run --rm "$image" "$bin" --help >/dev/null || fail "$bin --help fails in the image"
done
if docker run --rm --entrypoint bash "$image" -c 'command -v g++ || command -v cmake'; then
  fail "the runtime image holds a compiler"
fi
((size < 400000000)) || fail "the image is $((size / 1000000)) MB; the runtime stage should stay small"
note "image ok: four binaries run as etl, no compiler"
