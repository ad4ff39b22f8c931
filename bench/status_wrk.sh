#!/usr/bin/env bash
# Status reads under load: starts scripts/demo.sh's local stack (Redis, Postgres, animals-sim,
# etl-server, etl-worker), lets its audited task finish, then runs wrk against that finished
# task's URL and against /healthz, and stops the stack.
#   bench/status_wrk.sh                  (wrk -t2 -c64 -d10s each)
# Environment: DEMO_PAGES (default 100: the task only has to exist), WRK_ARGS (-t2 -c64 -d10s).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "status_wrk.sh needs wrk (apt-get install wrk)" >&2; exit 1; }
wrk_args=(${WRK_ARGS:--t2 -c64 -d10s})

trap 'scripts/demo.sh stop >/dev/null' EXIT
out=$(DEMO_PAGES=${DEMO_PAGES:-100} scripts/demo.sh </dev/null 2>&1 | tr '\r' '\n')
url=$(sed -n 's/^ *task status: *\(http[^ ]*\).*/\1/p' <<<"$out" | head -1)
status=$(grep -o 'task [0-9a-f-]*: [a-z]* in' <<<"$out" | head -1)
if [[ -z $url ]]; then
  echo "the demo did not report a task; its output:" >&2
  echo "$out" | tail -30 >&2
  exit 1
fi
echo "$status"
base=${url%%/extractor/*}
curl -sS "$url"
echo
for target in "$url" "$base/healthz"; do
  echo "== wrk ${wrk_args[*]} $target"
  wrk "${wrk_args[@]}" --latency "$target"
done
