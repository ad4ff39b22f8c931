#include "etl/metrics/metrics_publisher.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>

namespace etl {

metrics_publisher::metrics_publisher(redis_options redis, std::function<metric_fields()> read,
                                     metrics_publisher_options opts)
    : conn_(std::move(redis)), read_(std::move(read)), opts_(std::move(opts)) {
  if (opts_.key.empty())
    throw std::invalid_argument("metrics publisher: empty key");
  if (opts_.interval.count() <= 0)
    throw std::invalid_argument("metrics publisher: the interval must be positive");
  if (!read_)
    throw std::invalid_argument("metrics publisher: no read function");
  thread_ = std::thread([this] { loop(); });
}

metrics_publisher::~metrics_publisher() {
  stop();
}

void metrics_publisher::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable())
      return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void metrics_publisher::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    const bool stop = cv_.wait_for(lock, opts_.interval, [&] { return stopping_; });
    lock.unlock();
    if (auto ec = publish_now(); ec && stop) {
      spdlog::warn("metrics: last publish to Redis failed ({}): the last deltas are lost",
                   ec.message());
    }
    lock.lock();
    if (stop)
      return;
  }
}

error_code metrics_publisher::publish_now() {
  std::lock_guard lock(publish_mutex_);
  const auto now = read_();
  const auto deltas = field_deltas(now, published_);
  if (deltas.empty())
    return {};
  std::vector<std::vector<std::string>> commands;
  commands.reserve(deltas.size() + 2);
  commands.push_back({"MULTI"});
  for (const auto& [field, delta] : deltas)
    commands.push_back({"HINCRBY", opts_.key, field, std::to_string(delta)});
  commands.push_back({"EXEC"});
  auto replies = conn_.pipeline(commands);
  if (!replies) {
    // Kept: they go out with the next publish that gets through.
    spdlog::debug("metrics: publish to Redis failed: {}; keeping {} delta(s)",
                  replies.error().message(), deltas.size());
    return replies.error();
  }
  const auto& exec = replies->back();
  if (!exec.is_array()) {
    // EXECABORT (a command was refused while queued) or no transaction: nothing was applied.
    spdlog::warn("metrics: publish to Redis refused: {}", exec.str);
    return make_error_code(redis_errc::server_error);
  }
  // EXEC ran: every HINCRBY that could be applied was, so these totals are published. A field
  // Redis refused (not an integer) is logged and not sent again.
  published_ = now;
  for (const auto& r : exec.elements) {
    if (r.is_error()) {
      spdlog::warn("metrics: Redis refused a counter update: {}", r.str);
      return make_error_code(redis_errc::server_error);
    }
  }
  return {};
}

}  // namespace etl
