-- An Idempotency-Key names its task for a retention window (ETL_IDEMPOTENCY_RETENTION, 24 h by
-- default), after which the same key may start a new task: a key is no longer unique over all
-- time. tasks_repository::create_task serializes the callers of one key with a transaction-level
-- advisory lock instead, and finds the key's newest task through this index.
ALTER TABLE tasks DROP CONSTRAINT tasks_idempotency_key_key;
CREATE INDEX tasks_idempotency_key_idx ON tasks (idempotency_key, created_at DESC)
  WHERE idempotency_key IS NOT NULL;
