#include "etl/sim/server.hpp"

#include <csignal>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "etl/sim/capacity.hpp"

namespace etl {
namespace {

using tcp = net::ip::tcp;
constexpr auto io_timeout = std::chrono::seconds(30);  // a write, or a body after its header
constexpr std::size_t max_request_body = 8 * 1024 * 1024;
constexpr std::size_t trickle_chunk = 16;
constexpr auto awaitable_tuple = net::as_tuple(net::use_awaitable);

void log_escaped(std::string_view what, std::exception_ptr e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("{} ended by an exception: {}", what, ex.what());
  } catch (...) {
    spdlog::error("{} ended by an unknown exception", what);
  }
}

// Writes the serialized answer a few bytes at a time, a timer between the chunks.
net::awaitable<error_code> trickle(beast::tcp_stream& stream,
                                   http::response<http::string_body>& res,
                                   std::chrono::milliseconds delay) {
  std::ostringstream wire_stream;
  wire_stream << res;
  const std::string wire = std::move(wire_stream).str();
  net::steady_timer timer(stream.get_executor());
  for (std::size_t offset = 0; offset < wire.size(); offset += trickle_chunk) {
    if (offset > 0) {
      timer.expires_after(delay);
      co_await timer.async_wait(awaitable_tuple);
    }
    stream.expires_after(io_timeout);
    const auto size = std::min(trickle_chunk, wire.size() - offset);
    auto [ec, n] =
        co_await net::async_write(stream, net::buffer(wire.data() + offset, size), awaitable_tuple);
    if (ec) {
      co_return ec;
    }
  }
  co_return error_code{};
}

// One connection: read a request, admit it (chaos), maybe wait, handle, answer; repeat while
// the client keeps the connection alive and sends within the keep-alive timeout.
net::awaitable<void> session(sim_service& app, const sim_listen_settings& options,
                             tcp::socket socket) {
  error_code peer_ec;
  const std::string client = socket.remote_endpoint(peer_ec).address().to_string();
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(max_request_body);
    stream.expires_after(options.keep_alive_timeout);
    auto [read_ec, header_bytes] =
        co_await http::async_read_header(stream, buffer, parser, awaitable_tuple);
    if (!read_ec && !parser.is_done()) {
      stream.expires_after(io_timeout);
      // Clients such as curl wait for this before sending a body above 1 KiB; uvicorn sends it.
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, 11};
        std::tie(read_ec, std::ignore) = co_await http::async_write(stream, go_on, awaitable_tuple);
      }
    }
    if (!read_ec && !parser.is_done()) {
      std::tie(read_ec, header_bytes) =
          co_await http::async_read(stream, buffer, parser, awaitable_tuple);
    }
    if (read_ec) {
      // A client that closes or idles out gets nothing; a request that is not HTTP or is too
      // big gets one answer like uvicorn's, then the connection closes.
      const bool too_big = read_ec == http::error::body_limit;
      const bool not_http =
          read_ec.category() == make_error_code(http::error::bad_target).category() &&
          read_ec != http::error::end_of_stream && read_ec != http::error::partial_message;
      if (too_big || not_http) {
        http::response<http::string_body> res{
            too_big ? http::status::payload_too_large : http::status::bad_request, 11};
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.body() = too_big ? "Request body too large." : "Invalid HTTP request received.";
        res.keep_alive(false);
        res.prepare_payload();
        stream.expires_after(io_timeout);
        co_await http::async_write(stream, res, awaitable_tuple);
      }
      break;
    }

    const auto& req = parser.get();
    const std::string_view method = req.method_string();
    const std::string_view target = req.target();
    sim_request request{method, target, req.body(), client, {}};
    for (const auto& field : req) {
      request.headers.emplace_back(field.name_string(), field.value());
    }
    sim_admission admission = app.admit(request);
    // Counted in flight from here until the answer is written or the connection dropped.
    struct in_flight {
      sim_service* service = nullptr;
      ~in_flight() {
        if (service) {
          service->source_get_ended();
        }
      }
    } counted;
    if (admission.source_get) {
      app.source_get_began();
      counted.service = &app;
    }
    if (!admission.early && admission.pause.count() > 0) {
      spdlog::debug("pausing {} {} for {} ms", method, target, admission.pause.count());
      net::steady_timer timer(stream.get_executor(), admission.pause);
      co_await timer.async_wait(awaitable_tuple);
    }
    // A capacity-bound upstream: the request waits for a service slot and holds it for its
    // cost, a chaos error too (a real app spends its per-request cost before it fails).
    if (auto* capacity = app.capacity(); capacity != nullptr && admission.request_no) {
      co_await capacity->serve();
    }
    sim_reply reply =
        admission.early ? std::move(*admission.early) : app.handle(request, admission);

    if (reply.delivery == sim_delivery::reset) {
      // An RST instead of an answer: linger 0 makes close() abort the connection.
      error_code ignored;
      stream.socket().set_option(net::socket_base::linger(true, 0), ignored);
      stream.socket().close(ignored);
      co_return;
    }

    http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
    res.set(http::field::server, options.server_name);
    res.set(http::field::content_type, reply.content_type);
    if (!reply.location.empty()) {
      res.set(http::field::location, reply.location);
    }
    if (!reply.retry_after.empty()) {
      res.set(http::field::retry_after, reply.retry_after);
    }
    for (const auto& [name, value] : reply.headers) {
      res.set(name, value);
    }
    res.keep_alive(req.keep_alive());
    res.body() = std::move(reply.body);
    res.prepare_payload();
    if (req.method() == http::verb::head) {
      res.body().clear();  // HEAD: the same Content-Length, no body
    }

    error_code write_ec;
    if (reply.delivery == sim_delivery::trickle) {
      write_ec = co_await trickle(stream, res, options.trickle_delay);
    } else {
      stream.expires_after(io_timeout);
      std::tie(write_ec, std::ignore) = co_await http::async_write(stream, res, awaitable_tuple);
    }
    if (write_ec || !res.keep_alive()) {
      break;
    }
  }
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.socket().close(ignored);
}

}  // namespace

