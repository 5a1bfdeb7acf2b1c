-- Message targets in columns, not a grammar (issue 42, item 4): ``target`` held
-- "agent:X", "role:R", "all", "note:X", "reset:X" or "withdraw:X", parsed with LIKE and
-- substr; now its kind (core.models.TargetKind) and the agent or role it names. The rows
-- there converted (a target without a known prefix names an agent, as a plain message's
-- did), then the old column dropped. A prompt schedule's target ("agent:X", "role:R",
-- "all"; NULL for a summary) the same way.
-- step
ALTER TABLE messages ADD COLUMN target_kind TEXT NOT NULL DEFAULT 'agent'
-- step
ALTER TABLE messages ADD COLUMN target_name TEXT
-- step
UPDATE messages SET target_kind = CASE WHEN target = 'all' THEN 'all' WHEN split_part(target, ':', 1) IN ('agent', 'role', 'note', 'reset', 'withdraw') AND strpos(target, ':') > 0 THEN split_part(target, ':', 1) ELSE 'agent' END, target_name = CASE WHEN target = 'all' THEN NULL WHEN split_part(target, ':', 1) IN ('agent', 'role', 'note', 'reset', 'withdraw') AND strpos(target, ':') > 0 THEN substr(target, strpos(target, ':') + 1) ELSE target END
-- step
ALTER TABLE messages DROP COLUMN target
-- step
ALTER TABLE schedules ADD COLUMN target_kind TEXT
-- step
ALTER TABLE schedules ADD COLUMN target_name TEXT
-- step
UPDATE schedules SET target_kind = CASE WHEN target = 'all' THEN 'all' WHEN strpos(target, ':') > 0 THEN split_part(target, ':', 1) ELSE 'agent' END, target_name = CASE WHEN target = 'all' THEN NULL WHEN strpos(target, ':') > 0 THEN substr(target, strpos(target, ':') + 1) ELSE target END WHERE target IS NOT NULL
-- step
ALTER TABLE schedules DROP COLUMN target
