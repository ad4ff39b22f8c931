-- Keyset-paged sources and incremental cursors (docs/pipelines.md, "Keyset paging" and
-- "Incremental runs").
--
-- A keyset source's task is a chain of batches: each batch reads from the key after which its
-- pages start (after_key; null for the first) and, when the upstream has more, adds the next
-- batch in the transaction that records its own. A key may start one batch of a task only:
-- an upstream that hands the same key back twice would loop forever, and fails the task instead.
ALTER TABLE batches ADD COLUMN after_key text;
CREATE UNIQUE INDEX batches_after_key_idx ON batches (task_id, after_key)
  WHERE after_key IS NOT NULL;

-- What a batch of an incremental task delivered at its highest cursor value: that value and the
-- keys of the records that had it (the next run reads that instant again and skips them).
ALTER TABLE batches ADD COLUMN cursor_max timestamptz;
ALTER TABLE batches ADD COLUMN cursor_keys text[];

-- The cursor a task of an incremental pipeline started from (as sent upstream) with the keys
-- already delivered at it, whether the task moves the pipeline's cursor when it succeeds (a
-- backfill does not), and where the cursor stood after it.
ALTER TABLE tasks ADD COLUMN cursor_start text;
ALTER TABLE tasks ADD COLUMN cursor_skip text[];
ALTER TABLE tasks ADD COLUMN cursor_advances boolean NOT NULL DEFAULT false;
ALTER TABLE tasks ADD COLUMN cursor_after timestamptz;

-- Each incremental pipeline's cursor: the highest cursor value a succeeded task delivered, the
-- keys delivered at exactly that value, and the task that moved it last.
CREATE TABLE pipeline_cursors (
  pipeline   text PRIMARY KEY,
  value      timestamptz NOT NULL,
  keys       text[] NOT NULL DEFAULT '{}',
  task_id    uuid,
  updated_at timestamptz NOT NULL DEFAULT now()
);
