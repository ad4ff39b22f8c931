// The tasks a worker process saw running a moment ago. A batch job asks for its task's status
// before fetching, so that a cancelled task's remaining batches fetch nothing; asked before
// every batch, that was a Postgres transaction per batch (bench/README.md, "Where the time
// goes"). A task seen running within `ttl` is taken as running without asking. Nothing depends
// on it for correctness: the claim reads the status again in its own transaction and skips the
// batch of a task that is no longer running, so a cancel costs at most `ttl` of fetches.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace etl {

class running_tasks {
 public:
  using clock = std::chrono::steady_clock;

  // Remembers at most `capacity` tasks (the oldest sightings go first beyond that).
  explicit running_tasks(std::chrono::milliseconds ttl = std::chrono::seconds{1},
                         std::size_t capacity = 256);

  // True when `task_id` was reported running less than `ttl` before `now`. Thread-safe.
  bool seen_running(const std::string& task_id, clock::time_point now = clock::now());

  // Records that `task_id` was read as running at `now`. Thread-safe.
  void saw_running(const std::string& task_id, clock::time_point now = clock::now());

 private:
  std::chrono::milliseconds ttl_;
  std::size_t capacity_;
  std::mutex mu_;
  std::unordered_map<std::string, clock::time_point> seen_;
};

}  // namespace etl
