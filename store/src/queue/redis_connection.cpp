#include "etl/queue/redis_connection.hpp"

#include <cerrno>
#include <charconv>
#include <thread>

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "etl/core/error.hpp"
#include "etl/http/url.hpp"

namespace etl {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

redis_reply convert(const redisReply* r) {
  redis_reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = redis_reply::kind::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = redis_reply::kind::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = redis_reply::kind::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = redis_reply::kind::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = redis_reply::kind::array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(convert(r->element[i]));
      }
      break;
    default:
      out.type = redis_reply::kind::nil;
      break;
  }
  return out;
}

struct reply_deleter {
  void operator()(void* r) const noexcept { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<void, reply_deleter>;

// The error of a context hiredis marked as failed. `saved_errno` is errno right after the call:
// a read timeout shows up as an I/O error with EAGAIN.
error_code context_error(const redisContext* c, int saved_errno) {
  switch (c->err) {
    case REDIS_ERR_IO:
      if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT ||
          saved_errno == EINPROGRESS) {
        return redis_errc::timeout;
      }
      return redis_errc::connection_lost;
    case REDIS_ERR_EOF:
      return redis_errc::connection_lost;
    case REDIS_ERR_PROTOCOL:
      return redis_errc::protocol_error;
    default:
      return redis_errc::connection_lost;
  }
}

}  // namespace

bool redis_reply::error_is(std::string_view code) const noexcept {
  if (type != kind::error) {
    return false;
  }
  std::string_view s = str;
  return s.substr(0, s.find(' ')) == code;
}

result<redis_reply> parse_resp(std::string_view bytes) {
  std::unique_ptr<redisReader, decltype(&redisReaderFree)> reader(redisReaderCreate(),
                                                                  &redisReaderFree);
  if (!reader) {
    throw std::bad_alloc();
  }
  if (redisReaderFeed(reader.get(), bytes.data(), bytes.size()) != REDIS_OK) {
    return make_error_code(redis_errc::protocol_error);
  }
  void* raw = nullptr;
  if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK || raw == nullptr) {
    return make_error_code(redis_errc::protocol_error);
  }
  reply_ptr first(raw);
  void* extra = nullptr;
  if (redisReaderGetReply(reader.get(), &extra) != REDIS_OK || extra != nullptr) {
    reply_ptr drop(extra);
    return make_error_code(redis_errc::protocol_error);
  }
  // A partial second answer leaves bytes in the reader's buffer.
  if (reader->len > reader->pos) {
    return make_error_code(redis_errc::protocol_error);
  }
  return convert(static_cast<redisReply*>(first.get()));
}

result<redis_options> parse_redis_url(std::string_view text, std::string* why) {
  auto set_why = [&](std::string reason) {
    if (why) {
      *why = std::move(reason);
    }
  };
  auto u = parse_url(text, why);
  if (!u) {
    return u.error();
  }
  if (u->scheme != "redis") {
    set_why("scheme must be redis, not " + u->scheme);
    return make_error_code(errc::invalid_url);
  }
  redis_options opts;
  opts.host = u->host;
  opts.port = u->port;
  opts.user = u->user;
  opts.password = u->password;
  std::string_view target = u->target;
  if (target.find('?') != std::string_view::npos) {
    set_why("a redis URL takes no query: " + u->target);
    return make_error_code(errc::invalid_url);
  }
  if (!target.empty() && target.front() == '/') {
    target.remove_prefix(1);
  }
  if (!target.empty()) {
    int db = -1;
    auto [end, ec] = std::from_chars(target.data(), target.data() + target.size(), db);
    if (ec != std::errc{} || end != target.data() + target.size() || db < 0 || db > 1'000'000) {
      set_why("database must be a number in [0, 1000000], not \"" + std::string(target) + "\"");
      return make_error_code(errc::invalid_url);
    }
    opts.db = db;
  }
  return opts;
}

void redis_connection::context_deleter::operator()(redisContext* c) const noexcept {
  redisFree(c);
}

redis_connection::redis_connection(redis_options opts) : opts_(std::move(opts)) {}

redis_connection::~redis_connection() = default;

bool redis_connection::connected() const {
  std::lock_guard lock(mutex_);
  return ctx_ != nullptr;
}

void redis_connection::disconnect() {
  std::lock_guard lock(mutex_);
  ctx_.reset();
  next_attempt_ = {};
}

error_code redis_connection::fail(error_code ec, std::string_view what) {
  spdlog::warn("redis {}:{}: {}: {}", opts_.host, opts_.port, what, ec.message());
  ctx_.reset();
  return ec;
}