struct sim_server::impl {
  explicit impl(sim_service& a, unsigned thread_count) : app(a), settings(a.listen_settings()) {
    for (unsigned i = 0; i < thread_count; ++i) {
      contexts.push_back(std::make_unique<net::io_context>(1));
      guards.push_back(net::make_work_guard(*contexts.back()));
    }
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto& context = *contexts[next_context++ % contexts.size()];
      auto [ec, socket] = co_await acceptor->async_accept(
          net::any_io_executor(context.get_executor()), awaitable_tuple);
      if (ec == net::error::operation_aborted) {
        co_return;
      }
      if (ec) {
        // E.g. out of file descriptors: wait a little instead of spinning.
        spdlog::warn("accept failed: {}", ec.message());
        net::steady_timer timer(acceptor->get_executor(), std::chrono::milliseconds(50));
        co_await timer.async_wait(awaitable_tuple);
        continue;
      }
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      app.count_connection();
      net::co_spawn(context, session(app, settings, std::move(socket)),
                    [](std::exception_ptr e) { log_escaped("connection", e); });
    }
  }

  sim_service& app;
  const sim_listen_settings settings;
  // Declared first: destroyed last, after the I/O objects that use them.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::signal_set> signals;
  std::size_t next_context = 0;
};

sim_server::sim_server(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
sim_server::~sim_server() = default;

result<std::unique_ptr<sim_server>> sim_server::open(sim_service& app) {
  const sim_listen_settings options = app.listen_settings();
  const unsigned threads =
      options.threads > 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
  auto state = std::make_unique<impl>(app, threads);
  auto& context = *state->contexts.front();

  // Start-up only: a blocking resolve is fine here ("localhost" as well as literals).
  error_code ec;
  tcp::resolver resolver(context);
  const auto endpoints =
      resolver.resolve(options.host, std::to_string(options.port), tcp::resolver::passive, ec);
  if (ec) {
    return ec;
  }
  if (endpoints.empty()) {
    return error_code(net::error::host_not_found);
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto& acceptor = state->acceptor.emplace(context);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return ec;
  }
  return std::unique_ptr<sim_server>(new sim_server(std::move(state)));
}

std::string sim_server::host() const {
  error_code ec;
  return impl_->acceptor->local_endpoint(ec).address().to_string();
}

std::uint16_t sim_server::port() const {
  error_code ec;
  return impl_->acceptor->local_endpoint(ec).port();
}

unsigned sim_server::threads() const {
  return static_cast<unsigned>(impl_->contexts.size());
}

void sim_server::run() {
  auto& first = *impl_->contexts.front();
  auto& signals = impl_->signals.emplace(first, SIGINT, SIGTERM);
  signals.async_wait([this](const error_code& ec, int signal) {
    if (!ec) {
      spdlog::info("signal {}: stopping", signal);
      stop();
    }
  });
  net::co_spawn(first, impl_->accept_loop(),
                [](std::exception_ptr e) { log_escaped("accept loop", e); });

  std::vector<std::thread> others;
  for (std::size_t i = 1; i < impl_->contexts.size(); ++i) {
    others.emplace_back([context = impl_->contexts[i].get()] { context->run(); });
  }
  first.run();
  for (auto& t : others) {
    t.join();
  }
}

void sim_server::stop() noexcept {
  // Pending connections and pauses are abandoned: their sockets close when the contexts go.
  for (auto& context : impl_->contexts) {
    context->stop();
  }
}

}  // namespace etl
