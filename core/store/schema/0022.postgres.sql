-- SQLite's indexes for its hot path (issue 25, h-sqlite); on PostgreSQL every step
-- is a no-op ("SELECT 1"). The outbox's (txid, id) index goes: on SQLite every
-- event's txid is 0 and consumers read in id order, so it only cost a B-tree insert
-- per event (2.7 of a lifecycle's 28.7 WAL pages). The (assignee, status) index of
-- every task becomes one of the active tasks only: each query by assignee asks for
-- the active ones (an agent's load, its task in flight, live reservations), and the
-- full index moved an entry at each status change of every task, held or not (3.3 WAL
-- pages per lifecycle)
-- step
SELECT 1
-- step
SELECT 1
-- step
SELECT 1
