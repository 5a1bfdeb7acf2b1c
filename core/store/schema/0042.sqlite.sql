-- issue 79: a task's diff is its own. What an agent's worktree held outside its commits when
-- the turn began (``start_files``: JSON, each tracked file changed but not committed and each
-- untracked file git does not ignore, by name, with its size, time and blob id), so that the
-- turn's diff leaves out what an earlier task left there; and the turns of one worktree in
-- order (``task_work_path``: the turn after, whose start ends what a turn left)
-- step
ALTER TABLE task_work ADD COLUMN start_files TEXT
-- step
CREATE INDEX task_work_path ON task_work (path, started_at)
