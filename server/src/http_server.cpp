#include "etl/server/http_server.hpp"

#include <mutex>
#include <set>
#include <system_error>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "beast_request.hpp"

namespace etl {
namespace {

using tcp = net::ip::tcp;
constexpr auto nothrow_awaitable = net::as_tuple(net::use_awaitable);
constexpr std::size_t first_read_bytes = 4096;
// Connections over the cap answered 503 at once at most; more are closed without an answer.
constexpr std::size_t max_refusing = 64;
constexpr std::chrono::seconds refuse_timeout{1};
// After a failed accept (out of file descriptors), the wait before the next try.
constexpr std::chrono::milliseconds accept_pause{100};

// An accept that failed for want of descriptors or memory: it fails again until some free up.
bool out_of_resources(const error_code& ec) {
  return ec == net::error::no_descriptors ||
         ec == boost::system::errc::too_many_files_open_in_system ||
         ec == net::error::no_buffer_space || ec == net::error::no_memory;
}

void log_escaped(const char* what, std::exception_ptr e) {
  if (!e)
    return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& err) {
    spdlog::error("http server: {} failed: {}", what, err.what());
  }
}

// One connection, shared with the server so that stop() can close it while it waits idle.
struct session {
  explicit session(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool busy = false;  // a request is being handled; touched on the connection's strand only
};

}  // namespace

struct http_server::impl : std::enable_shared_from_this<impl> {
  impl(net::any_io_executor ex, const std::string& host, std::uint16_t port,
       http_server_options opts, request_handler handler)
      : ex_(ex),
        acceptor_(net::make_strand(ex)),
        opts_(std::move(opts)),
        handler_(std::move(handler)) {
    const tcp::endpoint ep{net::ip::make_address(host), port};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  net::any_io_executor ex_;
  tcp::acceptor acceptor_;
  const http_server_options opts_;
  request_handler handler_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> refusing_{0};  // refusals (503 answers) under way
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::set<std::shared_ptr<session>> sessions_;
  std::function<void()> on_idle_;

  static net::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
    net::steady_timer pause(self->acceptor_.get_executor());
    std::uint64_t failures = 0;  // in a row: one episode
    for (;;) {
      auto [ec, socket] =
          co_await self->acceptor_.async_accept(net::make_strand(self->ex_), nothrow_awaitable);
      if (ec == net::error::operation_aborted || !self->acceptor_.is_open())
        co_return;
      if (ec && !out_of_resources(ec)) {
        spdlog::warn("http server: accept failed: {}", ec.message());
        continue;  // e.g. a client that reset before it was accepted
      }
      if (ec) {
        // EMFILE, ENFILE: the connection stays in the backlog and the listener stays readable,
        // so accepting again at once would spin a core and flood the log. Wait for connections
        // to close, logging the episode once; open connections are served as ever.
        if (failures++ == 0)
          spdlog::warn("http server: accept failed: {}; pausing new connections, {} ms at a time",
                       ec.message(), accept_pause.count());
        pause.expires_after(accept_pause);
        co_await pause.async_wait(nothrow_awaitable);
        continue;
      }
      if (failures > 0) {
        spdlog::info("http server: accepting again after {} failed accepts", failures);
        failures = 0;
      }
      if (self->connections_.load() >= self->opts_.max_connections) {
        // Over the cap: refuse at once rather than queue unboundedly; with a short answer while
        // few refusals are under way, else (a flood) by closing.
        if (self->refusing_.fetch_add(1) < max_refusing) {
          auto ex = socket.get_executor();
          net::co_spawn(ex, refuse(self, std::move(socket)), [self](std::exception_ptr e) {
            self->refusing_.fetch_sub(1);
            log_escaped("a refused connection", e);
          });
        } else {
          self->refusing_.fetch_sub(1);
          error_code ignored;
          socket.close(ignored);
        }
        continue;
      }
      self->connections_.fetch_add(1);
      auto s = std::make_shared<session>(std::move(socket));
      {
        std::lock_guard lock(self->mu_);
        self->sessions_.insert(s);
      }
      auto ex = s->stream.get_executor();
      net::co_spawn(ex, serve(self, s), [self, s](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& err) {
            spdlog::error("http server: a connection failed: {}", err.what());
          }
        }
        self->session_ended(s);
      });
    }
  }

  // 503 too_many_connections with Retry-After, written without reading the request; then what
  // the client already sent is read and dropped until it closes (at most refuse_timeout), so
  // that closing with unread data does not reset the connection before the answer is read.
  static net::awaitable<void> refuse(std::shared_ptr<impl> self, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    stream.expires_after(refuse_timeout);  // for every step below
    if (self->opts_.on_refused)
      self->opts_.on_refused(503);
    auto reply = json_error(503, "too_many_connections",
                            "the server has " + std::to_string(self->opts_.max_connections) +
                                " connections open, its limit; retry shortly");
    http::response<http::string_body> res{http::status::service_unavailable, 11};
    res.set(http::field::server, self->opts_.server_name);
    res.set(http::field::content_type, reply.content_type);
    res.set(http::field::retry_after, "1");
    res.body() = std::move(reply.body);
    res.keep_alive(false);
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res, nothrow_awaitable);
    if (!wec) {
      error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      char sink[4096];
      for (;;) {
        auto [rec, rn] = co_await stream.async_read_some(net::buffer(sink), nothrow_awaitable);
        if (rec)
          break;
      }
    }
    stream.close();
  }

  request_limits limits() const { return {opts_.max_header_bytes, opts_.max_body_bytes}; }

  void session_ended(const std::shared_ptr<session>& s) {
    std::function<void()> idle;
    {
      std::lock_guard lock(mu_);
      sessions_.erase(s);
      connections_.fetch_sub(1);
      if (stopping_ && sessions_.empty())
        idle = std::exchange(on_idle_, {});
    }
    if (idle)
      idle();
  }

  // The request as handlers see it, with the peer's address for logs.
  static server_request to_request(http::request<http::string_body>& req, const session& s) {
    auto r = detail::to_server_request(req);
    error_code ec;
    const auto peer = s.stream.socket().remote_endpoint(ec);
    if (!ec)
      r.remote = peer.address().to_string() + ":" + std::to_string(peer.port());
    return r;
  }

  net::awaitable<server_reply> handle(server_request req) {
    try {
      co_return co_await handler_(std::move(req));
    } catch (const std::exception& e) {
      spdlog::error("http server: handler failed: {}", e.what());
      co_return json_error(500, "internal_error", "the server failed to handle the request");
    }
  }

  net::awaitable<void> write(session& s, server_reply reply, unsigned version, bool keep_alive) {
    http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
    res.set(http::field::server, opts_.server_name);
    res.set(http::field::content_type, reply.content_type);
    for (auto& [k, v] : reply.headers)
      res.set(k, v);
    res.body() = std::move(reply.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    s.stream.expires_after(opts_.write_timeout);
    co_await http::async_write(s.stream, res, nothrow_awaitable);
  }

  static net::awaitable<void> serve(std::shared_ptr<impl> self, std::shared_ptr<session> s) {
    beast::flat_buffer buffer;
    for (bool first = true;; first = false) {
      if (self->stopping_)
        break;
      detail::beast_request_parser parser;
      detail::apply_limits(parser, self->limits());

      // A kept-alive connection may wait idle for the first byte of its next request; from
      // there (or from the connect, for the first request) the whole request must arrive within
      // read_timeout. The expiry holds for every read until it is set again, so a client that
      // trickles headers or body cannot stretch it (slowloris).
      if (!first && buffer.size() == 0) {
        s->stream.expires_after(self->opts_.idle_timeout);
        auto [iec, in] =
            co_await s->stream.async_read_some(buffer.prepare(first_read_bytes), nothrow_awaitable);
        if (iec)
          break;  // idle timeout, EOF, reset or stop(): close quietly
        buffer.commit(in);
      }
      s->stream.expires_after(self->opts_.read_timeout);
      auto [hec, hn] =
          co_await http::async_read_header(s->stream, buffer, parser, nothrow_awaitable);
      error_code ec = hec;
      if (!ec) {
        s->busy = true;
        auto [bec, bn] = co_await http::async_read(s->stream, buffer, parser, nothrow_awaitable);
        ec = bec;
      }
      if (ec) {
        if (auto reply = read_error_reply(ec, self->limits())) {
          if (self->opts_.on_refused)
            self->opts_.on_refused(reply->status);
          co_await self->write(*s, std::move(*reply), 11, false);
        }
        break;  // timeouts, resets and EOF close quietly
      }
      auto& req = parser.get();
      const unsigned version = req.version();
      const bool keep_alive = req.keep_alive();
      auto reply = co_await self->handle(to_request(req, *s));
      co_await self->write(*s, std::move(reply), version, keep_alive && !self->stopping_);
      s->busy = false;
      if (!keep_alive)
        break;
    }
    error_code ignored;
    s->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    s->stream.close();
  }
};

