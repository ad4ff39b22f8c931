# Helpers the docker tests (tests/docker/*.sh) source: the engine or a skip, one compose project
# per test on free loopback ports, bounded polls of health and task state, and the checks that
# say nothing was lost (etl-verify in its container, the simulator's report).
# Every wait polls an observable condition against a deadline; nothing sleeps in its place.
#
# A test sets SRC (the source tree) and calls: need_engine; stack_up [compose up args...];
# then the helpers below. Exit 77 (ctest's SKIP_RETURN_CODE) when no engine can be had.

skip_code=77
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "[$(date -u +%H:%M:%S)] $*"; }
image=animals-etl:latest

# need_engine: a Docker engine answers, or scripts/docker-local-images.sh (as root) starts one,
# or the test is skipped with the reason.
need_engine() {
  command -v docker >/dev/null || { echo "SKIP: no docker client (scripts/docker-local-images.sh installs docker.io)"; exit $skip_code; }
  if ! docker info >/dev/null 2>&1; then
    if [[ ${ETL_DOCKER_TESTS:-} == off ]]; then
      echo "SKIP: no Docker engine answers, and ETL_DOCKER_TESTS=off says not to start one"; exit $skip_code
    fi
    if [[ $(id -u) -ne 0 ]]; then
      echo "SKIP: no Docker engine answers and starting one needs root"; exit $skip_code
    fi
    if ! out=$("$SRC/scripts/docker-local-images.sh" 2>&1); then
      echo "$out" | tail -n 5
      echo "SKIP: no Docker engine could be started (scripts/docker-local-images.sh failed)"; exit $skip_code
    fi
  fi
  # Compose v2 where the client has it, else Debian's v1.
  if docker compose version >/dev/null 2>&1; then
    compose_cmd=(docker compose)
  elif command -v docker-compose >/dev/null; then
    compose_cmd=(docker-compose)
  else
    echo "SKIP: neither 'docker compose' nor docker-compose is installed"; exit $skip_code
  fi
}

