"""Task lifecycle rules. Each function runs inside one write transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from core.agent_state import AgentState, Observation, Signal
from core.agents import signals as agent_signals
from core.context import Ctx, check_chars
from core.errors import (
    DependencyError,
    InvalidInput,
    InvalidState,
    MissingDependency,
    NotFound,
    Unassignable,
)
from core.event_kinds import EventKind
from core.formats.text import invisible_removed, strip_invisible
from core.models import (
    ACTIVE,
    BlockedOn,
    Priority,
    Target,
    TargetKind,
    TaskSpec,
    TaskStatus,
    parse_task_ref,
    task_ref,
)
from core.reservations import reserving
from core.store.conn import Args, Conn
from core.store.row_locks import hold, read_held
from core.store.tables import get_task, held_task, insert_event, task_exists
from core.tasks import campaign_end, messages, queries, rules
from core.tasks.actions import TaskAction, require

if TYPE_CHECKING:
    from core.models import Task

KINDS = ("work", "gate", "on_failure", "skip")


def create_tasks(
    conn: Conn,
    ctx: Ctx,
    specs: Sequence[TaskSpec],
    plan_id: str | None = None,
    campaign_id: int | None = None,
) -> list[int]:
    """Validate and insert a batch of tasks (refs may point at each other); return ids."""
    checked, (order, local, external) = _checked(conn, ctx, specs)
    # the stored dependencies are held: one finishing now either commits first (its status
    # is read below) or waits for this commit (its dependents, these tasks included, settle)
    hold(conn, "tasks", [d for deps in external for d in deps])
    refs = {s.ref: i for i, s in enumerate(specs) if s.ref}
    ids: dict[int, int] = {}
    free: list[int] = []  # a run of tasks with nothing to wait for: inserted together
    for index in order:
        spec = checked[index].spec
        if not (external[index] or local[index] or spec.on_failure) and spec.kind != "skip":
            free.append(index)
            continue
        ids.update(
            _insert_free(conn, ctx, [checked[i] for i in free], free, (plan_id, campaign_id))
        )
        free = []
        deps = sorted({*external[index], *(ids[j] for j in local[index])})
        triggers = {
            ids[refs[d]] if isinstance(d, str) and d in refs else _existing_dep(conn, d)
            for d in spec.on_failure
        }
        ids[index] = _insert_task(
            conn, ctx, checked[index], deps, (plan_id, campaign_id), sorted(triggers)
        )
    ids.update(_insert_free(conn, ctx, [checked[i] for i in free], free, (plan_id, campaign_id)))
    return [ids[i] for i in range(len(specs))]


def check_tasks(conn: Conn, ctx: Ctx, specs: Sequence[TaskSpec]) -> None:
    """Every check ``create_tasks`` makes on ``specs``, with nothing written (a dry run: an
    insert rolled back would still use up task numbers on PostgreSQL, whose sequences do not
    roll back)."""
    _checked(conn, ctx, specs)


class Checked(NamedTuple):
    """A spec as checked: its text cleaned, its priority, how many invisible characters
    were taken out of its title and details (said in its ``task.created`` event)."""

    spec: TaskSpec
    priority: Priority
    invisible: int


def _checked(
    conn: Conn, ctx: Ctx, specs: Sequence[TaskSpec]
) -> tuple[list[Checked], tuple[list[int], list[list[int]], list[list[int]]]]:
    if not specs:
        raise InvalidInput("nothing to create")
    return [_check_spec(ctx, spec) for spec in specs], _resolve_after(conn, specs)


def _check_spec(ctx: Ctx, spec: TaskSpec) -> Checked:
    if "\n" in spec.title.strip():
        raise InvalidInput("title must be one line: put the rest in details")
    title, hidden_title = strip_invisible(spec.title)
    title = ctx.check_text(title, "title", ctx.settings.max_title, one_line=True)
    details, hidden_details = strip_invisible(spec.details)
    details = check_chars(details.replace("\r\n", "\n").strip(), "details", one_line=False)
    if len(details) > ctx.settings.max_text:
        raise InvalidInput(
            f"details are {len(details)} characters long: the limit is {ctx.settings.max_text}"
        )
    priority = Priority.parse(spec.priority)
    role = ctx.check_role(spec.role.strip()) if spec.role and spec.role.strip() else None
    caps = tuple(
        sorted({check_chars(c.strip(), "capability") for c in spec.capabilities if c.strip()})
    )
    agent = ctx.agent(spec.agent).id if spec.agent else None
    if agent is not None and not ctx.agents[agent].can_take(role, caps):
        raise Unassignable(
            f"{agent} ({ctx.agents[agent].role}) cannot take a task for {_need(role, caps)}"
        )
    if agent is None and not any(a.can_take(role, caps) for a in ctx.agents.values()):
        raise Unassignable(f"no configured agent can take a task for {_need(role, caps)}")
    if spec.kind not in KINDS:
        raise InvalidInput(f"unknown task kind {spec.kind!r}: kinds are {', '.join(KINDS)}")
    clean = TaskSpec(
        title,
        details,
        priority,
        role,
        caps,
        agent,
        spec.after,
        spec.ref,
        spec.kind,
        spec.on_failure,
    )
    return Checked(clean, priority, hidden_title + hidden_details)


def _need(role: str | None, caps: tuple[str, ...]) -> str:
    parts = [f"role {role}"] if role else []
    parts += [f"capabilities {', '.join(caps)}"] if caps else []
    return " and ".join(parts) or "anyone"


def _resolve_after(
    conn: Conn, specs: Sequence[TaskSpec]
) -> tuple[list[int], list[list[int]], list[list[int]]]:
    """Split each spec's ``after`` into batch-local indexes and stored task ids; order them."""
    refs = {s.ref: i for i, s in enumerate(specs) if s.ref}
    local: list[list[int]] = []
    external: list[list[int]] = []
    for spec in specs:
        mine_local, mine_ext = [], []
        for dep in dict.fromkeys((*spec.after, *spec.on_failure)):
            if isinstance(dep, str) and dep in refs:
                mine_local.append(refs[dep])
            else:
                mine_ext.append(_existing_dep(conn, dep))
        local.append(mine_local)
        external.append(mine_ext)
    return _topological(specs, local), local, external


