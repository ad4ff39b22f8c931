#!/usr/bin/env bash
# The HTTP client engine's throughput beside wrk's, against the same animals-sim endpoint in the
# same run (0% chaos), and the time to fetch 1,000 details at 2% chaos with and without hedging.
#   bench/fetch_vs_wrk.sh [build-dir]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build}/bin
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

# shellcheck source=bench/lib/sim.sh
source bench/lib/sim.sh
trap stop_sim EXIT

echo "== $(nproc) cores; $(date -u +%FT%TZ)"
echo "== 0% chaos: wrk vs the engine, GET /animals/v1/animals/{id}"
start_sim --chaos-percent 0 --seed 1 --pages 10000
wrk -t2 -c64 -d10s "http://127.0.0.1:$sim_port/animals/v1/animals/7" | grep -E 'Requests/sec|Latency'
"$bin/fetch_bench" --url "http://127.0.0.1:$sim_port" --requests 100000 --concurrency 64 --threads 2
stop_sim

echo "== 1,000 details at 2% chaos (pauses 5-15 s), concurrency 64, hedging on / off"
for seed in 11 12 13; do
  start_sim --chaos-percent 2 --seed "$seed" --pages 100
  echo -n "seed $seed hedged:     "
  "$bin/fetch_bench" --url "http://127.0.0.1:$sim_port" --requests 1000 --concurrency 64
  stop_sim
  start_sim --chaos-percent 2 --seed "$seed" --pages 100
  echo -n "seed $seed not hedged: "
  "$bin/fetch_bench" --url "http://127.0.0.1:$sim_port" --requests 1000 --concurrency 64 --no-hedge
  stop_sim
done
