"""Creating tasks: a batch of specs checked (text, priority, role, capabilities, agent,
kind), their ``after`` refs resolved (to each other or to stored tasks, without a cycle), and
each inserted as its rule decides, with its events. Runs inside one write transaction; the
statements are ``core.tasks._graph_queries``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from core.context import Ctx, check_chars
from core.errors import DependencyError, InvalidInput, Unassignable
from core.event_kinds import EventKind
from core.formats.text import invisible_removed, strip_invisible
from core.models import Priority, TaskSpec, task_ref
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import _graph_queries as graph_queries
from core.tasks import _rules as rules
from core.tasks._dependencies import (
    UNSETTLED,
    apply_rule,
    columns,
    existing_dep,
    rule_event,
    settle,
)

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
    graph_queries.hold_tasks(conn, [d for deps in external for d in deps])  # read below
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
            ids[refs[d]] if isinstance(d, str) and d in refs else existing_dep(conn, d)
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
                mine_ext.append(existing_dep(conn, dep))
        local.append(mine_local)
        external.append(mine_ext)
    return _topological(specs, local), local, external


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
    # settles dependents: ``dependencies.apply_rule``); with triggers it settles after it
    spec, priority = checked.spec, checked.priority
    first = rules.decide(spec.kind, _states_of(conn, deps)) if not triggers else None
    stored = first if first is not None and first.status != "skipped" else UNSETTLED
    task_id = graph_queries.insert_task(conn, _task_values(ctx, spec, priority, stored, group))
    graph_queries.insert_edges(conn, task_id, sorted({*deps, *triggers}), triggers)
    _created_event(conn, ctx, task_id, checked, deps)
    if first is None:
        settle(conn, ctx, task_id)
    elif stored == first:
        rule_event(conn, ctx, task_id, first)
    else:
        apply_rule(conn, ctx, task_id, stored, first)
    return task_id


def _task_values(
    ctx: Ctx,
    spec: TaskSpec,
    priority: Priority,
    rule: rules.Rule,
    group: tuple[str | None, int | None],
) -> tuple[Any, ...]:
    """A new task's column values, as ``graph_queries.insert_task`` takes them."""
    return (
        *(spec.title, spec.details, int(priority), spec.role),
        *(json.dumps(list(spec.capabilities)), spec.agent),
        *columns(rule),
        *(ctx.settings.max_attempts, ctx.actor, ctx.now, ctx.now, *group, spec.kind),
    )


def _states_of(conn: Conn, deps: list[int]) -> list[tuple[int, str, bool]]:
    """The dependencies ``deps`` (ids in order) with their status, none a trigger, as
    ``dependency_states`` reads them for a stored task; no statement without any."""
    found: list[tuple[int, str, bool]] = []
    step = graph_queries.FREE_ROWS * 8  # well under the parameters SQLite binds
    for at in range(0, len(deps), step):
        found += [
            (d, status, False) for d, status in graph_queries.statuses(conn, deps[at : at + step])
        ]
    return found


def _insert_free(
    conn: Conn,
    ctx: Ctx,
    checked: list[Checked],
    indexes: list[int],
    group: tuple[str | None, int | None],
) -> dict[int, int]:
    """Insert tasks with nothing to wait for (no dependency, no trigger, not ``skip``), in
    their order, a multi-row INSERT per ``graph_queries.FREE_ROWS``: each is stored as its
    rule decides (ready, or a gate awaiting approval) with its two events, as ``_insert_task``
    does; index -> id."""
    made: dict[int, int] = {}
    for at in range(0, len(checked), graph_queries.FREE_ROWS):
        chunk = checked[at : at + graph_queries.FREE_ROWS]
        new_ids = graph_queries.insert_tasks(
            conn,
            [_task_values(ctx, s, p, rules.decide(s.kind, []), group) for s, p, _ in chunk],
        )
        for index, task_id, one in zip(
            indexes[at : at + graph_queries.FREE_ROWS], new_ids, chunk, strict=True
        ):
            _created_event(conn, ctx, task_id, one, [])
            rule_event(conn, ctx, task_id, rules.decide(one.spec.kind, []))
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
