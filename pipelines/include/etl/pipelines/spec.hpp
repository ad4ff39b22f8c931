// A pipeline spec: what one pipeline is, as declared in a file of pipelines/specs/ (YAML or
// JSON), read by spec_loader.hpp. A spec combines the kinds the C++ code provides (a source
// kind with its paginator, a transform over typed fields, one or more sinks) with parameters a
// trigger may set. The model holds only what the loader validated: every kind is known, every
// placeholder names something that exists, every name is snake_case. docs/pipelines.md is the
// reference of the format.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <boost/json/value.hpp>

#include "etl/pipelines/cron.hpp"

namespace etl {

// A value a trigger may give, or a spec's default.
using param_value = std::variant<bool, std::int64_t, std::string>;

enum class param_type { boolean, integer, string, date };

// One parameter a trigger may set (query or JSON body), checked against its type and range.
struct param_spec {
  std::string name;
  param_type type = param_type::string;
  // none: the parameter is optional without default. A date's default may be "today" or
  // "yesterday" (UTC), resolved when the task is triggered and recorded on it.
  std::optional<param_value> default_value;
  // string only: without a value, the task gets this many random hex digits (a new seed for
  // each run, recorded on the task so that the run can be repeated). 0: none.
  int random_hex = 0;
  std::optional<std::int64_t> min, max;  // integers only
  std::string description;
};

// A value from the spec that an environment variable may override (a URL, say).
struct env_value {
  std::string value;  // the spec's default; may be empty when `env` is required
  std::string env;    // the variable that overrides it; empty: none
};

enum class paginator_kind {
  page_number,  // ?page=N from `first_page`; page 1 says how many there are (`total_pages`)
  single,       // one request holds every record (a bare array, say): one page
  // Each next page starts after the last record's key (`after_id`): pages read one after the
  // other, a batch at a time, each batch handing the next key to the next through the ledger.
  keyset,
  // ?offset=N&limit=M ({offset} and {limit} placeholders): with `total_records` the first
  // answer's total plans every page up front; without, pages chain as keyset's do until one is
  // shorter than page_size.
  offset,
  // Each answer holds the URL of the next page (`next`); null, absent or "" ends the chain.
  // Pages chain as keyset's do; a link seen twice in a task fails it (the loop guard).
  next_link,
};

struct paginator_spec {
  paginator_kind kind = paginator_kind::page_number;
  // The query parameter that carries the page number, unless the request's path, query or body
  // holds a {page} placeholder of its own.
  std::string page_param = "page";
  int first_page = 1;
  // The path in an answer to the page count (page 1's count plans the batches; in a windowed
  // pipeline each window's first page tells how many more pages that window has).
  std::string total_pages;
  // Or: the page count is this int parameter's value (an upstream that pages without saying
  // how many pages it has: randomuser reads `pages` pages of `results` users).
  std::string pages_param;
  int page_size = 0;  // records a full page holds (batches are planned with it)
  // keyset: the member of the POST body (or the query parameter of a GET) that carries the key
  // to start after, absent from the first request; the path in each record to its key; and how
  // many pages one batch reads (its files' size). A page shorter than page_size is the last.
  std::string after_param;
  std::vector<std::string> after_from;
  int pages_per_batch = 1;  // keyset, next_link and a chained offset paginator
  // offset: the path in an answer to the total number of records; empty: pages chain.
  std::string total_records;
  // next_link: the path in an answer to the next page's URL, absolute on the source's origin
  // or a path from its root.
  std::vector<std::string> next;
  // A chain's stop rules besides a short page (or no link): the path in an answer to a boolean
  // that says whether more pages follow (`hasNextPage`; empty: none), and the most pages a task
  // reads (0: no maximum).
  std::vector<std::string> has_more;
  std::int64_t max_pages = 0;

