-- What each batch delivered to each of its pipeline's sinks, written in the transaction that
-- records the batch as delivered: one object per sink in the spec's order, {"kind", "target"
-- (the table or folder), "rows", and for a files sink "files"}. The task sums them per sink
-- (GET /extractor/tasks/{id}: sinks). Null for animals' batches and for those not delivered.
ALTER TABLE batches ADD COLUMN sinks jsonb
  CHECK (sinks IS NULL OR jsonb_typeof(sinks) = 'array');
