#!/usr/bin/env bash
# docker.stack: the README's Docker path for real. docker-compose up -d of docker-compose.yml
# (its own project name and loopback ports), every health check healthy, an audited task
# triggered through the published port, `docker-compose run --rm etl-verify --task ID` exits 0
# and the simulator's report says 0 missing, 0 duplicates. Then `down` and `up` again (volumes
# kept): the task and its audit dumps are still there and verify again.
#
#   stack.sh SOURCE_DIR
set -euo pipefail
SRC=$(cd "$1" && pwd)
source "$(dirname "$0")/lib.sh"
need_engine
need_image
stack_init stack
# The compose file's own settings (2 replicas, 2 processes each, 2% chaos with 5-15 s pauses),
# a fixed size and seed.
{
  echo "services:"
  echo "  animals-sim:"
  echo "    command: [\"animals-sim\", \"--host\", \"0.0.0.0\", \"--port\", \"3123\", \"--verify\","
  echo "              \"--chaos-percent\", \"2\", \"--pages\", \"550\", \"--seed\", \"19\"]"
} >"$tmp/override.yml"
stack_up
workers=$(compose ps -q etl-worker | wc -l)
[[ $workers -eq 2 ]] || fail "$workers etl-worker containers, the compose file asks for 2"

trigger
wait_done 600
expect_nothing_lost
first=$(task_json | jq -c '{status, total_pages, batches, counts, finished_at}')

note "down and up again: the volumes keep the task history"
compose down -t 30 >/dev/null 2>&1
[[ -z $(compose ps -q) ]] || fail "containers left after down"
stack_up
again=$(task_json | jq -c '{status, total_pages, batches, counts, finished_at}')
[[ $again == "$first" ]] || fail "the task changed across down/up: $first -> $again"
listed=$(curl -fsS "$api/extractor/tasks?limit=10" | jq --arg t "$task" '[.tasks[] | select(.task_id == $t)] | length')
[[ $listed -eq 1 ]] || fail "the task list after down/up does not hold $task"
rc=0
compose run --rm -T etl-verify --task "$task" >"$tmp/verify2.log" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || { tail -n 20 "$tmp/verify2.log"; fail "etl-verify after down/up exited $rc"; }
note "after down/up: task $task still $(jq -r .status <<<"$again"), etl-verify exit 0"
