#!/usr/bin/env bash
# docker.faults.CASE: faults through Docker, each during an audited task, each judged by the
# simulator's report and etl-verify in its container (expect_nothing_lost in lib.sh).
#   worker_sigkill   `docker-compose kill -s SIGKILL etl-worker` mid-task, then `up -d` again
#   scale4           `up -d --scale etl-worker=4`: jobs pending at all four containers at once
#   partition        one worker container cut off (`docker network disconnect`) while it holds
#                    jobs, for longer than the job lease: the others reclaim its jobs; then
#                    reconnected, it must not post what another now owns
#   restarts         the Redis and then the Postgres container restarted mid-task
# The simulator holds every POST (--post-delay-ms) and the workers run few jobs at once, so the
# task lasts long enough for a fault to land in the middle of it.
#
#   faults.sh SOURCE_DIR CASE
set -euo pipefail
SRC=$(cd "$1" && pwd)
case_name=$2
source "$(dirname "$0")/lib.sh"
need_engine
need_image
stack_init "$case_name"

# Progress: some batches done, not all (so a fault lands mid-task).
mid_task() { wait_task '.status == "running" and .batches.done >= '"${1:-2}"' and .batches.done < .batches.total' 300 "batches under way"; }
done_count() { jq .batches.done <<<"$last_task"; }

