"""What comes in from GitHub before it reaches an agent: labelled issues (imported when a
writer labelled them and no outsider changed their text since), reviews of swarm's PRs by
outsiders (held for a person), and what a person accepted of what was held (applied here:
the issue imported as it was held, the review sent to the agent as a follow-up task).

The rule for an issue's text: the last ``labeled`` event of swarm's label names a writer
(``trust.WRITERS``); the ``renamed`` events (REST) after it and, when the issue's author is
not a writer (only its author and writers can edit it), the body's edits (GraphQL
``userContentEdits``: REST has none) made in or after that label's second must be by writers
too. An outsider's change holds the
issue for a person (``H-4``): accepted, it is imported with the title and body the person
was shown; rejected, it stays out until a writer applies the label again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.github import links, queries, rules, trust
from core.github.client import GitHub, GitHubError, RateLimited
from core.github.links import Link, NewIssue
from core.github.settings import GitHubSettings
from core.models import Task, TaskSpec, task_ref
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.tasks import held

log = logging.getLogger(__name__)
ACTOR = "github"
SOURCE = "github"
HELD_BODY = 100_000  # characters of an issue's body kept with a held issue
SHOWN = 600  # characters of the held text shown in the needs-you queue


@dataclass
class PassResult:
    """What one pass did (``swarm github import`` prints it)."""

    imported: dict[int, int] = field(default_factory=dict)  # issue → task id
    refused: dict[int, str] = field(default_factory=dict)  # issue → why not
    cancelled: list[int] = field(default_factory=list)  # issues
    pushed: list[int] = field(default_factory=list)  # PR numbers
    followups: list[int] = field(default_factory=list)  # task ids


class Intake:
    """Issues → tasks (writers only), outsiders' reviews held, accepted items applied."""

    def __init__(
        self, service: SwarmService, settings: GitHubSettings, client: Callable[[], GitHub]
    ) -> None:
        self.service = service
        self.settings = settings
        self.repo = settings.repo or ""
        self._client = client
        self.writers = trust.Writers()
        self._refused: dict[int, _Refusal] = {}  # issue → why, while it does not change

    @property
    def client(self) -> GitHub:
        """The loop's open client."""
        return self._client()

    # -- issues ------------------------------------------------------------------------------

    async def import_issues(self, result: PassResult) -> None:
        """New labelled issues → tasks; closed or unlabelled ones → cancelled."""
        self.writers.forget()
        issues = await self.client.labelled_issues()
        open_now = {int(i["number"]): i for i in issues}
        known = {
            link.issue: link for link in await self.service.store.read(links.open_links, self.repo)
        }
        every = {n for (n,) in await self.service.store.read(_imported, self.repo)}
        new: list[NewIssue] = []
        for number, issue in open_now.items():
            if number in every:
                continue
            why = await self.refusal(issue)
            if why is not None:
                result.refused[number] = why
                continue
            new.append(self.new_issue(issue, await self.client.sub_issues(number)))
        if new:
            made = await self.service.store.write(ACTOR, links.import_issues, self.repo, new)
            result.imported.update(made)
            for number, task_id in made.items():
                log.info("GitHub issue #%d → %s", number, task_ref(task_id))
        for number, link in known.items():
            if number not in open_now:
                await self._gone(link, result)

    async def refusal(self, issue: dict[str, Any]) -> str | None:
        """Why a labelled issue is not imported now (None: it is). Re-checked only when the
        issue changes (its ``updated_at``)."""
        number = int(issue["number"])
        stamp = str(issue.get("updated_at") or "")
        known = self._refused.get(number)
        if known is None or known.stamp != stamp:
            known = await self._judge(issue)
            if known is None:
                self._refused.pop(number, None)
                return None
            self._refused[number] = known
            log.info("GitHub issue #%d not imported: %s", number, known.why)
        return await self._said(known)

    async def _said(self, known: _Refusal) -> str:
        """Why, with what a person decided of the held issue meanwhile."""
        if known.held_key is None:
            return known.why
        found = await self.service.store.read(held.by_key, known.held_key)
        if found is None or found.decision is None:
            return known.why
        return f"{known.reason}: {found.decision} by {found.decided_by} ({found.ref})"

    async def _judge(self, issue: dict[str, Any]) -> _Refusal | None:
        number = int(issue["number"])
        stamp = str(issue.get("updated_at") or "")
        events = await self.client.issue_events(number)
        label = trust.last_label(events, self.settings.label)
        actor = label.actor if label is not None else None
        permission = await self.writers.permission(self.client, actor)
        if label is None or permission not in trust.WRITERS:
            why = f"label {self.settings.label!r} applied by {actor or 'nobody'} ({permission})"
            return _Refusal(stamp, why)
        # only its author and writers can edit an issue: a writer's has no outsider's edits
        author = (issue.get("user") or {}).get("login")
        outsiders_body = not await self.writers.writes(self.client, author)
        changes = await self._changes(number, events, label, outsiders_body)
        if changes is None:
            return await self._hold_issue(issue, label, "its edit history could not be read")
        outsiders = [
            f"its {c.what} was changed by {c.by or 'someone'} "
            f"({await self.writers.permission(self.client, c.by)})"
            for c in changes
            if not await self.writers.writes(self.client, c.by)
        ]
        if not outsiders:
            return None
        said = "; ".join(dict.fromkeys(outsiders))
        return await self._hold_issue(issue, label, f"{said} after {label.actor} labelled it")

    async def _changes(
        self, number: int, events: list[dict[str, Any]], label: trust.Labelled, edits_too: bool
    ) -> list[trust.Change] | None:
        """The changes since ``label`` (its body's edit history read only when ``edits_too``);
        None when they cannot be known."""
        if not edits_too:
            return trust.changed_since(events, {}, label)
        try:
            edits = await self.client.issue_edits(number)
        except RateLimited:
            raise
        except GitHubError as exc:
            log.warning("GitHub issue #%d: edit history not read: %s", number, exc)
            return None
        return trust.changed_since(events, edits, label)

    async def _hold_issue(self, issue: dict[str, Any], label: trust.Labelled, why: str) -> _Refusal:
        """Hold the issue for a person (once per writer's label); why it is not imported."""
        number = int(issue["number"])
        stamp = str(issue.get("updated_at") or "")
        key = f"{SOURCE}:{self.repo}:issue:{number}:label:{label.event_id}"
        found = await self.service.store.read(held.by_key, key)
        if found is not None:
            return _Refusal(stamp, f"{why}: held for a person ({found.ref})", key, why)
        data = _issue_snapshot(self.repo, issue)
        title = rules.clean_text(str(issue.get("title") or ""), 200)
        text = (
            f"GitHub issue #{number} ({title}): {why}. Approve to import it as shown here "
            f"(see it on GitHub: {data['url'] or 'its page'}); reject to leave it out.\n"
            f"Body as held:\n{rules.clean_text(str(data['body']), SHOWN)}"
        )
        data["on_accept"] = f"GitHub issue #{number} is imported with the title and body held"
        data["on_reject"] = f"GitHub issue #{number} stays out until a writer labels it again"
        held_id = await self.service.store.write(ACTOR, held.hold, SOURCE, "issue", key, text, data)
        if held_id is None:  # held by another writer in between
            return _Refusal(stamp, f"{why}: held for a person", key, why)
        log.warning("GitHub issue #%d held for a person (H-%d): %s", number, held_id, why)
        return _Refusal(stamp, f"{why}: held for a person ({held.held_ref(held_id)})", key, why)

    def new_issue(self, issue: dict[str, Any], subs: list[int]) -> NewIssue:
        """The task of a new issue; it waits for the issues its body names and for its
        sub-issues (when they are imported labelled issues)."""
        number = int(issue["number"])
        settings = self.service.settings
        names = [str(label.get("name", "")) for label in issue.get("labels") or []]
        mapped = rules.map_labels(names, self.service.roles())
        for problem in mapped.problems:
            log.info("GitHub issue #%d: %s", number, problem)
        author = str((issue.get("user") or {}).get("login") or "?")
        body = str(issue.get("body") or "")
        return NewIssue(
            number,
            TaskSpec(
                title=rules.issue_title(number, str(issue.get("title") or ""), 190),
                details=rules.issue_details(
                    number, author, str(issue.get("html_url") or ""), body, settings.max_text
                ),
                priority=mapped.priority,
                role=mapped.role,
            ),
            tuple(dict.fromkeys([*rules.dependencies(body, number), *subs])),
            issue.get("html_url"),
            str(issue.get("title") or ""),
        )

    async def _gone(self, link: Link, result: PassResult) -> None:
        """An issue left the labelled open list: closed, or its label removed."""
        issue = await self.client.issue(link.issue)
        names = {str(label.get("name")) for label in issue.get("labels") or []}
        if issue.get("state") == "open" and self.settings.label in names:
            return  # a stale list: still wanted
        why = (
            f"GitHub issue #{link.issue} was closed"
            if issue.get("state") != "open"
            else f"label {self.settings.label!r} was removed from GitHub issue #{link.issue}"
        )
        if await self.service.store.write(ACTOR, links.close_for_issue, link, why):
            result.cancelled.append(link.issue)
            log.info("%s cancelled: %s", task_ref(link.task_id), why)

    # -- reviews -----------------------------------------------------------------------------

    async def hold_review(
        self,
        link: Link,
        task: Task,
        review: dict[str, Any],
        comments: list[rules.ReviewComment],
        agent: str,
    ) -> int | None:
        """An outsider's review of ``link``'s PR, held for a person (once per review)."""
        reviewer = str((review.get("user") or {}).get("login") or "a reviewer")
        permission = await self.writers.permission(self.client, reviewer)
        summary = str(review.get("body") or "")
        title, details = rules.review_prompt(task.ref, link.pr or 0, reviewer, summary, comments)
        lines = [f"(review) {summary.strip()}"] if summary.strip() else []
        lines += [f"{c.path or '(general)'}:{c.line or ''}: {c.body.strip()}" for c in comments]
        shown = "\n".join(lines)
        text = (
            f"{rules.clean_text(reviewer, 60)} ({permission} access, not a writer) reviewed "
            f"PR #{link.pr} of {task.ref} ({review.get('state')}). Approve to send it to "
            f"{agent} as a follow-up task; reject to drop it.\n{rules.clean_text(shown, SHOWN)}"
        )
        data = {
            "repo": self.repo,
            "link": link.id,
            "pr": link.pr,
            "review": int(review["id"]),
            "reviewer": reviewer,
            "title": title,
            "details": details,
            "on_accept": f"{agent} gets the review of PR #{link.pr} as a follow-up task",
            "on_reject": f"the review of PR #{link.pr} by {reviewer} reaches no agent",
        }
        key = f"{SOURCE}:{self.repo}:review:{int(review['id'])}"
        held_id = await self.service.store.write(
            ACTOR, held.hold, SOURCE, "review", key, text, data, task.id, agent
        )
        if held_id is not None:
            log.warning(
                "%s: review of PR #%s by %s (%s) held for a person (H-%d)",
                task.ref,
                link.pr,
                reviewer,
                permission,
                held_id,
            )
        return held_id

    # -- what a person accepted -------------------------------------------------------------

    async def apply_accepted(self, result: PassResult) -> None:
        """Apply what a person accepted of the held items (each once)."""
        for item in await self.service.store.read(held.accepted, SOURCE):
            if item.data.get("repo") != self.repo:
                continue
            if item.kind == "issue":
                await self._import_held(item, result)
            elif item.kind == "review":
                await self._send_held(item, result)

    async def _import_held(self, item: held.Held, result: PassResult) -> None:
        snapshot = item.data
        number = int(snapshot["issue"])
        issue = {
            "number": number,
            "title": snapshot.get("title"),
            "body": snapshot.get("body"),
            "user": {"login": snapshot.get("author")},
            "html_url": snapshot.get("url"),
            "labels": [{"name": n} for n in snapshot.get("labels") or []],
        }
        new = self.new_issue(issue, await self.client.sub_issues(number))
        made = await self.service.store.write(ACTOR, _import_held, self.repo, new, item)
        result.imported.update(made)

    async def _send_held(self, item: held.Held, result: PassResult) -> None:
        new_id = await self.service.store.write(ACTOR, _send_held, item)
        if new_id is not None:
            result.followups.append(new_id)