def _existing_dep(conn: Conn, dep: str | int) -> int:
    try:
        dep_id = parse_task_ref(dep)
    except NotFound:
        raise DependencyError(f"dependency {dep!r} does not exist") from None
    if not task_exists(conn, dep_id):
        raise MissingDependency(f"dependency {task_ref(dep_id)} does not exist")
    return dep_id


def _topological(specs: Sequence[TaskSpec], local: list[list[int]]) -> list[int]:
    """Indexes in an order where dependencies come first; DependencyError on a cycle."""
    order: list[int] = []
    state = [0] * len(specs)  # 0 new, 1 on the path, 2 placed
    for root in range(len(specs)):
        stack = [(root, iter(local[root]))]
        if state[root]:
            continue
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[node] = 2
                order.append(node)
            elif state[child] == 1:
                path = [specs[n].ref or str(n) for n, _ in stack] + [specs[child].ref or ""]
                raise DependencyError(f"dependency cycle: {' -> '.join(path)}")
            elif state[child] == 0:
                state[child] = 1
                stack.append((child, iter(local[child])))
    return order


def _insert_task(
    conn: Conn,
    ctx: Ctx,
    checked: Checked,
    deps: list[int],
    group: tuple[str | None, int | None],
    triggers: list[int],
) -> int:
    # no failure triggers: the rule is decided before the insert (from its dependencies'
    # states: held by ``create_tasks`` or created by this transaction) and the task is
    # stored as it decides, no read-back and no update (unless it skips the task, which also
    # settles dependents: see ``_apply_rule``); a task with triggers settles after its insert
    spec, priority = checked.spec, checked.priority
    first = rules.decide(spec.kind, _states_of(conn, deps)) if not triggers else None
    stored = first if first is not None and first.status != "skipped" else _UNSETTLED
    cur = conn.execute(
        f"INSERT INTO tasks ({_TASK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
        "$10, $11, $12, $13, $14, $15, $16) RETURNING id",
        (
            spec.title,
            spec.details,
            int(priority),
            spec.role,
            json.dumps(list(spec.capabilities)),
            spec.agent,
            *_columns(stored),
            ctx.settings.max_attempts,
            ctx.actor,
            ctx.now,
            ctx.now,
            *group,
            spec.kind,
        ),
    )
    task_id = int(cur.fetchone()["id"])
    conn.executemany(
        "INSERT INTO task_deps (task_id, dep_id) VALUES ($1, $2)",
        [(task_id, d) for d in sorted({*deps, *triggers})],
    )
    if triggers:
        conn.executemany(
            "INSERT INTO task_triggers (task_id, dep_id) VALUES ($1, $2)",
            [(task_id, d) for d in triggers],
        )
    _created_event(conn, ctx, task_id, checked, deps)
    if first is None:
        settle(conn, ctx, task_id)
    elif stored == first:
        _rule_event(conn, ctx, task_id, first)
    else:
        _apply_rule(conn, ctx, task_id, stored, first)
    return task_id


