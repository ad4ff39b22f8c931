// A real PostgreSQL server for integration tests: initdb into a temporary folder, started on a
// free loopback port, ready (accepting connections) when the constructor returns, with a login
// role `etl` and a database `etl`; stopped with its folder deleted by the destructor.
//
// Postgres refuses to run as root, so when the test runs as root the folder is given to the
// `postgres` OS user and initdb/postgres run as that user through `setpriv` (which execs in
// place, so the server is the test's own child and dies with it: --pdeathsig). Binaries come from
// the newest /usr/lib/postgresql/<version>/bin. Processes are run with etl::test::child_process;
// the server logs to <dir>/postgres.log (quoted in the exception when it fails to start).
// Start ONE per test executable (a gtest Environment) and give each test a fresh database.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace etl::test {

class child_process;

struct postgres_server_options {
  std::chrono::milliseconds ready_timeout{30'000};  // start-up until a connection succeeds
};

class postgres_server {
 public:
  // initdb + start + CREATE ROLE etl / DATABASE etl. Throws std::runtime_error with the reason
  // (and the log's tail) on any failure: a test set-up failure.
  explicit postgres_server(postgres_server_options opts = {});
  // Stops the server (fast shutdown, SIGKILL after 15 s) and deletes its folder.
  ~postgres_server();
  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  const std::string& dir() const noexcept { return dir_; }
  bool running() const noexcept { return process_ != nullptr; }

  // postgresql://etl@127.0.0.1:<port>/etl
  std::string url() const { return url(std::string_view("etl")); }
  // The URL of another database, as role etl.
  std::string url(std::string_view database) const;
  // The superuser `postgres` on database `postgres`.
  std::string admin_url() const;

  // Fast shutdown (SIGINT: clients are disconnected), waiting until the server has exited.
  // No-op when stopped.
  void stop();
  // Starts again on the same port and folder; throws like the constructor. No-op when running.
  void start();
  void restart() {
    stop();
    start();
  }

  // CREATE DATABASE <name> OWNER etl TEMPLATE <template_db> (no session may be connected to the
  // template); returns its URL. Throws std::runtime_error when Postgres refuses.
  std::string create_database(std::string_view name, std::string_view template_db = "template0");
  // DROP DATABASE IF EXISTS <name> WITH (FORCE). Throws std::runtime_error on failure.
  void drop_database(std::string_view name);
  // Runs `sql` as the superuser on database `database`. Throws std::runtime_error on failure.
  void execute_admin(std::string_view sql, std::string_view database = "postgres");

  // The newest /usr/lib/postgresql/<version>/bin. Throws std::runtime_error when there is none.
  static std::string find_bin_dir();

 private:
  void launch();  // start postgres and wait until it accepts connections
  std::string log_tail() const;
  // Runs a Postgres binary (initdb) to completion; throws with its output on failure.
  void run_tool(const std::string& tool, const std::vector<std::string>& args);
  // The program and arguments that run `binary` as the postgres OS user when we are root.
  std::pair<std::string, std::vector<std::string>> as_postgres_user(
      const std::string& binary, const std::vector<std::string>& args) const;

  postgres_server_options opts_;
  std::string bin_dir_;
  std::string dir_;
  std::uint16_t port_ = 0;
  bool as_root_ = false;
  std::unique_ptr<child_process> process_;
};

}  // namespace etl::test
