-- issue 51: who held each task when. ``task_holds``: one row per stretch of time an agent
-- held a task (status assigned or in progress, the task's ``assignee``), ``until`` NULL
-- while it still does; written by the database on every change of a task's status or
-- assignee (whichever statement made it), stamped with the task's ``updated_at`` (a task is
-- made with no holder: no trigger on insert, so a copy of the database adds no row). A turn
-- read from a CLI's own files goes on the task its agent held when the turn began
-- (core.tasks.queries.held_at), not the one it holds when the file is read
-- step
CREATE TABLE task_holds (
        id INTEGER PRIMARY KEY,
        task_id INTEGER NOT NULL,
        agent TEXT NOT NULL,
        since REAL NOT NULL,
        until REAL
)
-- step
CREATE INDEX task_holds_agent ON task_holds (agent, since)
-- step
CREATE INDEX task_holds_open ON task_holds (task_id) WHERE until IS NULL
-- step
INSERT INTO task_holds (task_id, agent, since) SELECT id, assignee, COALESCE(assigned_at, updated_at) FROM tasks WHERE status IN ('assigned', 'in_progress') AND assignee IS NOT NULL
-- step
CREATE TRIGGER task_holds_change AFTER UPDATE OF status, assignee ON tasks WHEN (CASE WHEN OLD.status IN ('assigned', 'in_progress') THEN OLD.assignee END) IS NOT (CASE WHEN NEW.status IN ('assigned', 'in_progress') THEN NEW.assignee END) BEGIN UPDATE task_holds SET until = NEW.updated_at WHERE task_id = NEW.id AND until IS NULL; INSERT INTO task_holds (task_id, agent, since) SELECT NEW.id, NEW.assignee, NEW.updated_at WHERE NEW.status IN ('assigned', 'in_progress') AND NEW.assignee IS NOT NULL; END
