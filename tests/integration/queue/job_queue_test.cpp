#include "etl/queue/job_queue.hpp"

#include <gtest/gtest.h>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <future>
#include <set>
#include <thread>

#include "etl/core/error.hpp"
#include "etl/test/redis_server.hpp"
#include "etl/test/redis_test_options.hpp"

namespace etl {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

job_queue_options short_lease(std::chrono::milliseconds lease = 500ms) {
  job_queue_options o;
  o.lease = lease;
  o.block = 100ms;
  return o;
}

// Calls q.next until it hands out a job or a dead letter, or `within` passes.
next_result next_within(job_queue& q, std::chrono::milliseconds within, std::size_t max = 10) {
  const auto deadline = clock::now() + within;
  while (clock::now() < deadline) {
    auto r = q.next_blocking(max);
    if (r && (!r->jobs.empty() || !r->dead.empty())) {
      return *r;
    }
  }
  return {};
}

std::int64_t deliveries_of(redis_connection& conn, const std::string& id) {
  auto r = conn.command({"XPENDING", "etl:jobs", "etl-workers", id, id, "1"});
  if (!r || !r->is_array() || r->elements.size() != 1) {
    return -1;
  }
  return r->elements[0].elements[3].integer;
}

TEST(job_queue, enqueue_next_ack_round_trip) {
  test::redis_server server;
  job_queue q(redis_test_options(server), short_lease());
  const job_fields fields{{"type", "batch"}, {"task", "0b9f"}, {"batch", "3"}};
  auto id = q.enqueue_blocking(fields);
  ASSERT_TRUE(id) << id.error().message();

  auto got = q.next_blocking(10);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->jobs.size(), 1u);
  const job j = got->jobs[0];
  EXPECT_EQ(j.id, *id);
  EXPECT_EQ(j.fields, fields);
  EXPECT_EQ(j.deliveries, 1);
  EXPECT_TRUE(got->dead.empty());
  EXPECT_TRUE(q.holds(j));

  auto before = q.stats_blocking();
  ASSERT_TRUE(before) << before.error().message();
  EXPECT_EQ(before->stream_length, 1);
  EXPECT_EQ(before->pending, 1);
  EXPECT_EQ(before->dead_letter_length, 0);

  EXPECT_FALSE(q.ack_blocking(j));
  EXPECT_FALSE(q.holds(j));
  auto after = q.stats_blocking();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->stream_length, 0);
  EXPECT_EQ(after->pending, 0);

  auto empty = q.next_blocking(10);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->jobs.empty());
  // Acking again (a consumer that reclaimed it acked first) is not an error.
  EXPECT_FALSE(q.ack_blocking(j));
}

TEST(job_queue, rejects_bad_arguments) {
  test::redis_server server;
  job_queue q(redis_test_options(server), short_lease());
  EXPECT_EQ(q.enqueue_blocking({}).error(), errc::invalid_argument);
  EXPECT_EQ(q.next_blocking(0).error(), errc::invalid_argument);
  auto bad = short_lease();
  bad.max_deliveries = 0;
  EXPECT_THROW(job_queue(redis_test_options(server), bad), std::invalid_argument);
  bad = short_lease(10ms);
  EXPECT_THROW(job_queue(redis_test_options(server), bad), std::invalid_argument);
}

TEST(job_queue, stats_before_anything_was_enqueued) {
  test::redis_server server;
  job_queue q(redis_test_options(server), short_lease());
  auto s = q.stats_blocking();
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->stream_length, 0);
  EXPECT_EQ(s->pending, 0);
  EXPECT_EQ(s->dead_letter_length, 0);
}

TEST(job_queue, stats_age_of_the_oldest_pending_job_outlives_lease_renewals) {
  test::redis_server server;
  job_queue q(redis_test_options(server), short_lease(150ms));  // renewed every 50 ms
  ASSERT_TRUE(q.enqueue_blocking({{"type", "plan"}}));
  auto got = next_within(q, 3s);
  ASSERT_EQ(got.jobs.size(), 1u);
  // Polling until the job is old enough, bounded by the deadline.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  result<queue_stats> s = q.stats_blocking();
  while (s && s->oldest_pending_age_ms < 600 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    s = q.stats_blocking();
  }
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->pending, 1);
  EXPECT_GE(s->oldest_pending_age_ms, 600);
  EXPECT_LT(s->oldest_pending_age_ms, 10'000);
  // Renewal keeps resetting the idle time; the age keeps growing.
  EXPECT_LT(s->oldest_pending_idle_ms, 600);
  EXPECT_FALSE(q.ack_blocking(got.jobs[0]));
  auto after = q.stats_blocking();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->oldest_pending_age_ms, 0);
}

