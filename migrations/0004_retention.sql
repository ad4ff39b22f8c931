-- The retention clean-up (ETL_RETENTION) deletes finished tasks by the time they finished,
-- oldest first: this index finds them without reading the live ones. Their batches, claimed ids
-- and rejected records go with them through the ON DELETE CASCADE foreign keys.
CREATE INDEX tasks_finished_at_idx ON tasks (finished_at)
  WHERE status IN ('succeeded', 'failed', 'cancelled');
