"""The GitHub loop: a ``Timer`` of the scheduler (no thread of its own).

Every ``poll_s`` (default 60 s) it reads the labelled issues (conditional: an idle repository
answers ``304``), imports the new ones whose label a writer applied, cancels the tasks of
issues closed or unlabelled, and follows the checks and reviews of open PRs. Every
``tick_s`` (2 s) it reads the local database only: a task that moved gets its issue comment
edited and its status label set; a task that is done gets its branch pushed and its PR. A
used-up rate limit stops every call until the reset, said in one log line; nothing is lost,
since what is done is read back from the database and GitHub on the next pass. A loop that
fails (``FAILING_AFTER`` passes in a row) or waits for a rate limit's reset opens the alert
``github sync_failed`` ("Needs you", the alerts channel); a poll that succeeds clears it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.agents import clear_alert, open_alert
from core.errors import SwarmError
from core.event_kinds import EventKind
from core.formats.text import one_line, shorten
from core.formats.timetext import local_text
from core.github import links, once, review_out, rules, webhook
from core.github.client import GitHub, GitHubError, RateLimited
from core.github.links import Link
from core.github.push import PushRefused, push
from core.github.settings import GitHubSettings
from core.github_loop.intake import Intake, PassResult
from core.history.events import EventFilter, find_events
from core.models import Task, TaskSpec, TaskStatus, task_ref
from core.service.swarm import SwarmService
from core.workspaces import work

log = logging.getLogger(__name__)
ACTOR = "github"
LOG_TAIL_LINES = 40
SLOW_S = 300.0  # an open PR that did not change: its checks and reviews read this often
TAIL_CHARS = 4000  # of the log tail kept for the Discord post and a retry
PAUSE_MAX_S = 3660.0  # GitHub's limits reset within the hour: a later reset is not believed
SYNC_FAILED = "sync_failed"  # the alert of a failing loop (its "agent": ACTOR)
FAILING_AFTER = 2  # failed passes in a row that open the alert (one is a blip)


class GitHubSync:
    """Issues → tasks, tasks → comments, labels and PRs, CI and reviews → the agent."""

    def __init__(
        self,
        service: SwarmService,
        settings: GitHubSettings,
        client: Callable[[], GitHub] | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self._make = client or (lambda: GitHub(settings))
        self.gh: GitHub | None = None
        self.repo = settings.repo or ""
        self._next_poll = 0.0
        self._next_tick = 0.0
        self.paused_until = 0.0
        self.intake = Intake(service, settings, lambda: self.client)
        self._said: dict[int, str] = {}  # task id → the last push refusal said (said once)
        self._base: str | None = settings.base
        self._lock = asyncio.Lock()
        self._warned: str | None = None  # the last failure logged
        self._failures = 0  # failed passes in a row
        self._alerted: bool | None = None  # the alert is open (None: not known yet)
        self._webhook_seen: int | None = None  # the newest github.webhook event handled
        self._pulls: dict[int, dict[str, Any]] = {}  # this poll's open PRs, by number
        self._pull_seen: dict[int, tuple[str, str, float]] = {}  # PR → updated_at, head, when

    # -- Timer ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the client; the first pass runs at the first ``fire``."""
        if self.gh is None:
            self.gh = self._make()

    async def next_due(self) -> float | None:
        """The next tick, poll or the end of a rate-limit pause."""
        return max(min(self._next_poll, self._next_tick), self.paused_until)

    async def fire(self) -> int:
        """Run what is due: the local tick always, the GitHub poll when due."""
        now = self.service.clock.now()
        if now < self.paused_until:
            return 0
        result = PassResult()
        poll = now >= self._next_poll
        try:
            poll = await self._webhook_arrived() or poll
            await self.run_pass(result, poll=poll)
        except RateLimited as exc:
            self._pause(exc)
            poll = False  # the poll runs as soon as the pause ends
            until = local_text(exc.reset_at, "%H:%M:%S")
            await self._alert(f"GitHub rate limit used up: no GitHub call until {until}")
        except (GitHubError, SwarmError, OSError) as exc:
            self._warn(str(exc))
            poll = True  # the next poll waits its interval
            self._failures += 1
            if self._failures >= FAILING_AFTER:
                await self._alert(f"GitHub sync failing: {shorten(one_line(str(exc)), 300)}")
        else:
            self._warned = None
            if poll:  # a tick without GitHub calls proves nothing
                self._failures = 0
                await self._works_again()
        finally:
            now = self.service.clock.now()
            self._next_tick = now + self.settings.tick_s
            if poll:
                self._next_poll = now + self.settings.poll_every
        return len(result.imported) + len(result.cancelled) + len(result.pushed)

    async def _alert(self, text: str) -> None:
        """Open the loop's alert (once: an open one is kept with its first text)."""
        if self._alerted:
            return
        try:
            await self.service.store.write(ACTOR, open_alert, ACTOR, SYNC_FAILED, text)
        except SwarmError as exc:  # the database: said in the log, tried at the next failure
            log.warning("GitHub: could not open the alert: %s", exc)
            return
        self._alerted = True

    async def _works_again(self) -> None:
        """A poll succeeded: clear the loop's alert if it is open (looked at once at start)."""
        if self._alerted is False:
            return
        try:
            await self.service.store.write(
                ACTOR, clear_alert, ACTOR, SYNC_FAILED, "GitHub sync works again"
            )
        except SwarmError as exc:
            log.warning("GitHub: could not clear the alert: %s", exc)
            return
        self._alerted = False

    def _warn(self, text: str) -> None:
        """A failing pass is logged once until a pass succeeds (not once a minute)."""
        if text != self._warned:
            log.warning("GitHub: %s", text)
        self._warned = text

    async def stop(self) -> None:
        """Close the client."""
        if self.gh is not None:
            await self.gh.close()
            self.gh = None

    async def _webhook_arrived(self) -> bool:
        """True when a webhook delivery was recorded since the last look (the first look
        only notes where the events stand)."""
        newest = await self.service.store.read(webhook.latest)
        seen, self._webhook_seen = self._webhook_seen, newest
        return seen is not None and newest > seen

    def poll_now(self) -> None:
        """Make the next ``fire`` poll GitHub (a webhook delivery, ``/github import``)."""
        self._next_poll = 0.0
        self._next_tick = 0.0

    def _pause(self, exc: RateLimited) -> None:
        """No call until the reset (GitHub's wall-clock time, on the loop's clock), said in
        one line; the next poll runs as soon as it ends."""
        now = self.service.clock.now()
        self.paused_until = now + pause_s(exc.reset_at, time.time())
        self._next_poll = min(self._next_poll, self.paused_until)
        log.warning(
            "GitHub rate limit used up: no GitHub call until %s (nothing is lost)",
            local_text(exc.reset_at, "%H:%M:%S"),
        )

    # -- one pass ------------------------------------------------------------------------

    async def run_pass(self, result: PassResult | None = None, *, poll: bool = True) -> PassResult:
        """One pass: the GitHub poll (``poll``), then the local tick."""
        result = result or PassResult()
        await self.start()
        async with self._lock:
            if poll:
                await self.intake.import_issues(result)
                self._pulls = {}
                followed = await self.service.store.read(links.open_links, self.repo)
                if any(link.pr is not None and link.head_sha for link in followed):
                    self._pulls = await self.client.open_pulls()
            for link in await self.service.store.read(links.open_links, self.repo):
                await self._follow(link, result, poll)
            await self._dashboard_reviews()
            await self.intake.apply_accepted(result)
        return result

    async def _dashboard_reviews(self) -> None:
        """Reviews sent from swarm's dashboard on a task with a PR → one GitHub review each."""
        for out in await self.service.store.read(review_out.unposted, self.repo):
            assert out.link.pr is not None
            in_diff = review_out.diff_lines(await self.client.pull_files(out.link.pr))
            review = review_out.review_payload(out, in_diff)
            key = review_out.key(out)
            try:
                review_id = await once.review(self.client, out.link.pr, key, review)
            except GitHubError as exc:
                if exc.status != 422:
                    raise
                review = review_out.review_payload(out, set())  # every comment in the text
                review_id = await once.review(self.client, out.link.pr, key, review)
            inline = len(review["comments"])
            await self.service.store.write(ACTOR, review_out.posted, out, review_id, inline)
            log.info("%s: dashboard review → PR #%d", task_ref(out.link.task_id), out.link.pr)

    @property
    def client(self) -> GitHub:
        """The open client (``start`` first)."""
        if self.gh is None:
            raise RuntimeError("GitHubSync.start() first")
        return self.gh

    # -- one followed issue --------------------------------------------------------------

    async def _follow(self, link: Link, result: PassResult, poll: bool) -> None:
        task = await self.service.tasks.get(link.task_id)
        await self._show(link, task)
        if link.ci in (links.CI_PENDING["takeover"], links.CI_PENDING["close"]):
            await self._decided(link)
            return
        if task.status == TaskStatus.done and link.head_sha is None:
            await self._open_pull(link, task, result)
            await self._show(link, task)
        elif poll and link.pr is not None and task.status == TaskStatus.done:
            await self._follow_pull(link, task, result)

    async def _show(self, link: Link, task: Task) -> None:
        """The issue's one comment (edited in place) and status label follow the task."""
        word = _word(link, task)
        if word == link.shown:
            return
        line = f"{task.ref} {word}" + (f" ({task.agent})" if task.agent else "")
        history = [*link.history, line]
        body = rules.progress_comment(task_ref(link.first_task), task.title, history)
        comment_id = link.comment_id
        posted = False
        if comment_id is None:  # posted before a crash or a failure, unrecorded: found again
            key = task_ref(link.first_task)
            comment_id, posted = await once.comment(self.client, link.issue, key, body)
        if not posted:
            await self.client.edit_comment(comment_id, body)
        if link.shown:
            await self.client.remove_label(link.issue, rules.status_label(link.shown))
        await self.client.add_labels(link.issue, [rules.status_label(word)])
        await self.service.store.write(
            ACTOR, _change, link.id, {"comment_id": comment_id, "shown": word, "history": history}
        )
        link.comment_id, link.shown, link.history = comment_id, word, history

    async def _decided(self, link: Link) -> None:
        """What a person chose for CI past its retries, done on GitHub: a take-over is said on
        the PR; a close closes the PR (and the issue is no longer followed)."""
        assert link.pr is not None
        decision = await self.service.store.read(links.ci_decision, link.task_id)
        who = decision.by if decision is not None else "a person"
        ref = task_ref(link.task_id)
        if link.ci == links.CI_PENDING["takeover"]:
            await once.comment(
                self.client,
                link.pr,
                f"{ref}:takeover",
                f"Taken over by {who}: swarm's agents no longer work on this PR.",
            )
            await self.service.store.write(ACTOR, _change, link.id, {"ci": links.TAKEN})
            link.ci = links.TAKEN
            return
        await once.comment(
            self.client,
            link.pr,
            f"{ref}:close",
            f"Closed by {who} through swarm: CI kept failing past its retries.",
        )
        await self.client.close_pull(link.pr)
        await self.service.store.write(ACTOR, _change, link.id, {"state": links.CLOSED})
        log.info("%s: PR #%d closed (%s)", task_ref(link.task_id), link.pr, who)

    async def _open_pull(self, link: Link, task: Task, result: PassResult) -> None:
        """Push the agent's branch and open (or update) the PR with ``Closes #N``."""
        turn = await self._turn(link, task)
        if turn is None or not turn.branch:
            await self._refused_push(task, f"{task.ref} was not worked on in a workspace branch")
            return
        try:
            head = await asyncio.to_thread(
                push,
                Path(turn.path),
                turn.branch,
                self.settings.clone_url,
                self.settings.token or "",
            )
        except PushRefused as exc:
            await self._refused_push(task, str(exc))
            return
        self._said.pop(task.id, None)
        if link.pr is None:
            text = await self._pr_text(link, task)
            base = self._base = self._base or await self.client.default_branch()
            pull = await self.client.open_pull(
                turn.branch, base, text.title, text.body, self.settings.draft
            )
            number = int(pull["number"])
            fields = {"pr_url": links.web_url(pull.get("html_url"))}
        else:
            number, fields = link.pr, {}
        await self.service.store.write(
            ACTOR,
            _pushed,
            link.id,
            task.id,
            {"pr": number, "branch": turn.branch, "head_sha": head, "ci": None, **fields},
            f"{task.ref}: {turn.branch} pushed ({head[:12]}), PR #{number}",
        )
        link.pr, link.branch, link.head_sha, link.ci = number, turn.branch, head, None
        result.pushed.append(number)
        log.info("%s pushed: PR #%d", task.ref, number)

    async def _refused_push(self, task: Task, why: str) -> None:
        if self._said.get(task.id) == why:
            return
        self._said[task.id] = why
        log.warning("%s not pushed: %s", task.ref, why)
        await self.service.store.write(ACTOR, _note, task.id, EventKind.GITHUB_PUSH_REFUSED, why)

    async def _turn(self, link: Link, task: Task) -> work.TaskWork | None:
        """The workspace turn whose branch is the PR's: the task's own, else the first's."""
        for task_id in (task.id, link.first_task):
            turns = [t for t in await self.service.store.read(work.turns, task_id) if t.start_sha]
            if turns:
                return turns[-1]
        return None

    async def _pr_text(self, link: Link, task: Task) -> rules.PullRequestText:
        notes = [
            e.text
            for e in await self.service.store.read(
                find_events, EventFilter(kinds=(EventKind.TASK_NOTE,), task_id=task.id), 0, 20
            )
        ]
        if task.note:
            notes.append(task.note)
        commits: list[tuple[str, str]] = []
        for event in await self.service.workspaces.commit_events(task.id):
            for c in (event.data or {}).get("commits", []):
                commits.append((str(c.get("sha", "")), str(c.get("subject", ""))))
        handoff = await self.service.workspaces.handoff(task.id, task.agent or "")
        took = (task.finished_at or 0) - (task.started_at or task.assigned_at or task.created_at)
        cost = f"{task.attempts} attempt(s), {max(0.0, took) / 60:.1f} min of {task.agent}'s time"
        return rules.pr_text(task.ref, task.title, link.issue, notes, handoff, commits, cost)

    async def _follow_pull(self, link: Link, task: Task, result: PassResult) -> None:
        """CI of the PR's head, then its reviews: a failure or a review → back to the agent."""
        assert link.pr is not None and link.head_sha is not None
        listed = self._pulls.get(link.pr) or {}
        stamp = str(listed.get("updated_at") or "")
        head = str((listed.get("head") or {}).get("sha") or "")
        now = self.service.clock.now()
        seen = self._pull_seen.get(link.pr)
        seen_stamp, seen_head, seen_at = seen or ("", "", now - SLOW_S)
        slow = not listed or now - seen_at >= SLOW_S
        unsettled = link.ci is None or slow or head != seen_head  # CI pending, or a new head
        if unsettled and await self._follow_checks(link, task, result):
            return  # the failure went back to the agent
        if slow or stamp != seen_stamp:  # the PR changed (a push, a review)
            await self._reviews(link, task, result)
            self._pull_seen[link.pr] = (stamp, head, now)

    async def _follow_checks(self, link: Link, task: Task, result: PassResult) -> bool:
        """The check runs and statuses of the PR's head; True when a failure went back."""
        assert link.pr is not None and link.head_sha is not None
        checks = await self.client.checks(link.head_sha)
        failed = [c for c in checks if c.state == "failure"]
        if failed and link.ci not in ("failure", links.EXHAUSTED):
            await self._ci_failed(link, task, failed[0], result)
            return True
        if checks and all(c.state == "success" for c in checks) and link.ci != "success":
            await self._ready(link)
            await self.service.store.write(
                ACTOR,
                _pushed,
                link.id,
                task.id,
                {"ci": "success"},
                f"{task.ref}: CI green on PR #{link.pr} ({len(checks)} check(s)): review",
            )
            link.ci = "success"
            await self._show(link, task)
        return False

    async def _ready(self, link: Link) -> None:
        """CI is green: a draft PR (``SWARM_GITHUB_DRAFT``) is marked ready for review."""
        if not self.settings.draft or link.pr is None:
            return
        pull = await self.client.pull(link.pr)
        if pull.get("draft") and pull.get("node_id"):
            await self.client.mark_ready(str(pull["node_id"]))
            log.info("%s: PR #%d ready for review (CI green)", task_ref(link.task_id), link.pr)

    async def _ci_failed(self, link: Link, task: Task, check: Any, result: PassResult) -> None:
        agent = await self._author(link, task)
        tail = "\n".join(check.details.splitlines()[-LOG_TAIL_LINES:])
        if link.ci_retries >= self.settings.ci_retries or agent is None:
            data = {
                "check": check.name,
                "tail": tail[-TAIL_CHARS:],
                "agent": agent,
                "retries": self.settings.ci_retries,
            }
            await self.service.store.write(ACTOR, links.exhausted, link, task.id, data)
            link.ci = links.EXHAUSTED
            await self._show(link, task)
            return
        left = self.settings.ci_retries - link.ci_retries - 1
        title, details = rules.ci_prompt(task.ref, link.pr or 0, check.name, tail, left)
        spec = TaskSpec(title=title, details=details, priority=task.priority, agent=agent)
        new_id = await self.service.store.write(
            ACTOR,
            links.follow_up,
            link,
            spec,
            f"CI failure ({check.name})",
            {"ci": "failure", "ci_retries": link.ci_retries + 1, "head_sha": None},
        )
        result.followups.append(new_id)
        log.info("%s: CI %s failed on PR #%s → %s", task.ref, check.name, link.pr, task_ref(new_id))

    async def _reviews(self, link: Link, task: Task, result: PassResult) -> None:
        """Submitted reviews → the agent: a writer's as one follow-up task (the first new
        one), an outsider's held for a person; swarm's own are not sent back."""
        assert link.pr is not None
        ours = await self.service.store.read(review_out.posted_reviews)  # already with the agent
        me = (await self.client.login()).lower()
        reviews = [
            r
            for r in await self.client.reviews(link.pr)
            if int(r["id"]) > link.review_id and int(r["id"]) not in ours and _login(r) != me
        ]
        if not reviews:
            return
        agent = await self._author(link, task)
        newest = max(int(r["id"]) for r in reviews)
        by_writers = []
        for review in reviews:
            comments = await self._review_comments(link.pr, review, agent)
            if comments is None or agent is None:
                continue
            if await self.intake.writers.writes(self.client, _login(review)):
                by_writers.append((review, comments))
            else:
                await self.intake.hold_review(link, task, review, comments, agent)
        if not by_writers:
            await self.service.store.write(ACTOR, _change, link.id, {"review_id": newest})
            return
        review, comments = by_writers[0]
        reviewer = str((review.get("user") or {}).get("login") or "a reviewer")
        summary = str(review.get("body") or "")
        title, details = rules.review_prompt(task.ref, link.pr, reviewer, summary, comments)
        spec = TaskSpec(title=title, details=details, priority=task.priority, agent=agent)
        fields = {"review_id": newest, "head_sha": None}
        new_id = await self.service.store.write(
            ACTOR, links.follow_up, link, spec, "a review", fields
        )
        result.followups.append(new_id)

    async def _review_comments(
        self, pr: int, review: dict[str, Any], agent: str | None
    ) -> list[rules.ReviewComment] | None:
        """The comments of a review that asks for work (changes requested, or comments),
        its reviewer's own only; None when it asks for nothing or no agent wrote the code."""
        if review.get("state") not in {"CHANGES_REQUESTED", "COMMENTED"} or agent is None:
            return None
        found = await self.client.review_comments(pr, int(review["id"]))
        comments = [
            rules.ReviewComment(
                c.get("path"), c.get("line") or c.get("original_line"), str(c.get("body", ""))
            )
            for c in found
            if _login(c) == _login(review)
        ]
        if not comments and not str(review.get("body") or "").strip():
            return None
        return comments

    async def _author(self, link: Link, task: Task) -> str | None:
        """The agent that wrote the code (the holder of the first task's last turn)."""
        turn = await self._turn(link, task)
        return turn.agent if turn is not None else task.agent