TEST(job_queue, acked_entries_are_deleted_from_the_stream) {
  test::redis_server server;
  job_queue q(redis_test_options(server), short_lease());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(q.enqueue_blocking({{"type", "batch"}, {"batch", std::to_string(i)}}));
  }
  redis_connection raw(redis_test_options(server));
  auto len = [&] {
    auto r = raw.command({"XLEN", "etl:jobs"});
    return r ? r->integer : -1;
  };
  EXPECT_EQ(len(), 5);
  auto got = q.next_blocking(5);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->jobs.size(), 5u);
  for (std::size_t i = 0; i < got->jobs.size(); ++i) {
    ASSERT_FALSE(q.ack_blocking(got->jobs[i]));
    EXPECT_EQ(len(), static_cast<long long>(4 - i));
  }
}

TEST(job_queue, two_consumers_never_get_the_same_job) {
  test::redis_server server;
  constexpr int total = 40;
  {
    job_queue producer(redis_test_options(server), short_lease());
    for (int i = 0; i < total; ++i) {
      ASSERT_TRUE(producer.enqueue_blocking({{"batch", std::to_string(i)}}));
    }
  }
  job_queue a(redis_test_options(server), short_lease(5s));
  job_queue b(redis_test_options(server), short_lease(5s));
  ASSERT_NE(a.consumer(), b.consumer());
  std::atomic<int> taken{0};
  auto consume = [&](job_queue& q) {
    std::vector<std::string> ids;
    const auto deadline = clock::now() + 10s;
    while (taken.load() < total && clock::now() < deadline) {
      auto r = q.next_blocking(3);
      if (!r) {
        continue;
      }
      for (const auto& j : r->jobs) {
        ids.push_back(j.id);
        ++taken;
      }
      for (const auto& j : r->jobs) {
        EXPECT_FALSE(q.ack_blocking(j));
      }
    }
    return ids;
  };
  auto fa = std::async(std::launch::async, consume, std::ref(a));
  auto fb = std::async(std::launch::async, consume, std::ref(b));
  auto ids_a = fa.get();
  auto ids_b = fb.get();
  std::set<std::string> all(ids_a.begin(), ids_a.end());
  for (const auto& id : ids_b) {
    EXPECT_FALSE(all.contains(id)) << id << " handed to both consumers";
    all.insert(id);
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(total));
  EXPECT_EQ(ids_a.size() + ids_b.size(), static_cast<std::size_t>(total));
}

TEST(job_queue, a_crashed_consumers_job_is_reclaimed_after_the_lease) {
  test::redis_server server;
  const auto lease = 500ms;
  ASSERT_TRUE(
      job_queue(redis_test_options(server), short_lease(lease)).enqueue_blocking({{"k", "v"}}));
  job_queue b(redis_test_options(server), short_lease(lease));

  std::string id;
  clock::time_point taken_at;
  {
    job_queue a(redis_test_options(server), short_lease(lease));
    auto got = a.next_blocking(1);
    ASSERT_TRUE(got);
    ASSERT_EQ(got->jobs.size(), 1u);
    taken_at = clock::now();
    id = got->jobs[0].id;
    // While a's lease runs, b gets nothing.
    auto early = b.next_blocking(1);
    ASSERT_TRUE(early);
    EXPECT_TRUE(early->jobs.empty());
  }  // a "crashes": no ack, no more renewal

  auto got = next_within(b, lease + 3s);
  const auto waited = clock::now() - taken_at;
  ASSERT_EQ(got.jobs.size(), 1u) << "not reclaimed within lease + 3 s";
  EXPECT_EQ(got.jobs[0].id, id);
  EXPECT_EQ(got.jobs[0].deliveries, 2);
  EXPECT_EQ(got.jobs[0].fields, (job_fields{{"k", "v"}}));
  EXPECT_GE(waited, lease - 50ms);
  EXPECT_TRUE(b.holds(got.jobs[0]));
  EXPECT_FALSE(b.ack_blocking(got.jobs[0]));
}

