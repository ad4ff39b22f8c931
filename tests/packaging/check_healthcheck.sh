#!/usr/bin/env bash
# The image's health check (scripts/docker-healthcheck.sh) against real processes: a serving
# animals-sim is healthy; a stopped one (SIGSTOP: connects, never answers) is unhealthy within
# the check's 3 s; a gone one is unhealthy. Binaries renamed by a symlink stand in for the other
# roles: etl-server's port comes from ETL_LISTEN and a non-200 answer is unhealthy; a
# supervisor (etl-worker) is healthy with a child process and unhealthy without one.
#
#   check_healthcheck.sh HEALTHCHECK_SCRIPT ANIMALS_SIM
set -euo pipefail
check=$1
sim=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# expect RC PATTERN PID [ENV...]: the check exits RC and prints a line matching PATTERN.
expect() {
  local rc=$1 pattern=$2 pid=$3 out got=0
  shift 3
  out=$(env "$@" bash "$check" "$pid") || got=$?
  echo "  pid $pid: $out (exit $got)"
  [[ $got -eq $rc ]] || fail "exit $got, expected $rc: $out"
  grep -Eq -- "$pattern" <<<"$out" || fail "'$out' does not match '$pattern'"
}
# started NAME PID: wait until PID runs under NAME (after the fork, before the exec it is bash).
started() {
  for _ in $(seq 100); do [[ $(cat "/proc/$2/comm" 2>/dev/null) == "$1" ]] && return 0; sleep 0.05; done
  fail "pid $2 is not $1"
}
# start_sim NAME: animals-sim under NAME on a free loopback port; sets sim_pid and sim_port.
start_sim() {
  ln -sf "$sim" "$tmp/$1"
  "$tmp/$1" --port 0 --pages 1 --chaos-percent 0 --log-level warn >"$tmp/$1.out" 2>"$tmp/$1.log" &
  sim_pid=$!
  pids+=("$sim_pid")
  started "$1" "$sim_pid"
  for _ in $(seq 100); do
    sim_port=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$tmp/$1.out")
    [[ -n $sim_port ]] && return 0
    sleep 0.05
  done
  fail "$1 did not start: $(cat "$tmp/$1.log")"
}

# A --port 0 simulator cannot be asked by its arguments; start it on the port it picked.
start_sim probe
kill "$sim_pid"
wait "$sim_pid" 2>/dev/null || true
port=$sim_port
"$sim" --port "$port" --pages 1 --log-level warn >/dev/null 2>"$tmp/sim.log" &
sim_pid=$!
pids+=("$sim_pid")
started animals-sim "$sim_pid"
for _ in $(seq 100); do bash "$check" "$sim_pid" >/dev/null && break; sleep 0.05; done

echo "animals-sim on port $port"
expect 0 "^healthy: animals-sim: GET http://127.0.0.1:$port/sim/config: HTTP/1.1 200" "$sim_pid"
kill -STOP "$sim_pid"
start=$SECONDS
expect 1 "no answer within 3 s" "$sim_pid"
((SECONDS - start <= 5)) || fail "a silent server took $((SECONDS - start)) s to judge"
kill -CONT "$sim_pid"
kill "$sim_pid"
wait "$sim_pid" 2>/dev/null || true
expect 1 "^unhealthy: no process $sim_pid" "$sim_pid"

echo "a process named etl-server: the port of ETL_LISTEN, and /healthz must answer 200"
start_sim etl-server
expect 1 "GET http://127.0.0.1:$sim_port/healthz: HTTP/1.1 404" "$sim_pid" \
  ETL_LISTEN="0.0.0.0:$sim_port"
expect 1 "cannot connect" "$sim_pid" ETL_LISTEN="127.0.0.1:1"

echo "a process named etl-worker: healthy while it has a child process"
ln -sf "$(command -v bash)" "$tmp/etl-worker"
"$tmp/etl-worker" -c 'sleep 30 </dev/null >/dev/null 2>&1 & echo $! >"$0"; wait' "$tmp/child" &
worker=$!
pids+=("$worker")
for _ in $(seq 100); do [[ -s $tmp/child ]] && break; sleep 0.05; done
pids+=("$(cat "$tmp/child")")
started etl-worker "$worker"
expect 0 "^healthy: etl-worker: 1 worker processes" "$worker"
mkfifo "$tmp/never"
"$tmp/etl-worker" -c 'exec 0<>"$0"; read -r -t 30 _' "$tmp/never" &
lonely=$!
pids+=("$lonely")
started etl-worker "$lonely"
expect 1 "no worker process alive" "$lonely"
echo "health check: every case as expected"
