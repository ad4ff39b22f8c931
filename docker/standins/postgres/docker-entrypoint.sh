#!/bin/bash
# The official postgres image's start-up, for `postgres [options]`: as root, make the data and
# socket folders the postgres user's and run again as that user; on the first start (no
# PG_VERSION in $PGDATA) initdb with POSTGRES_USER (default postgres) and POSTGRES_PASSWORD
# (required), create POSTGRES_DB (default: the user's name) over the socket, and allow password
# logins from every address; then exec postgres listening on every address. The password never
# reaches the command line or the log. Anything but `postgres` runs as given.
set -euo pipefail

if [[ ${1:-} != postgres ]]; then exec "$@"; fi

if [[ $(id -u) -eq 0 ]]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
if [[ ! -s $PGDATA/PG_VERSION ]]; then
  [[ -n ${POSTGRES_PASSWORD:-} ]] || {
    echo "docker-entrypoint: POSTGRES_PASSWORD is not set: the database would take any login" >&2
    exit 1
  }
  pwfile=$(mktemp)
  trap 'rm -f "$pwfile"' EXIT
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  # The database, created before anyone can connect: this first server listens on no address
  # and on a socket of its own, so pg_isready (the health check) answers "no response" until
  # the real server is up; otherwise a client let in by the health check would find it gone.
  init_socket=$(mktemp -d)
  pg_ctl -D "$PGDATA" -w -s -o "-c listen_addresses='' -k $init_socket" start
  if [[ $db != postgres ]]; then
    createdb --host="$init_socket" --username="$user" --maintenance-db=postgres -- "$db"
  fi
  pg_ctl -D "$PGDATA" -w -s -m fast stop
  rmdir "$init_socket"
  echo "docker-entrypoint: initialized $PGDATA (user $user, database $db)"
fi
exec postgres "${@:2}"
