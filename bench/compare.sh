#!/usr/bin/env bash
# The service beside the two reference ETLs of bench/baselines, seed by seed, in one run: each
# system moves every animal of a fresh animals-sim (verify mode, same seed, same flags) to home;
# the time is the wall time of the whole job; the simulator's report says whether every id
# arrived exactly once. Prints a Markdown table, the medians and the ratios.
#
#   bench/compare.sh [--no-post-pause] [--chaos P] [--systems "service asyncio seed"] [seed ...]
#
# Seeds default to 1 2 3 4 5; the simulator keeps its original behaviour (2% chaos, 5-15 s
# pauses, 500-600 pages) unless told otherwise. With --chaos 0 it also measures the
# simulator-bound limit: the requests a run needs divided by what `wrk` gets from the simulator
# in the same run. Needs a build (ETL_BUILD_DIR, default build) and the `bench` packages
# (scripts/install-deps.sh bench).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/${ETL_BUILD_DIR:-build}/bin
stack_dir=$root/.bench
# shellcheck source=scripts/lib/local_stack.sh
source "$root/scripts/lib/local_stack.sh"
# shellcheck source=bench/lib/task_watch.sh
source "$root/bench/lib/task_watch.sh"

chaos=2
extra=()
systems="service asyncio seed"
seeds=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --no-post-pause) extra+=(--no-post-pause); shift ;;
    --chaos) chaos=$2; shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    *) seeds+=("$1"); shift ;;
  esac
done
[[ ${#seeds[@]} -gt 0 ]] || seeds=(1 2 3 4 5)
scripts/install-deps.sh bench

stack_reset
trap 'stack_stop >/dev/null' EXIT
start_redis
start_postgres
sim_port=$(free_port)
start_sim --chaos-percent 0 --pages 1  # a placeholder the service's workers can point at
start_etl
stop_sim

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
field() { grep -o "\"$1\":[0-9]*" <<<"$2" | head -1 | cut -d: -f2; }

run_service() {
  local task status t0
  t0=$(now)
  trigger_task
  wait_task "$task"
  elapsed=$(since "$t0")
  [[ $status == succeeded ]] || echo "service: task $task $status" >&2
}

run_python() {
  local t0
  t0=$(now)
  /usr/bin/python3 "bench/baselines/$1.py" --source "http://127.0.0.1:$sim_port" \
    2>>"$stack_dir/logs/$1.log" || echo "$1 failed (see $stack_dir/logs/$1.log)" >&2
  elapsed=$(since "$t0")
}

echo "| seed | system | animals | time (s) | missing | duplicates | posts failed | chaos errors, pauses |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
declare -A times
for seed in "${seeds[@]}"; do
  for system in $systems; do
    start_sim --verify --seed "$seed" --chaos-percent "$chaos" "${extra[@]}"
    case $system in
      service) run_service ;;
      asyncio) run_python asyncio_etl ;;
      seed) run_python seed_style ;;
    esac
    report=$(curl -sS "http://127.0.0.1:$sim_port/sim/report")
    chaos_line=$(grep -o '"chaos":{[^}]*}' <<<"$report" | tr -d '"{}' | sed 's/chaos://')
    echo "| $seed | $system | $(field received "$report") | $elapsed | $(field missing "$report") |" \
      "$(field duplicates "$report") | $(field posts_failed "$report") | $chaos_line |"
    times[$system]+="$elapsed "
    if [[ $chaos == 0 && $system == service ]]; then
      # The simulator-bound limit: the requests this run needed (pages, details, POSTs) at the
      # rate wrk gets from the same simulator (details; listing pages cost about the same).
      pages=$(field total_pages "$report")
      animals=$(field total "$report")
      needed=$((pages + animals + (animals + 99) / 100))
      rps=$(wrk -t2 -c64 -d5s "http://127.0.0.1:$sim_port/animals/v1/animals/7" |
        awk '/Requests\/sec/ { print $2 }')
      limits+="$(awk -v n="$needed" -v r="$rps" 'BEGIN { printf "%.3f", n / r }') "
      echo "|  | limit: $needed requests at wrk's $rps req/s | | $(awk -v n="$needed" -v r="$rps" 'BEGIN { printf "%.3f", n / r }') | | | | |"
    fi
    stop_sim
  done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END {
  printf "%.2f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
minmax() { tr ' ' '\n' | grep . | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f, %.2f", lo, hi }'; }
echo
for system in $systems; do
  echo "$system: median $(median <<<"${times[$system]}") s (min, max $(minmax <<<"${times[$system]}") s)"
done
if [[ -n ${times[service]:-} ]]; then
  svc=$(median <<<"${times[service]}")
  for system in $systems; do
    [[ $system == service ]] && continue
    echo "service vs $system: $(awk -v a="$(median <<<"${times[$system]}")" -v b="$svc" 'BEGIN { printf "%.1f", a / b }')x faster by median"
  done
  [[ -n ${limits:-} ]] && echo "limit: median $(median <<<"$limits") s; service / limit = $(awk -v a="$svc" -v b="$(median <<<"$limits")" 'BEGIN { printf "%.1f", a / b }')"
fi
