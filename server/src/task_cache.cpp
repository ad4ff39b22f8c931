#include "etl/server/task_cache.hpp"

namespace etl {

std::shared_ptr<const std::string> task_cache::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second;
}

void task_cache::put(const std::string& id, std::shared_ptr<const std::string> json) {
  std::lock_guard lock(mutex_);
  if (!entries_.emplace(id, std::move(json)).second)
    return;
  order_.push_back(id);
  if (order_.size() > capacity_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

std::size_t task_cache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace etl
