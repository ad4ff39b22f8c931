#!/usr/bin/env bash
# The service against a capacity-bound upstream: animals-sim with a few service slots and a
# fixed cost per request (--capacity-slots, --request-cost-us, --overload-cost-us; see
# tests/sim/README.md), like a single-process web app. First `wrk` measures the simulator's
# throughput at concurrency 1, 2, 4, ..., 128 and names the knee (the concurrency of the best
# rate); then full animals tasks (0% chaos unless --chaos) run against the same simulator
# through the local stack (scripts/lib/local_stack.sh), once per worker ETL_CONCURRENCY setting,
# each beside the limit: the requests a task needs (pages + details + POSTs) at wrk's best rate.
# Per task it prints the simulator's report (nothing lost or doubled) and how busy its slots
# were.
#
#   bench/capacity.sh [--slots N] [--cost-us US] [--overload-us US] [--duration S]
#                     [--concurrency "64 32 16 8"] [--pages N] [--sample S]
#                     [--sim-args "FLAGS"] [--tasks N] [--chaos P] [seed ...]
#
# Defaults: 8 slots of 9,800 us plus 15 us per waiting request (a peak of about 800 requests/s
# that falls by about 14% at 128 connections, like the Python upstream of the issue), wrk 5 s per
# concurrency, the simulator's own 500-600 pages, the served count sampled every 0.5 s, seed 1.
# Binaries from ETL_BIN_DIR (default build/bin); the workers read the environment as usual
# (ETL_WORKER_PROCESSES, ETL_HEDGE, ...). A --concurrency setting may carry a prefix: a64 runs
# that worker with ETL_ADAPTIVE_CONCURRENCY=true, f64 with false (plain 64: the environment's or
# the default), so fixed and adaptive run beside each other against one simulator. --chaos P
# runs the tasks at P% chaos (errors and 5-15 s pauses; the knee and the limit are still
# measured at 0%: they are the upstream's capacity, which chaos only wastes). --sim-args
# adds flags to animals-sim (e.g. "--get-delay-ms 100 --no-post-pause": an upstream far away;
# with --slots 4096 --cost-us 1 --overload-us 0 it is not capacity-bound). Needs wrk
# (scripts/install-deps.sh bench). --tasks N runs N tasks one after the other per worker (rows
# "a64 #1", "a64 #2"...): the first task of a fresh worker pays an adaptive limit's start from
# the floor, the next ones start where it left off.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${ETL_BIN_DIR:-$root/build/bin}
stack_dir=$root/.bench-capacity
# shellcheck source=scripts/lib/local_stack.sh
source "$root/scripts/lib/local_stack.sh"
# shellcheck source=bench/lib/task_watch.sh
source "$root/bench/lib/task_watch.sh"

slots=8
cost_us=9800
overload_us=15
duration=5
sample=0.5
processes=${ETL_WORKER_PROCESSES:-2}
settings="64 32 16 8"
pages=()
sim_args=()
tasks=1
chaos=0
seeds=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --slots) slots=$2; shift 2 ;;
    --cost-us) cost_us=$2; shift 2 ;;
    --overload-us) overload_us=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --sample) sample=$2; shift 2 ;;
    --concurrency) settings=$2; shift 2 ;;
    --pages) pages=(--pages "$2"); shift 2 ;;
    --sim-args) read -r -a sim_args <<<"$2"; shift 2 ;;
    --tasks) tasks=$2; shift 2 ;;
    --chaos) chaos=$2; shift 2 ;;
    *) seeds+=("$1"); shift ;;
  esac