def _states_of(conn: Conn, deps: list[int]) -> list[tuple[int, str, bool]]:
    """The dependencies ``deps`` (ids in order) with their status, none a trigger, as
    ``dependency_states`` reads them for a stored task; no statement without any."""
    found: list[tuple[int, str, bool]] = []
    for at in range(0, len(deps), _FREE_ROWS * 8):  # well under the parameters SQLite binds
        args = Args()
        marks = args.many(deps[at : at + _FREE_ROWS * 8])
        rows = conn.execute(f"SELECT id, status FROM tasks WHERE id IN ({marks}) ORDER BY id", args)
        found += [(r["id"], r["status"], False) for r in rows]
    return found


_TASK_COLUMNS = (
    "title, details, priority, role, capabilities, pinned_agent, status, reason, blocked_on, "
    "max_attempts, created_by, created_at, updated_at, plan_id, campaign_id, kind"
)
_FREE_ROWS = 62  # tasks per INSERT (16 parameters each: SqliteConn binds up to $1000)


def _insert_free(
    conn: Conn,
    ctx: Ctx,
    checked: list[Checked],
    indexes: list[int],
    group: tuple[str | None, int | None],
) -> dict[int, int]:
    """Insert tasks with nothing to wait for (no dependency, no trigger, not ``skip``), in
    their order, a multi-row INSERT per ``_FREE_ROWS``: each is stored as its rule decides
    (ready, or a gate awaiting approval) with its two events, as ``_insert_task`` does;
    index -> id. The ids come back sorted: both databases number the rows of one INSERT in
    the order of its VALUES."""
    made: dict[int, int] = {}
    for at in range(0, len(checked), _FREE_ROWS):
        chunk = checked[at : at + _FREE_ROWS]
        args = Args()
        rows = []
        for spec, priority, _ in chunk:
            values_ = (
                *(spec.title, spec.details, int(priority), spec.role),
                *(json.dumps(list(spec.capabilities)), spec.agent),
                *_columns(rules.decide(spec.kind, [])),
                *(ctx.settings.max_attempts, ctx.actor, ctx.now, ctx.now, *group, spec.kind),
            )
            rows.append(f"({args.many(values_)})")
        cur = conn.execute(
            f"INSERT INTO tasks ({_TASK_COLUMNS}) VALUES {', '.join(rows)} RETURNING id", args
        )
        new_ids = sorted(int(r["id"]) for r in cur.fetchall())
        for index, task_id, one in zip(indexes[at : at + _FREE_ROWS], new_ids, chunk, strict=True):
            _created_event(conn, ctx, task_id, one, [])
            _rule_event(conn, ctx, task_id, rules.decide(one.spec.kind, []))
            made[index] = task_id
    return made


def _created_event(conn: Conn, ctx: Ctx, task_id: int, checked: Checked, deps: list[int]) -> None:
    spec, priority, invisible = checked
    after = f" after {', '.join(task_ref(d) for d in deps)}" if deps else ""
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_CREATED,
        f"{task_ref(task_id)} created by {ctx.actor}: {spec.title} "
        f"({priority.name}{', ' + spec.role if spec.role else ''}){after}"
        + (f"; {invisible_removed(invisible)}" if invisible else ""),
        task_id=task_id,
        agent=spec.agent,
        actor=ctx.actor,
        data={"invisible_removed": invisible} if invisible else None,
    )


