// Shared set-up of the db integration tests: ONE real Postgres per test executable (a gtest
// Environment), a migrated template database, and a fixture giving each test a fresh database
// (CREATE DATABASE ... TEMPLATE, which is fast) with a db_pool on it.
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <pqxx/connection>

#include "etl/db/db_pool.hpp"
#include "etl/db/migrations.hpp"
#include "etl/test/postgres_server.hpp"

namespace etl::test {

class postgres_environment : public ::testing::Environment {
 public:
  void SetUp() override {
    server_ = std::make_unique<postgres_server>();
    server_->create_database("etl_template");
    pqxx::connection conn(server_->url("etl_template"));
    auto applied = apply_migrations(conn);
    ASSERT_TRUE(applied) << applied.error().detail;
  }
  void TearDown() override { server_.reset(); }

  static postgres_server& server() { return *server_; }

 private:
  static inline std::unique_ptr<postgres_server> server_;
};

// Runs `a` on an io_context of its own until it finishes; rethrows what escaped it.
template <class T>
T await(net::awaitable<T> a) {
  net::io_context ioc;
  auto done = net::co_spawn(ioc, std::move(a), net::use_future);
  ioc.run();
  return done.get();
}

class db_test : public ::testing::Test {
 protected:
  // A fresh database per test: migrated (from the template) unless the test asks for empty.
  void open_database(bool migrated, std::size_t connections = 4) {
    static std::atomic<int> counter{0};
    name_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    url_ = postgres_environment::server().create_database(name_,
                                                          migrated ? "etl_template" : "template0");
    db_pool::options o;
    o.url = url_;
    o.connections = connections;
    o.connect_timeout = std::chrono::seconds(3);
    o.statement_timeout = std::chrono::milliseconds(10'000);
    db_ = std::make_unique<db_pool>(o);
  }
  void SetUp() override { open_database(true); }

  postgres_server& server() { return postgres_environment::server(); }

  std::string name_;
  std::string url_;
  std::unique_ptr<db_pool> db_;
};

}  // namespace etl::test
