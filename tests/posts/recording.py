"""A second front end for the tests: it records each post and edit in memory, rendered as
plain text its own way (no Discord), and can be told to refuse requests as a real front end
does (a post gone, refused for good, or failing for now). Through it the tests hold the
notifier's seam: whatever Discord gets, any front end gets."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.coordinator.front_end import (
    CiPost,
    Failure,
    GatePost,
    Item,
    Lines,
    LongText,
    MessageLine,
    PromptPost,
    TaskCard,
    ThreadLine,
)
from core.event_kinds import event_text
from core.models import Event, Task
from core.posts.queries import Post


class Refused(Exception):
    """A request the recording front end refuses, and how (``Failure``)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(f"refused: {failure.value}")
        self.failure = failure


@dataclass
class Recorded:
    """One post: what it showed first and after each edit, where it is."""

    id: str
    items: list[Item]
    thread: str | None = None  # the thread it was posted in
    thread_of: Task | None = None  # the task whose thread it opened, when it did

    @property
    def item(self) -> Item:
        """What it shows now."""
        return self.items[-1]


def plain(item: Item) -> str:
    """The post's text as this front end shows it (one plain line or a few)."""
    if isinstance(item, TaskCard):
        task, question = item.task, item.question
        asks = f" ? {question.text}" if question is not None else ""
        return (
            f"[{task.ref}] {task.title}: {task.status.value} {task.agent or ''} "
            f"{item.note or ''} {task.note or ''} {task.reason or ''} {task.pinned or ''}"
            f"{asks} {item.activity or ''}"
        )
    if isinstance(item, ThreadLine):
        return event_text(item.event)
    if isinstance(item, Lines):
        return "\n".join(event_text(e) for e in item.events)
    if isinstance(item, LongText):
        return item.text
    if isinstance(item, MessageLine):
        done = item.progress
        return f"{item.headline} ({done.delivered}/{done.total}, {done.failed} failed)"
    if isinstance(item, PromptPost):
        prompt = item.prompt
        return f"prompt {prompt.id}: {prompt.text} open={prompt.open} {prompt.decision or ''}"
    if isinstance(item, CiPost):
        return f"CI of T-{item.task_id}: {item.data} {item.decided}"
    if isinstance(item, GatePost):
        return f"gate {item.task.ref} (campaign {item.campaign_id}) {item.decided or ''}"
    return event_text(item.event)


@dataclass
class RecordingFrontEnd:
    """Posts kept in memory, in order; ``refuse`` the failures its next requests raise."""

    name: str = "recording"
    text_limit: int = 2000
    posts: list[Recorded] = field(default_factory=list)
    refuse: list[Failure] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def shown(self, item: Item) -> str:
        """Its plain text."""
        return plain(item)

    async def send(self, item: Item, thread: str | None = None) -> str:
        """A new post (in ``thread``)."""
        self._maybe_refuse()
        post = Recorded(str(next(self._ids)), [item], thread)
        self.posts.append(post)
        return post.id

    async def edit(self, post: Post, item: Item) -> None:
        """The post edited in place; a post this front end never made is gone."""
        self._maybe_refuse()
        self._post(post.message_id).items.append(item)

    async def open_thread(self, post: Post, task: Task) -> str:
        """A thread on the card: its id is the card's, as on Discord."""
        self._maybe_refuse()
        self._post(post.message_id).thread_of = task
        return post.message_id

    def failure(self, exc: BaseException) -> Failure | None:
        """Its own refusals; nothing else is its."""
        return exc.failure if isinstance(exc, Refused) else None

    def describe(self, exc: BaseException) -> str:
        """The refusal in one line."""
        return f"{type(exc).__name__}: {exc}"

    async def seen(self, events: Sequence[Event]) -> None:
        """No campaign messages here."""

    def top(self) -> list[Recorded]:
        """The posts in the channel (not in a thread)."""
        return [p for p in self.posts if p.thread is None]

    def thread(self, task_id: int) -> list[Recorded]:
        """The posts in ``task_id``'s thread, in order."""
        cards = [p for p in self.posts if p.thread_of is not None and p.thread_of.id == task_id]
        return [p for p in self.posts if cards and p.thread == cards[-1].id]

    def cards(self, task_id: int) -> list[Recorded]:
        """The posts that showed ``task_id``'s card."""
        return [
            p
            for p in self.posts
            if isinstance(p.items[0], TaskCard) and p.items[0].task.id == task_id
        ]

    def _post(self, post_id: str) -> Recorded:
        found = next((p for p in self.posts if p.id == post_id), None)
        if found is None:
            raise Refused(Failure.gone)
        return found

    def _maybe_refuse(self) -> None:
        if self.refuse:
            raise Refused(self.refuse.pop(0))