TEST(job_queue, a_live_consumer_keeps_its_job_past_several_leases) {
  test::redis_server server;
  const auto lease = 300ms;
  job_queue a(redis_test_options(server), short_lease(lease));
  job_queue b(redis_test_options(server), short_lease(lease));
  ASSERT_TRUE(a.enqueue_blocking({{"k", "v"}}));
  auto got = a.next_blocking(1);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->jobs.size(), 1u);
  const job j = got->jobs[0];

  // For five leases b keeps asking; a's renewal thread must keep the job a's.
  const auto until = clock::now() + 5 * lease;
  int polls = 0;
  while (clock::now() < until) {
    auto r = b.next_blocking(1);
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_TRUE(r->jobs.empty()) << "b took a job a still holds";
    ++polls;
  }
  EXPECT_GT(polls, 5);
  EXPECT_TRUE(a.holds(j));
  redis_connection raw(redis_test_options(server));
  EXPECT_EQ(deliveries_of(raw, j.id), 1) << "renewal must not count deliveries";
  EXPECT_FALSE(a.ack_blocking(j));
}

TEST(job_queue, a_lease_taken_by_another_consumer_is_reported_lost) {
  test::redis_server server;
  const auto lease = 300ms;
  job_queue a(redis_test_options(server), short_lease(lease));
  ASSERT_TRUE(a.enqueue_blocking({{"k", "v"}}));
  auto got = a.next_blocking(1);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->jobs.size(), 1u);
  const job j = got->jobs[0];
  // Another consumer takes it over, as a reclaim after a stall of a's would.
  redis_connection raw(redis_test_options(server));
  auto claimed = raw.command({"XCLAIM", "etl:jobs", "etl-workers", "thief", "0", j.id});
  ASSERT_TRUE(claimed);
  ASSERT_TRUE(claimed->is_array());
  ASSERT_EQ(claimed->elements.size(), 1u);

  const auto deadline = clock::now() + lease + 2s;
  while (a.holds(j) && clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);  // polling a condition with a deadline
  }
  EXPECT_FALSE(a.holds(j));
  // And renewal did not take it back.
  auto p = raw.command({"XPENDING", "etl:jobs", "etl-workers", j.id, j.id, "1"});
  ASSERT_TRUE(p);
  ASSERT_EQ(p->elements.size(), 1u);
  EXPECT_EQ(p->elements[0].elements[1].str, "thief");
}

TEST(job_queue, a_job_delivered_too_often_is_dead_lettered_with_the_reason) {
  test::redis_server server;
  auto opts = short_lease(200ms);
  opts.max_deliveries = 2;
  job_queue q(redis_test_options(server), opts);
  const job_fields fields{{"type", "batch"}, {"task", "t1"}};
  auto id = q.enqueue_blocking(fields);
  ASSERT_TRUE(id);

  for (int delivery = 1; delivery <= 2; ++delivery) {
    auto got = next_within(q, 3s);
    ASSERT_EQ(got.jobs.size(), 1u) << "delivery " << delivery;
    EXPECT_EQ(got.jobs[0].deliveries, delivery);
    if (delivery == 1)  // its run failed and said why
      ASSERT_FALSE(q.hand_back_blocking(got.jobs[0], "page 3: HTTP 500: Sorry!"));
    else
      q.release(got.jobs[0]);  // the worker died on it: no ack, no reason
  }
  auto got = next_within(q, 3s);
  EXPECT_TRUE(got.jobs.empty());
  ASSERT_EQ(got.dead.size(), 1u);
  const dead_job& d = got.dead[0];
  EXPECT_EQ(d.id, *id);
  EXPECT_EQ(d.fields, fields);
  EXPECT_EQ(d.deliveries, 3);
  EXPECT_NE(d.reason.find("max_deliveries 2"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("; last error: page 3: HTTP 500: Sorry!"), std::string::npos) << d.reason;
  EXPECT_FALSE(d.dead_id.empty());

  auto s = q.stats_blocking();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->stream_length, 0);
  EXPECT_EQ(s->pending, 0);
  EXPECT_EQ(s->dead_letter_length, 1);

  redis_connection raw(redis_test_options(server));
  auto dead = raw.command({"XRANGE", "etl:jobs:dead", "-", "+"});
  ASSERT_TRUE(dead);
  auto entries = parse_stream_entries(*dead);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  const auto& f = (*entries)[0].fields;
  EXPECT_EQ(f.at("task"), "t1");
  EXPECT_EQ(f.at("reason"), d.reason);
  EXPECT_EQ(f.at("deliveries"), "3");
  EXPECT_EQ(f.at("job_id"), *id);
  // Its recorded error went with it.
  EXPECT_EQ(raw.command({"HLEN", "etl:jobs:errors"})->integer, 0);

  // A worker starting later reads it back as it was handed out, within the window only.
  auto recent = q.recent_dead_blocking(std::chrono::minutes(10), 100);
  ASSERT_TRUE(recent) << recent.error().message();
  ASSERT_EQ(recent->size(), 1u);
  const dead_job& again = (*recent)[0];
  EXPECT_EQ(again.id, d.id);
  EXPECT_EQ(again.dead_id, d.dead_id);
  EXPECT_EQ(again.fields, fields);
  EXPECT_EQ(again.reason, d.reason);
  EXPECT_EQ(again.deliveries, 3);

  // It never comes back.
  auto later = q.next_blocking(1);
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->jobs.empty());
  EXPECT_TRUE(later->dead.empty());
}

