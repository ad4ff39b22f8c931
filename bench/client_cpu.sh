#!/usr/bin/env bash
# The HTTP client engine's CPU per request, build beside build: fetch_bench of each build in
# turn against one animals-sim at 0% chaos, in rounds, with hedging on and off and with one and
# two event-loop threads. A request's CPU is the fetch_bench process's user + system time over
# its requests; the simulator runs in its own process and is not counted.
#
#   bench/client_cpu.sh [--rounds N] [--requests N] [build-dir...]     (default: 3, 50000, build)
#
# Each fetch_bench runs 64 coroutines through one client (a keep-alive pool of 64 connections),
# as a worker process's batch jobs do.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 requests=50000 builds=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    *) builds+=("$1"); shift ;;
  esac
done
[[ ${#builds[@]} -gt 0 ]] || builds=(build)
(( requests <= 100000 )) || { echo "--requests: at most 100000 (the simulator's animals)" >&2; exit 2; }

bin=${builds[0]}/bin  # the simulator of the first build serves every run
# shellcheck source=bench/lib/sim.sh
source bench/lib/sim.sh
trap stop_sim EXIT
start_sim --chaos-percent 0 --seed 1 --pages 10000

echo "== $(nproc) cores; $(date -u +%FT%TZ); load $(cut -d' ' -f1 /proc/loadavg); $requests requests a run"
echo "| round | build | hedge | threads | requests/s | CPU per request (us) |"
echo "| --- | --- | --- | --- | --- | --- |"
TIMEFORMAT='%U %S'
for round in $(seq "$rounds"); do
  for hedge in on off; do
    for threads in 1 2; do
      for build in "${builds[@]}"; do
        flags=(--url "http://127.0.0.1:$sim_port" --requests "$requests" --concurrency 64
               --threads "$threads")
        [[ $hedge == on ]] || flags+=(--no-hedge)
        out=$(mktemp)
        cpu=$( { time "$build/bin/fetch_bench" "${flags[@]}" >"$out"; } 2>&1 )
        rate=$(grep -o 'requests_per_second [0-9]*' "$out" | cut -d' ' -f2)
        failed=$(grep -o 'failed [0-9]*' "$out" | cut -d' ' -f2)
        rm -f "$out"
        [[ $failed == 0 ]] || { echo "$build: $failed requests failed" >&2; exit 1; }
        echo "| $round | $build | $hedge | $threads | $rate |" \
          "$(awk -v c="$cpu" -v n="$requests" 'BEGIN { split(c, t, " "); printf "%.1f", (t[1] + t[2]) * 1e6 / n }') |"
      done
    done
  done
done
