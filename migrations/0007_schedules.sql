-- Pipeline schedules (docs/pipelines.md, "Schedules"): the latest scheduled time each pipeline's
-- schedule has dealt with, and the task it started then (null when that run was skipped:
-- missed by more than the grace, or the first time a server saw the schedule).
CREATE TABLE pipeline_schedules (
  pipeline   text PRIMARY KEY,
  last_due   timestamptz NOT NULL,
  last_task  uuid,
  note       text NOT NULL DEFAULT '',
  updated_at timestamptz NOT NULL DEFAULT now()
);
