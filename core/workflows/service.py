"""WorkflowBook: what the CLI and the bot call for workflows, runs, gates and campaigns."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.formats.text import shorten
from core.models import parse_task_ref
from core.posts import queries as posts
from core.tasks import creation
from core.workflows import campaigns, loader, runs
from core.workflows.campaigns import Campaign, parse_campaign_ref
from core.workflows.expand import PlannedTask, as_text, expand, resolve_vars
from core.workflows.model import VarValue, Workflow, WorkflowError
from core.workflows.roles import fit_roles

if TYPE_CHECKING:
    from core.store.access import StoreAccess

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunPlan:
    """A workflow with its variables decided and the tasks a run would create."""

    workflow: Workflow
    values: dict[str, VarValue]
    tasks: list[PlannedTask]
    notes: tuple[str, ...] = ()  # what the run changed to fit the agents (a captain stands in)

    def title(self, limit: int) -> str:
        """The campaign's title: the workflow's name and the variables given."""
        shown = ", ".join(
            f"{k}={as_text(v)}" for k, v in self.values.items() if not isinstance(v, list)
        )
        return shorten(f"{self.workflow.name}" + (f" ({shown})" if shown else ""), limit)


class WorkflowBook:
    """Find, check and run workflows; decide gates; follow campaigns."""

    def __init__(self, service: StoreAccess) -> None:
        self.service = service

    def catalog(self) -> list[tuple[str, Workflow | WorkflowError]]:
        """Every workflow by name, or the error of a file that does not load."""
        return [(n, f) for n, _, f in loader.catalog(self.service.settings.home)]

    def available(self) -> list[tuple[str, str]]:
        """(name, where it comes from) of every workflow, home folder first."""
        return [(name, str(path)) for name, path in loader.available(self.service.settings.home)]

    def find(self, name_or_file: str) -> Workflow:
        """A checked workflow by name or file path."""
        return loader.find(self.service.settings.home, name_or_file)

    async def plan(
        self, flow: Workflow, given: Mapping[str, Any], roles: Mapping[str, str] | None = None
    ) -> RunPlan:
        """Decide the variables and expand the steps; fit the roles to the agents (``roles``:
        a role map, ``{"coordination": "qa"}``; a role nobody has goes to the captain); check
        the tasks as their creation would (roles, agents, sizes): nothing is written."""
        values = resolve_vars(flow, given)
        planned = expand(flow, values)
        if not planned:
            raise flow.fail("this run would create no task (every for_each list is empty)")
        planned, notes = fit_roles(flow, planned, self.service.agents, roles or {})
        ctx = self.service.ctx("dry-run")
        await self.service.read(creation.check_tasks, ctx, [p.spec for p in planned])
        return RunPlan(flow, values, planned, tuple(notes))

    async def run(self, plan: RunPlan, actor: str) -> runs.RunResult:
        """Create the campaign and every task of a planned run in one transaction."""
        title = plan.title(self.service.settings.max_title)
        result = await self.service.write(
            actor, runs.create_run, title, plan.workflow.name, dict(plan.values), plan.tasks
        )
        log.info(
            "workflow %s run by %s: %s, %d tasks",
            plan.workflow.name,
            actor,
            result.campaign,
            len(result.task_ids),
        )
        return result

    async def approve(self, ref: str | int, actor: str, note: str = "") -> None:
        """Approve a waiting gate."""
        await self.service.write(actor, runs.approve, parse_task_ref(ref), note)

    async def reject(self, ref: str | int, actor: str, reason: str = "") -> list[int]:
        """Reject a gate: it and what depends on it are cancelled; the dependents' ids."""
        return await self.service.write(actor, runs.reject, parse_task_ref(ref), reason)

    async def create_campaign(self, title: str, refs: Sequence[str], actor: str) -> int:
        """A campaign over existing tasks."""
        return await self.service.write(actor, campaigns.create, title, list(refs))

    async def add_to_campaign(
        self, ref: str | int, task_refs: Sequence[str], actor: str
    ) -> list[int]:
        """Put more tasks in a campaign."""
        return await self.service.write(
            actor, campaigns.add, parse_campaign_ref(ref), list(task_refs)
        )

    async def cancel_campaign(self, ref: str | int, actor: str) -> list[int]:
        """Cancel a campaign and its unfinished tasks."""
        return await self.service.write(actor, campaigns.cancel, parse_campaign_ref(ref))

    async def campaign(self, ref: str | int) -> Campaign:
        """One campaign with its tasks and its agents' recent pace."""
        return await self.service.read(
            campaigns.get_with_pace,
            parse_campaign_ref(ref),
            self.service.clock.now(),
            self.service.agents,
        )

    async def campaigns(self, limit: int = 50) -> list[Campaign]:
        """Campaigns, newest first."""
        return await self.service.read(campaigns.list_all, limit)

    async def campaign_of_task(self, task_id: int, live_only: bool = False) -> int | None:
        """The campaign of a task (``live_only``: only one with a live post)."""
        return await self.service.read(campaigns.campaign_of_task, task_id, live_only)

    async def live_post(self, front_end: str, campaign_id: int) -> posts.Post | None:
        """The campaign's live message on ``front_end``, if someone asked for one."""
        return await self.service.read(posts.get_post, front_end, live_key(campaign_id))

    async def keep_live_post(self, front_end: str, post: posts.Post) -> None:
        """Store (or move) a campaign's live message on ``front_end``."""
        await self.service.update(posts.keep_post, front_end, post)

    async def drop_live_post(self, front_end: str, campaign_id: int) -> None:
        """Forget a campaign's live message on ``front_end`` (it was deleted)."""
        await self.service.update(posts.drop_post, front_end, live_key(campaign_id))


def live_key(campaign_id: int) -> str:
    """The ``posts`` key of a campaign's live message."""
    return f"campaign:{campaign_id}"
