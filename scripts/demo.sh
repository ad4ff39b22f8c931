#!/usr/bin/env bash
# The README's demo: installs what is missing, builds, starts Redis, Postgres, the animals
# simulator (verify mode, 2% chaos), etl-server and etl-worker on free loopback ports in a
# folder of their own (.demo/), triggers an audited task, shows its progress, verifies it with
# etl-verify and prints the URLs.
#
#   scripts/demo.sh           run the demo; Ctrl-C stops everything it started
#   scripts/demo.sh stop      stop a demo left running (e.g. started without a terminal)
#
# Environment: DEMO_PIPELINE (animals; or spacex-crew or spacex-launches, which also start
# spacex-sim; spacex-launches loads the whole history, 2006-03-01 to 2022-12-05, in day windows;
# or randomuser, which starts randomuser-sim and hashes with ETL_HASH_SALT, a random one if unset;
# or crunchbase-orgs, which starts crunchbase-sim with CB_API_KEY as its key, a random one if unset),
# DEMO_PAGES (default: the simulator's random 500-600), DEMO_SEED (random), DEMO_CHAOS (2),
# DEMO_TIMEOUT seconds for the task (600), ETL_BUILD_DIR (build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
demo=$root/.demo
build=${ETL_BUILD_DIR:-build}
bin=$root/$build/bin

stack_dir=$demo
# shellcheck source=scripts/lib/local_stack.sh
source "$root/scripts/lib/local_stack.sh"

if [[ ${1:-} == stop ]]; then
  stack_stop
  exit 0
fi

log() { printf '\033[1m== %s\033[0m\n' "$*"; }

log "installing what is missing, building"
scripts/install-deps.sh build demo
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
pipeline=${DEMO_PIPELINE:-animals}
case $pipeline in
  animals) upstream= ;;
  spacex-crew | spacex-launches) upstream=spacex-sim ;;
  randomuser) upstream=randomuser-sim ;;
  crunchbase-orgs) upstream=crunchbase-sim ;;
  *)
    echo "demo.sh: DEMO_PIPELINE must be animals, spacex-crew, spacex-launches, randomuser or" \
      "crunchbase-orgs, not '$pipeline'" >&2
    exit 2
    ;;
esac
cmake --build "$build" -j "$(nproc)" --target etl-server etl-worker etl-verify animals-sim \
  ${upstream:+"$upstream"}

stack_reset
trap 'echo; log "stopping"; stack_stop; exit 130' INT TERM

start_redis
log "Redis on 127.0.0.1:$redis_port (AOF on, noeviction)"
start_postgres
log "Postgres on 127.0.0.1:$pg_port (data in $demo/pg)"
sim_args=(--verify --chaos-percent "${DEMO_CHAOS:-2}")
[[ -n ${DEMO_PAGES:-} ]] && sim_args+=(--pages "$DEMO_PAGES")
[[ -n ${DEMO_SEED:-} ]] && sim_args+=(--seed "$DEMO_SEED")
start_sim "${sim_args[@]}"
log "animals-sim on 127.0.0.1:$sim_port (${sim_args[*]})"
if [[ $upstream == spacex-sim ]]; then
  start_upstream spacex-sim ETL_SPACEX_URL --chaos-percent "${DEMO_CHAOS:-2}" --crew-quirks
  log "spacex-sim on $ETL_SPACEX_URL"
elif [[ $upstream == randomuser-sim ]]; then
  start_upstream randomuser-sim ETL_RANDOMUSER_URL --chaos-percent "${DEMO_CHAOS:-2}"
  log "randomuser-sim on $ETL_RANDOMUSER_URL"
  # The salt of the hashed passwords and identity numbers: kept out of the repository and logs.
  export ETL_HASH_SALT=${ETL_HASH_SALT:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}