# A task stored before its rule is applied (in the same transaction): it waits.
_UNSETTLED = rules.Rule(TaskStatus.blocked, None, BlockedOn.dependencies)


def dependency_states(
    conn: Conn, task_id: int, triggers: bool = True
) -> list[tuple[int, str, bool]]:
    """Each dependency of a task: its id, its status and whether it is a failure trigger
    (only an ``on_failure`` task has triggers: ``triggers=False`` skips the lookup)."""
    if not triggers:
        plain = conn.execute(
            "SELECT t.id, t.status FROM task_deps d JOIN tasks t ON "
            "t.id = d.dep_id WHERE d.task_id = $1 ORDER BY t.id",
            (task_id,),
        )
        return [(r["id"], r["status"], False) for r in plain]
    rows = conn.execute(
        "SELECT t.id, t.status, g.dep_id IS NOT NULL AS trig FROM task_deps d "
        "JOIN tasks t ON t.id = d.dep_id LEFT JOIN task_triggers g "
        "ON g.task_id = d.task_id AND g.dep_id = d.dep_id WHERE d.task_id = $1 ORDER BY t.id",
        (task_id,),
    ).fetchall()
    return [(r["id"], r["status"], bool(r["trig"])) for r in rows]


def settle(conn: Conn, ctx: Ctx, task_id: int) -> None:
    """Put a not-yet-started task in ``ready``, ``blocked`` (with its reason) or ``skipped``,
    by the rule of its kind (:mod:`core.tasks.rules`). Its row is held first: two of its
    dependencies finishing at once settle it one after the other, the second seeing both."""
    row = read_held(conn, "tasks", "status, reason, kind, blocked_on", task_id)
    if row["status"] not in (TaskStatus.blocked, TaskStatus.ready):
        return
    deps = dependency_states(conn, task_id, triggers=row["kind"] == "on_failure")
    _apply_rule(conn, ctx, task_id, _stored_rule(row), rules.decide(row["kind"], deps))


def _stored_rule(row: Any) -> rules.Rule:
    """The rule a task's row holds (status, reason, blocked_on)."""
    on = row["blocked_on"]
    return rules.Rule(TaskStatus(row["status"]), row["reason"], BlockedOn(on) if on else None)


def _columns(rule: rules.Rule) -> tuple[str, str | None, str | None]:
    """A rule as stored: status, reason, blocked_on."""
    return rule.status.value, rule.reason, rule.on.value if rule.on else None


def _apply_rule(conn: Conn, ctx: Ctx, task_id: int, was: rules.Rule, now: rules.Rule) -> None:
    """Store a not-yet-started task's new rule ``now`` (status, reason, what it waits for)
    when it differs from what it ``was``, with its event."""
    if now == was:
        return
    skipped = now.status is TaskStatus.skipped
    conn.execute(
        "UPDATE tasks SET status = $1, reason = $2, blocked_on = $3, updated_at = $4, "
        "finished_at = $5 WHERE id = $6",
        (*_columns(now), ctx.now, ctx.now if skipped else None, task_id),
    )
    _rule_event(conn, ctx, task_id, now)
    if skipped:
        settle_dependents(conn, ctx, task_id)


def _rule_event(conn: Conn, ctx: Ctx, task_id: int, now: rules.Rule) -> None:
    """The event of a not-yet-started task's rule ``now``."""
    ref = task_ref(task_id)
    text = (
        f"{ref} is ready"
        if now.status is TaskStatus.ready
        else f"{ref} is {now.reason}"
        if now.status is TaskStatus.skipped
        else f"{ref} is blocked: {now.reason}"
    )
    insert_event(conn, ctx.now, rules.event_kind(now), text, task_id=task_id, actor=ctx.actor)