  // Whether pages are read one batch after another, each batch handing the next its start
  // through the ledger (the page count is not known up front).
  bool chained() const noexcept {
    return kind == paginator_kind::keyset || kind == paginator_kind::next_link ||
           (kind == paginator_kind::offset && total_records.empty());
  }
};

// A request for each record's details, by a key of the listed record.
struct detail_spec {
  std::string path;  // with placeholders, e.g. "/animals/v1/animals/{record.id}"
  bool hedged = true;
  // An answer with this status on every attempt means the record is bad, not the network: it
  // is rejected with the reason instead of failing the batch (0: none such).
  unsigned bad_record_status = 0;
};

// How a source proves who calls: a secret read from an environment variable, never written in
// the spec, sent in a header or a query parameter (exactly one of the two is set).
struct source_auth {
  std::string env;     // the variable holding the secret ([A-Z][A-Z0-9_]*)
  std::string header;  // e.g. "X-cb-user-key"; empty when the secret goes in the query
  std::string query;   // e.g. "user_key"; empty when the secret goes in a header
};

// The upstream's quota, for the whole worker pool: at most `requests` in any `per_seconds`.
struct rate_limit_spec {
  int requests = 0;
  int per_seconds = 0;
};

enum class source_kind { rest };

struct source_spec {
  source_kind kind = source_kind::rest;
  env_value base_url;
  std::string method = "GET";                              // GET or POST
  std::string path;                                        // with placeholders
  std::vector<std::pair<std::string, std::string>> query;  // name -> value with placeholders
  // POST only: the JSON body, its strings with placeholders. A string that is exactly one
  // placeholder takes the value's own JSON type ("{page}" becomes a number).
  std::optional<boost::json::value> body;
  std::string records;  // the path to the records' array in an answer; empty: the root
  std::string key;      // the record field that identifies it (one owner per key and task)
  paginator_spec paginator;
  std::optional<detail_spec> detail;
  std::optional<source_auth> auth;
  std::optional<rate_limit_spec> rate_limit;
  // An upstream whose quota, once spent, answers 429 until its counters reset (randomuser's, every
  // 300 s): a page still refused with 429 after the client's retries waits this many seconds
  // and is asked again, up to quota_waits times, before its batch gives up. Such a source is
  // not hedged (a hedged copy spends the quota twice). 0: no such wait.
  int quota_reset_seconds = 0;
};

// How many times a page waits out a spent quota before its batch fails.
inline constexpr int quota_waits = 3;

enum class field_type {
  integer,       // a JSON integer (floats and strings refused)
  number,        // any JSON number
  string,        // a JSON string
  boolean,       // true or false
  epoch_ms,      // an integer of milliseconds since 1970: sent as ISO 8601 UTC with milliseconds
  string_list,   // a string split on `separator` ("" gives no item)
  date_time,     // ISO 8601 text with a time and a UTC offset (Z or +hh:mm), kept as written
  date,          // YYYY-MM-DD
  string_array,  // a JSON array of strings, kept as a list
  // A string or a number (a postcode that is 84756 for one country and "W4Q 0U0" for another),
  // kept as text: a number as JSON writes it.
  string_or_number,
};

// A value computed from the one read, before it is typed.
enum class field_derive {
  none,
  utc_date,     // the UTC day (YYYY-MM-DD) of a date-time: a record's partition by its own date
  stable_key,   // hashing.hpp's stable_key of the values at `key_of`: the same on every run
  secret_hash,  // hashing.hpp's secret_hash of the value at `from` with the spec's secrets
};

// A value picked from an array of objects: the first entry whose `where_key` holds the text
// `where_value`, its value at `value` (a city among a company's locations, by location_type).
struct pick_spec {
  std::string where_key;
  std::string where_value;
  std::vector<std::string> value;
};

struct field_spec {
  std::string name;  // in the output
  // Where the value is in the record: dotted keys into nested objects ("location.city");
  // equal to `name` unless the spec says `from`.
  std::vector<std::string> from;
  field_type type = field_type::string;
  field_derive derive = field_derive::none;
  std::vector<std::vector<std::string>> key_of;  // stable_key: the paths whose values it hashes
  // Set: `from` is an array of objects and the value is picked from one entry (none: null).
  std::optional<pick_spec> pick;
  bool nullable = false;
  std::optional<std::int64_t> min;  // integers only
  // number only: a string holding a decimal number ("78.4705") is accepted as that number.
  bool accept_text = false;
  std::string separator = ",";  // string_list only
  // string only: the values accepted (empty: any); another value rejects the record.
  std::vector<std::string> values;
  // string only: an ECMAScript regular expression the whole value must match (empty: none).
  std::string pattern;
};

enum class sink_kind { http_batch, postgres, files };

enum class file_format { csv, jsonl, parquet };

enum class file_compression { none, snappy, zstd };

// A child table: an array of each record exploded into rows of their own (a launch's cores),
// each row carrying fields of its parent (its key, say) and, if asked, its place in the array.
struct child_spec {
  std::string name;               // snake_case; what a sink's `from` names
  std::vector<std::string> from;  // the array's path in the source record
  // The parent's fields copied into each row, first; then `index` (an int, from 0) if named;
  // then the entry's own fields. `fields` holds them all, in that order.
  std::vector<std::string> parent_fields;
  std::string index;
  std::vector<field_spec> fields;
  // An entry whose value here is null is not a row (a launch's core entry without a core):
  // skipped and counted, never rejected. Empty: every entry is a row.
  std::string skip_null;
};

// Where a sink's rows come from.
enum class sink_input {
  records,  // the transform's records (transform.fields)
  child,    // a child table (sink_spec::child names it)
  pages,    // files sinks only: every answer of the source as received, one JSON line each
};

struct sink_spec {
  sink_kind kind = sink_kind::http_batch;
  sink_input input = sink_input::records;
  std::string child;  // input == child: the child table's name
  env_value url;      // http_batch: where batches are POSTed; the default may use {source.base_url}
  int max_records = 0;  // http_batch: records one POST holds at most