elif [[ $upstream == crunchbase-sim ]]; then
  # The API key the simulator accepts and the worker sends (from the environment, never a log).
  export CB_API_KEY=${CB_API_KEY:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}
  start_upstream crunchbase-sim ETL_CRUNCHBASE_URL --chaos-percent "${DEMO_CHAOS:-2}" \
    --key "$CB_API_KEY"
  log "crunchbase-sim on $ETL_CRUNCHBASE_URL (3,000 organizations)"
fi
start_etl
log "migrations applied; etl-server on http://127.0.0.1:$server_port, etl-worker with 2 processes"

if [[ $pipeline == animals ]]; then
  trigger_query="?audit_mode=true"
  log "triggering an audited task: POST $api/extractor/trigger-task$trigger_query"
elif [[ $pipeline == spacex-launches ]]; then
  trigger_query="?pipeline=$pipeline&start_date=2006-03-01&end_date=2022-12-06"
  log "triggering a backfill of every launch: POST $api/extractor/trigger-task$trigger_query"
else
  trigger_query="?pipeline=$pipeline"
  log "triggering a $pipeline task: POST $api/extractor/trigger-task$trigger_query"
fi
answer=$(curl -sS -X POST "$api/extractor/trigger-task$trigger_query")
echo "$answer"
task=$(sed -n 's/.*"task_id":"\([0-9a-f-]*\)".*/\1/p' <<<"$answer")
[[ -n $task ]] || { echo "no task id in the answer" >&2; stack_stop; exit 1; }

json_field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$2" | sed -n 1p; }
status=queued
started_at=$SECONDS
t0=$(date +%s.%N)
while :; do
  body=$(curl -sS "$api/extractor/tasks/$task")
  status=$(sed -n 's/.*"status":"\([a-z]*\)".*/\1/p' <<<"$body")
  batches=$(sed -n 's/.*"batches":{\([^}]*\)}.*/\1/p' <<<"$body")
  counts=$(sed -n 's/.*"counts":{\([^}]*\)}.*/\1/p' <<<"$body")
  printf '\r%4ds  %-9s  batches {%s}  %s   ' $((SECONDS - started_at)) "$status" "$batches" \
    "$(tr -d '"' <<<"$counts")"
  case $status in succeeded | failed | cancelled) break ;; esac
  if ((SECONDS - started_at > ${DEMO_TIMEOUT:-600})); then echo; echo "timed out" >&2; break; fi
  sleep 0.25
done
echo
log "task $task: $status in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"

verify_rc=0
if [[ $pipeline == animals ]]; then
  log "etl-verify --task $task"
  "$bin/etl-verify" --task "$task" 2>>"$demo/logs/verify.log" || verify_rc=$?
  log "the simulator's own count (GET /sim/report)"
  curl -sS "http://127.0.0.1:$sim_port/sim/report"
  echo
