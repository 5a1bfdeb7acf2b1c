"""A button pressed (a ``callback_query``): the same operation Discord's button and the CLI
call (``service.inbox``, ``service.tasks``, ``service.workflows``, ``service.github``), once,
by a swarm admin; the message edited to say who decided what, its buttons gone; the press
answered with one line (a refusal, or why it could not be done: decided already, ...)."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update
from telegram.ext import ContextTypes

from bot.telegram.callbacks import Press, parse
from bot.telegram.desk import REFUSED, Desk, Handler, actor
from bot.telegram.front_end import keyboard
from bot.telegram.markup import bounded, quoted
from bot.telegram.render import Shown, agent_rows, ci_shown, prompt_shown
from bot.telegram.settings import FRONT_END
from core.coordinator.front_end import CiPost
from core.coordinator.urgent_posts import ci_key, prompt_key
from core.errors import NotFound, SwarmError
from core.formats.text import one_line, shorten
from core.inbox.needs import prompt_ref
from core.models import task_ref
from core.posts.queries import Post

log = logging.getLogger(__name__)


def on_press(desk: Desk) -> Handler:
    """The handler of every press in the chat."""

    async def handle(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or not desk.ours(update) or query.message is None:
            return
        press = parse(query.data or "")
        if press is None:
            await query.answer("This button is not swarm's.")
            return
        if not await desk.allowed(query.from_user, describe(press)):
            await query.answer(REFUSED, show_alert=True)
            return
        try:
            said = await decide(desk, query, press)
        except SwarmError as exc:
            said = f"⚠️ {one_line(str(exc))}"
        await query.answer(shorten(said, 190))

    return handle


def describe(press: Press) -> str:
    """What a press does, for the audit: ``button prompt R-3 option 1``."""
    if press.kind == "p":
        return f"button prompt {prompt_ref(int(press.target))} option {press.index + 1}"
    if press.kind == "a":
        return f"button reassign {press.target} to {press.agent}"
    if press.kind in "tgc":
        return f"button {press.action} {task_ref(int(press.target))}"
    option = f" option {press.index + 1}" if press.action == "option" else ""
    return f"button {press.action} {press.target}{option}"


async def decide(desk: Desk, query: CallbackQuery, press: Press) -> str:
    """Do what ``press`` says; the line that answers it."""
    if press.kind == "p":
        return await _prompt(desk, query, int(press.target), press.index)
    if press.kind == "t":
        return await _card(desk, query, press.action, int(press.target))
    if press.kind == "g":
        return await _gate(desk, query, press.action, int(press.target))
    if press.kind == "c":
        return await _ci(desk, query, press.action, int(press.target))
    if press.kind == "a":
        return await _to_agent(desk, query, press)
    if press.action == "reassign":
        return await _agent_keyboard(desk, query, press.target)
    return await _need(desk, query, press)


async def _prompt(desk: Desk, query: CallbackQuery, prompt_id: int, index: int) -> str:
    """Choose the option; the message shows who chose what (kept: the notifier's edit for
    the same decision finds it shown)."""
    inbox = desk.service.inbox
    prompt = await inbox.prompt(prompt_id)
    if index >= len(prompt.options):
        raise NotFound(f"{prompt_ref(prompt_id)} has no option {index + 1}")
    answered = await inbox.decide_prompt(
        prompt_id, prompt.options[index].key, actor(query.from_user)
    )
    message = prompt_shown(await inbox.prompt(prompt_id))
    await _keep(desk, query, prompt_key(prompt_id), message)
    return f"✅ {answered.text}"


async def _card(desk: Desk, query: CallbackQuery, action: str, task_id: int) -> str:
    """Done, Retry or Reassign; the card follows through the notifier (the task's event)."""
    tasks, who = desk.service.tasks, actor(query.from_user)
    if action == "done":
        await tasks.complete(task_id, who, "marked done from Telegram")
    elif action == "retry":
        await tasks.retry(task_id, who)
    elif action == "reassign":
        await tasks.requeue(task_id, who)
    else:
        raise NotFound(f"no card action {action!r}")
    task = await tasks.get(task_id)
    return f"{task.ref} is now {task.status.value}"


async def _gate(desk: Desk, query: CallbackQuery, action: str, task_id: int) -> str:
    """Approve (its dependents released) or reject (they are cancelled) a waiting gate."""
    flows, who, ref = desk.service.workflows, actor(query.from_user), task_ref(task_id)
    if action == "approve":
        await flows.approve(ref, who)
        said = f"✅ {ref} approved by {who}"
    else:
        cancelled = await flows.reject(ref, who)
        others = ", ".join(task_ref(i) for i in cancelled) or "nothing else"
        said = f"🛑 {ref} rejected by {who}; cancelled {others}"
    await _show_decided(desk, query, str(task_id), said)
    return said


async def _ci(desk: Desk, query: CallbackQuery, action: str, task_id: int) -> str:
    """Retry, take over or close the PR whose CI failed past its retries."""
    github = desk.service.github
    decided = await github.decide_ci(task_id, action, actor(query.from_user))
    data = await github.ci_exhausted(task_id)
    await _keep(desk, query, ci_key(task_id), ci_shown(CiPost(task_id, data, decided)))
    return f"✅ {decided.text}"


async def _need(desk: Desk, query: CallbackQuery, press: Press) -> str:
    """An inbox item's action, as ``swarm approve|reject|inbox act`` does it."""
    inbox, who, ref = desk.service.inbox, actor(query.from_user), press.target
    if press.action == "option":
        if not ref.startswith("R-"):
            raise NotFound(f"{ref} is no prompt: it has no options")
        prompt = await inbox.prompt(int(ref.partition("-")[2]))
        if press.index >= len(prompt.options):
            raise NotFound(f"{ref} has no option {press.index + 1}")
        answered = await inbox.approve(ref, who, prompt.options[press.index].key)
    elif press.action == "approve":
        answered = await inbox.approve(ref, who)
    elif press.action == "reject":
        answered = await inbox.reject(ref, who)
    else:
        answered = await inbox.act(ref, press.action, who)
    said = f"✅ {answered.text} ({who})"
    await _show_decided(desk, query, ref, said)
    return said


async def _agent_keyboard(desk: Desk, query: CallbackQuery, ref: str) -> str:
    """Reassign: a keyboard of the agents but the holder, in a reply to the pressed
    message; a press on one of them reassigns (``_to_agent``)."""
    need = await desk.service.inbox.item(ref)
    others = [a for a in desk.service.agents if a != need.agent]
    shown = Shown(f"Reassign <b>{quoted(ref)}</b> to:", agent_rows(ref, others))
    if not isinstance(query.message, Message):  # too old for the bot to reply to
        return f"name the agent: /reassign {ref} AGENT"
    await query.message.reply_html(shown.html, reply_markup=keyboard(shown))
    return f"choose the agent for {ref} below"


async def _to_agent(desk: Desk, query: CallbackQuery, press: Press) -> str:
    """Reassign the item's task to the agent pressed; the keyboard goes, who did it shown."""
    who = actor(query.from_user)
    answered = await desk.service.inbox.act(press.target, "reassign", who, press.agent)
    said = f"✅ {answered.text} ({who})"
    await _show_decided(desk, query, press.target, said)
    return said


async def _keep(desk: Desk, query: CallbackQuery, key: str, message: Shown) -> None:
    """Show ``message`` in the pressed message and keep it as the post of ``key``."""
    assert query.message is not None
    message_id = query.message.message_id
    await desk.front.show_in(message_id, message)
    await desk.service.posts.keep_post(FRONT_END, Post(key, str(message_id), shown=message.key))


async def _show_decided(desk: Desk, query: CallbackQuery, target: str, said: str) -> None:
    """The pressed message without the buttons of ``target`` (a reference, a task's id),
    the decision said below it."""
    message = query.message
    if message is None or not hasattr(message, "text_html"):
        return
    markup = getattr(message, "reply_markup", None)
    rows = tuple(
        tuple(
            (b.text, str(b.callback_data))
            for b in row
            if f":{target}:" not in f"{b.callback_data}:"
        )
        for row in (markup.inline_keyboard if markup else ())
    )
    text = bounded(f"{message.text_html}\n{quoted(said, 500)}")
    await desk.front.show_in(message.message_id, Shown(text, tuple(r for r in rows if r)))
