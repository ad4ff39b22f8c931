-- task_ids without its foreign key to batches. A claim inserts a row per id, and the key checked
-- each row with a query of its own: a fifth of the claim's Postgres CPU (bench/README.md, "What a
-- claim costs Postgres"). The claim inserts ids only for the batch row it holds locked in the
-- same transaction, so the reference holds without the check; the retention clean-up deletes a
-- task's ids with the task, which the key's cascade did before.
ALTER TABLE task_ids DROP CONSTRAINT task_ids_task_id_batch_no_fkey;
