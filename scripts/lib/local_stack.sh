# The local stack of scripts/demo.sh and the benchmarks, as shell functions: Redis (AOF,
# noeviction), Postgres (initdb in a folder of its own), animals-sim, etl-server and etl-worker
# on free loopback ports. Source it, set `stack_dir` and `bin`, then call the start_* functions;
# `stack_stop` stops everything they started (newest first), also after a failure.
#
#   stack_dir=$PWD/.demo bin=$PWD/build/bin; source scripts/lib/local_stack.sh
#   stack_reset; start_redis; start_postgres; start_sim --verify; start_etl
#
# Sets redis_port, pg_port, sim_port, server_port and api (http://127.0.0.1:PORT), and exports
# the ETL_* variables the binaries read.

stack_stop() {
  [[ -f $stack_dir/pids ]] || return 0
  # Newest first: workers and server before the stores they use.
  tac "$stack_dir/pids" | while read -r pid name; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      echo "stopped $name (pid $pid)"
    fi
  done
  rm -f "$stack_dir/pids"
}

# Stops what a previous run left and starts from an empty folder.
stack_reset() {
  stack_stop
  rm -rf "$stack_dir"
  mkdir -p "$stack_dir"/{logs,redis,audit,pgsock}
}

# A port nothing listens on now (bash's /dev/tcp: connection refused means free).
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port found" >&2
  return 1
}

stack_started() { echo "$1 $2" >>"$stack_dir/pids"; }

wait_for() {  # wait_for WHAT SECONDS COMMAND...
  local what=$1 secs=$2
  shift 2
  for _ in $(seq $((secs * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$what did not come up; see $stack_dir/logs" >&2
  stack_stop
  exit 1
}

start_redis() {
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$stack_dir/redis" --appendonly yes \
    --maxmemory-policy noeviction --save '' >"$stack_dir/logs/redis.log" 2>&1 &
  stack_started $! redis
  wait_for Redis 10 redis-cli -p "$redis_port" ping
}

start_postgres() {
  pg_port=$(free_port)
  local pg_bin as_pg=()
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  if [[ $(id -u) -eq 0 ]]; then
    # Postgres refuses to run as root: its folders belong to the postgres user.
    chown postgres "$stack_dir" "$stack_dir/pgsock" "$stack_dir/logs"
    as_pg=(setpriv --reuid=postgres --regid=postgres --clear-groups)
  fi
  "${as_pg[@]}" "$pg_bin/initdb" -D "$stack_dir/pg" -A trust -U postgres \
    >"$stack_dir/logs/initdb.log" 2>&1
  "${as_pg[@]}" "$pg_bin/postgres" -D "$stack_dir/pg" -k "$stack_dir/pgsock" -p "$pg_port" \
    -c listen_addresses=127.0.0.1 >"$stack_dir/logs/postgres.log" 2>&1 &
  stack_started $! postgres
  wait_for Postgres 30 "$pg_bin/pg_isready" -h 127.0.0.1 -p "$pg_port"
  psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE ROLE etl LOGIN" \
    -c "CREATE DATABASE etl OWNER etl" >/dev/null
}

# start_sim [FLAGS...]: animals-sim with these flags, on sim_port when it is set (a restarted
# simulator keeps its address), else on a free one.
start_sim() {
  [[ -n ${sim_port:-} ]] || sim_port=$(free_port)
  "$bin/animals-sim" --port "$sim_port" "$@" >"$stack_dir/logs/sim.out" \
    2>>"$stack_dir/logs/sim.log" &
  sim_pid=$!
  stack_started "$sim_pid" animals-sim
  wait_for animals-sim 10 curl -sf "http://127.0.0.1:$sim_port/"
}

# start_upstream NAME VAR [FLAGS...]: another simulator (build/bin/NAME, e.g. spacex-sim) on a
# free port, its base URL exported as VAR (e.g. ETL_SPACEX_URL) for the pipelines that read it.
start_upstream() {
  local name=$1 var=$2 port
  shift 2
  port=$(free_port)
  "$bin/$name" --port "$port" "$@" >"$stack_dir/logs/$name.out" 2>>"$stack_dir/logs/$name.log" &
  stack_started $! "$name"
  wait_for "$name" 10 curl -sf "http://127.0.0.1:$port/sim/config"
  export "$var=http://127.0.0.1:$port"
}

stop_sim() {
  kill -TERM "$sim_pid" 2>/dev/null || true
  wait "$sim_pid" 2>/dev/null || true
}

# Migrations, etl-server and etl-worker against the Redis, Postgres and simulator above.
start_etl() {
  server_port=$(free_port)
  export ETL_LISTEN=127.0.0.1:$server_port
  export ETL_REDIS_URL=redis://127.0.0.1:$redis_port/0
  export ETL_DATABASE_URL=postgresql://etl@127.0.0.1:$pg_port/etl
  export ETL_SOURCE_URL=http://127.0.0.1:$sim_port
  export ETL_AUDIT_DIR=$stack_dir/audit
  export ETL_OUTPUT_DIR=$stack_dir/output
  "$bin/etl-server" --migrate-only 2>>"$stack_dir/logs/server.log"
  "$bin/etl-server" >>"$stack_dir/logs/server.log" 2>&1 &
  stack_started $! etl-server
  "$bin/etl-worker" >>"$stack_dir/logs/worker.log" 2>&1 &
  stack_started $! etl-worker
  api=http://127.0.0.1:$server_port
  wait_for etl-server 10 curl -sf "$api/healthz"
}
