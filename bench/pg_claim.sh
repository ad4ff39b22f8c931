#!/usr/bin/env bash
# What a batch's claim of its ids costs Postgres, the way it was before migration 0011
# (`before_0011`: a foreign key checked per id, an INSERT and then a read-back) beside the
# alternatives: the per-id `task_ids` rows without the key and without the batch index, the
# insert and its read-back as one statement (with and without the key: `no_fk_one_statement`
# is the claim since 0011), the ids as one array per batch (with and without a GIN index
# for the cross-batch check), and the claims of several batches in one transaction (a group
# commit). Each is run by pgbench on a fresh Postgres in a temporary folder, with the
# migrations the service applies, durable commits (synchronous_commit on, as the service), and
# the same batch of 100 consecutive ids per claim; unnamed statements (`-M extended`, what
# libpqxx's exec_params sends) and prepared ones (`-M prepared`).
#
#   bench/pg_claim.sh [--claims N] [--clients C] [--rounds R] [variant...]
#
# Prints per variant and mode: claims/s, and Postgres's CPU per claim and per id (user +
# system time of the postmaster and every backend, from /proc, the pgbench client not
# counted). Needs a build (ETL_BUILD_DIR, default build) for `etl-server --migrate-only`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/${ETL_BUILD_DIR:-build}/bin
stack_dir=$root/.bench-pg-claim
# shellcheck source=scripts/lib/local_stack.sh
source "$root/scripts/lib/local_stack.sh"

claims=8000 clients=4 rounds=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --claims) claims=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -*) echo "pg_claim.sh: unknown flag $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
variants=("$@")
[[ ${#variants[@]} -gt 0 ]] ||
  variants=(before_0011 no_fk no_fk_no_batch_index one_statement no_fk_one_statement group_of_4 array)
per_client=$((claims / clients))
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
trap 'stack_stop >/dev/null' EXIT

stack_reset
start_postgres
export ETL_DATABASE_URL=postgresql://etl@127.0.0.1:$pg_port/etl
"$bin/etl-server" --migrate-only 2>>"$stack_dir/logs/server.log"
as_postgres() {  # psql as the superuser: quiet, stops at the first error
  PGOPTIONS="-c client_min_messages=warning" psql -qAtX -v ON_ERROR_STOP=1 -h 127.0.0.1 \
    -p "$pg_port" -U postgres "$@"
}
sql() { as_postgres -d "$db" "$@"; }
db=etl

# Postgres's CPU so far in clock ticks: the postmaster with its reaped children, and the live
# children (backends, WAL writer, checkpointer...).
postmaster=$(awk '$2 == "postgres" { print $1 }' "$stack_dir/pids")
pg_ticks() {
  {
    awk '{ print $14 + $15 + $16 + $17 }' "/proc/$postmaster/stat"
    for p in $(pgrep -P "$postmaster"); do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true; done
  } | awk '{ s += $1 } END { print s + 0 }'
}
hz=$(getconf CLK_TCK)

# The statements of batch_ledger::claim, with the ids of batch :b (:b*100 .. :b*100+99) in
# the array text libpqxx would send. Each client claims its own batches: client c takes
# c, c + C, c + 2C, ...
ids_of_batch="(SELECT array_agg(g)::text FROM generate_series(:b * 100, :b * 100 + 99) g)"
lock="SELECT b.state, t.status, b.attempts, b.claimed_by, b.claim_fence,
  (extract(epoch FROM clock_timestamp() - b.updated_at) * 1000)::bigint
  FROM batches b JOIN tasks t ON t.id = b.task_id
  WHERE b.task_id = :task::uuid AND b.batch_no = :b FOR UPDATE OF b;"
insert="INSERT INTO task_ids (task_id, animal_id, batch_no)
  SELECT :task::uuid, id, :b FROM unnest($ids_of_batch::bigint[]) AS c(id) ORDER BY id
  ON CONFLICT DO NOTHING;"
owned="SELECT animal_id FROM task_ids WHERE task_id = :task::uuid AND batch_no = :b
  AND animal_id = ANY($ids_of_batch::bigint[]) ORDER BY animal_id;"
one_statement="WITH c AS (SELECT unnest($ids_of_batch::bigint[]) AS id),
  ins AS (INSERT INTO task_ids (task_id, animal_id, batch_no)
          SELECT :task::uuid, id, :b FROM c ORDER BY id ON CONFLICT DO NOTHING RETURNING animal_id)
  SELECT animal_id FROM ins
  UNION ALL SELECT animal_id FROM task_ids WHERE task_id = :task::uuid AND batch_no = :b
            AND animal_id IN (SELECT id FROM c)
  ORDER BY 1;"
to_posting="UPDATE batches SET state = 'posting', attempts = attempts + 1, updated_at = now(),
  claimed_by = 'bench', claim_fence = 1 WHERE task_id = :task::uuid AND batch_no = :b
  RETURNING attempts;"
array_insert="INSERT INTO batch_ids (task_id, batch_no, ids)
  VALUES (:task::uuid, :b, $ids_of_batch::bigint[]) ON CONFLICT DO NOTHING;"
array_overlap="SELECT batch_no FROM batch_ids WHERE task_id = :task::uuid AND batch_no <> :b
  AND ids && $ids_of_batch::bigint[];"
next_batch='\set b :client_id + '"$clients"' * :k
\set k :k + 1'

script_of() {
  case $1 in
    before_0011 | no_fk | no_fk_no_batch_index)
      printf '%s\nBEGIN;\n%s\n%s\n%s\n%s\nCOMMIT;\n' "$next_batch" "$lock" "$insert" "$owned" "$to_posting" ;;
    one_statement | no_fk_one_statement)
      printf '%s\nBEGIN;\n%s\n%s\n%s\nCOMMIT;\n' "$next_batch" "$lock" "$one_statement" "$to_posting" ;;
    group_of_4)
      printf 'BEGIN;\n'
      for _ in 1 2 3 4; do printf '%s\n%s\n%s\n%s\n%s\n' "$next_batch" "$lock" "$insert" "$owned" "$to_posting"; done
      printf 'COMMIT;\n' ;;
    array)
      printf '%s\nBEGIN;\n%s\n%s\n%s\nCOMMIT;\n' "$next_batch" "$lock" "$array_insert" "$to_posting" ;;
    array_gin)
      printf '%s\nBEGIN;\n%s\n%s\n%s\n%s\nCOMMIT;\n' "$next_batch" "$lock" "$array_overlap" "$array_insert" "$to_posting" ;;
    *) echo "pg_claim.sh: unknown variant $1" >&2; exit 2 ;;
  esac
}