  // postgres: the table rows are upserted into ("schema.table") and its key columns (fields);
  // files: an optional key whose duplicates within a batch are merged (the last one wins).
  // postgres and files: the fields written, in order (every field unless the spec lists them).
  std::string table;
  std::vector<std::string> key;
  std::vector<std::string> columns;

  // files: one file per batch (and partition) under ETL_OUTPUT_DIR/<folder>/, in `format`;
  // `partition_by` names a field whose value picks the file's partition folder
  // (<partition_by>=<value>/), per record.
  file_format format = file_format::csv;
  file_compression compression = file_compression::snappy;  // parquet only
  std::string folder;
  std::string partition_by;
  // files: the file's name under its folder (and partition), without the extension; '/' makes
  // sub-folders. Placeholders {task.id}, {task.date} (the task's UTC day, YYYYMMDD), {task.day}
  // (the same day as YYYY-MM-DD) and {batch}. Without {batch} the pipeline runs as one batch
  // per task: one file per task.
  std::string file_name = "{task.id}-{batch}";
};

// A backfill cut into day windows: the task's [start, end) parameters (dates, UTC), one batch per
// day, each a request (or pages of one) with {window.start} and {window.end} filled in. A
// files sink partitioned by a date replaces, per window, the partitions earlier tasks wrote.
struct window_spec {
  std::string start_param;
  std::string end_param;
};

// An incremental pipeline (docs/pipelines.md, "Incremental runs"): each task reads what changed
// since the pipeline's cursor, the highest `field` value a succeeded task delivered. The
// request's {cursor.start} is that value (inclusive: records at it are read again, and those
// already delivered skipped by key), or `initial` when no cursor is stored, or the date in
// `start_param` when a trigger gives one: a backfill, which leaves the cursor where it is.
struct incremental_spec {
  std::string field;        // a date_time field of the transform
  std::string start_param;  // a date parameter; empty: none
  std::string initial;      // {cursor.start} of the first run, as the upstream takes it
};

// When etl-server starts a task of the pipeline by itself (with its default parameters), if the
// server's ETL_SCHEDULES turns the schedule on.
struct schedule_spec {
  cron_expr cron;  // UTC
  // A run whose time passed more than ETL_SCHEDULE_GRACE ago (the servers were down) is
  // skipped unless this is set; then the latest missed run starts once.
  bool catch_up = false;
};

// How secret fields (derive: secret_hash) are hashed: the salt from an environment variable,
// never from the spec, and PBKDF2's rounds. Without the salt the pipeline does not run.
struct secrets_spec {
  std::string salt_env;
  int iterations = 100'000;
};

enum class check_kind {
  not_null,  // the field has a value in every record
  unique,    // no value twice in a batch (nulls not counted)
  range,     // a number within [min, max]
};

// A data-quality check on the records of each batch (checks.hpp).
struct check_spec {
  check_kind kind = check_kind::not_null;
  std::string field;
  std::optional<double> min, max;  // range only
  bool blocking = true;            // a failure fails the batch (and its task); false: recorded only
};

// A pipeline's own schema change (its tables), applied once, in version order, like the
// service's migrations, and recorded per pipeline.
struct pipeline_migration {
  int version = 0;
  std::string name;  // snake_case
  std::string sql;
};

struct pipeline_spec {
  std::string name;         // snake_case or kebab-case, unique among the specs
  std::string description;  // one line for people
  std::string file;         // where it was read from
  std::vector<param_spec> params;
  source_spec source;
  std::vector<field_spec> fields;    // the transform: the record's fields, validated and typed
  std::vector<child_spec> children;  // tables exploded from arrays of each record
  std::optional<window_spec> windows;
  std::optional<incremental_spec> incremental;
  std::optional<secrets_spec> secrets;
  std::optional<schedule_spec> schedule;
  std::vector<check_spec> checks;
  std::vector<sink_spec> sinks;
  std::vector<pipeline_migration> migrations;  // by version, ascending

  // The parameter named `name`, or null.
  const param_spec* param(std::string_view name) const noexcept;
  // The fields of the rows `sink` takes (the records' or a child table's); empty for pages.
  std::span<const field_spec> fields_of(const sink_spec& sink) const noexcept;
  // Whether every task is one batch: a files sink names its files without {batch}.
  bool one_batch_per_task() const noexcept;
};

std::string_view to_string(param_type t) noexcept;
std::string_view to_string(field_type t) noexcept;
std::string_view to_string(sink_kind k) noexcept;
std::string_view to_string(file_format f) noexcept;

}  // namespace etl
