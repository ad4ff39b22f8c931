#!/usr/bin/env bash
# Worker memory of the randomuser pipeline as pages grow: per page count, one task of R users x P
# pages on one worker process, randomuser-sim at 0% chaos with its quota off (--quota 0: 50,000
# users wait out no 300 s windows); prints time, users/s, worker VmHWM and the three CSVs' rows.
#   bench/randomuser_rss.sh [results] [page counts...]   (default 5000, 1 4 10; binaries: ETL_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${ETL_BIN:-$root/${ETL_BUILD_DIR:-build}/bin}
stack_dir=$root/.bench-randomuser
# shellcheck source=scripts/lib/local_stack.sh
source "$root/scripts/lib/local_stack.sh"
# shellcheck source=bench/lib/task_watch.sh
source "$root/bench/lib/task_watch.sh"
results=${1:-5000}
shift || true
counts=("$@")
[[ ${#counts[@]} -gt 0 ]] || counts=(1 4 10)

# Rows of users, addresses and logins (header excluded) and distinct user_id in users.
csv_counts() {
  python3 - "$1" <<'EOF'
import csv, glob, sys
rows, ids = [], set()
for table in ("users", "addresses", "logins"):
    files = glob.glob(f"{sys.argv[1]}/*_{table}.csv")
    if len(files) != 1:
        rows.append("-")
        continue
    with open(files[0], newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        n = 0
        for row in reader:
            n += 1
            if table == "users":
                ids.add(row["user_id"])
    rows.append(str(n))
print(*rows, len(ids))
EOF
}
trap 'stack_stop >/dev/null' EXIT

export ETL_HASH_SALT=bench-randomuser-salt
failed=0
echo "| pages | users expected | status | time (s) | users/s | worker RSS peak (MB) | users.csv | addresses.csv | logins.csv | distinct user_id |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for pages in "${counts[@]}"; do
  expected=$((results * pages))
  stack_reset >/dev/null
  start_redis
  start_postgres
  # shellcheck disable=SC2119  # animals-sim only because start_etl sets ETL_SOURCE_URL from it
  start_sim
  start_upstream randomuser-sim ETL_RANDOMUSER_URL --quota 0 --chaos-percent 0
  ETL_WORKER_PROCESSES=1 start_etl >>"$stack_dir/logs/migrate.log"  # its migration lines
  supervisor=$(awk '$2 == "etl-worker" { print $1 }' "$stack_dir/pids")
  declare -A worker_peak=()
  t0=$(date +%s.%N)
  code=$(curl -sS -o "$stack_dir/trigger.json" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' "$api/extractor/trigger-task" \
    -d "{\"pipeline\":\"randomuser\",\"params\":{\"results\":$results,\"pages\":$pages,\"seed\":\"bench1\"}}")
  if [[ $code != 202 ]]; then
    echo "| $pages | $expected | refused: $code $(tr -d '\n|' <"$stack_dir/trigger.json") | - | - | - | - | - | - | - |"
    failed=1
    unset worker_peak
    continue
  fi
  task=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["task_id"])' <"$stack_dir/trigger.json")
  watch_task "$task" "$supervisor"
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  workers=""
  for child in "${!worker_peak[@]}"; do workers+="$((worker_peak[$child] / 1024)) "; done
  read -r users addresses logins distinct < <(csv_counts "$ETL_OUTPUT_DIR/randomuser/$task")
  echo "| $pages | $expected | $status | $secs |" \
    "$(awk -v a="$users" -v s="$secs" 'BEGIN { printf "%d", a / s }') | ${workers% } |" \
    "$users | $addresses | $logins | $distinct |"
  if [[ $status != succeeded || $users != "$expected" ]]; then
    failed=1
    curl -sS "$api/extractor/tasks/$task" >"$stack_dir/task-$pages.json" || true
  fi
  unset worker_peak
done
exit "$failed"