TEST(job_queue, recent_dead_letters_are_read_back_within_the_window_only) {
  test::redis_server server;
  job_queue q(redis_test_options(server));
  redis_connection raw(redis_test_options(server));
  const auto two_hours_ago =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch() - std::chrono::hours(2))
          .count();
  auto old =
      raw.command({"XADD", "etl:jobs:dead", std::to_string(two_hours_ago) + "-0", "type", "plan",
                   "task", "t0", "reason", "old", "deliveries", "6", "job_id", "1-1"});
  ASSERT_TRUE(old && old->is_text()) << (old ? old->str : old.error().message());
  auto fresh = raw.command({"XADD", "etl:jobs:dead", "*", "type", "batch", "task", "t1", "batch",
                            "4", "reason", "delivered 6 times", "deliveries", "6", "job_id", "2-1",
                            "stream", "etl:jobs"});
  ASSERT_TRUE(fresh && fresh->is_text()) << (fresh ? fresh->str : fresh.error().message());

  auto recent = q.recent_dead_blocking(std::chrono::hours(1), 100);
  ASSERT_TRUE(recent) << recent.error().message();
  ASSERT_EQ(recent->size(), 1u);
  const dead_job& d = (*recent)[0];
  EXPECT_EQ(d.dead_id, fresh->str);
  EXPECT_EQ(d.id, "2-1");
  EXPECT_EQ(d.reason, "delivered 6 times");
  EXPECT_EQ(d.deliveries, 6);
  EXPECT_EQ(d.fields, (job_fields{{"type", "batch"}, {"task", "t1"}, {"batch", "4"}}));
  auto all = q.recent_dead_blocking(std::chrono::hours(3), 100);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);
}

TEST(job_queue, an_ack_clears_the_error_a_hand_back_recorded) {
  test::redis_server server;
  job_queue q(redis_test_options(server), short_lease(200ms));
  ASSERT_TRUE(q.enqueue_blocking({{"type", "plan"}}));
  auto got = next_within(q, 3s);
  ASSERT_EQ(got.jobs.size(), 1u);
  // A reason with a cut UTF-8 character and a NUL is stored as valid text.
  ASSERT_FALSE(q.hand_back_blocking(got.jobs[0], std::string("bad \xC3 byte\0here", 15)));
  EXPECT_FALSE(q.holds(got.jobs[0]));
  redis_connection raw(redis_test_options(server));
  auto stored = raw.command({"HGET", "etl:jobs:errors", got.jobs[0].id});
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->str, "bad \xEF\xBF\xBD byte\xEF\xBF\xBDhere");
  auto again = next_within(q, 3s);
  ASSERT_EQ(again.jobs.size(), 1u);
  ASSERT_FALSE(q.ack_blocking(again.jobs[0]));
  EXPECT_EQ(raw.command({"HLEN", "etl:jobs:errors"})->integer, 0);
}

TEST(job_queue, pending_jobs_survive_a_redis_restart_with_aof) {
  test::redis_server server({.appendonly = true});
  job_queue q(redis_test_options(server), short_lease(2s));
  std::set<std::string> enqueued;
  for (int i = 0; i < 3; ++i) {
    auto id = q.enqueue_blocking({{"batch", std::to_string(i)}});
    ASSERT_TRUE(id);
    enqueued.insert(*id);
  }
  auto first = q.next_blocking(1);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->jobs.size(), 1u);

  server.restart();

  std::set<std::string> seen{first->jobs[0].id};
  std::vector<job> held{first->jobs[0]};
  const auto deadline = clock::now() + 10s;
  while (seen.size() < enqueued.size() && clock::now() < deadline) {
    auto r = q.next_blocking(10);  // the first calls may fail: the connection broke
    if (r) {
      for (const auto& j : r->jobs) {
        seen.insert(j.id);
        held.push_back(j);
      }
    }
  }
  EXPECT_EQ(seen, enqueued);
  for (const auto& j : held) {
    EXPECT_FALSE(q.ack_blocking(j));
  }
  auto s = q.stats_blocking();
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->pending, 0);
  EXPECT_EQ(s->stream_length, 0);
}