done
[[ ${#seeds[@]} -gt 0 ]] || seeds=(1)
command -v wrk >/dev/null || { echo "wrk is missing: scripts/install-deps.sh bench" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is missing: scripts/install-deps.sh test" >&2; exit 1; }

field() { grep -o "\"$1\":[0-9.]*" <<<"$2" | sed -n 1p | cut -d: -f2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

stack_reset
trap 'stack_stop >/dev/null' EXIT
start_redis
start_postgres
capacity=(--capacity-slots "$slots" --request-cost-us "$cost_us" --overload-cost-us "$overload_us")
# The seed's simulator at PERCENT chaos, on the same port as the one before it.
start_seed_sim() {
  start_sim --verify --chaos-percent "$1" --seed "$seed" "${pages[@]}" "${capacity[@]}" \
    "${sim_args[@]}"
}

echo "== $(date -u +%FT%TZ), $(nproc) cores, load $(load); binaries: $bin"
echo "== animals-sim ${capacity[*]} ${sim_args[*]}: at most $(awk -v n="$slots" -v c="$cost_us" \
  'BEGIN { printf "%.0f", n * 1e6 / c }') requests/s with no queue"

for seed in "${seeds[@]}"; do
  if [[ -n ${sim_pid:-} ]]; then stop_sim; fi
  start_seed_sim 0
  sim=http://127.0.0.1:$sim_port
  if [[ -z ${api:-} ]]; then
    start_etl  # server and a first worker (default settings), pointed at this simulator
  fi

  echo
  echo "== seed $seed: wrk -d${duration}s on GET /animals/v1/animals/7, the knee"
  echo "| connections | requests/s | latency mean | slot hold mean (ms) |"
  echo "| --- | --- | --- | --- |"
  best_rate=0
  knee=0
  for c in 1 2 4 8 16 32 64 128; do
    curl -sS -X POST "$sim/sim/reset" >/dev/null
    out=$(wrk -t"$((c < 2 ? 1 : 2))" -c"$c" -d"${duration}s" "$sim/animals/v1/animals/7")
    rate=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    latency=$(awk '$1 == "Latency" { print $2 }' <<<"$out")
    hold=$(awk -v us="$(field hold_us_mean "$(curl -sS "$sim/sim/report")")" \
      'BEGIN { printf "%.2f", us / 1000 }')
    echo "| $c | $rate | $latency | $hold |"
    if awk -v r="$rate" -v b="$best_rate" 'BEGIN { exit !(r > b) }'; then
      best_rate=$rate
      knee=$c
    fi
  done
  echo "knee: $knee connections, $best_rate requests/s"
  if [[ $chaos != 0 ]]; then
    stop_sim
    start_seed_sim "$chaos"
  fi

  echo
  echo "== seed $seed: full tasks at $chaos% chaos (verify mode), $processes worker process(es)"
  echo "| ETL_CONCURRENCY (x $processes processes) | time (s) | limit (s) | time / limit | requests served | GETs in flight at most | slots busy | idle start, tail (s) | hold mean (ms) | missing, duplicates, posts failed | chaos errors, pauses | load |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  timelines=()
  for setting in $settings; do
    # a64 / f64: ETL_ADAPTIVE_CONCURRENCY true / false for this worker; 64: as the environment.
    concurrency=${setting#[af]}
    adaptive=()
    case $setting in
      a*) adaptive=(ETL_ADAPTIVE_CONCURRENCY=true) ;;
      f*) adaptive=(ETL_ADAPTIVE_CONCURRENCY=false) ;;
    esac
    # A worker with this setting: the previous one is stopped (it is idle between tasks).
    worker=$(awk '$2 == "etl-worker" { p = $1 } END { print p }' "$stack_dir/pids")
    kill -TERM "$worker" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$worker" 2>/dev/null || break; sleep 0.1; done
    log=$stack_dir/logs/worker-$seed-$setting.log
    env "${adaptive[@]}" ETL_CONCURRENCY="$concurrency" ETL_MAX_CONNECTIONS="$concurrency" \
      "$bin/etl-worker" >"$log" 2>&1 &
    stack_started $! etl-worker
    # Each worker process logs "worker N ready: ..." once it reads the queue.
    wait_for etl-worker 10 bash -c "[[ \$(grep -c ' ready: ' '$log') -ge $processes ]]"
    for run in $(seq "$tasks"); do
      label=$setting
      [[ $tasks -eq 1 ]] || label="$setting #$run"
      curl -sS -X POST "$sim/sim/reset" >/dev/null

      t0=$(now)
      # The simulator's served count every $sample s: when it stalls, nothing was being fetched.
      (while :; do
        echo "$(since "$t0") $(field served "$(curl -sS "$sim/sim/report")")"
        sleep "$sample"
      done) >"$stack_dir/samples" 2>/dev/null &
      sampler=$!
      trigger_task
      wait_task "$task"
      elapsed=$(since "$t0")
      kill "$sampler" 2>/dev/null || true
      wait "$sampler" 2>/dev/null || true
      [[ $status == succeeded ]] || echo "task $task: $status" >&2
      timelines+=("ETL_CONCURRENCY $label, requests/s per ${sample} s: $(awk '
        NF == 2 && $2 != "" { if (n++) printf "%.0f ", ($2 - s) / ($1 - t); t = $1; s = $2 }' \
        "$stack_dir/samples")")

      report=$(curl -sS "$sim/sim/report")
      # The upstream idle before the first request (trigger, queue, plan job) and after the last
      # (the last finish and the task's end), from the simulator's own clock (reset just before
      # the trigger).
      start_s=$(awk -v us="$(field first_request_us "$report")" 'BEGIN { printf "%.2f", us / 1e6 }')
      tail_s=$(awk -v us="$(field last_served_us "$report")" -v t="$elapsed" \
        'BEGIN { printf "%.2f", t - us / 1e6 }')
      total_pages=$(field total_pages "$report")
      animals=$(field total "$report")
      needed=$((total_pages + animals + (animals + 99) / 100))
      served=$(field served "$report")
      hold_us=$(field hold_us_mean "$report")
      awk -v t="$elapsed" -v n="$needed" -v r="$best_rate" -v c="$label" -v s="$served" \
        -v h="$hold_us" -v slots="$slots" -v f="$(field source_gets_in_flight_max "$report")" \
        -v a="$start_s" -v z="$tail_s" -v lost="$(field missing "$report")" \
        -v dup="$(field duplicates "$report")" -v pf="$(field posts_failed "$report")" \
        -v chaos="$(jq -r '"\(.chaos.errors), \(.chaos.pauses)"' <<<"$report")" \
        -v l="$(load)" 'BEGIN {
          limit = n / r
          busy = 100 * s * h / (slots * t * 1e6)
          printf "| %s | %.2f | %.2f (%d requests) | %.2fx | %d | %d | %.0f%% | %s, %s | %.2f |",
            c, t, limit, n, t / limit, s, f, busy, a, z, h / 1000
          printf " %d, %d, %d | %s | %s |\n", lost, dup, pf, chaos, l }'
    done
  done
  echo
  printf '%s\n' "${timelines[@]}"
done
echo
echo "slots busy: the slots' holds over slots x task time (100% = the simulator never idle);"
echo "requests served above those needed are hedges and retries."
