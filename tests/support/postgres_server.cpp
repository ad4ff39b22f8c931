#include "etl/test/postgres_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>

#include "etl/test/child_process.hpp"

namespace etl::test {
namespace {

namespace fs = std::filesystem;

// A port the kernel just handed out: free now; Postgres binds it a moment later (a start that
// loses that race fails and is retried on another port).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::generic_category(), "bind/getsockname");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string make_temp_dir() {
  std::string templ = (fs::temp_directory_path() / "etl-pg-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr)
    throw std::system_error(errno, std::generic_category(), "mkdtemp");
  return templ;
}

bool valid_identifier(std::string_view name) {
  if (name.empty() || name.size() > 63)
    return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

}  // namespace

std::string postgres_server::find_bin_dir() {
  const fs::path root = "/usr/lib/postgresql";
  int best = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    if (fs::exists(entry.path() / "bin" / "postgres") && std::stoi(name) > best)
      best = std::stoi(name);
  }
  if (best < 0)
    throw std::runtime_error("postgres_server: no /usr/lib/postgresql/<version>/bin/postgres");
  return (root / std::to_string(best) / "bin").string();
}

postgres_server::postgres_server(postgres_server_options opts)
    : opts_(opts), bin_dir_(find_bin_dir()), dir_(make_temp_dir()), as_root_(::geteuid() == 0) {
  try {
    if (as_root_) {
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr)
        throw std::runtime_error("postgres_server: running as root but there is no postgres user");
      if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
        throw std::system_error(errno, std::generic_category(), "chown " + dir_);
    }
    run_tool(bin_dir_ + "/initdb", {"-D", dir_ + "/data", "-A", "trust", "-U", "postgres",
                                    "--no-sync", "-E", "UTF8", "--locale=C"});
    start();
    execute_admin("CREATE ROLE etl LOGIN");
    create_database("etl");
  } catch (...) {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

postgres_server::~postgres_server() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string postgres_server::url(std::string_view database) const {
  return "postgresql://etl@127.0.0.1:" + std::to_string(port_) + "/" + std::string(database);
}

std::string postgres_server::admin_url() const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

std::pair<std::string, std::vector<std::string>> postgres_server::as_postgres_user(
    const std::string& binary, const std::vector<std::string>& args) const {
  if (!as_root_)
    return {binary, args};
  // setpriv execs in place (unlike runuser, which forks): the server stays our direct child, and
  // --pdeathsig re-arms the parent-death signal that the uid change cleared.
  std::vector<std::string> full{
      "--reuid=postgres", "--regid=postgres", "--init-groups", "--pdeathsig=SIGKILL", "--", binary};
  full.insert(full.end(), args.begin(), args.end());
  return {"/usr/bin/setpriv", full};
}

void postgres_server::run_tool(const std::string& tool, const std::vector<std::string>& args) {
  auto [program, argv] = as_postgres_user(tool, args);
  child_options options;
  options.merge_stderr = true;
  options.working_dir = dir_;
  auto child = child_process::start(program, argv, options);
  if (!child)
    throw std::runtime_error("postgres_server: cannot start " + tool + ": " +
                             child.error().message());
  child->read_until_eof(std::chrono::seconds(120));
  const auto status = child->wait(std::chrono::seconds(10));
  if (status != 0)
    throw std::runtime_error("postgres_server: " + tool + " failed (status " +
                             (status ? std::to_string(*status) : std::string("timeout")) + "):\n" +
                             child->output());
}

void postgres_server::start() {
  if (process_)
    return;
  // A port taken between free_port() and the bind makes postgres exit: try another.
  for (int attempt = 1;; ++attempt) {
    try {
      launch();
      return;
    } catch (const std::exception&) {
      if (attempt >= 3)
        throw;
    }
  }
}

void postgres_server::launch() {
  if (port_ == 0)
    port_ = free_port();
  auto [program, argv] =
      as_postgres_user(bin_dir_ + "/postgres", {"-D", dir_ + "/data",
                                                "-k", dir_,
                                                "-p", std::to_string(port_),
                                                "-c", "listen_addresses=127.0.0.1",
                                                "-c", "fsync=off",
                                                "-c", "synchronous_commit=off",
                                                "-c", "full_page_writes=off",
                                                "-c", "max_connections=200",
                                                "-c", "logging_collector=on",
                                                "-c", "log_directory=" + dir_,
                                                "-c", "log_filename=postgres.log",
                                                "-c", "log_min_messages=warning"});
  child_options options;
  options.working_dir = dir_;
  auto child = child_process::start(program, argv, options);
  if (!child)
    throw std::runtime_error("postgres_server: cannot start postgres: " + child.error().message());
  process_ = std::make_unique<child_process>(std::move(*child));

  const auto deadline = std::chrono::steady_clock::now() + opts_.ready_timeout;
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      pqxx::connection probe(admin_url() + "?connect_timeout=2");
      return;
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    // Paces the probes and notices a server that exited (e.g. its port was taken).
    if (process_->wait(std::chrono::milliseconds(50))) {
      process_.reset();
      const std::uint16_t lost = port_;
      port_ = 0;
      throw std::runtime_error("postgres_server: postgres exited on port " + std::to_string(lost) +
                               ":\n" + log_tail());
    }
  }
  stop();
  throw std::runtime_error("postgres_server: no connection within the ready timeout (" +
                           last_error + "):\n" + log_tail());
}

void postgres_server::stop() {
  if (!process_)
    return;
  process_->signal(SIGINT);  // fast shutdown: abort sessions, checkpoint, exit
  if (!process_->wait(std::chrono::seconds(15)))
    process_->stop(std::chrono::seconds(1));
  process_.reset();
}

std::string postgres_server::log_tail() const {
  std::ifstream in(dir_ + "/postgres.log");
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
}

void postgres_server::execute_admin(std::string_view sql, std::string_view database) {
  try {
    pqxx::connection conn("postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" +
                          std::string(database) + "?connect_timeout=5");
    pqxx::nontransaction tx(conn);
    tx.exec(std::string(sql));
  } catch (const std::exception& e) {
    throw std::runtime_error("postgres_server: '" + std::string(sql) + "' failed: " + e.what());
  }
}

std::string postgres_server::create_database(std::string_view name, std::string_view template_db) {
  if (!valid_identifier(name) || !valid_identifier(template_db))
    throw std::runtime_error("postgres_server: bad database name '" + std::string(name) + "'");
  execute_admin("CREATE DATABASE " + std::string(name) + " OWNER etl TEMPLATE " +
                std::string(template_db));
  return url(name);
}

void postgres_server::drop_database(std::string_view name) {
  if (!valid_identifier(name))
    throw std::runtime_error("postgres_server: bad database name '" + std::string(name) + "'");
  execute_admin("DROP DATABASE IF EXISTS " + std::string(name) + " WITH (FORCE)");
}

}  // namespace etl::test