elif [[ $pipeline == randomuser ]]; then
  # Three CSV tables in the task's folder, each counted by its lines (a header, then one a row).
  posted=$(json_field posted "$body")
  folder=$ETL_OUTPUT_DIR/randomuser/$task
  ls -l "$folder"
  users=$(($(wc -l <"$folder"/*_users.csv) - 1))
  log "$folder holds $users users; the task delivered $posted"
  head -3 "$folder"/*_logins.csv
  [[ $status == succeeded && $users == "$posted" && $users -gt 0 ]] || verify_rc=1
elif [[ $pipeline == crunchbase-orgs ]]; then
  # Every organization the task delivered is a row of the Parquet files the manifest lists.
  posted=$(json_field posted "$body")
  listed=$(psql -X -At -h 127.0.0.1 -p "$pg_port" -U etl -d etl \
    -c "SELECT coalesce(sum(rows), 0) FROM output_files WHERE task_id = '$task'")
  find "$ETL_OUTPUT_DIR/crunchbase" -name '*.parquet' -exec ls -l {} +
  log "the Parquet files hold $listed organizations; the task delivered $posted"
  [[ $status == succeeded && $listed == "$posted" && $listed -gt 0 ]] || verify_rc=1
elif [[ $pipeline == spacex-launches ]]; then
  # Every launch the task delivered is a row of spacex.launches and of the Parquet manifest's
  # files, read back by psql.
  posted=$(json_field posted "$body")
  sql() { psql -X -At -h 127.0.0.1 -p "$pg_port" -U etl -d etl -c "$1"; }
  rows=$(sql "SELECT count(*) FROM spacex.launches")
  listed=$(sql "SELECT coalesce(sum(rows), 0) FROM output_files WHERE task_id = '$task' AND path LIKE 'spacex/launches/%'")
  log "spacex.launches holds $rows rows, spacex.cores $(sql "SELECT count(*) FROM spacex.cores"); the Parquet files under $ETL_OUTPUT_DIR/spacex/launches/ hold $listed; the task delivered $posted"
  psql -X -h 127.0.0.1 -p "$pg_port" -U etl -d etl -c "SELECT extract(year FROM date_utc)::int AS year, count(*) AS launches FROM spacex.launches GROUP BY 1 ORDER BY 1"
  [[ $status == succeeded && $rows == "$posted" && $listed == "$posted" && $rows -gt 0 ]] || verify_rc=1
else
  # spacex-crew: every person the task delivered is a row of spacex.crew, read back by psql.
  posted=$(json_field posted "$body")
  rows=$(psql -X -At -h 127.0.0.1 -p "$pg_port" -U etl -d etl -c "SELECT count(*) FROM spacex.crew")
  log "spacex.crew holds $rows rows; the task delivered $posted"
  psql -X -h 127.0.0.1 -p "$pg_port" -U etl -d etl \
    -c "SELECT status, count(*) FROM spacex.crew GROUP BY status ORDER BY status"
  [[ $status == succeeded && $rows == "$posted" && $rows -gt 0 ]] || verify_rc=1
fi
if [[ $pipeline != animals ]]; then
  # The source read again as the task read it, and each sink asked for every record once.
  log "etl-verify --task $task"
  "$bin/etl-verify" --task "$task" 2>>"$demo/logs/verify.log" || verify_rc=$?
fi

if [[ $pipeline == animals ]]; then
  report_url=http://127.0.0.1:$sim_port/sim/report
  output_line="audit dumps:  $demo/audit/$task/"
elif [[ $pipeline == randomuser ]]; then
  report_url=$ETL_RANDOMUSER_URL/sim/report
  output_line="tables:       $ETL_OUTPUT_DIR/randomuser/$task/"
elif [[ $pipeline == crunchbase-orgs ]]; then
  report_url=$ETL_CRUNCHBASE_URL/sim/report
  output_line="files:        $ETL_OUTPUT_DIR/crunchbase/context=org/
  changes:      curl -X POST '$ETL_CRUNCHBASE_URL/sim/clock' -d '{\"advance_seconds\": 10800}'
                (three hours pass upstream; trigger again: only the changed organizations)"
elif [[ $pipeline == spacex-launches ]]; then
  report_url=$ETL_SPACEX_URL/sim/report
  output_line="tables:       psql -h 127.0.0.1 -p $pg_port -U etl etl -c 'SELECT count(*) FROM spacex.cores'
  files:        $ETL_OUTPUT_DIR/spacex/"
else
  report_url=$ETL_SPACEX_URL/sim/report
  output_line="table:        psql -h 127.0.0.1 -p $pg_port -U etl etl -c 'TABLE spacex.crew'"
fi
cat <<EOF

  task status:  $api/extractor/tasks/$task
  trigger:      curl -X POST '$api/extractor/trigger-task$trigger_query'
  pipelines:    curl $api/extractor/pipelines
  dashboard:    $api/
  simulator:    $report_url
  $output_line
  logs:         $demo/logs/

EOF
if [[ -t 0 ]]; then
  echo "The stack keeps running; press Ctrl-C to stop it."
  while :; do sleep 3600; done
else
  echo "The stack keeps running; stop it with: scripts/demo.sh stop"
fi
exit $verify_rc
