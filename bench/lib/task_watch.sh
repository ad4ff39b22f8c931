# Watching a task while it runs, for the benchmarks that measure memory: source it after
# scripts/lib/local_stack.sh (it uses $api).
#
#   declare -A worker_peak=(); watch_task "$task" "$supervisor_pid"
#
# Sets `status` to the task's final status and fills `worker_peak` (pid -> peak KB).

# The peak resident memory (VmHWM, KB) of process $1; 0 once it is gone.
peak_kb() { awk '/VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# Polls task $1 every 0.5 s until it is succeeded, failed or cancelled, reading the peaks of the
# worker processes (children of the supervisor $2) while they live: a restarted worker shows as
# a new pid.
watch_task() {
  local task=$1 supervisor=$2 child
  while :; do
    status=$(curl -sS "$api/extractor/tasks/$task" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
    for child in $(cat "/proc/$supervisor/task/$supervisor/children" 2>/dev/null); do
      worker_peak[$child]=$(peak_kb "$child")
    done
    case $status in succeeded | failed | cancelled) return 0 ;; esac
    sleep 0.5
  done
}
