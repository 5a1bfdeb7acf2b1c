"""The dashboard's pages through the real app: login, board, task, agents, activity, charts."""

from __future__ import annotations

import re

import httpx
import pytest

from core.coordinator.scheduler import Scheduler
from core.event_kinds import EventKind, event_text
from core.formats.jsonshape import iso_utc
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.store.tables import insert_event
from tests.helpers import RecordingDeliverer

pytestmark = pytest.mark.both_databases


async def login(client: httpx.AsyncClient, token: str) -> None:
    """Log in through the form; the cookie stays in the client."""
    answer = await client.post(
        "/login",
        content=f"token={token}&next=/agents",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/agents"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie


async def test_pages_need_the_login_cookie_and_logout_drops_it(
    client: httpx.AsyncClient, viewer_token: str
) -> None:
    bare = await client.get("/charts")
    assert bare.status_code == 303 and bare.headers["location"] == "/login?next=/charts"
    wrong = await client.post(
        "/login",
        content="token=swt_nope&next=//evil.example/",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert wrong.headers["location"] == "/login?error=unknown-token&next=/"
    await login(client, viewer_token)
    board = await client.get("/")
    assert board.status_code == 200 and "wall (viewer)" in board.text
    assert "pause-input" not in board.text  # a viewer gets no action buttons
    out = await client.post("/logout")
    assert out.status_code == 303 and 'swarm_token=""' in out.headers["set-cookie"]


async def test_the_board_counts_every_task_shows_a_column_page_and_filters(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    specs = [TaskSpec(title=f"chore {n}") for n in range(60)]
    specs.append(TaskSpec(title="urgent fix", priority="urgent", role="qa"))
    await service.tasks.create_many(specs, "cli")
    await login(client, admin_token)
    board = (await client.get("/")).text
    assert re.search(r'id="count-ready">61<', board)
    assert board.count('data-status="ready"') == 1 + 50  # the column, its first 50 cards
    assert board.index("T-61") < board.index("T-1<")  # queue order: urgent first
    assert "11 more not shown" in board and 'id="pause-input"' in board
    column = (await client.get("/?status=ready")).text
    assert column.count('<article class="card') == 61
    found = (await client.get("/", params={"q": "urgent", "role": "qa"})).text
    assert re.search(r'id="count-ready">1<', found) and "urgent fix" in found
    card = (await client.get("/board/card/T-61")).text
    assert card.startswith('<article class="card prio-urgent" id="task-T-61"')


async def test_task_page_shows_history_notes_and_diff_stat(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    await service.tasks.create(TaskSpec(title="Parser", details="parse <b>it</b>"), "cli")
    await Scheduler(service, RecordingDeliverer()).run_burst()
    holder = (await service.tasks.get("T-1")).agent
    assert holder is not None
    await service.tasks.start("T-1", holder, "reading the grammar")
    await service.store.update(_commits_event, service.clock.now(), holder)
    await login(client, admin_token)
    page = (await client.get("/tasks/T-1")).text
    assert "parse &lt;b&gt;it&lt;/b&gt;" in page  # escaped
    assert "reading the grammar" in page and "parser.py | 12 +++" in page
    assert 'data-action="/api/v1/tasks/T-1/cancel"' in page
    missing = await client.get("/tasks/T-9")
    assert missing.status_code == 404 and missing.json() == {"error": "unknown task T-9"}


async def test_activity_uses_the_notifiers_words_and_charts_are_svg(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    await service.tasks.create_many([TaskSpec(title="a"), TaskSpec(title="b")], "cli")
    await Scheduler(service, RecordingDeliverer()).run_burst()
    await service.tasks.complete("T-1", "cli", "shipped")
    await login(client, admin_token)
    activity = (await client.get("/activity")).text
    newest = (await service.history.last(1))[0]
    assert event_text(newest).replace("'", "&#39;") in activity
    assert activity.index(f'data-id="{newest.id}"') < activity.index('data-id="1"')
    charts = (await client.get("/charts")).text
    assert charts.count("<svg") == 4 and ">Per agent<" in charts
    assert "no turn recorded in this period" in charts  # the spend: none yet
    assert re.search(r"<td>Agent-\d</td><td>1</td>", charts)  # one delivery per agent shown


async def test_a_question_and_its_answer_show_their_icons_on_the_activity_page(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    """The icons of the task's thread in Discord (❓, 💬): the dashboard showed • for both."""
    await service.tasks.create(TaskSpec(title="Pick a database", agent="Agent-1"), "cli")
    await Scheduler(service, RecordingDeliverer()).run_burst()
    await service.questions.ask("T-1", "Which database?", "Agent-1")
    await service.questions.reply("T-1", "Postgres", "cli")
    await login(client, admin_token)
    activity = (await client.get("/activity")).text
    assert "❓ T-1 question from Agent-1: Which database?" in activity
    assert "💬 T-1 answered by cli: Postgres" in activity


async def test_agents_page_and_a_missing_frame(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    await service.roster.set_paused("Agent-5", True, "cli")
    await login(client, admin_token)
    page = (await client.get("/agents")).text
    assert page.count('class="agent ') == 8 and "state-paused" in page
    assert 'data-action="/api/v1/agents/Agent-5/resume"' in page
    frame = await client.get("/agents/Agent-1/frame.png")
    assert frame.status_code == 404 and "no frame of Agent-1 yet" in frame.json()["error"]


def _commits_event(conn: Conn, now: float, agent: str) -> None:
    insert_event(
        conn,
        now,
        EventKind.TASK_COMMITS,
        "T-1: 1 commit(s)",
        task_id=1,
        agent=agent,
        data={"stat": " parser.py | 12 +++\n 1 file changed"},
    )


async def test_a_card_shows_the_open_question_who_asked_and_since_when(
    client: httpx.AsyncClient, service: SwarmService, viewer_token: str, clock: ManualClock
) -> None:
    """Issue 23, item 11: the board, the card the board refreshes and the task page."""
    await service.tasks.create(TaskSpec(title="Pick a database", agent="Agent-1"), "cli")
    await service.tasks.create(TaskSpec(title="Other"), "cli")
    await Scheduler(service, RecordingDeliverer()).run_burst()
    asked = await service.questions.ask("T-1", "Which <b>database</b>?", "Agent-1")
    clock.advance(300)
    await login(client, viewer_token)
    waiting = (
        '❓ waiting for an answer: <b>Agent-1</b> asked <time datetime="'
        f'{iso_utc(asked.asked_at)}">5 min ago</time>: '
        "Which &lt;b&gt;database&lt;/b&gt;?"
    )
    card = (await client.get("/board/card/T-1")).text
    assert waiting in card
    board = (await client.get("/")).text
    assert board.count(waiting) == 1 and board.count('class="question"') == 1
    page = (await client.get("/tasks/T-1")).text
    assert "❓ waiting for an answer: <b>Agent-1</b> asked at <time" in page
    assert "(5 min ago): Which &lt;b&gt;database&lt;/b&gt;?" in page
    await service.questions.reply("T-1", "Postgres", "cli")
    assert 'class="question"' not in (await client.get("/board/card/T-1")).text
