#!/usr/bin/env bash
# bench/full_task.sh's run inside Docker: the compose stack (docker-compose.yml as shipped: two
# worker containers of 2 processes and 4 jobs each, animals-sim in verify mode at 2% chaos with
# 5-15 s pauses, 500-600 pages), one audited task per seed, the simulator restarted with each
# seed. Prints the start-to-healthy time of the stack and, per seed, the time from the trigger's
# answer to `succeeded` (polled every 0.3 s), etl-verify's exit and the simulator's counts.
# Needs the image (ctest -L docker builds it, or docker-compose build) and a Docker engine.
#   bench/docker_task.sh [seed ...]        (default seeds: 1 2 3 4 5)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
source "$SRC/tests/docker/lib.sh"
need_engine
need_image
seeds=("$@")
[[ ${#seeds[@]} -gt 0 ]] || seeds=(1 2 3 4 5)
stack_init bench
sim_seed() {
  cat >"$tmp/override.yml" <<YML
services:
  animals-sim:
    command: ["animals-sim", "--host", "0.0.0.0", "--port", "3123", "--verify",
              "--chaos-percent", "2", "--seed", "$1"]
YML
}
sim_seed "${seeds[0]}"
stack_up
times=()
for seed in "${seeds[@]}"; do
  sim_seed "$seed"
  compose up -d --no-build animals-sim >/dev/null 2>&1
  wait_healthy 120
  [[ $(curl -fsS "$sim/sim/config" | jq .seed) == "$seed" ]] || fail "the simulator did not take seed $seed"
  trigger
  start=$(date +%s%N)
  wait_task '.status == "succeeded"' 600 "the task succeeds"
  ms=$((($(date +%s%N) - start) / 1000000))
  t=$((ms / 1000)).$(printf %03d $((ms % 1000)))
  rc=0
  compose run --rm -T etl-verify --task "$task" >/dev/null 2>&1 || rc=$?
  r=$(curl -fsS "$sim/sim/report")
  printf 'seed %s: %.2f s; etl-verify exit %s; %s\n' "$seed" "$t" "$rc" \
    "$(jq -c '{total, missing, duplicates, chaos}' <<<"$r")"
  times+=("$t")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END {
  printf "runs %d: median %.2f s, min %.2f s, max %.2f s\n", NR, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'