def settle_dependents(
    conn: Conn, ctx: Ctx, task_id: int, *, campaign: bool = True, dependents: bool = True
) -> None:
    """Re-evaluate every task that depends directly on ``task_id`` (``campaign=False``: the
    caller knows the task is in no campaign, so no campaign can have finished;
    ``dependents=False``: the caller read the task's ``has_dependents`` 0 from the row it
    updated, so none are read). The dependents are held first (``queries.hold_dependents``),
    then read in a statement of their own, only when there are any."""
    rows = []
    if dependents and queries.hold_dependents(conn, task_id):
        rows = queries.dependents(conn, task_id)
    found: dict[int, tuple[rules.Rule, str, list[tuple[int, str, bool]]]] = {}
    for row in rows:
        entry = found.setdefault(row["id"], (_stored_rule(row), row["kind"], []))
        entry[2].append((row["dep"], row["dep_status"], False))
    cascaded = False  # a dependent skipped: it settled others, whose rows read above are stale
    for dependent, (was, kind, deps) in found.items():
        if cascaded or kind == "on_failure":  # failure triggers: read with their flags
            settle(conn, ctx, dependent)
            cascaded = True  # it may have been skipped (and settled others)
            continue
        now = rules.decide(kind, deps)
        _apply_rule(conn, ctx, dependent, was, now)
        cascaded = now.status is TaskStatus.skipped and was != now
    if campaign:
        campaign_end.note_if_finished(conn, ctx, task_id)


def add_dependencies(conn: Conn, ctx: Ctx, task_id: int, after: list[int]) -> None:
    """Make a not-yet-started task wait for more tasks; refuse cycles."""
    hold(conn, "tasks", [task_id, *after])  # in id order, with the new dependencies
    task = get_task(conn, task_id)
    if task.status not in (TaskStatus.blocked, TaskStatus.ready):
        raise InvalidState(
            f"{task.ref} is {task.status.value}: only a task not yet started "
            "can get new dependencies"
        )
    for dep in after:
        _existing_dep(conn, dep)
        if dep == task_id or _reaches(conn, dep, task_id):
            raise DependencyError(
                f"{task_ref(dep)} already depends on {task.ref}: that would make a dependency cycle"
            )
    conn.executemany(
        "INSERT INTO task_deps (task_id, dep_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(task_id, d) for d in after],
    )
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_DEPENDENCIES,
        f"{task.ref} now waits for {', '.join(task_ref(d) for d in after)}",
        task_id=task_id,
        actor=ctx.actor,
    )
    settle(conn, ctx, task_id)


def _reaches(conn: Conn, start: int, target: int) -> bool:
    """True when ``start`` depends, directly or not, on ``target``."""
    row = conn.execute(
        "WITH RECURSIVE up(id) AS (SELECT $1 UNION SELECT d.dep_id FROM task_deps d "
        "JOIN up ON d.task_id = up.id) SELECT 1 FROM up WHERE id = $2 LIMIT 1",
        (start, target),
    ).fetchone()
    return row is not None


def _active(conn: Conn, task_id: int, action: str) -> tuple[str, str]:
    # held: a concurrent report or cancel of the task waits, then reads what this one wrote
    row = read_held(conn, "tasks", "status, assignee", task_id)
    if row is None:
        get_task(conn, task_id)  # raises NotFound
    if row["status"] not in {s.value for s in ACTIVE}:
        raise InvalidState(
            f"{task_ref(task_id)} is {row['status']}: only an assigned or in-progress task "
            f"can be {action}"
        )
    return row["status"], row["assignee"]


def start(conn: Conn, ctx: Ctx, task_id: int, note: str = "", force: bool = False) -> None:
    """The agent acknowledges the task or reports progress: it is now in progress."""
    status, agent = _active(conn, task_id, "started")
    by, data = ctx.report_by(task_ref(task_id), agent, force)
    note = ctx.check_text(note, "note") if note.strip() else ""
    conn.execute(
        "UPDATE tasks SET status = 'in_progress', started_at = COALESCE(started_at, $1), "
        "lease_expires_at = NULL, updated_at = $2 WHERE id = $3",
        (ctx.now, ctx.now, task_id),
    )
    _touch_agent(conn, ctx, agent)
    kind = EventKind.TASK_STARTED if status == "assigned" else EventKind.TASK_PROGRESS
    text = f"{task_ref(task_id)} {'started' if status == 'assigned' else 'progress'} by {agent}"
    _reported(conn, ctx, agent, AgentState.WORKING, text)
    insert_event(
        conn,
        ctx.now,
        kind,
        f"{text}{by}: {note}" if note else text + by,
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
        data={**(data or {}), "note": note} if note else data,
    )


