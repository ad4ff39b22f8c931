-- The task record and the batch ledger (see DESIGN.md, "A task's life" and "Delivery
-- guarantees"). Applied once by the migration runner, inside a transaction.

CREATE TABLE tasks (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  status          text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  audit_mode      boolean NOT NULL DEFAULT false,
  idempotency_key text UNIQUE,
  request         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  total_pages     integer CHECK (total_pages >= 0),
  batches_total   integer NOT NULL DEFAULT 0 CHECK (batches_total >= 0),
  batches_done    integer NOT NULL DEFAULT 0 CHECK (batches_done >= 0),
  batches_failed  integer NOT NULL DEFAULT 0 CHECK (batches_failed >= 0),
  pages           bigint NOT NULL DEFAULT 0,
  fetched         bigint NOT NULL DEFAULT 0,
  posted          bigint NOT NULL DEFAULT 0,
  rejected        bigint NOT NULL DEFAULT 0,
  retries         bigint NOT NULL DEFAULT 0,
  hedges          bigint NOT NULL DEFAULT 0,
  in_doubt        bigint NOT NULL DEFAULT 0,
  -- [{"at": timestamptz, "batch": int or null, "reason": text}], the first 100 kept.
  errors          jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(errors) = 'array')
);

-- list_tasks: newest first, keyset-paginated on (created_at, id).
CREATE INDEX tasks_created_at_idx ON tasks (created_at DESC, id DESC);

CREATE TABLE batches (
  task_id        uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  batch_no       integer NOT NULL CHECK (batch_no >= 0),
  first_page     integer NOT NULL CHECK (first_page >= 1),
  last_page      integer NOT NULL,
  state          text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'posting', 'posted', 'failed', 'skipped')),
  attempts       integer NOT NULL DEFAULT 0,
  posted_count   integer NOT NULL DEFAULT 0,
  rejected_count integer NOT NULL DEFAULT 0,
  in_doubt       boolean NOT NULL DEFAULT false,
  error          text,
  claimed_by     text,  -- the job (queue entry id) whose claim moved it to posting
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (task_id, batch_no),
  CHECK (last_page >= first_page)
);

-- The ids a batch claimed for posting: one owner per id per task, across batches.
CREATE TABLE task_ids (
  task_id   uuid NOT NULL,
  animal_id bigint NOT NULL,
  batch_no  integer NOT NULL,
  PRIMARY KEY (task_id, animal_id),
  FOREIGN KEY (task_id, batch_no) REFERENCES batches (task_id, batch_no) ON DELETE CASCADE
);
CREATE INDEX task_ids_batch_idx ON task_ids (task_id, batch_no);

CREATE TABLE rejected_records (
  id         bigserial PRIMARY KEY,
  task_id    uuid NOT NULL,
  batch_no   integer NOT NULL,
  animal_id  bigint,
  reason     text NOT NULL,
  raw        text,
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (task_id, batch_no) REFERENCES batches (task_id, batch_no) ON DELETE CASCADE
);
CREATE INDEX rejected_records_task_idx ON rejected_records (task_id, batch_no);
