#include "etl/worker/running_tasks.hpp"

#include <algorithm>

namespace etl {

running_tasks::running_tasks(std::chrono::milliseconds ttl, std::size_t capacity)
    : ttl_(ttl), capacity_(std::max<std::size_t>(1, capacity)) {}

bool running_tasks::seen_running(const std::string& task_id, clock::time_point now) {
  std::lock_guard lock(mu_);
  const auto it = seen_.find(task_id);
  return it != seen_.end() && now - it->second < ttl_;
}

void running_tasks::saw_running(const std::string& task_id, clock::time_point now) {
  std::lock_guard lock(mu_);
  if (seen_.size() >= capacity_ && !seen_.contains(task_id)) {
    // Few tasks run at once: dropping the stale sightings is enough, and the oldest otherwise.
    std::erase_if(seen_, [&](const auto& kv) { return now - kv.second >= ttl_; });
    if (seen_.size() >= capacity_) {
      seen_.erase(std::min_element(seen_.begin(), seen_.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      }));
    }
  }
  seen_[task_id] = now;
}

}  // namespace etl