@dataclass(frozen=True)
class _Refusal:
    """Why an issue is not imported, judged at its ``updated_at``; a held one names its
    item (``held_key``) and the reason it was held."""

    stamp: str
    why: str
    held_key: str | None = None
    reason: str = ""


def _issue_snapshot(repo: str, issue: dict[str, Any]) -> dict[str, Any]:
    """What a held issue keeps: what the person is shown, imported as it is on accept."""
    return {
        "repo": repo,
        "issue": int(issue["number"]),
        "title": str(issue.get("title") or ""),
        "body": str(issue.get("body") or "")[:HELD_BODY],
        "author": str((issue.get("user") or {}).get("login") or "?"),
        "url": links.web_url(issue.get("html_url")),
        "labels": [str(label.get("name", "")) for label in issue.get("labels") or []],
    }


def _imported(conn: Conn, repo: str) -> list[tuple[int]]:
    return queries.imported_issues(conn, repo)


def _import_held(conn: Conn, ctx: Any, repo: str, new: NewIssue, item: held.Held) -> dict[int, int]:
    """The accepted issue imported (unless it was meanwhile) and the item marked applied."""
    made = links.import_issues(conn, ctx, repo, [new])
    task_id = made.get(new.issue)
    said = (
        f"GitHub issue #{new.issue} imported as {task_ref(task_id)}"
        if task_id is not None
        else f"GitHub issue #{new.issue} was already imported"
    )
    held.applied(conn, ctx, item.id, said, task_id)
    return made


def _send_held(conn: Conn, ctx: Any, item: held.Held) -> int | None:
    """The accepted review as a follow-up task of its issue's link, if still followed."""
    link = links.link_by_id(conn, int(item.data["link"]))
    if link is None or link.state != links.OPEN:
        held.applied(conn, ctx, item.id, "not sent: its GitHub issue is no longer followed")
        return None
    task = links.current_task(conn, link)
    spec = TaskSpec(
        title=str(item.data["title"]),
        details=str(item.data["details"]),
        priority=task.priority,
        agent=item.agent,
    )
    why = f"a review by {item.data.get('reviewer')} (accepted by {item.decided_by})"
    new_id = links.follow_up(conn, ctx, link, spec, why, {"head_sha": None})
    held.applied(conn, ctx, item.id, f"sent to {item.agent} as {task_ref(new_id)}", new_id)
    return new_id