def add_note(conn: Conn, ctx: Ctx, task_id: int, note: str, force: bool = False) -> None:
    """A progress note on an active task (kept for whoever takes the task over)."""
    _, agent = _active(conn, task_id, "noted")
    by, data = ctx.report_by(task_ref(task_id), agent, force)
    note = ctx.check_text(note, "note")
    _touch_agent(conn, ctx, agent)
    _reported(conn, ctx, agent, AgentState.WORKING, f"{task_ref(task_id)} note by {agent}")
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_NOTE,
        f"{task_ref(task_id)} note by {agent}{by}: {note}",
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
        data={**(data or {}), "note": note},
    )


def complete(conn: Conn, ctx: Ctx, task_id: int, note: str = "", force: bool = False) -> None:
    """The task is done: record the note, credit the agent, release its dependents. The row
    is updated by the statement that reads its holder, which also credits it and stores its
    report signal (``queries.mark_done``); a check that fails after it raises, and the
    transaction is rolled back (nothing written)."""
    try:
        note, bad = (ctx.check_text(note, "note") if note.strip() else ""), None
    except InvalidInput as exc:
        note, bad = "", exc
    row = queries.mark_done(
        conn, task_id=task_id, note=note, now=ctx.now, window=ctx.settings.success_window
    )
    if row is None:
        _active(conn, task_id, "marked done")  # raises: NotFound, or its status
        raise InvalidState(f"{task_ref(task_id)} is not active")  # (read as active: a race)
    agent, campaign_id, reserved = row["assignee"], row["campaign_id"], bool(row["reserved"])
    by, data = ctx.report_by(task_ref(task_id), agent, force)
    if bad is not None:
        raise bad
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_DONE,
        f"{task_ref(task_id)} done by {agent}{by}" + (f": {note}" if note else ""),
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
        data={**(data or {}), "note": note} if note else data,
    )
    if reserved:  # none taken for the task: nothing to release (no statement)
        reserving.task_ended(conn, ctx, task_id, agent, "done")
    settle_dependents(
        conn,
        ctx,
        task_id,
        campaign=campaign_id is not None,
        dependents=bool(row["has_dependents"]),
    )


def fail(conn: Conn, ctx: Ctx, task_id: int, reason: str, force: bool = False) -> None:
    """The agent could not do the task; its dependents become blocked with the reason."""
    reason = ctx.check_text(reason, "reason", one_line=True)
    _, agent = _active(conn, task_id, "failed")
    by, data = ctx.report_by(task_ref(task_id), agent, force)
    _reported(conn, ctx, agent, AgentState.IDLE, f"{task_ref(task_id)} failed by {agent}")
    finish_failed(conn, ctx, task_id, agent, reason, by=by, data=data)


def finish_failed(
    conn: Conn,
    ctx: Ctx,
    task_id: int,
    agent: str | None,
    reason: str,
    *,
    by: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """Mark a task failed for ``reason`` (by its agent, or by the scheduler)."""
    conn.execute(
        "UPDATE tasks SET status = 'failed', reason = $1, blocked_on = NULL, finished_at = $2, "
        "lease_expires_at = NULL, "
        "updated_at = $3 WHERE id = $4",
        (reason, ctx.now, ctx.now, task_id),
    )
    window = ctx.settings.success_window
    queries.credit(conn, agent, success=False, now=ctx.now, window=window)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_FAILED,
        f"{task_ref(task_id)} failed{by}: {reason}",
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
        data=data,
    )
    reserving.task_ended(conn, ctx, task_id, agent, "failed")
    settle_dependents(conn, ctx, task_id)


