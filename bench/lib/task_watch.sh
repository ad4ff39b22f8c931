# shellcheck shell=bash disable=SC2154  # api: set by scripts/lib/local_stack.sh
# Triggering a task and waiting for its end, for the benchmarks on the local stack: source it
# after scripts/lib/local_stack.sh (it uses $api).
#
#   trigger_task                 an animals task: sets `task` (exits the script without one)
#   wait_task "$task"            polls every 0.02 s: sets `status` to the final status
#   declare -A worker_peak=(); watch_task "$task" "$supervisor_pid"
#                                polls every 0.5 s: sets `status`, fills `worker_peak` (pid ->
#                                peak KB), for the benchmarks that measure memory

# Triggers an animals task; sets `task` to its id, or exits with the server's answer.
trigger_task() {
  local answer
  answer=$(curl -sS -X POST "$api/extractor/trigger-task")
  task=$(sed -n 's/.*"task_id":"\([0-9a-f-]*\)".*/\1/p' <<<"$answer")
  [[ -n $task ]] || { echo "no task: $answer" >&2; exit 1; }
}

# The status of task $1.
task_status() {
  curl -sS "$api/extractor/tasks/$1" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p'
}

# Polls task $1 every 0.02 s until it is succeeded, failed or cancelled; sets `status`.
wait_task() {
  while :; do
    status=$(task_status "$1")
    case $status in succeeded | failed | cancelled) return 0 ;; esac
    sleep 0.02
  done
}

# The peak resident memory (VmHWM, KB) of process $1; 0 once it is gone.
peak_kb() { awk '/VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# Polls task $1 every 0.5 s until it is succeeded, failed or cancelled, reading the peaks of the
# worker processes (children of the supervisor $2) while they live: a restarted worker shows as
# a new pid.
watch_task() {
  local task=$1 supervisor=$2 child
  while :; do
    status=$(task_status "$task")
    for child in $(cat "/proc/$supervisor/task/$supervisor/children" 2>/dev/null); do
      worker_peak[$child]=$(peak_kb "$child")
    done
    case $status in succeeded | failed | cancelled) return 0 ;; esac
    sleep 0.5
  done
}
