#!/usr/bin/env bash
# A full task against animals-sim with the original behaviour (verify mode, 2% chaos, 5-15 s
# pauses, 500-600 pages), once per seed, through scripts/demo.sh's local stack: wall time from
# the trigger to the task's end, etl-verify's verdict and the simulator's report.
#   bench/full_task.sh [seed ...]        (default seeds: 1 2 3 4 5)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("$@")
[[ ${#seeds[@]} -gt 0 ]] || seeds=(1 2 3 4 5)
times=()
for seed in "${seeds[@]}"; do
  out=$(DEMO_SEED=$seed scripts/demo.sh </dev/null 2>&1 | tr '\r' '\n') || true  # a failed run is reported below
  scripts/demo.sh stop >/dev/null
  t=$(sed -n 's/.*task [0-9a-f-]*: \([a-z]*\) in \([0-9.]*\) s.*/\1 \2/p' <<<"$out")
  report=$(grep -o '{"total":[0-9]*,"total_pages".*' <<<"$out" | head -1)
  verdict=$(grep -E '^OK:|^FAILED' <<<"$out" | head -1)
  echo "seed $seed: $t; $verdict; $(grep -o '"total":[0-9]*' <<<"$report"), $(grep -o '"missing":[0-9]*' <<<"$report"), $(grep -o '"duplicates":[0-9]*' <<<"$report"), $(grep -o '"chaos":{[^}]*}' <<<"$report")"
  times+=("$(cut -d' ' -f2 <<<"$t")")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END {
  printf "runs %d: median %.2f s, min %.2f s, max %.2f s\n", NR, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'
