#!/usr/bin/env bash
# For machines that can reach Debian's apt mirror but no image registry: makes the base images
# the project's Dockerfile and docker-compose.yml name, locally, from Debian packages. A machine
# with a registry never runs this (docker pulls the official images).
#
#   1. installs docker.io and debootstrap when missing (apt-get, as root);
#   2. starts dockerd when no engine answers (in the background, log in $DOCKERD_LOG, bounded
#      wait for `docker info`);
#   3. debootstraps Debian 12 (bookworm, minbase) from the machine's own apt source
#      (/etc/apt/sources.list and sources.list.d/*.list or *.sources) and imports it as
#      debian:12, tagged debian:12-slim too;
#   4. builds the stand-ins docker/standins/redis (redis:7.0-bookworm, Debian's redis-server 7.0)
#      and docker/standins/postgres (postgres:15-bookworm, Debian's postgresql-15 with the
#      official image's POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB entrypoint).
# Every image already present is left alone: the second run only checks.
#
# Environment: DOCKERD_LOG (default /var/log/dockerd.log), DOCKERD_TIMEOUT (seconds, default 60),
# DEBIAN_MIRROR (overrides the mirror read from apt's sources).
# Exit 0 when every image is there; 1 with the reason on stderr otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "docker-local-images: $*"; }
die() { echo "docker-local-images: $*" >&2; exit 1; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root or sudo for: $*"; fi; }

# 1. Packages.
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || [[ -x /usr/sbin/debootstrap ]] || missing+=(debootstrap)
if [[ ${#missing[@]} -gt 0 ]]; then
  say "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. The engine.
if ! docker info >/dev/null 2>&1; then
  if pgrep -x dockerd >/dev/null; then
    say "a dockerd is running but does not answer yet"
  else
    log=${DOCKERD_LOG:-/var/log/dockerd.log}
    say "starting dockerd (log: $log)"
    as_root bash -c 'nohup setsid dockerd >>"$1" 2>&1 </dev/null &' _ "$log"
  fi
  deadline=$((SECONDS + ${DOCKERD_TIMEOUT:-60}))
  until docker info >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      tail -n 20 "${DOCKERD_LOG:-/var/log/dockerd.log}" >&2 2>/dev/null || true
      die "the Docker engine did not answer within ${DOCKERD_TIMEOUT:-60} s"
    fi
    sleep 1
  done
fi
say "engine $(docker version --format '{{.Server.Version}}' 2>/dev/null) ($(docker info --format '{{.Driver}}'))"

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# The first source of bookworm itself (not -security/-updates) among apt's sources, one-line
# (deb [options] URI SUITE COMPONENTS) or deb822 (Types/URIs/Suites stanzas).
apt_uri() {  # apt_uri SUITE
  local f suite=$1
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                        if ($(i + 1) == s) { print $i; exit } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    awk -v s="$suite" '
      function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") && enabled != "no") { split(uris, u, " "); print u[1] }
                         types = uris = suites = ""; enabled = "yes" }
      /^[[:space:]]*$/ { flush(); next }
      /^#/ { next }
      { key = tolower($1); $1 = "" ; sub(/^ +/, "") }
      key == "types:" { types = $0 } key == "uris:" { uris = $0 } key == "suites:" { suites = $0 }
      key == "enabled:" { enabled = tolower($0) }
      END { flush() }' "$f"
  done
}

# 3. debian:12 and debian:12-slim.
if ! have_image debian:12; then
  mirror=${DEBIAN_MIRROR:-$(apt_uri bookworm | sed -n 1p)}
  [[ -n $mirror ]] || die "no apt source for bookworm in /etc/apt/sources.list*; set DEBIAN_MIRROR"
  security=$(apt_uri bookworm-security | sed -n 1p)
  updates=$(apt_uri bookworm-updates | sed -n 1p)
  root=$(mktemp -d /var/tmp/debian12-rootfs.XXXXXX)
  trap 'as_root rm -rf "$root"' EXIT
  say "debootstrap bookworm from $mirror"
  start=$SECONDS
  as_root debootstrap --variant=minbase --components=main bookworm "$root" "$mirror" \
    >"$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; die "debootstrap failed (log: $root.log)"; }
  # What the official image sets up: apt's sources, no daemons started by package scripts,
  # no package caches or lists kept; plus apt's own settings this machine's mirror needs.
  {
    echo "deb $mirror bookworm main"
    [[ -z $updates ]] || echo "deb $updates bookworm-updates main"
    [[ -z $security ]] || echo "deb $security bookworm-security main"
  } | as_root tee "$root/etc/apt/sources.list" >/dev/null
  printf '#!/bin/sh\nexit 101\n' | as_root tee "$root/usr/sbin/policy-rc.d" >/dev/null
  as_root chmod 755 "$root/usr/sbin/policy-rc.d"
  if apt-config dump Acquire::Check-Valid-Until | grep -q '"false"'; then
    echo 'Acquire::Check-Valid-Until "false";' | as_root tee "$root/etc/apt/apt.conf.d/99local-mirror" >/dev/null
  fi
  printf 'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };\nDPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };\n' |
    as_root tee "$root/etc/apt/apt.conf.d/docker-clean" >/dev/null
  as_root rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/tmp/*
  as_root tar -C "$root" --numeric-owner -c . |
    docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' - debian:12 >/dev/null
  as_root rm -rf "$root" "$root.log"
  trap - EXIT
  say "debian:12 imported in $((SECONDS - start)) s"
fi
have_image debian:12-slim || docker tag debian:12 debian:12-slim

# 4. The service stand-ins.
build_standin() {  # build_standin TAG FOLDER
  if have_image "$1"; then return 0; fi
  say "building $1 from $2"
  local start=$SECONDS out
  # The legacy builder: Debian's docker.io comes without buildx.
  out=$(DOCKER_BUILDKIT=0 docker build -t "$1" "$2" 2>&1) || { tail -n 30 <<<"$out" >&2; die "could not build $1 from $2"; }
  say "$1 built in $((SECONDS - start)) s"
}
build_standin redis:7.0-bookworm docker/standins/redis
build_standin postgres:15-bookworm docker/standins/postgres
for image in debian:12 debian:12-slim redis:7.0-bookworm postgres:15-bookworm; do
  say "$image: $(docker image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
done
