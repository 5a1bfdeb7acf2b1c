"""A not-yet-started task's dependencies: when it may run (``settle``: ready, blocked or
skipped, by the rule of its kind in :mod:`core.tasks._rules`), its dependents settled when a
task changes, new dependencies added without a cycle. Each function runs inside one write
transaction; the statements are ``core.tasks._graph_queries``."""

from __future__ import annotations

from core.context import Ctx
from core.errors import DependencyError, InvalidState, MissingDependency, NotFound
from core.event_kinds import EventKind
from core.models import BlockedOn, TaskStatus, parse_task_ref, task_ref
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import _campaign_end as campaign_end
from core.tasks import _graph_queries as graph_queries
from core.tasks import _queries as queries
from core.tasks import _rules as rules
from core.tasks._read_queries import get_task

# A task stored before its rule is applied (in the same transaction): it waits.
UNSETTLED = rules.Rule(TaskStatus.blocked, None, BlockedOn.dependencies)


def existing_dep(conn: Conn, dep: str | int) -> int:
    """The id of the stored task ``dep`` names; DependencyError or MissingDependency."""
    try:
        dep_id = parse_task_ref(dep)
    except NotFound:
        raise DependencyError(f"dependency {dep!r} does not exist") from None
    if not queries.exists(conn, dep_id):
        raise MissingDependency(f"dependency {task_ref(dep_id)} does not exist")
    return dep_id


def dependency_states(
    conn: Conn, task_id: int, triggers: bool = True
) -> list[tuple[int, str, bool]]:
    """Each dependency of a task: its id, its status and whether it is a failure trigger
    (only an ``on_failure`` task has triggers: ``triggers=False`` skips the lookup)."""
    if not triggers:
        return [
            (dep, status, False) for dep, status in graph_queries.dependency_states(conn, task_id)
        ]
    return graph_queries.dependency_triggers(conn, task_id)


def settle(conn: Conn, ctx: Ctx, task_id: int) -> None:
    """Put a not-yet-started task in ``ready``, ``blocked`` (with its reason) or ``skipped``,
    by the rule of its kind (:mod:`core.tasks._rules`). Its row is held first
    (``graph_queries.held_rule``)."""
    row = graph_queries.held_rule(conn, task_id)
    if row.status not in (TaskStatus.blocked, TaskStatus.ready):
        return
    deps = dependency_states(conn, task_id, triggers=row.kind == "on_failure")
    apply_rule(conn, ctx, task_id, _stored_rule(row), rules.decide(row.kind, deps))


def _stored_rule(row: graph_queries.HeldRule | graph_queries.DependentRow) -> rules.Rule:
    """The rule a task's row holds (status, reason, blocked_on)."""
    on = row.blocked_on
    return rules.Rule(TaskStatus(row.status), row.reason, BlockedOn(on) if on else None)


def columns(rule: rules.Rule) -> tuple[str, str | None, str | None]:
    """A rule as stored: status, reason, blocked_on."""
    return rule.status.value, rule.reason, rule.on.value if rule.on else None


def apply_rule(conn: Conn, ctx: Ctx, task_id: int, was: rules.Rule, now: rules.Rule) -> None:
    """Store a not-yet-started task's new rule ``now`` (status, reason, what it waits for)
    when it differs from what it ``was``, with its event."""
    if now == was:
        return
    skipped = now.status is TaskStatus.skipped
    graph_queries.store_rule(conn, task_id, columns(now), ctx.now, skipped)
    rule_event(conn, ctx, task_id, now)
    if skipped:
        settle_dependents(conn, ctx, task_id)


def rule_event(conn: Conn, ctx: Ctx, task_id: int, now: rules.Rule) -> None:
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
    updated, so none are read). The dependents are held first
    (``graph_queries.hold_dependents``), then read in a statement of their own, only when
    there are any."""
    rows: list[graph_queries.DependentRow] = []
    if dependents and graph_queries.hold_dependents(conn, task_id):
        rows = graph_queries.dependents(conn, task_id)
    found: dict[int, tuple[rules.Rule, str, list[tuple[int, str, bool]]]] = {}
    for row in rows:
        entry = found.setdefault(row.id, (_stored_rule(row), row.kind, []))
        entry[2].append((row.dep, row.dep_status, False))
    cascaded = False  # a dependent skipped: it settled others, whose rows read above are stale
    for dependent, (was, kind, deps) in found.items():
        if cascaded or kind == "on_failure":  # failure triggers: read with their flags
            settle(conn, ctx, dependent)
            cascaded = True  # it may have been skipped (and settled others)
            continue
        now = rules.decide(kind, deps)
        apply_rule(conn, ctx, dependent, was, now)
        cascaded = now.status is TaskStatus.skipped and was != now
    if campaign:
        campaign_end.note_if_finished(conn, ctx, task_id)


def add_dependencies(conn: Conn, ctx: Ctx, task_id: int, after: list[int]) -> None:
    """Make a not-yet-started task wait for more tasks; refuse cycles."""
    graph_queries.hold_tasks(conn, [task_id, *after])  # in id order, with the new dependencies
    task = get_task(conn, task_id)
    if task.status not in (TaskStatus.blocked, TaskStatus.ready):
        raise InvalidState(
            f"{task.ref} is {task.status.value}: only a task not yet started "
            "can get new dependencies"
        )
    for dep in after:
        existing_dep(conn, dep)
        if dep == task_id or graph_queries.reaches(conn, dep, task_id):
            raise DependencyError(
                f"{task_ref(dep)} already depends on {task.ref}: that would make a dependency cycle"
            )
    graph_queries.add_edges(conn, task_id, after)
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_DEPENDENCIES,
        f"{task.ref} now waits for {', '.join(task_ref(d) for d in after)}",
        task_id=task_id,
        actor=ctx.actor,
    )
    settle(conn, ctx, task_id)
