// Settled tasks as GET /extractor/tasks/{id} serves them. A settled task (finished, no batch
// still pending or posting; tasks_repository::get_task_snapshot) can change no more, so its
// JSON is kept in memory and status reads of it, the most frequent request, never reach
// Postgres. Bounded: beyond `capacity` entries the oldest is dropped. Thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace etl {

class task_cache {
 public:
  explicit task_cache(std::size_t capacity = 10'000) : capacity_(capacity < 1 ? 1 : capacity) {}

  // The JSON body kept for task `id`, or null.
  std::shared_ptr<const std::string> find(const std::string& id) const;

  // Keeps `json` as task `id`'s body (a settled task's only). A second put of one id is ignored.
  void put(const std::string& id, std::shared_ptr<const std::string> json);

  std::size_t size() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const std::string>> entries_;
  std::deque<std::string> order_;  // oldest first, for eviction
};

}  // namespace etl
