#!/usr/bin/env bash
# A million animals: one task against animals-sim --pages 100000 at 0% chaos (verify mode),
# with 1 and then 2 worker processes. Prints animals/s and the peak resident memory of each
# worker process, the supervisor, the server and Redis (VmHWM from /proc, Redis's own peak),
# sampled while the task runs, and the simulator's verdict.
#
#   bench/scale.sh [pages] [process counts...]     (default: 100000 pages, 1 2)
#
# Needs a build (ETL_BUILD_DIR, default build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/${ETL_BUILD_DIR:-build}/bin
stack_dir=$root/.bench-scale
# shellcheck source=scripts/lib/local_stack.sh
source "$root/scripts/lib/local_stack.sh"
# shellcheck source=bench/lib/task_watch.sh
source "$root/bench/lib/task_watch.sh"
pages=${1:-100000}
shift || true
counts=("$@")
[[ ${#counts[@]} -gt 0 ]] || counts=(1 2)

field() { grep -o "\"$1\":[0-9]*" <<<"$2" | head -1 | cut -d: -f2; }
trap 'stack_stop >/dev/null' EXIT

echo "| worker processes | animals | time (s) | animals/s | worker RSS peak (MB, each) | supervisor | server | Redis peak | sim: missing, duplicates |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for n in "${counts[@]}"; do
  stack_reset
  start_redis
  start_postgres
  start_sim --verify --chaos-percent 0 --pages "$pages" --seed 1
  ETL_WORKER_PROCESSES=$n start_etl
  supervisor=$(awk '$2 == "etl-worker" { print $1 }' "$stack_dir/pids")
  server=$(awk '$2 == "etl-server" { print $1 }' "$stack_dir/pids")
  declare -A worker_peak=()
  t0=$(date +%s.%N)
  trigger_task
  watch_task "$task" "$supervisor"
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  report=$(curl -sS "http://127.0.0.1:$sim_port/sim/report")
  animals=$(field received "$report")
  workers=""
  for child in "${!worker_peak[@]}"; do workers+="$((worker_peak[$child] / 1024)) "; done
  redis_peak=$(redis-cli -p "$redis_port" info memory | awk -F: '/^used_memory_peak:/ { printf "%d", $2 / 1048576 }')
  echo "| $n | $animals | $secs | $(awk -v a="$animals" -v s="$secs" 'BEGIN { printf "%d", a / s }') |" \
    "${workers% } | $(($(peak_kb "$supervisor") / 1024)) | $(($(peak_kb "$server") / 1024)) |" \
    "$redis_peak | $(field missing "$report"), $(field duplicates "$report") ($status) |"
  unset worker_peak
done
