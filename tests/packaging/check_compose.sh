#!/usr/bin/env bash
# Validates docker-compose.yml with Debian's docker-compose (v1; `config` needs no engine) and
# checks what the stack promises: its services, Redis persistence, the migration running once
# before the server and workers, two worker replicas, the server on 0.0.0.0:8000 published on 127.0.0.1 only, and only
# ETL_* variables that some binary's --help names.
#
#   check_compose.sh SOURCE_DIR ETL_BINARY...
set -euo pipefail
src=$1
shift
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v docker-compose >/dev/null || fail "docker-compose is not installed (scripts/install-deps.sh test)"

compose=$src/docker-compose.yml
docker-compose -f "$compose" config -q || fail "docker-compose config rejects $compose"
resolved=$(docker-compose -f "$compose" config)

# The validator itself must reject a broken file, or the check above proves nothing.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed 's/^  etl-worker:$/  etl-worker:\n    not_an_option: 1/' "$compose" >"$tmp/docker-compose.yml"
grep -q not_an_option "$tmp/docker-compose.yml" || fail "could not break a copy of the file"
if out=$(docker-compose -f "$tmp/docker-compose.yml" config -q 2>&1); then
  fail "docker-compose config accepted an unknown option"
fi
grep -q not_an_option <<<"$out" || fail "unexpected complaint about the broken copy: $out"

# service NAME: the resolved definition of one service (its indented lines).
service() { awk -v s="  $1:" '$0 == s { on = 1; next } /^  [^ ]/ || /^[^ ]/ { on = 0 } on' <<<"$resolved"; }
expect() {  # expect SERVICE PATTERN WHAT
  service "$1" | grep -Eq -- "$2" || fail "$1: $3 (no line matching '$2')"
}

services=$(docker-compose -f "$compose" config --services | sort | tr '\n' ' ')
[[ $services == "animals-sim etl-server etl-verify etl-worker migrate postgres redis " ]] ||
  fail "services are '$services'"

expect redis '^    - --appendonly$' "AOF on"
expect redis '^    - noeviction$' "maxmemory-policy noeviction"
expect redis 'redis-data:/data' "data in a volume"
expect postgres 'pg-data:/var/lib/postgresql/data' "data in a volume"
expect postgres 'POSTGRES_USER: etl' "the user of ETL_DATABASE_URL"
expect postgres 'POSTGRES_DB: etl' "the database of ETL_DATABASE_URL"
expect animals-sim '^    - --verify$' "verify mode"
expect animals-sim "^    - '2'$" "2% chaos"
expect animals-sim '^    - 0\.0\.0\.0$' "listening on every interface"
expect migrate '^    - --migrate-only$' "etl-server --migrate-only"
expect etl-server 'ETL_LISTEN: 0\.0\.0\.0:8000' "listening on 0.0.0.0:8000"
expect etl-server '^    - 127\.0\.0\.1:8000:8000/tcp$' "port 8000 published on loopback only"
expect etl-server 'service_completed_successfully' "waiting for the migration"
expect etl-worker 'replicas: 2' "two replicas"
expect etl-worker 'service_completed_successfully' "waiting for the migration"
for s in etl-server etl-worker migrate; do
  expect "$s" 'ETL_REDIS_URL: redis://redis:6379/0' "Redis by its service name"
  expect "$s" 'ETL_DATABASE_URL: postgresql://etl:[^@]*@postgres:5432/etl' "Postgres by its service name"
  expect "$s" 'ETL_SOURCE_URL: http://animals-sim:3123' "the simulator by its service name"
done

# Every ETL_* name in the file is a real option of a binary.
help=$(for bin in "$@"; do "$bin" --help; done)
for var in $(grep -oE '\bETL_[A-Z_]+' "$compose" | sort -u); do
  grep -qw -- "$var" <<<"$help" || fail "$var is not an option of $(basename -a "$@" | tr '\n' ' ')"
done
echo "docker-compose.yml: valid ($(docker-compose version --short)), $services"
