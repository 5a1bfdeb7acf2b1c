-- state in columns, not strings (issue 25): a deferred delivery's flag (its reason
-- keeps only the human text, no "deferred: " prefix), the claiming node's name and
-- its run apart (``node`` held "name:run"; split at the last ":", as rsplit did), and
-- what a blocked task waits for, derived from its reason; the rows there converted
-- step
ALTER TABLE deliveries ADD COLUMN deferred BIGINT NOT NULL DEFAULT 0
-- step
ALTER TABLE deliveries ADD COLUMN node_run TEXT
-- step
ALTER TABLE tasks ADD COLUMN blocked_on TEXT
-- step
UPDATE deliveries SET deferred = 1, reason = substr(reason, 11) WHERE substr(reason, 1, 10) = 'deferred: '
-- step
UPDATE deliveries SET node_run = substr(node, length(rtrim(node, replace(node, ':', ''))) + 1), node = substr(node, 1, length(rtrim(node, replace(node, ':', ''))) - 1) WHERE node LIKE '%:%'
-- step
UPDATE tasks SET blocked_on = CASE WHEN kind = 'gate' AND reason = 'waiting for approval' THEN 'gate' WHEN reason IS NULL OR substr(reason, 1, 7) = 'waiting' THEN 'dependencies' WHEN substr(reason, 1, 11) = 'dependency ' THEN 'dependency_failed' ELSE 'person' END WHERE status = 'blocked'
-- step
CREATE INDEX tasks_blocked_on ON tasks (blocked_on, id) WHERE blocked_on IS NOT NULL
