#!/usr/bin/env bash
# Where a worker's time goes during one task: the local stack of scripts/demo.sh, one task of
# PAGES pages at 0% chaos (verify mode), then the wall time, animals/s, the CPU each process
# group spent meanwhile (worker processes, Postgres, the simulator + Redis + server, and the
# whole machine: on a shared machine that last one says how much of it others took), and with
# --perf a `perf record -g` of the worker processes; with --pg-stats Postgres's own
# per-statement times (pg_stat_statements: a lock wait shows as a slow statement).
#
#   bench/profile.sh [--perf] [--pg-stats] [--out DIR] [pages] [worker processes]
#                                                  (default: 10000 pages, 1 process)
#
# Writes DIR/perf.data (perf report -i DIR/perf.data), DIR/pg_stat_statements.txt and the
# stack's logs to DIR (default .bench-profile/out). Needs a build (ETL_BUILD_DIR, default
# build) and, for --perf, linux-perf.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/${ETL_BUILD_DIR:-build}/bin
stack_dir=$root/.bench-profile/stack
# shellcheck source=scripts/lib/local_stack.sh
source "$root/scripts/lib/local_stack.sh"
# shellcheck source=bench/lib/task_watch.sh
source "$root/bench/lib/task_watch.sh"

perf=false pg_stats=false out=$root/.bench-profile/out
args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --perf) perf=true; shift ;;
    --pg-stats) pg_stats=true; shift ;;
    --out) out=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
pages=${args[0]:-10000}
processes=${args[1]:-1}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if $pg_stats; then
  # The same Postgres as start_postgres, with pg_stat_statements loaded.
  eval "$(declare -f start_postgres | sed 's/-c listen_addresses=127.0.0.1/-c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all/')"
fi
field() { grep -o "\"$1\":[0-9]*" <<<"$2" | head -1 | cut -d: -f2; }
pid_of() { awk -v n="$1" '$2 == n { print $1 }' "$stack_dir/pids"; }
# CPU ticks (user + system) of these processes and of their children threads.
ticks() { for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done | awk '{ s += $1 } END { print s + 0 }'; }
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
trap 'stack_stop >/dev/null' EXIT

stack_reset
start_redis
start_postgres
if $pg_stats; then
  psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d etl -c "CREATE EXTENSION pg_stat_statements"
fi
start_sim --verify --chaos-percent 0 --pages "$pages" --seed 1
ETL_WORKER_PROCESSES=$processes start_etl
supervisor=$(pid_of etl-worker)
for _ in $(seq 50); do
  workers=$(cat "/proc/$supervisor/task/$supervisor/children" 2>/dev/null || true)
  [[ $(wc -w <<<"$workers") -ge $processes ]] && break
  sleep 0.1
done
postgres=$(pid_of postgres)
others=("$(pid_of animals-sim)" "$(pid_of redis)" "$(pid_of etl-server)")
if $perf; then
  perf record -F 999 -g -o "$out/perf.data" -p "$(tr ' ' ',' <<<"$workers")" >/dev/null 2>&1 &
  perf_pid=$!
  sleep 0.5
fi
# shellcheck disable=SC2086
w0=$(ticks $workers) p0=$(ticks "$postgres" $(pgrep -P "$postgres")) o0=$(ticks "${others[@]}") m0=$(busy_ticks)
t0=$(date +%s.%N)
trigger_task
wait_task "$task"
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
# shellcheck disable=SC2086
w1=$(ticks $workers) p1=$(ticks "$postgres" $(pgrep -P "$postgres")) o1=$(ticks "${others[@]}") m1=$(busy_ticks)
if $perf; then
  kill -INT "$perf_pid"
  wait "$perf_pid" || true
fi
report=$(curl -sS "http://127.0.0.1:$sim_port/sim/report")
animals=$(field received "$report")
hz=$(getconf CLK_TCK)
cpu() { awk -v t="$1" -v hz="$hz" 'BEGIN { printf "%.2f s", t / hz }'; }
echo "$pages pages, $processes worker process(es): $status in $secs s, $animals animals," \
  "$(awk -v a="$animals" -v s="$secs" 'BEGIN { printf "%d", a / s }') animals/s;" \
  "sim: missing $(field missing "$report"), duplicates $(field duplicates "$report")"
echo "CPU: workers $(cpu $((w1 - w0))), postgres $(cpu $((p1 - p0))), sim + redis + server" \
  "$(cpu $((o1 - o0))), whole machine $(cpu $((m1 - m0))) of $(awk -v s="$secs" -v n="$(nproc)" 'BEGIN { printf "%.2f", s * n }') s;" \
  "load $(cut -d' ' -f1 /proc/loadavg)"
if $pg_stats; then
  psql -h 127.0.0.1 -p "$pg_port" -U postgres -d etl -c "SELECT calls,
      round(total_exec_time::numeric, 1) AS total_ms,
      round((total_exec_time / calls)::numeric, 3) AS ms_per_call,
      left(regexp_replace(query, '\s+', ' ', 'g'), 100) AS query
    FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15" >"$out/pg_stat_statements.txt"
  echo "Postgres statements: $out/pg_stat_statements.txt"
fi
$perf && echo "perf report -i $out/perf.data --no-children"
rm -rf "$out/logs"
cp -r "$stack_dir/logs" "$out/logs"
