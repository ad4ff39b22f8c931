-- Closing the holes in "every id posted once, or reported":
--
-- * batches.claim_fence: the delivery count of the job run whose claim the row holds. Together
--   with claimed_by (the job's queue entry id) it fences two live runs of one job: a reclaimed
--   delivery keeps its entry id but counts one more delivery, so a run that finds a higher fence
--   on its batch knows it is stale and stops.
-- * tasks.plan_job: the outbox of the trigger. NULL from the task's insert until its plan job is
--   in the queue; a server that died in between leaves it NULL, and a sweep enqueues the plan.
-- * tasks.planned_by: the plan job (queue entry id) whose plan started the task; a second plan
--   job of the same task (the sweep raced a slow trigger) finds it and enqueues nothing.
-- * tasks.duplicates: ids the listing showed more than once, so that posted + rejected +
--   duplicates reconciles with what the source listed.
-- * batches.audit_error: why a posted batch's audit dump could not be written, so that
--   etl-verify says why its ids have no dump instead of calling them missing.
-- * etl_append_error: a task keeps its first 50 and its last 50 errors, so the final summary of
--   a big failure is never the one dropped.
ALTER TABLE batches ADD COLUMN claim_fence bigint NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN audit_error text;

ALTER TABLE tasks ADD COLUMN plan_job text;
ALTER TABLE tasks ADD COLUMN planned_by text;
ALTER TABLE tasks ADD COLUMN duplicates bigint NOT NULL DEFAULT 0;
-- Tasks from before this migration had their plan job enqueued by the trigger that made them.
UPDATE tasks SET plan_job = '' WHERE plan_job IS NULL;
CREATE INDEX tasks_plan_outbox_idx ON tasks (created_at) WHERE plan_job IS NULL;

CREATE FUNCTION etl_append_error(errors jsonb, batch_no integer, reason text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN jsonb_array_length(errors) < 100 THEN errors || entry
    ELSE jsonb_path_query_array(errors, '$[0 to 49]') ||
         jsonb_path_query_array(errors, '$[51 to last]') || entry
  END
  FROM (SELECT jsonb_build_array(jsonb_build_object('at', now(), 'batch', batch_no,
                                                    'reason', reason)) AS entry) AS e
$$;