# need_image: the project's image (tests/docker/image.sh builds it first).
need_image() { docker image inspect "$image" >/dev/null 2>&1 || fail "no $image: the docker.image test builds it"; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# stack_init NAME: a unique compose project, free loopback ports, a scratch folder, and `down -v`
# on exit whatever happens. The override file (written by the test with override()) replaces
# the simulator's command and the worker's settings; the published ports come from the
# variables docker-compose.yml reads.
stack_init() {
  project="etltest_${1//[^a-z0-9]/_}_$$"
  tmp=$(mktemp -d)
  export ANIMALS_ETL_PORT ANIMALS_SIM_PORT
  ANIMALS_ETL_PORT=$(free_port)
  ANIMALS_SIM_PORT=$(free_port)
  while [[ $ANIMALS_SIM_PORT == "$ANIMALS_ETL_PORT" ]]; do ANIMALS_SIM_PORT=$(free_port); done
  api=http://127.0.0.1:$ANIMALS_ETL_PORT
  sim=http://127.0.0.1:$ANIMALS_SIM_PORT
  : >"$tmp/override.yml"
  trap stack_cleanup EXIT
  # A command that fails outside a condition ends the test (set -e): say which one, or the log
  # shows only the stack's logs and no reason.
  set -E
  trap 'echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: \`$BASH_COMMAND\` exited $?" >&2' ERR
}
stack_cleanup() {
  local rc=$?
  if [[ $rc -ne 0 && $rc -ne $skip_code && -n ${project:-} ]]; then
    echo "--- logs of $project (last 40 lines a service) ---"
    compose logs --no-color --tail 40 2>&1 | tail -n 200 || true
  fi
  [[ -z ${project:-} ]] || compose down -v --remove-orphans -t 10 >/dev/null 2>&1 || true
  rm -rf "${tmp:-/nonexistent}"
  exit $rc
}
compose() { "${compose_cmd[@]}" -p "$project" -f "$SRC/docker-compose.yml" -f "$tmp/override.yml" "$@"; }

# override PAGES POST_DELAY_MS [worker env lines...]: the simulator with a fixed size and seed,
# short chaos pauses and home holding every POST (so a fault lands mid-task), and the worker's
# environment (KEY: "value" lines).
override() {
  local pages=$1 delay=$2
  shift 2
  {
    echo "services:"
    echo "  animals-sim:"
    echo "    command: [\"animals-sim\", \"--host\", \"0.0.0.0\", \"--port\", \"3123\", \"--verify\","
    echo "              \"--chaos-percent\", \"2\", \"--pause-min\", \"1\", \"--pause-max\", \"2\","
    echo "              \"--pages\", \"$pages\", \"--seed\", \"19\", \"--post-delay-ms\", \"$delay\"]"
    echo "  etl-worker:"
    echo "    environment:"
    for kv in "$@"; do echo "      $kv"; done
  } >"$tmp/override.yml"
}

# health_of CONTAINER: its health status, or its state when it has no health check.
health_of() { docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$1" 2>/dev/null || echo gone; }

# wait_healthy SECONDS: every container of the project with a health check is healthy, the rest
# running or exited 0 (the migration). Prints the time it took.
wait_healthy() {
  local deadline=$((SECONDS + $1)) start=$SECONDS c s bad
  while :; do
    bad=()
    for c in $(compose ps -q); do
      s=$(health_of "$c")
      case $s in
        healthy|running) ;;
        exited) [[ $(docker inspect --format '{{.State.ExitCode}}' "$c") == 0 ]] || fail "$(docker inspect --format '{{.Name}}' "$c") exited $(docker inspect --format '{{.State.ExitCode}}' "$c")" ;;
        *) bad+=("$(docker inspect --format '{{.Name}}' "$c" 2>/dev/null):$s") ;;
      esac
    done
    [[ ${#bad[@]} -eq 0 ]] && break
    ((SECONDS < deadline)) || fail "not healthy within $1 s: ${bad[*]}"
    sleep 1
  done
  curl -fsS "$api/readyz" >/dev/null || fail "etl-server is healthy but $api/readyz fails"
  note "every container healthy in $((SECONDS - start)) s"
}

# stack_up [ARGS...]: compose up -d (no build: the image is the docker.image test's), then
# wait for every health check (bounded).
stack_up() {
  local start=$SECONDS
  compose up -d --no-build "$@" >"$tmp/up.log" 2>&1 || { cat "$tmp/up.log"; fail "compose up failed"; }
  wait_healthy 180
  redis_container=$(compose ps -q redis)
  note "stack up and healthy in $((SECONDS - start)) s"
}

# trigger: an audited task through the published port; sets task.
trigger() {
  local out
  out=$(curl -fsS -X POST "$api/extractor/trigger-task?audit_mode=true") || fail "trigger failed"
  task=$(jq -r .task_id <<<"$out")
  [[ $task =~ ^[0-9a-f-]{36}$ ]] || fail "trigger answered $out"
  trigger_at=$SECONDS
  note "task $task triggered"
}
task_json() { curl -fsS "$api/extractor/tasks/$task"; }

# wait_task JQ_CONDITION SECONDS WHAT: poll the task until the jq condition holds; fail at the
# deadline, or when the task ends while waiting for something else.
wait_task() {
  local cond=$1 deadline=$((SECONDS + $2)) t
  while :; do
    t=$(task_json) || t='{}'
    if jq -e "$cond" <<<"$t" >/dev/null; then last_task=$t; return 0; fi
    if jq -e '.status == "succeeded" or .status == "failed" or .status == "cancelled"' <<<"$t" >/dev/null; then
      fail "task ended ($(jq -c '{status, batches, errors}' <<<"$t")) before: $3"
    fi
    ((SECONDS < deadline)) || fail "not within $2 s: $3 ($(jq -c '{status, batches}' <<<"$t"))"
    sleep 0.3
  done
}
wait_done() {  # wait_done SECONDS: the task succeeded
  wait_task '.status == "succeeded"' "$1" "the task succeeds"
  note "task succeeded $((SECONDS - trigger_at)) s after the trigger: $(jq -c '{batches, posted: .counts.posted, in_doubt: .counts.in_doubt, retries: .counts.retries}' <<<"$last_task")"
}

# quiet_report: the simulator's report once it has not changed for 3 s (a run of a job that was
# cut off may still be on its way to home when the task ends); bounded at 60 s.
quiet_report() {
  local deadline=$((SECONDS + 60)) r key prev= since=$SECONDS
  while :; do
    r=$(curl -fsS "$sim/sim/report") || fail "no report from $sim/sim/report"
    # What home got (each report request and connection counts too: leave those out).
    key=$(jq -c '{received, duplicates, unexpected, mismatched, posts, posts_admitted, posts_failed}' <<<"$r")
    if [[ $key != "$prev" ]]; then prev=$key; since=$SECONDS; fi
    ((SECONDS - since >= 3)) && break
    ((SECONDS < deadline)) || fail "the simulator's report kept changing for 60 s"
    sleep 0.5
  done
  printf '%s\n' "$r"
}

# expect_nothing_lost: the task succeeded with every animal posted; etl-verify (in its own
# container, `compose run --rm etl-verify --task ID`) exits 0, or 3 when the task counts batches
# in doubt; home (the simulator's report) got no id twice, none unexpected, no field changed, and
# lacks none but ids etl-verify lists as unproven.
expect_nothing_lost() {
  local t report v rc=0 in_doubt missing
  t=$(task_json)
  jq -e '.status == "succeeded"' <<<"$t" >/dev/null || fail "task not succeeded: $t"
  in_doubt=$(jq .counts.in_doubt <<<"$t")
  report=$(quiet_report)
  v=$(compose run --rm -T etl-verify --task "$task" --json 2>"$tmp/verify.log") || rc=$?
  note "etl-verify exit $rc: $(jq -c '{missing, duplicated, unexpected, unproven: (.unproven_ids // [] | length)}' <<<"$v" 2>/dev/null || echo "$v")"
  note "simulator: $(jq -c '{listed, received, missing, duplicates, unexpected, mismatched}' <<<"$report")"
  jq -e '.duplicates == 0 and .unexpected == 0' <<<"$report" >/dev/null || fail "home got ids twice or unknown: $report"
  jq -e '[.mismatched[]] | add == 0' <<<"$report" >/dev/null || fail "fields changed on the way: $report"
  jq -e --argjson p "$(jq .listed <<<"$report")" '.counts.posted == $p' <<<"$t" >/dev/null ||
    fail "the task posted $(jq .counts.posted <<<"$t") of $(jq .listed <<<"$report") listed: $t"
  if [[ $in_doubt -eq 0 ]]; then
    [[ $rc -eq 0 ]] || { cat "$tmp/verify.log"; fail "etl-verify exited $rc, expected 0: $v"; }
    jq -e '.missing == 0 and .received == .listed' <<<"$report" >/dev/null || fail "home lacks ids: $report"
  else
    [[ $rc -eq 3 ]] || { cat "$tmp/verify.log"; fail "etl-verify exited $rc, expected 3 ($in_doubt batches in doubt): $v"; }
    jq -e '.missing == 0 and .duplicated == 0 and .unexpected == 0' <<<"$v" >/dev/null || fail "etl-verify: $v"
    missing=$(jq '.missing' <<<"$report")
    # Every id home lacks is one etl-verify lists as unproven: never a silent gap.
    jq -e --argjson r "$report" '(.unproven_ids // []) as $u | all($r.first_missing[]; . as $m | $u | index($m))' <<<"$v" >/dev/null ||
      fail "home lacks ids no in-doubt batch holds: $(jq -c .first_missing <<<"$report")"
    ((missing <= $(jq '.unproven_ids | length' <<<"$v"))) || fail "home lacks $missing ids, more than the unproven ones"
  fi
  note "nothing lost: $(jq .listed <<<"$report") animals, in doubt $in_doubt"
}

# pending_by_consumer: "CONSUMER COUNT" lines of the job stream's pending entries (Redis).
pending_by_consumer() {
  # --raw flattens the summary: count, smallest id, greatest id, then consumer and count pairs.
  # docker exec, not compose exec: Debian's docker-compose is Python and takes a second or more
  # a call on a busy machine, longer than the faults tests' tasks leave between polls.
  docker exec "$redis_container" redis-cli --raw XPENDING etl:jobs etl-workers | tail -n +4 | paste -d ' ' - - | grep -v '^ *$' || true
}
