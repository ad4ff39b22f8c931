#!/usr/bin/env bash
# The image's health check (installed as /usr/local/bin/etl-healthcheck). It asks the process a
# container runs (PID 1, or the PID given) whether it serves, using only bash and /proc, so the
# runtime image needs no curl:
#   etl-server   GET /healthz on the port of --listen or ETL_LISTEN (default 8000) answers 200
#   animals-sim  GET /sim/config on the port of --port (default 3123) answers 200
#   etl-worker   the supervisor has at least one live worker process
#   anything else (the one-shot migration, etl-verify): healthy while it runs
# Exit 0 healthy, 1 not; the reason goes to stdout, where Docker keeps it (docker inspect).
#
#   etl-healthcheck [PID]
set -euo pipefail

pid=${1:-1}

unhealthy() { echo "unhealthy: $*"; exit 1; }

[[ -r /proc/$pid/comm ]] || unhealthy "no process $pid"
name=$(</proc/"$pid"/comm)
mapfile -d '' -t argv <"/proc/$pid/cmdline" || true

# The value of --NAME in the process's arguments ("--NAME V" or "--NAME=V"), or nothing.
flag_value() {
  local i
  for ((i = 1; i < ${#argv[@]}; i++)); do
    case ${argv[i]} in
      "--$1") echo "${argv[i + 1]:-}"; return ;;
      "--$1="*) echo "${argv[i]#*=}"; return ;;
    esac
  done
}

# http_ok HOST PORT PATH: one GET answered with status 200 within 3 seconds. Connecting on this
# host is refused at once or accepted by the kernel, so only the answer needs a timeout.
http_ok() {
  local host=$1 port=$2 path=$3 status=
  local url="http://$host:$port$path"
  { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null || unhealthy "$name: GET $url: cannot connect"
  printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$host" >&3
  IFS= read -r -t 3 status <&3 || unhealthy "$name: GET $url: no answer within 3 s"
  exec 3<&-
  status=${status%$'\r'}
  [[ $status == "HTTP/1."?" 200 "* ]] || unhealthy "$name: GET $url: $status"
  echo "healthy: $name: GET $url: $status"
}

# A listen address's host part as a place to connect to: every interface means loopback.
connect_host() {
  case $1 in
    "" | 0.0.0.0 | "*" | "[::]" | "::") echo 127.0.0.1 ;;
    *) echo "$1" ;;
  esac
}

case $name in
  etl-server)
    listen=$(flag_value listen)
    listen=${listen:-${ETL_LISTEN:-127.0.0.1:8000}}
    http_ok "$(connect_host "${listen%:*}")" "${listen##*:}" /healthz
    ;;
  animals-sim)
    host=$(flag_value host)
    port=$(flag_value port)
    http_ok "$(connect_host "$host")" "${port:-3123}" /sim/config
    ;;
  etl-worker)
    # Worker processes are the supervisor's children (field 4 of /proc/PID/stat is the parent;
    # the name before it, in parentheses, has no spaces for our binaries).
    workers=0
    for stat in /proc/[0-9]*/stat; do
      read -r _ _ _ ppid _ <"$stat" 2>/dev/null || continue
      [[ $ppid == "$pid" ]] && workers=$((workers + 1))
    done
    ((workers > 0)) || unhealthy "etl-worker: no worker process alive"
    echo "healthy: etl-worker: $workers worker processes"
    ;;
  *)
    echo "healthy: $name is running"
    ;;
esac