def cancel(conn: Conn, ctx: Ctx, task_id: int) -> None:
    """Stop a task that has not finished; tell its agent if one holds it."""
    task = held_task(conn, task_id)
    require(task, TaskAction.cancel)
    conn.execute(
        "UPDATE tasks SET status = 'cancelled', blocked_on = NULL, finished_at = $1, "
        "lease_expires_at = NULL, updated_at = $2 WHERE id = $3",
        (ctx.now, ctx.now, task_id),
    )
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_CANCELLED,
        f"{task.ref} cancelled by {ctx.actor}",
        task_id=task_id,
        agent=task.agent,
        actor=ctx.actor,
    )
    reserving.task_ended(conn, ctx, task_id, task.agent, "cancelled")
    if task.agent and task.status in ACTIVE:
        reached = messages.prompt_reached(conn, task_id, task.agent, task.assigned_at)
        messages.drop_pending(conn, ctx, task_id, task.agent)
        if reached:  # never tell an agent to stop a task it was never told about
            messages.queue(
                conn,
                ctx,
                [task.agent],
                f"{task.ref} ({task.title}) was cancelled: stop working on it.",
                target=Target(TargetKind.agent, task.agent),
            )
    settle_dependents(conn, ctx, task_id)


def retry(conn: Conn, ctx: Ctx, task_id: int) -> None:
    """Give a failed or cancelled task a fresh set of attempts."""
    task = held_task(conn, task_id)
    require(task, TaskAction.retry)
    conn.execute(
        "UPDATE tasks SET status = 'blocked', reason = NULL, blocked_on = 'dependencies', "
        "attempts = 0, prev_agent = assignee, assignee = NULL, finished_at = NULL, "
        "not_before = 0, updated_at = $1 WHERE id = $2",
        (ctx.now, task_id),
    )
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_RETRIED,
        f"{task.ref} retried by {ctx.actor}",
        task_id=task_id,
        actor=ctx.actor,
    )
    settle(conn, ctx, task_id)
    settle_dependents(conn, ctx, task_id)


def pin(conn: Conn, ctx: Ctx, task_id: int, agent_id: str) -> None:
    """Give a task to one agent: it is taken from its current agent if another holds it."""
    agent = ctx.agent(agent_id).id
    task = held_task(conn, task_id)
    require(task, TaskAction.assign)
    conn.execute(
        "UPDATE tasks SET pinned_agent = $1, updated_at = $2 WHERE id = $3",
        (agent, ctx.now, task_id),
    )
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_PINNED,
        f"{task.ref} given to {agent} by {ctx.actor}",
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
    )
    if task.agent and task.agent != agent and task.status in ACTIVE:
        why = f"reassigned to {agent} by {ctx.actor}"
        release(conn, ctx, task_id, why, backoff=0.0, counts=False)


def reopen(conn: Conn, ctx: Ctx, task_id: int, why: str) -> bool:
    """Put a done task back in progress with the agent that did it (a review asks for more
    work: ``why``); False when it is still assigned or in progress (nothing to reopen). Its
    dependents not yet started wait for it again."""
    task = held_task(conn, task_id)
    if task.status in ACTIVE:
        return False
    if task.status is not TaskStatus.done:
        raise InvalidState(
            f"{task.ref} is {task.status.value}: only a done, assigned or in-progress "
            "task can be reopened"
        )
    if not task.agent:
        raise InvalidState(f"{task.ref} has no agent: nobody to reopen it for")
    agent = ctx.agent(task.agent).id  # still configured (NotFound names the agents)
    conn.execute(
        "UPDATE tasks SET status = 'in_progress', finished_at = NULL, reason = NULL, "
        "lease_expires_at = NULL, updated_at = $1 WHERE id = $2",
        (ctx.now, task_id),
    )
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_REOPENED,
        f"{task.ref} reopened for {agent} by {ctx.actor}: {why}",
        task_id=task_id,
        agent=agent,
        actor=ctx.actor,
    )
    settle_dependents(conn, ctx, task_id)
    return True