def _login(item: dict[str, Any]) -> str:
    """The login of who wrote a review or comment (lower-case; empty for a deleted user)."""
    return str((item.get("user") or {}).get("login") or "").lower()


def _word(link: Link, task: Task) -> str:
    if link.ci in (links.TAKEN, links.CI_PENDING["takeover"]):
        return "taken-over"
    if task.status == TaskStatus.done and link.pr is not None:
        failed = {"success": "review", "failure": "ci-failed", links.EXHAUSTED: "ci-failed"}
        return failed.get(link.ci or "", "pr")
    if link.task_id != link.first_task and task.status in (TaskStatus.ready, TaskStatus.blocked):
        return "working"  # a follow-up waits for the same agent
    return rules.STATE_WORDS.get(task.status.value, task.status.value)


def _change(conn: Any, ctx: Any, link_id: int, fields: dict[str, Any]) -> None:
    links.change(conn, link_id, ctx.now, **fields)


def _pushed(
    conn: Any, ctx: Any, link_id: int, task_id: int, fields: dict[str, Any], text: str
) -> None:
    links.change(conn, link_id, ctx.now, **fields)
    links.note(conn, ctx, task_id, EventKind.GITHUB_PULL, text)


def _note(conn: Any, ctx: Any, task_id: int, kind: EventKind, text: str) -> None:
    links.note(conn, ctx, task_id, kind, text)


def pause_s(reset_at: float, now: float) -> float:
    """Seconds to wait for a rate limit's reset: at least 1, at most ``PAUSE_MAX_S`` (a reset
    header hours or years away, or not a number, never stops the loop for longer)."""
    wait = reset_at - now + 1
    return max(1.0, min(PAUSE_MAX_S, wait)) if math.isfinite(wait) else PAUSE_MAX_S
