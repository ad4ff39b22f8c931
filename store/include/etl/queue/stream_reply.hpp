// Reading the answers of the Redis Streams commands the job queue uses (XREADGROUP, XAUTOCLAIM,
// XPENDING) out of a `redis_reply` tree into plain structs.
//
// Pure functions, no I/O: each checks the shape it expects and fails with
// redis_errc::unexpected_reply otherwise (or redis_errc::server_error for an error answer), so a
// surprise from the server becomes an error value, never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "etl/core/aliases.hpp"
#include "etl/queue/redis_connection.hpp"

namespace etl {

// One stream entry. Field names are unique here: when an entry repeats a name, the last value
// wins (XADD allows repeats; the queue itself never writes them).
struct stream_entry {
  std::string id;
  std::map<std::string, std::string> fields;
};

// XAUTOCLAIM's answer on Redis 7: the cursor for the next call, the entries claimed, and the ids
// that were pending but deleted from the stream (Redis drops those from the pending list).
struct autoclaim_result {
  std::string next_cursor;
  std::vector<stream_entry> entries;
  std::vector<std::string> deleted_ids;
};

// One row of XPENDING's extended form.
struct pending_entry {
  std::string id;
  std::string consumer;
  std::int64_t idle_ms = 0;
  std::int64_t deliveries = 0;
};

// An array of entries, each [id, [field, value, ...]]. An entry whose fields are nil (deleted
// while pending) has no place in the result: its id goes to `deleted_ids` when given, and the
// call fails with unexpected_reply when not.
result<std::vector<stream_entry>> parse_stream_entries(
    const redis_reply& r, std::vector<std::string>* deleted_ids = nullptr);

// XREADGROUP / XREAD for one stream: nil (the block timed out) gives no entries; otherwise
// [[stream, entries]] with `stream` equal to `stream_name`.
result<std::vector<stream_entry>> parse_read_reply(const redis_reply& r,
                                                   const std::string& stream_name);

// XAUTOCLAIM: [cursor, entries] (Redis 6.2) or [cursor, entries, deleted ids] (Redis 7).
result<autoclaim_result> parse_autoclaim_reply(const redis_reply& r);

// XPENDING key group start end count [consumer]: an array of [id, consumer, idle, deliveries].
result<std::vector<pending_entry>> parse_pending_reply(const redis_reply& r);

}  // namespace etl