http_server::http_server(net::any_io_executor ex, const std::string& host, std::uint16_t port,
                         http_server_options opts, request_handler handler)
    : impl_(
          std::make_shared<impl>(std::move(ex), host, port, std::move(opts), std::move(handler))) {}

http_server::~http_server() {
  error_code ignored;
  impl_->acceptor_.close(ignored);
}

std::uint16_t http_server::port() const noexcept {
  return impl_->acceptor_.local_endpoint().port();
}

void http_server::start() {
  net::co_spawn(impl_->acceptor_.get_executor(), impl::accept_loop(impl_),
                [](std::exception_ptr e) {
                  if (e) {
                    try {
                      std::rethrow_exception(e);
                    } catch (const std::exception& err) {
                      spdlog::error("http server: the accept loop failed: {}", err.what());
                    }
                  }
                });
}

void http_server::stop(std::function<void()> on_idle) {
  auto self = impl_;
  std::vector<std::shared_ptr<session>> open;
  {
    std::lock_guard lock(self->mu_);
    self->stopping_ = true;
    open.assign(self->sessions_.begin(), self->sessions_.end());
    if (open.empty()) {
      if (on_idle)
        net::post(self->ex_, std::move(on_idle));
    } else {
      self->on_idle_ = std::move(on_idle);
    }
  }
  net::post(self->acceptor_.get_executor(), [self] {
    error_code ignored;
    self->acceptor_.close(ignored);
  });
  // Connections waiting idle for a next request are closed now; busy ones close after their
  // reply, since stopping_ turns keep-alive off.
  for (auto& s : open) {
    net::post(s->stream.get_executor(), [s] {
      if (!s->busy)
        s->stream.cancel();
    });
  }
}

std::size_t http_server::connections() const noexcept {
  return impl_->connections_.load();
}

}  // namespace etl