case $case_name in
  worker_sigkill)
    override 300 700 'ETL_WORKER_PROCESSES: "1"' 'ETL_JOBS: "2"'
    stack_up
    trigger
    mid_task 3
    note "SIGKILL to every etl-worker container at $(done_count) batches done"
    compose kill -s SIGKILL etl-worker >/dev/null 2>&1
    for c in $(compose ps -q etl-worker); do
      state=$(docker inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$c")
      [[ $state == "exited 137" ]] || fail "a killed worker container is '$state', not 'exited 137'"
    done
    compose up -d --no-build >/dev/null 2>&1
    wait_healthy 120
    wait_done 600
    expect_nothing_lost
    ;;

  scale4)
    override 400 700 'ETL_WORKER_PROCESSES: "1"' 'ETL_JOBS: "2"'
    stack_up --scale etl-worker=4
    mapfile -t workers < <(compose ps -q etl-worker)
    [[ ${#workers[@]} -eq 4 ]] || fail "${#workers[@]} etl-worker containers, asked for 4"
    hosts=()
    for c in "${workers[@]}"; do hosts+=("$(docker inspect --format '{{.Config.Hostname}}' "$c")"); done
    trigger
    mid_task 1
    # Each worker's consumer is <hostname>:<pid>:<n>: the pending entries say who holds a job.
    declare -A seen=()
    deadline=$((SECONDS + 300))
    while ((${#seen[@]} < 4)); do
      while read -r consumer count; do
        for h in "${hosts[@]}"; do [[ $consumer == "$h:"* && $count -gt 0 ]] && seen[$h]=1; done
      done < <(pending_by_consumer)
      ((${#seen[@]} == 4)) && break
      jq -e '.status == "running"' <<<"$(task_json)" >/dev/null || fail "the task left running with jobs seen at only ${#seen[@]} of 4 workers"
      ((SECONDS < deadline)) || fail "jobs seen at only ${#seen[@]} of 4 workers"
      sleep 0.3
    done
    note "jobs in hand at all four worker containers at once or in turn: ${!seen[*]}"
    wait_done 600
    expect_nothing_lost
    ;;

  partition)
    lease=3
    # Home holds each POST 1.5 s: the task lasts a minute, long enough to cut a worker off for
    # twice its lease and bring it back while the task still runs.
    override 800 1500 'ETL_WORKER_PROCESSES: "1"' 'ETL_JOBS: "2"' "ETL_JOB_LEASE: \"${lease}s\""
    stack_up
    trigger
    mid_task 1
    mapfile -t workers < <(compose ps -q etl-worker)
    victim=${workers[0]:?no etl-worker container}
    host=$(docker inspect --format '{{.Config.Hostname}}' "$victim")
    network=$(docker inspect --format '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$victim" | awk '{ print $1 }')
    # Cut it off while it holds jobs.
    deadline=$((SECONDS + 120))
    until pending_by_consumer | awk -v h="$host:" 'index($1, h) == 1 && $2 > 0 { f = 1 } END { exit !f }'; do
      ((SECONDS < deadline)) || fail "worker $host never held a job"
      sleep 0.2
    done
    held=$(pending_by_consumer | awk -v h="$host:" 'index($1, h) == 1 { n += $2 } END { print n + 0 }')
    docker network disconnect "$network" "$victim"
    cut_at=$SECONDS
    note "worker $host cut from $network holding $held job(s), lease ${lease}s"
    # Its jobs must go to the others once the lease lapses: nothing pending at it any more, and
    # the task still moves. Cut off for at least twice the lease.
    deadline=$((SECONDS + 120))
    before=$(task_json | jq .batches.done)
    until ! pending_by_consumer | awk -v h="$host:" 'index($1, h) == 1 && $2 > 0 { f = 1 } END { exit !f }' &&
          ((SECONDS - cut_at > 2 * lease)) && (($(task_json | jq .batches.done) > before)); do
      ((SECONDS < deadline)) || fail "the cut-off worker's jobs were not reclaimed within 120 s ($(pending_by_consumer | tr '\n' ' '))"
      sleep 0.3
    done
    note "its jobs reclaimed by the others $((SECONDS - cut_at)) s after the cut; task at $(task_json | jq .batches.done) batches"
    docker network connect "$network" "$victim"
    jq -e '.status == "running"' <<<"$(task_json)" >/dev/null ||
      fail "the task ended while the worker was cut off: its return would prove nothing"
    note "worker $host reconnected with the task at $(task_json | jq .batches.done) of $(task_json | jq .batches.total) batches"
    # It takes jobs again (a new consumer of the same host) unless the task ends first.
    took=no
    until [[ $took == yes ]] || jq -e '.status != "running"' <<<"$(task_json)" >/dev/null; do
      pending_by_consumer | awk -v h="$host:" 'index($1, h) == 1 && $2 > 0 { f = 1 } END { exit !f }' && took=yes
      sleep 0.3
    done
    note "the reconnected worker took jobs again before the task ended: $took"
    wait_done 600
    expect_nothing_lost
    # The cut-off worker came back and carried on (its container was never restarted).
    [[ $(docker inspect --format '{{.RestartCount}} {{.State.Running}}' "$victim") == "0 true" ]] ||
      fail "the cut-off worker container did not survive: $(docker inspect --format '{{.RestartCount}} {{.State.Status}}' "$victim")"
    ;;

  restarts)
    override 400 700 'ETL_WORKER_PROCESSES: "1"' 'ETL_JOBS: "2"'
    stack_up
    trigger
    mid_task 2
    started() { docker inspect --format '{{.State.StartedAt}}' "$(compose ps -q "$1")"; }
    redis_started=$(started redis)
    pg_started=$(started postgres)
    note "restarting redis at $(done_count) batches"
    compose restart -t 10 redis >/dev/null 2>&1
    [[ $(started redis) != "$redis_started" ]] || fail "redis was not restarted"
    was=$(done_count)
    wait_task '.batches.done > '"$((was + 1))"' and .batches.done < .batches.total' 300 "progress after the Redis restart"
    note "restarting postgres at $(done_count) batches"
    compose restart -t 10 postgres >/dev/null 2>&1
    [[ $(started postgres) != "$pg_started" ]] || fail "postgres was not restarted"
    wait_done 600
    expect_nothing_lost
    ;;

  *) fail "unknown case $case_name" ;;
esac
note "docker.faults.$case_name passed"
