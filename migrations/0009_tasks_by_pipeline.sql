-- GET /extractor/tasks?pipeline=NAME: one pipeline's tasks, newest first, read from an index as
-- the unfiltered list is.
CREATE INDEX tasks_pipeline_created_at_idx ON tasks (pipeline, created_at DESC, id DESC);
