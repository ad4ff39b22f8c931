#!/usr/bin/env bash
# The README's demo: installs what is missing, builds, starts Redis, Postgres, the animals
# simulator (verify mode, 2% chaos), etl-server and etl-worker on free loopback ports in a
# folder of their own (.demo/), triggers an audited task, shows its progress, verifies it with
# etl-verify and prints the URLs.
#
#   scripts/demo.sh           run the demo; Ctrl-C stops everything it started
#   scripts/demo.sh stop      stop a demo left running (e.g. started without a terminal)
#
# Environment: DEMO_PAGES (default: the simulator's random 500-600), DEMO_SEED (random),
# DEMO_CHAOS (2),
# DEMO_TIMEOUT seconds for the task (600), ETL_BUILD_DIR (build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
demo=$root/.demo
build=${ETL_BUILD_DIR:-build}
bin=$root/$build/bin

stop_all() {
  [[ -f $demo/pids ]] || return 0
  # Newest first: workers and server before the stores they use.
  tac "$demo/pids" | while read -r pid name; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      echo "stopped $name (pid $pid)"
    fi
  done
  rm -f "$demo/pids"
}

if [[ ${1:-} == stop ]]; then
  stop_all
  exit 0
fi

log() { printf '\033[1m== %s\033[0m\n' "$*"; }

log "installing what is missing, building"
scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target etl-server etl-worker etl-verify animals-sim

stop_all
rm -rf "$demo"
mkdir -p "$demo"/{logs,redis,audit,pgsock}
trap 'echo; log "stopping"; stop_all; exit 130' INT TERM

# A port nothing listens on now (bash's /dev/tcp: connection refused means free).
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port found" >&2; exit 1
}
started() { echo "$1 $2" >>"$demo/pids"; }
wait_for() {  # wait_for WHAT SECONDS COMMAND...
  local what=$1 secs=$2; shift 2
  for _ in $(seq $((secs * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$what did not come up; see $demo/logs" >&2; stop_all; exit 1
}

redis_port=$(free_port)
log "Redis on 127.0.0.1:$redis_port (AOF on, noeviction)"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$demo/redis" --appendonly yes \
  --maxmemory-policy noeviction --save '' >"$demo/logs/redis.log" 2>&1 &
started $! redis
wait_for Redis 10 redis-cli -p "$redis_port" ping

pg_port=$(free_port)
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
log "Postgres on 127.0.0.1:$pg_port (data in $demo/pg)"
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  # Postgres refuses to run as root: its folders belong to the postgres user.
  chown postgres "$demo" "$demo/pgsock" "$demo/logs"
  as_pg=(setpriv --reuid=postgres --regid=postgres --clear-groups)
fi
"${as_pg[@]}" "$pg_bin/initdb" -D "$demo/pg" -A trust -U postgres >"$demo/logs/initdb.log" 2>&1
"${as_pg[@]}" "$pg_bin/postgres" -D "$demo/pg" -k "$demo/pgsock" -p "$pg_port" \
  -c listen_addresses=127.0.0.1 >"$demo/logs/postgres.log" 2>&1 &
started $! postgres
wait_for Postgres 30 "$pg_bin/pg_isready" -h 127.0.0.1 -p "$pg_port"
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE ROLE etl LOGIN" \
  -c "CREATE DATABASE etl OWNER etl" >/dev/null

sim_port=$(free_port)
sim_args=(--port "$sim_port" --verify --chaos-percent "${DEMO_CHAOS:-2}")
[[ -n ${DEMO_PAGES:-} ]] && sim_args+=(--pages "$DEMO_PAGES")
[[ -n ${DEMO_SEED:-} ]] && sim_args+=(--seed "$DEMO_SEED")
log "animals-sim on 127.0.0.1:$sim_port (${sim_args[*]:2})"
"$bin/animals-sim" "${sim_args[@]}" >"$demo/logs/sim.out" 2>"$demo/logs/sim.log" &
started $! animals-sim
wait_for animals-sim 10 curl -sf "http://127.0.0.1:$sim_port/"

server_port=$(free_port)
export ETL_LISTEN=127.0.0.1:$server_port
export ETL_REDIS_URL=redis://127.0.0.1:$redis_port/0
export ETL_DATABASE_URL=postgresql://etl@127.0.0.1:$pg_port/etl
export ETL_SOURCE_URL=http://127.0.0.1:$sim_port
export ETL_AUDIT_DIR=$demo/audit
log "migrations"
"$bin/etl-server" --migrate-only 2>>"$demo/logs/server.log"
log "etl-server on http://127.0.0.1:$server_port, etl-worker with 2 processes"
"$bin/etl-server" >>"$demo/logs/server.log" 2>&1 &
started $! etl-server
"$bin/etl-worker" >>"$demo/logs/worker.log" 2>&1 &
started $! etl-worker
wait_for etl-server 10 curl -sf "http://127.0.0.1:$server_port/healthz"

api=http://127.0.0.1:$server_port
log "triggering an audited task: POST $api/extractor/trigger-task?audit_mode=true"
answer=$(curl -sS -X POST "$api/extractor/trigger-task?audit_mode=true")
echo "$answer"
task=$(sed -n 's/.*"task_id":"\([0-9a-f-]*\)".*/\1/p' <<<"$answer")
[[ -n $task ]] || { echo "no task id in the answer" >&2; stop_all; exit 1; }

json_field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$2" | head -1; }
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

log "etl-verify --task $task"
verify_rc=0
"$bin/etl-verify" --task "$task" 2>>"$demo/logs/verify.log" || verify_rc=$?
log "the simulator's own count (GET /sim/report)"
curl -sS "http://127.0.0.1:$sim_port/sim/report"
echo

cat <<EOF

  task status:  $api/extractor/tasks/$task
  trigger:      curl -X POST '$api/extractor/trigger-task?audit_mode=true'
  dashboard:    $api/
  simulator:    http://127.0.0.1:$sim_port/sim/report
  audit dumps:  $demo/audit/$task/
  logs:         $demo/logs/

EOF
if [[ -t 0 ]]; then
  echo "The stack keeps running; press Ctrl-C to stop it."
  while :; do sleep 3600; done
else
  echo "The stack keeps running; stop it with: scripts/demo.sh stop"
fi
exit $verify_rc
