"""The bot's commands (registered with ``setMyCommands``) and a reply to a task's message,
each one call to the same operation Discord's command and the CLI make. Reading (``/tasks``,
``/show``, ``/inbox``, ``/agents``) is for anyone in the chat; the rest is for swarm admins,
a refusal one line and recorded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Message, Update
from telegram.ext import ContextTypes

from automation.turn_stop import stop_and_record
from bot.discordbot.cards import STATE_ICONS
from bot.discordbot.render import agents_text, task_line
from bot.telegram.desk import Desk, Handler, actor
from bot.telegram.front_end import keyboard
from bot.telegram.markup import bounded, quoted
from bot.telegram.render import Shown, agent_rows, need_rows
from bot.telegram.settings import FRONT_END
from core.errors import InvalidInput, SwarmError
from core.formats.text import one_line, shorten
from core.models import TaskSpec

MAX_TASKS = 20  # lines of /tasks
MAX_ITEMS = 5  # items of /inbox, a row of buttons each
Run = Callable[[Desk, Message, list[str]], Awaitable[Shown]]


@dataclass(frozen=True)
class Command:
    """A bot command: its name, its line in the client's list, whether it decides."""

    name: str
    description: str
    run: Run
    decides: bool = True


async def create_task(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/task <title>``: a new task; its live message follows."""
    title = " ".join(args).strip()
    if not title:
        raise InvalidInput("give the task's title: /task fix the login page")
    assert message.from_user is not None
    task = await desk.service.tasks.create(TaskSpec(title=title), actor(message.from_user))
    return Shown(f"{STATE_ICONS[task.status]} <b>{task.ref}</b> created: its message follows")


async def list_tasks(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/tasks [status]``: the newest tasks, a line each."""
    found = await desk.service.tasks.newest(args[0] if args else None, None, limit=MAX_TASKS)
    lines = [quoted(shorten(task_line(t), 200)) for t in found] or ["no tasks"]
    return Shown(bounded("\n".join(lines)))


async def show_task(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/show T-3`` (or a reply to a task's message): the task, its recent history."""
    ref = args[0] if args else await _replied_task(desk, message)
    task = await desk.service.tasks.get(ref)
    history = await desk.service.history.events(task=task.id, limit=10)
    lines = [f"<b>{task.ref}</b> · {quoted(task.title, 300)}", quoted(task_line(task), 400)]
    if task.details:
        lines.append(f"<pre>{quoted(task.details, 1500)}</pre>")
    lines += [quoted(shorten(one_line(e.text), 200)) for e in history]
    return Shown(bounded("\n".join(lines)))


async def inbox(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/inbox``: what needs a person, oldest first, with a row of buttons per item."""
    found = await desk.service.inbox.needs()
    if not found:
        return Shown("✅ nothing needs you")
    lines = [f"✋ {len(found)} item(s) need you, oldest first:"]
    for need in found[:MAX_ITEMS]:
        head = f"<b>{need.ref}</b> {quoted(need.kind)} · {quoted(one_line(need.concerns), 80)}"
        lines.append(f"{head}: {quoted(one_line(need.text), 300)}")
    if len(found) > MAX_ITEMS:
        lines.append(f"… and {len(found) - MAX_ITEMS} more: swarm inbox, or the dashboard")
    rows = tuple(row for need in found[:MAX_ITEMS] for row in need_rows(need))
    return Shown(bounded("\n".join(lines)), rows)


async def agents(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/agents``: each agent's role, state, task."""
    rows = await desk.service.roster.rows()
    return Shown(bounded(f"<pre>{quoted(agents_text(rows))}</pre>"))


async def stop(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/stop <agent>``: its running turn stopped now; its task stays."""
    if not args:
        raise InvalidInput("name the agent: /stop Agent-2")
    assert message.from_user is not None
    call = stop_and_record(desk.service, args[0], actor(message.from_user), on_coordinator=True)
    found, stopped = await call
    said = f"{found.id}: {stopped.said}"
    return Shown(quoted(f"⏹️ {said}" if stopped.done else said))


async def pause(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/pause``: the kill switch (desktop input); ``/pause <agent>``: no new tasks for it."""
    assert message.from_user is not None
    who = actor(message.from_user)
    if not args:
        await desk.service.pause_input(who, "paused from Telegram")
        return Shown("⏸️ desktop input paused")
    changed = await desk.service.roster.set_paused(args[0], True, who)
    name = desk.service.resolve_agent(args[0]).id
    return Shown(quoted(f"⏸️ {name} paused" if changed else f"{name} was already paused"))


async def resume(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/resume``: the kill switch released; ``/resume <agent>``: it takes tasks again."""
    assert message.from_user is not None
    who = actor(message.from_user)
    if not args:
        released = await desk.service.resume_input(who)
        return Shown("▶️ desktop input resumed" if released else "desktop input was not paused")
    changed = await desk.service.roster.set_paused(args[0], False, who)
    name = desk.service.resolve_agent(args[0]).id
    return Shown(quoted(f"▶️ {name} resumed" if changed else f"{name} was not paused"))


async def send(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/send <agent> <text>``: a message to one agent."""
    if len(args) < 2:
        raise InvalidInput("name the agent and say what: /send Agent-2 rebase on main")
    assert message.from_user is not None
    await desk.service.messages.send(args[0], " ".join(args[1:]), actor(message.from_user))
    return Shown(quoted(f"📨 queued for {desk.service.resolve_agent(args[0]).id}"))


async def broadcast(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/broadcast <text>``: a message to every agent."""
    if not args:
        raise InvalidInput("say what: /broadcast stand-up in five minutes")
    assert message.from_user is not None
    sent = await desk.service.messages.broadcast(" ".join(args), actor(message.from_user))
    return Shown(f"📣 queued for {len(await desk.service.messages.deliveries(sent))} agent(s)")


async def approve(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/approve <ref> [option]``: a gate, a plan, a held item; a prompt's narrowest allow
    (or the option's key)."""
    return await _decide(desk, message, args, "approve")


async def reject(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/reject <ref> [option]``: a gate or a plan; a prompt's rejecting option."""
    return await _decide(desk, message, args, "reject")


async def reassign(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/reassign <ref> <agent>``: the item's task (a stalled or limited agent's, a
    stranded one) to that agent; without the agent, a keyboard of them."""
    if not args:
        raise InvalidInput("give the reference: /reassign A-3 Agent-2 (see /inbox)")
    assert message.from_user is not None
    ref = args[0].upper()
    if len(args) < 2:
        need = await desk.service.inbox.item(ref)
        others = [a for a in desk.service.agents if a != need.agent]
        return Shown(f"Reassign <b>{quoted(ref)}</b> to:", agent_rows(ref, others))
    answered = await desk.service.inbox.act(ref, "reassign", actor(message.from_user), args[1])
    return Shown(quoted(f"✅ {answered.text}"))


async def budget(desk: Desk, message: Message, args: list[str]) -> Shown:
    """``/budget <ref> <dollars>``: a spent budget raised to that many dollars."""
    if len(args) < 2:
        raise InvalidInput("give the reference and the new budget: /budget B-2 25 (see /inbox)")
    assert message.from_user is not None
    typed = args[1].removeprefix("$").replace(",", "")
    try:
        dollars = float(typed)
    except ValueError:
        raise InvalidInput(f"{shorten(args[1], 40)!r} is not a number of dollars") from None
    who = actor(message.from_user)
    answered = await desk.service.inbox.act(args[0].upper(), "raise", who, dollars=dollars)
    return Shown(quoted(f"✅ {answered.text}"))


async def _decide(desk: Desk, message: Message, args: list[str], how: str) -> Shown:
    if not args:
        raise InvalidInput(f"give the reference: /{how} R-3 (see /inbox)")
    assert message.from_user is not None
    ref, option = args[0].upper(), (args[1] if len(args) > 1 else None)
    book = desk.service.inbox
    decide = book.approve if how == "approve" else book.reject
    answered = await decide(ref, actor(message.from_user), option)
    return Shown(quoted(f"✅ {answered.text}"))


async def _replied_task(desk: Desk, message: Message) -> int:
    """The task whose message ``message`` replies to."""
    replied = message.reply_to_message
    found = None
    if replied is not None:
        found = await desk.service.posts.task_of_thread(FRONT_END, str(replied.message_id))
    if found is None:
        raise InvalidInput("give the task (/show T-3), or reply to its message")
    return found


COMMANDS = (
    Command("task", "Create a task: /task <title>", create_task),
    Command("tasks", "The newest tasks", list_tasks, decides=False),
    Command("show", "A task: /show T-3", show_task, decides=False),
    Command("inbox", "What needs you, with its buttons", inbox, decides=False),
    Command("agents", "The agents and their state", agents, decides=False),
    Command("stop", "Stop an agent's turn: /stop <agent>", stop),
    Command("pause", "Pause desktop input, or an agent: /pause [agent]", pause),
    Command("resume", "Resume desktop input, or an agent: /resume [agent]", resume),
    Command("send", "Message an agent: /send <agent> <text>", send),
    Command("broadcast", "Message every agent: /broadcast <text>", broadcast),
    Command("approve", "Approve by reference: /approve R-3", approve),
    Command("reject", "Reject by reference: /reject T-4", reject),
    Command("reassign", "Reassign an item's task: /reassign A-3 <agent>", reassign),
    Command("budget", "Raise a spent budget: /budget B-2 <dollars>", budget),
)


def on_command(desk: Desk, command: Command) -> Handler:
    """The handler of ``/<command.name>`` in the chat."""

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.from_user is None or not desk.ours(update):
            return
        args = list(context.args or [])
        what = shorten(one_line(f"/{command.name} {' '.join(args)}".strip()), 300)
        if command.decides and not await desk.allowed(message.from_user, what):
            await desk.refuse_in_reply(message)
            return
        try:
            answer = await command.run(desk, message, args)
        except SwarmError as exc:
            answer = Shown(quoted(f"⚠️ {one_line(str(exc))}", 500))
        await message.reply_html(answer.html, reply_markup=keyboard(answer))

    return handle


def on_reply(desk: Desk) -> Handler:
    """A person's reply to a task's message answers its open question (admins only)."""

    async def handle(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.from_user is None or not desk.ours(update):
            return
        replied = message.reply_to_message
        if replied is None or not message.text:
            return
        task_id = await desk.service.posts.task_of_thread(FRONT_END, str(replied.message_id))
        if task_id is None:
            return  # people talking among themselves
        if not await desk.allowed(message.from_user, f"reply T-{task_id}"):
            await desk.refuse_in_reply(message)
            return
        try:
            question = await desk.service.questions.reply(
                task_id, message.text, actor(message.from_user)
            )
            said = f"✅ T-{task_id} answered: queued for {question.agent or 'nobody'}"
        except SwarmError as exc:
            said = f"⚠️ {one_line(str(exc))}"
        await message.reply_text(shorten(said, 500))

    return handle