def requeue(conn: Conn, ctx: Ctx, task_id: int) -> None:
    """A person takes an active task back: it goes to another agent (no backoff)."""
    task = held_task(conn, task_id)
    require(task, TaskAction.reassign)
    if task.pinned:
        conn.execute("UPDATE tasks SET pinned_agent = NULL WHERE id = $1", (task_id,))
    why = f"taken from {task.agent} by {ctx.actor}"
    release(conn, ctx, task_id, why, backoff=0.0, counts=False)


def release(
    conn: Conn,
    ctx: Ctx,
    task_id: int,
    why: str,
    backoff: float,
    *,
    counts: bool = True,
) -> None:
    """Take an active task back from its agent and queue it again after ``backoff`` s; the
    agent is told to stop when its prompt reached it (``withdraw``). ``counts=False``: a
    person moved it, so the turn it ends does not use up one of the task's attempts."""
    task = held_task(conn, task_id)
    reached = turn_reached(conn, task)  # before its prompt in flight is dropped
    conn.execute(
        "UPDATE tasks SET status = 'ready', prev_agent = assignee, assignee = NULL, "
        "lease_expires_at = NULL, not_before = $1, reason = $2, attempts = attempts - $3, "
        "updated_at = $4 WHERE id = $5",
        (ctx.now + backoff, why, 0 if counts or task.attempts < 1 else 1, ctx.now, task_id),
    )
    if task.agent:
        messages.drop_pending(conn, ctx, task_id, task.agent)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_REQUEUED,
        f"{task_ref(task_id)} back in the queue: {why}",
        task_id=task_id,
        agent=task.agent,
        actor=ctx.actor,
        data=None if counts else {"attempt_used": False},
    )
    reserving.task_ended(conn, ctx, task_id, task.agent, "back in the queue")
    if reached and task.agent:
        withdraw(conn, ctx, task, task.agent, why)


def fail_held(conn: Conn, ctx: Ctx, task_id: int, agent: str, reason: str) -> None:
    """The scheduler gives up on a task ``agent`` holds (its attempts are used up): the task
    fails, and the agent is told to stop when its prompt reached it."""
    task = held_task(conn, task_id)
    reached = turn_reached(conn, task)
    messages.drop_pending(conn, ctx, task_id, agent)
    finish_failed(conn, ctx, task_id, agent, reason)
    if reached:
        withdraw(conn, ctx, task, agent, f"it failed ({reason})")


def turn_reached(conn: Conn, task: Task) -> bool:
    """True when a prompt of the holder's current turn with ``task`` reached it, or may have
    (a delivery in flight): read it before the pending prompts are dropped."""
    return task.agent is not None and messages.prompt_reached(
        conn, task.id, task.agent, since=task.assigned_at
    )


def withdraw(conn: Conn, ctx: Ctx, task: Task, agent: str, why: str) -> None:
    """Tell ``agent`` that ``task`` (as read while the agent held it) is no longer its own:
    call it only when ``turn_reached``. The message is delivered and checked like any other,
    marked WITHDRAWN by its target (``withdraw:<agent>``) and envelope, and carries no
    report commands, so it cannot be taken for a new task."""
    text = (
        f"{task.ref} ({task.title}) is no longer yours: {why}. Stop working on it now. "
        "This is not a new task: do not start it and do not report on it."
    )
    message_id = messages.queue(
        conn,
        ctx,
        [agent],
        text,
        target=Target(TargetKind.withdraw, agent),
        task_id=task.id,
        priority=task.priority,
    )
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_WITHDRAWN,
        f"{task.ref} withdrawn from {agent}: {why}",
        task_id=task.id,
        agent=agent,
        actor=ctx.actor,
        data={"message": message_id},
    )


def _reported(conn: Conn, ctx: Ctx, agent: str | None, state: AgentState, words: str) -> None:
    """A report on the agent's task is the report signal's observation of it."""
    if agent:
        obs = Observation(agent, Signal.REPORT, state, ctx.now, f"report: {words}")
        agent_signals.record(conn, obs)


def _touch_agent(conn: Conn, ctx: Ctx, agent: str | None) -> None:
    if agent:
        conn.execute("UPDATE agent_state SET last_report_at = $1 WHERE id = $2", (ctx.now, agent))
