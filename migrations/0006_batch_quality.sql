-- Data-quality checks of the pipelines that declare them (docs/pipelines.md, "Checks"): what
-- each batch's checks found, written in the transaction that records the batch, and shown on
-- its task.
ALTER TABLE batches ADD COLUMN quality jsonb
  CHECK (quality IS NULL OR jsonb_typeof(quality) = 'object');
