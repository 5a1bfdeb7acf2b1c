-- Whether any task waits for a task (issue 25): a done task without dependents reads
-- none (on PostgreSQL that read was a statement and a round trip holding them). Set
-- by a trigger on every task_deps row added, as an update of the task's row, so on
-- PostgreSQL a done that waited for the writer adding a dependent gets the flag from
-- the row version it updates (RETURNING): exact beside concurrent writers.
-- step
ALTER TABLE tasks ADD COLUMN has_dependents INTEGER NOT NULL DEFAULT 0
-- step
UPDATE tasks SET has_dependents = 1 WHERE id IN (SELECT dep_id FROM task_deps)
-- step
CREATE TRIGGER task_deps_mark AFTER INSERT ON task_deps BEGIN UPDATE tasks SET has_dependents = 1 WHERE id = NEW.dep_id AND has_dependents = 0; END
-- step
SELECT 1
