# shellcheck shell=bash
# One animals-sim on a free loopback port, for the benchmarks that drive the HTTP client engine
# alone (no stack): source it after setting `bin` to a build's bin folder.
#
#   start_sim ARGS...   starts "$bin/animals-sim --port 0 ARGS...", sets sim_pid and sim_port
#   stop_sim            stops it (safe to call twice; scripts trap it on EXIT)

start_sim() {
  local out
  out=$(mktemp)
  # shellcheck disable=SC2154  # bin: set by the script that sources this
  "$bin/animals-sim" --port 0 "$@" >"$out" 2>/dev/null &
  sim_pid=$!
  for _ in $(seq 100); do grep -q '^listening' "$out" && break; sleep 0.05; done
  sim_port=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$out" | head -1)
  rm -f "$out"
  [[ -n "$sim_port" ]] || { echo "animals-sim did not start" >&2; exit 1; }
}

stop_sim() {
  [[ -n "${sim_pid:-}" ]] || return 0
  kill "$sim_pid" 2>/dev/null || true
  wait "$sim_pid" 2>/dev/null || true
  sim_pid=
}