# A fresh database for each run, copied from the migrated one (no rows, no statistics left
# by an earlier run), with the variant's change applied.
run_no=0
prepare_schema() {
  run_no=$((run_no + 1))
  db=claim_$run_no
  as_postgres -d postgres -c "CREATE DATABASE $db OWNER etl TEMPLATE etl"
  # The key as it was before migration 0011, for the variants that keep it.
  sql -c "ALTER TABLE task_ids DROP CONSTRAINT IF EXISTS task_ids_task_id_batch_no_fkey"
  [[ $1 == no_fk* ]] || sql -c "ALTER TABLE task_ids ADD CONSTRAINT task_ids_task_id_batch_no_fkey
    FOREIGN KEY (task_id, batch_no) REFERENCES batches (task_id, batch_no) ON DELETE CASCADE"
  case $1 in
    no_fk_no_batch_index) sql -c "DROP INDEX task_ids_batch_idx" ;;
    array | array_gin)
      sql -c "CREATE TABLE batch_ids (task_id uuid NOT NULL, batch_no integer NOT NULL,
                ids bigint[] NOT NULL, PRIMARY KEY (task_id, batch_no),
                FOREIGN KEY (task_id, batch_no) REFERENCES batches (task_id, batch_no) ON DELETE CASCADE)" \
        -c "ALTER TABLE batch_ids OWNER TO etl"
      [[ $1 == array ]] || sql -c "CREATE INDEX batch_ids_ids_idx ON batch_ids USING gin (ids)" ;;
  esac
  task=$(sql -c "INSERT INTO tasks (status) VALUES ('running') RETURNING id")
  sql -c "INSERT INTO batches (task_id, batch_no, first_page, last_page)
          SELECT '$task', n, n * 10 + 1, n * 10 + 10 FROM generate_series(0, $((claims + clients * 4))) n" \
    -c "VACUUM ANALYZE tasks, batches, task_ids" -c "CHECKPOINT"
}

echo "| variant | mode | claims/s | Postgres CPU per claim | per id | task_ids rows |"
echo "| --- | --- | --- | --- | --- | --- |"
for ((round = 1; round <= rounds; round++)); do
  for variant in "${variants[@]}"; do
    for mode in extended prepared; do
      script_of "$variant" >"$stack_dir/claim.sql"
      prepare_schema "$variant"
      transactions=$per_client
      [[ $variant != group_of_4 ]] || transactions=$((per_client / 4))
      t0=$(pg_ticks)
      out=$("$pg_bin/pgbench" -n -h 127.0.0.1 -p "$pg_port" -U etl -c "$clients" -j "$clients" \
        -t "$transactions" -M "$mode" -D k=0 -D task="$task" -f "$stack_dir/claim.sql" "$db" 2>&1)
      grep -q "^number of failed transactions: 0 " <<<"$out" &&
        ! grep -q "aborted" <<<"$out" || { echo "$out" >&2; exit 1; }
      # The backends end with pgbench's connections; their time reaches the postmaster once reaped.
      for _ in $(seq 50); do [[ -z $(pgrep -f "postgres: etl $db") ]] && break; sleep 0.1; done
      t1=$(pg_ticks)
      tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -1)
      posting=$(sql -c "SELECT count(*) FROM batches WHERE state = 'posting'")
      rows=$(sql -c "SELECT count(*) FROM task_ids")
      [[ $variant != array* ]] || rows=$(sql -c "SELECT sum(cardinality(ids)) FROM batch_ids")
      [[ $variant != group_of_4 ]] || tps=$(awk -v t="$tps" 'BEGIN { print t * 4 }')
      awk -v v="$variant" -v m="$mode" -v tps="$tps" -v d=$((t1 - t0)) -v hz="$hz" -v n="$posting" -v rows="$rows" \
        'BEGIN { us = d / hz * 1e6 / n; printf "| %s | %s | %.0f | %.0f us | %.1f us | %d |\n", v, m, tps, us, us / 100, rows }'
      as_postgres -d postgres -c "DROP DATABASE $db"
    done
  done
done