TEST(job_queue, redis_down_gives_bounded_errors_then_recovers) {
  test::redis_server server;  // no persistence: the restart loses the group too
  job_queue q(redis_test_options(server), short_lease());
  ASSERT_TRUE(q.enqueue_blocking({{"n", "1"}}));
  auto got = q.next_blocking(1);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->jobs.size(), 1u);
  ASSERT_FALSE(q.ack_blocking(got->jobs[0]));

  server.stop();
  for (int i = 0; i < 3; ++i) {
    auto start = clock::now();
    EXPECT_FALSE(q.enqueue_blocking({{"n", "2"}}));
    EXPECT_LT(clock::now() - start, 3s);
    start = clock::now();
    EXPECT_FALSE(q.next_blocking(1));
    EXPECT_LT(clock::now() - start, 3s);
    start = clock::now();
    EXPECT_FALSE(q.stats_blocking());
    EXPECT_LT(clock::now() - start, 3s);
  }

  server.start();
  std::optional<std::string> id;
  const auto deadline = clock::now() + 5s;
  while (!id && clock::now() < deadline) {
    if (auto r = q.enqueue_blocking({{"n", "3"}})) {
      id = *r;
    }
  }
  ASSERT_TRUE(id) << "enqueue did not recover";
  // The group was lost with the data: next recreates it and still finds the new job.
  auto again = next_within(q, 5s);
  ASSERT_EQ(again.jobs.size(), 1u);
  EXPECT_EQ(again.jobs[0].id, *id);
  EXPECT_FALSE(q.ack_blocking(again.jobs[0]));
}

TEST(job_queue, ping_answers_while_redis_is_up_and_fails_bounded_while_it_is_down) {
  test::redis_server server;
  job_queue q(redis_test_options(server), short_lease());
  EXPECT_FALSE(q.ping_blocking());
  server.stop();
  const auto start = clock::now();
  const auto down = q.ping_blocking();
  EXPECT_TRUE(down);
  EXPECT_EQ(down.category(), redis_category()) << down.message();
  EXPECT_LT(clock::now() - start, 3s);
  server.start();
  error_code up = down;
  const auto deadline = clock::now() + 5s;
  while (up && clock::now() < deadline)
    up = q.ping_blocking();  // each call waits out the reconnect backoff: bounded polling
  EXPECT_FALSE(up) << up.message();
}

TEST(job_queue, awaitable_api_runs_off_the_event_loop) {
  test::redis_server server;
  job_queue q(redis_test_options(server), short_lease());
  net::io_context io;
  const auto loop_thread = std::this_thread::get_id();
  // Gathered here and checked after the loop: GCC 12 fails on gtest's macros and on braced
  // initializers of string literals inside a coroutine ("array used as initializer").
  std::optional<result<std::string>> enqueued;
  std::optional<result<next_result>> got;
  std::optional<error_code> acked;
  std::optional<result<queue_stats>> stats;
  bool resumed_on_loop = true;
  bool escaped = false;
  const job_fields plan{{"type", "plan"}};
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        enqueued = co_await q.enqueue(plan);
        resumed_on_loop = resumed_on_loop && std::this_thread::get_id() == loop_thread;
        got = co_await q.next(5);
        resumed_on_loop = resumed_on_loop && std::this_thread::get_id() == loop_thread;
        if (*got && (*got)->jobs.size() == 1) {
          acked = co_await q.ack((*got)->jobs[0]);
        }
        stats = co_await q.stats();
      },
      [&](std::exception_ptr e) {
        if (e) {
          escaped = true;
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            spdlog::error("test coroutine threw: {}", ex.what());
          }
        }
      });
  io.run_for(10s);
  EXPECT_FALSE(escaped);
  EXPECT_TRUE(resumed_on_loop);
  ASSERT_TRUE(enqueued && *enqueued);
  ASSERT_TRUE(got && *got);
  ASSERT_EQ((*got)->jobs.size(), 1u);
  EXPECT_EQ((*got)->jobs[0].id, **enqueued);
  EXPECT_EQ((*got)->jobs[0].fields.at("type"), "plan");
  ASSERT_TRUE(acked);
  EXPECT_FALSE(*acked);
  ASSERT_TRUE(stats && *stats);
  EXPECT_EQ((*stats)->stream_length, 0);
}

}  // namespace
}  // namespace etl
