"""The task operations as the front ends ask for them (``service.tasks``): create, look up,
report on and change tasks, each one transaction of ``lifecycle`` or ``edit``."""

from __future__ import annotations

from collections.abc import Sequence

from core.agents import Freshness
from core.assignment import _holders as holders
from core.assignment import _lifecycle as lifecycle
from core.context import Ctx
from core.models import Task, TaskSpec, TaskStatus, parse_task_ref
from core.store.access import StoreAccess
from core.store.conn import Conn
from core.tasks import TaskEdit, creation, dependencies, edit_task, read_queries, retry
from core.workspaces import WorkspaceBook


class TaskBook:
    """Create, find, report on and change tasks (``service.tasks``)."""

    def __init__(self, access: StoreAccess, workspaces: WorkspaceBook) -> None:
        self.access = access
        self.workspaces = workspaces  # told when a task is done (its commits join the history)
        self.fresh: Freshness | None = None  # the watch's, set by the composition root: an
        # agent's start is judged on it at once (None: at the watch's next look)

    async def create(self, spec: TaskSpec, actor: str) -> Task:
        """Create one task; refuse bad input with a SwarmError and write nothing. The task as
        created, read in its own transaction (the scheduler may assign it the moment it is
        committed: a read after would say so, and the acknowledgement would vary)."""
        return await self.access.write(actor, _create_one, spec)

    async def create_many(
        self, specs: Sequence[TaskSpec], actor: str, plan_id: str | None = None
    ) -> list[int]:
        """Create a batch of tasks atomically; ``after`` may name other specs' ``ref``."""
        return await self.access.write(actor, creation.create_tasks, list(specs), plan_id)

    async def get(self, ref: str | int) -> Task:
        """One task by id (``T-12`` or 12)."""
        return await self.access.read(read_queries.get_task, parse_task_ref(ref))

    async def holders(self) -> dict[int, holders.Holder]:
        """task -> the agent working on it: its state as every view shows it, and its newest
        transcript row of the task (a card's status line)."""
        return await self.access.read(holders.in_progress)

    async def newest(
        self,
        status: str | None = None,
        agent: str | None = None,
        limit: int = 200,
        *,
        open_only: bool = False,
    ) -> list[Task]:
        """Tasks, newest first, filtered by status (or unfinished ones) and agent."""
        wanted = TaskStatus.parse(status) if status else None
        agent_id = self.access.ctx("").agent(agent).id if agent else None
        return await self.access.read(read_queries.list_tasks, wanted, agent_id, limit, open_only)

    async def readable_by(self, task: Task, agent: str) -> bool:
        """Whether ``task`` is ``agent``'s own or one its own tasks wait for: another agent's
        work is not its to read (its door's ``task show``, its MCP ``my_task``)."""
        agent_id = self.access.ctx("").agent(agent).id
        return await self.access.read(read_queries.readable_by, task.id, agent_id)

    async def find(
        self, prefix: str = "", statuses: Sequence[TaskStatus] | None = None, limit: int = 25
    ) -> list[Task]:
        """Tasks in ``statuses`` (None: any) whose id or title starts with / contains
        ``prefix``, newest first (what autocomplete offers)."""
        wanted = [s.value for s in statuses] if statuses is not None else None
        return await self.access.read(read_queries.search_tasks, prefix, wanted, limit)

    async def add_dependencies(
        self, ref: str | int, after: Sequence[str | int], actor: str
    ) -> None:
        """Make a task wait for more tasks."""
        ids = [parse_task_ref(a) for a in after]
        await self.access.write(actor, dependencies.add_dependencies, parse_task_ref(ref), ids)

    async def start(
        self, ref: str | int, actor: str, note: str = "", *, force: bool = False
    ) -> None:
        """The agent has begun (or reports progress); ``force``: another agent reports anyway."""
        task_id = parse_task_ref(ref)
        await self.access.write(actor, lifecycle.start, task_id, note, force, self.fresh)

    async def note(self, ref: str | int, actor: str, note: str, *, force: bool = False) -> None:
        """A progress note on an active task (the handoff carries it to a next agent)."""
        await self.access.write(actor, lifecycle.add_note, parse_task_ref(ref), note, force)

    async def complete(
        self, ref: str | int, actor: str, note: str = "", *, force: bool = False
    ) -> None:
        """The agent finished the task (its commits, in a workspace, join the history)."""
        task_id = parse_task_ref(ref)
        await self.access.write(actor, lifecycle.complete, task_id, note, force)
        await self.workspaces.after_done(task_id, actor)

    async def fail(self, ref: str | int, actor: str, reason: str, *, force: bool = False) -> None:
        """The agent could not do the task; ``force``: another agent reports anyway."""
        await self.access.write(actor, lifecycle.fail, parse_task_ref(ref), reason, force)

    async def cancel(self, ref: str | int, actor: str) -> None:
        """Stop a task that has not finished."""
        await self.access.write(actor, lifecycle.cancel, parse_task_ref(ref))

    async def retry(self, ref: str | int, actor: str) -> None:
        """Give a failed or cancelled task new attempts."""
        await self.access.write(actor, retry, parse_task_ref(ref))

    async def assign(self, ref: str | int, agent: str, actor: str) -> None:
        """Give a task to one agent (taken from another if needed)."""
        await self.access.write(actor, lifecycle.pin, parse_task_ref(ref), agent)

    async def requeue(self, ref: str | int, actor: str) -> None:
        """Take an active task from its agent and queue it for another one."""
        await self.access.write(actor, lifecycle.requeue, parse_task_ref(ref))

    async def edit(self, ref: str | int, change: TaskEdit, actor: str) -> list[str]:
        """Change an unfinished task's title, details, priority or role; what changed."""
        return await self.access.write(actor, edit_task, parse_task_ref(ref), change)


def _create_one(conn: Conn, ctx: Ctx, spec: TaskSpec) -> Task:
    """Insert one task and read it back in the same transaction."""
    (task_id,) = creation.create_tasks(conn, ctx, [spec])
    return read_queries.get_task(conn, task_id)
