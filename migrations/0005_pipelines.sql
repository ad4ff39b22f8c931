-- The pipeline platform (docs/pipelines.md): which pipeline a task runs and with what
-- parameters, the pipelines' own schema migrations, and the manifest of the files the `files`
-- sink wrote.

-- Every task before this migration ran `animals`, the default.
ALTER TABLE tasks ADD COLUMN pipeline text NOT NULL DEFAULT 'animals';
-- The parameters the task runs with: the trigger's, checked against the spec, defaults filled.
ALTER TABLE tasks ADD COLUMN params jsonb NOT NULL DEFAULT '{}'::jsonb
  CHECK (jsonb_typeof(params) = 'object');

-- A pipeline's own migrations (the tables its `postgres` sinks write), as schema_migrations
-- records the service's.
CREATE TABLE pipeline_migrations (
  pipeline   text NOT NULL,
  version    integer NOT NULL,
  name       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline, version)
);

-- The files a batch's `files` sink wrote, inserted in the transaction that records the batch:
-- a file is part of the output exactly when it is listed here. `path` is relative to the output
-- root (ETL_OUTPUT_DIR). A file on disk that no row lists was left by a run that died before
-- its commit, and is rewritten under the same name by the batch's next run.
CREATE TABLE output_files (
  task_id    uuid NOT NULL,
  batch_no   integer NOT NULL,
  path       text NOT NULL,
  sink       integer NOT NULL,  -- the sink's index in its spec's list
  partition  text,              -- "<field>=<value>", or null for an unpartitioned sink
  rows       bigint NOT NULL CHECK (rows >= 0),
  bytes      bigint NOT NULL CHECK (bytes >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (task_id, batch_no, path),
  FOREIGN KEY (task_id, batch_no) REFERENCES batches (task_id, batch_no) ON DELETE CASCADE
);
CREATE UNIQUE INDEX output_files_path_idx ON output_files (path);