error_code redis_connection::ensure_connected() {
  if (ctx_) {
    return {};
  }
  // Wait out the backoff rather than fail at once: a caller that loops on errors then does not
  // spin, and the wait is bounded by max_backoff.
  auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) {
    std::this_thread::sleep_for(next_attempt_ - now);
  }
  auto failed = [&](error_code ec, const std::string& why) {
    backoff_ =
        backoff_.count() == 0 ? opts_.min_backoff : std::min(backoff_ * 2, opts_.max_backoff);
    next_attempt_ = std::chrono::steady_clock::now() + backoff_;
    spdlog::warn("redis {}:{}: connect failed: {} (next attempt in {} ms)", opts_.host, opts_.port,
                 why, backoff_.count());
    ctx_.reset();
    return ec;
  };

  errno = 0;
  context_ptr ctx(
      redisConnectWithTimeout(opts_.host.c_str(), opts_.port, to_timeval(opts_.connect_timeout)));
  int saved_errno = errno;
  if (!ctx) {
    return failed(redis_errc::connect_failed, "out of memory");
  }
  if (ctx->err) {
    error_code ec = redis_errc::connect_failed;
    if (saved_errno == ETIMEDOUT || saved_errno == EINPROGRESS) {
      ec = redis_errc::timeout;
    }
    return failed(ec, ctx->errstr);
  }
  redisSetTimeout(ctx.get(), to_timeval(opts_.command_timeout));
  redisEnableKeepAlive(ctx.get());
  ctx_ = std::move(ctx);

  auto setup = [&](std::vector<std::string> args, const char* what) -> error_code {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    errno = 0;
    reply_ptr raw(
        redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (!raw) {
      return failed(context_error(ctx_.get(), errno), std::string(what) + ": " + ctx_->errstr);
    }
    auto* r = static_cast<redisReply*>(raw.get());
    if (r->type == REDIS_REPLY_ERROR) {
      return failed(redis_errc::connect_failed,
                    std::string(what) + " refused: " + std::string(r->str, r->len));
    }
    return {};
  };
  if (!opts_.password.empty()) {
    std::vector<std::string> args{"AUTH"};
    if (!opts_.user.empty()) {
      args.push_back(opts_.user);
    }
    args.push_back(opts_.password);
    if (auto ec = setup(std::move(args), "AUTH")) {
      return ec;
    }
  }
  if (opts_.db != 0) {
    if (auto ec = setup({"SELECT", std::to_string(opts_.db)}, "SELECT")) {
      return ec;
    }
  }
  backoff_ = std::chrono::milliseconds{0};
  next_attempt_ = {};
  return {};
}

result<redis_reply> redis_connection::command(const std::vector<std::string>& args,
                                              std::optional<std::chrono::milliseconds> timeout) {
  if (args.empty()) {
    return make_error_code(errc::invalid_argument);
  }
  std::lock_guard lock(mutex_);
  if (auto ec = ensure_connected()) {
    return ec;
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  bool custom_timeout = timeout && *timeout != opts_.command_timeout;
  if (custom_timeout) {
    redisSetTimeout(ctx_.get(), to_timeval(*timeout));
  }
  errno = 0;
  reply_ptr raw(
      redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), lens.data()));
  int saved_errno = errno;
  if (!raw) {
    return fail(context_error(ctx_.get(), saved_errno), args[0] + " failed: " + ctx_->errstr);
  }
  if (custom_timeout) {
    redisSetTimeout(ctx_.get(), to_timeval(opts_.command_timeout));
  }
  return convert(static_cast<redisReply*>(raw.get()));
}

result<std::vector<redis_reply>> redis_connection::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  for (const auto& c : commands) {
    if (c.empty()) {
      return make_error_code(errc::invalid_argument);
    }
  }
  std::lock_guard lock(mutex_);
  if (auto ec = ensure_connected()) {
    return ec;
  }
  for (const auto& args : commands) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(),
                               lens.data()) != REDIS_OK) {
      return fail(context_error(ctx_.get(), errno), "pipeline append failed");
    }
  }
  std::vector<redis_reply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw_ptr = nullptr;
    errno = 0;
    int rc = redisGetReply(ctx_.get(), &raw_ptr);
    int saved_errno = errno;
    reply_ptr raw(raw_ptr);
    if (rc != REDIS_OK || !raw) {
      return fail(context_error(ctx_.get(), saved_errno),
                  commands[i][0] + " (pipelined) failed: " + ctx_->errstr);
    }
    replies.push_back(convert(static_cast<redisReply*>(raw.get())));
  }
  return replies;
}

}  // namespace etl
