"""Claude Code 2.1.328's real screens (captured unedited with ``tmux capture-pane -p -J``
against localmodel, saved as ``panes/claude-code/claude-code-2.1.328-*.txt``): what each one
reads as with the claude-code rule file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.agent_state import AgentState
from core.agents._alerts import list_alerts
from core.agents._text_rules import classify, load_rule_sets
from core.clis import panes
from core.coordinator.jobs import Watcher
from core.coordinator.scheduler import Scheduler
from core.models import PromptOption, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.text_signal import TextWatcher
from tests.helpers import RecordingDeliverer, write_agents
from tests.tmux_server import Tmux, wait_text
from tests.watch.conftest import watch_settings

VERSION = "2.1.328"
WAIT = "stall-waiting-for-api"  # a frozen stream after ~45 s
NOW = dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.UTC).timestamp()
RULE_SETS, _ = load_rule_sets(None)
CLAUDE = {rs.cli: rs for rs in RULE_SETS}["claude-code"]

# fixture (without "claude-code-VERSION-") -> (rule, state, reset in seconds or None)
REAL = {
    "idle-start": ("input", AgentState.IDLE, None),
    "idle-past-prompts": ("input", AgentState.IDLE, None),
    "after-approve": ("input", AgentState.IDLE, None),
    "working-slow-stream": ("working", AgentState.WORKING, None),
    "stall-4s": ("working", AgentState.WORKING, None),
    # pairs 2-10 s apart (tests/watch/test_text_signal.py: which moved by themselves only)
    "stall-5s": ("working", AgentState.WORKING, None),
    "stall-10s": ("working", AgentState.WORKING, None),
    "working-stream-7s": ("working", AgentState.WORKING, None),
    "working-stream-9s": ("working", AgentState.WORKING, None),
    "tool-running-19s": ("working", AgentState.WORKING, None),
    "tool-running-30s": ("working", AgentState.WORKING, None),
    "permission-dialog": ("permission", AgentState.WAITING, None),
    "mcp-permission-dialog": ("permission", AgentState.WAITING, None),
    "limit-429-retrying": ("api-retrying", AgentState.LIMITED, 17),
    "limit-429-rejected": ("rate-limited", AgentState.LIMITED, None),
    "overload-529-retrying": ("overloaded", AgentState.LIMITED, 2),
    "error-500": ("api-error", AgentState.ERRORED, None),
    "stall-waiting-for-api": ("api-wait", AgentState.ERRORED, None),
    "stall-released": ("input", AgentState.IDLE, None),
    "bypass-warning": ("bypass-warning", AgentState.WAITING, None),
    "mcp-server-found": ("mcp-server-found", AgentState.WAITING, None),
    "auto-mode-start": ("input", AgentState.IDLE, None),
    "auto-mode-gateway": ("auto-mode-gateway", AgentState.WAITING, None),
    "auto-mode-approval": ("auto-mode-approval", AgentState.WAITING, None),
    # auto mode behind a gateway, at an action the server must check: a notice, then the
    # check sent to the gateway (a local model has no usable answer: the action not run)
    "auto-mode-billing-notice": ("continue-notice", AgentState.WAITING, None),
    "auto-mode-check-not-run": ("input", AgentState.IDLE, None),
    # a user's first start (CLAUDE_CODE_FORCE_FULLSCREEN_UPSELL=1 shows it to any user)
    "fullscreen-offer": ("fullscreen-offer", AgentState.WAITING, None),
    "plan-exit": ("plan", AgentState.WAITING, None),  # --permission-mode plan, ExitPlanMode
    # its plan written to the plan file first: "Ready to code?", then 3 pressed (its field),
    # then words typed there and Enter (the plan rejected, the turn over)
    "plan-ready": ("plan-ready", AgentState.WAITING, None),
    "plan-ready-field": ("plan-ready", AgentState.WAITING, None),
    "plan-rejected": ("input", AgentState.IDLE, None),
    # its permission modes: acceptEdits ("⏵⏵ accept edits on"), plan ("⏸ plan mode on")
    "accept-edits-start": ("input", AgentState.IDLE, None),
    "accept-edits-answer": ("input", AgentState.IDLE, None),
    "plan-mode-start": ("input", AgentState.IDLE, None),
    "plan-mode-answer": ("input", AgentState.IDLE, None),
}


def real_pane(name: str) -> list[str]:
    """A saved real pane of Claude Code VERSION, as captured."""
    path = panes("claude-code") / f"claude-code-{VERSION}-{name}.txt"
    return path.read_text(encoding="utf-8").split("\n")


@pytest.mark.parametrize("name", sorted(REAL))
def test_each_real_pane_reads_as_its_state(name: str) -> None:
    """Before: the 429s read as idle, the 500 as idle (the rule wanted ``⎿``), the 429 and
    529 retries and the frozen stream's "Waiting for API response" as working."""
    rule, state, reset_in = REAL[name]
    found = classify(CLAUDE, real_pane(name), NOW)
    assert found is not None and (found.rule, found.state) == (rule, state)
    assert found.until == (None if reset_in is None else NOW + reset_in)


def test_every_real_pane_is_in_the_table() -> None:
    saved = sorted(
        p.name.removeprefix(f"claude-code-{VERSION}-").removesuffix(".txt")
        for p in (panes("claude-code")).glob(f"claude-code-{VERSION}-*.txt")
    )
    assert saved == sorted(REAL)


def test_the_four_option_permission_dialog() -> None:
    found = classify(CLAUDE, real_pane("permission-dialog"), NOW)
    assert found is not None and found.state is AgentState.WAITING
    assert found.options == (
        PromptOption("1", "Yes"),
        PromptOption("2", "Yes, and always allow access to /tmp/ccpanes/work from this project"),
        PromptOption("3", "Yes, and switch to auto mode · auto mode handles these prompts for you"),
        PromptOption("4", "No"),
    )
    shown = found.prompt.splitlines()
    assert " touch created-by-localmodel.txt" in shown and shown[-1].strip().startswith("Esc")
    assert found.questions and not found.ambiguous


def test_the_mcp_three_option_dialog() -> None:
    found = classify(CLAUDE, real_pane("mcp-permission-dialog"), NOW)
    assert found is not None and found.state is AgentState.WAITING
    assert [o.label for o in found.options] == [
        "Yes",
        "Yes, and don't ask again for swarm — Report commands in /tmp/ccpanes/work",
        "No",
    ]
    assert any('status: "done"' in line for line in found.prompt.splitlines())


def test_the_first_start_fullscreen_offer_is_a_prompt_of_its_own_two_options() -> None:
    """Before: no rule knew "Try the new fullscreen renderer?" (a user's first start of
    2.1.328): its pane read unknown and the first task's delivery failed on it. Now it waits
    for the person, with the dialog's own options, and from its top: the logo above it is
    not what it asks."""
    found = classify(CLAUDE, real_pane("fullscreen-offer"), NOW)
    assert found is not None and found.state is AgentState.WAITING
    assert found.options == (PromptOption("1", "Yes, try it"), PromptOption("2", "Not now"))
    shown = [line.strip() for line in found.prompt.splitlines()]
    assert shown[:2] == ["───", "Try the new fullscreen renderer?"], shown
    assert shown[-1] == "Enter to confirm · Esc to cancel"


def test_the_plan_modes_exit_dialog_is_a_prompt_of_its_own_options() -> None:
    """Before: 2.1's "Exit plan mode?" read unknown (the rule wanted "Would you like to
    proceed?" alone on its line)."""
    found = classify(CLAUDE, real_pane("plan-exit"), NOW)
    assert found is not None and found.state is AgentState.WAITING
    assert found.options == (
        PromptOption("1", "Yes, and switch to default (ask each time) for this session"),
        PromptOption("2", "No"),
    )
    assert found.prompt.splitlines()[1].strip() == "Exit plan mode?"


def test_a_plan_to_approve_is_shown_with_the_plan_in_the_dialogs_words() -> None:
    """Before: "Ready to code?" was shown from the rule drawn right above its question, so
    the person approved a plan they were not shown (it sits between the dialog's title and
    its question, under rules of its own)."""
    found = classify(CLAUDE, real_pane("plan-ready"), NOW)
    assert found is not None and found.rule == "plan-ready"
    assert found.options == (
        PromptOption("1", "Yes, and use auto mode"),
        PromptOption("2", "Yes, manually approve edits"),
        PromptOption("3", "Tell Claude what to change"),
    )
    shown = [line.strip() for line in found.prompt.splitlines()]
    assert shown[:2] == ["Ready to code?", "Here is Claude's plan:"], shown
    assert "1. Create planned.txt with one line." in shown
    assert not any(line.startswith("● The plan is ready.") for line in shown)
    # its third option opens a field for words: chosen from swarm, it is 3 then Enter
    assert [found.keys_for(k) for k in "123"] == [("1",), ("2",), ("3", "enter")]


def test_a_plan_longer_than_the_pane_is_shown_as_far_as_the_pane_goes() -> None:
    """The dialog's title scrolled away (the real pane without its lines above the plan's
    second step, as a longer plan leaves it): the pane's lines are shown, the question's
    rule too, never the question alone."""
    pane = real_pane("plan-ready")
    cut = next(i for i, line in enumerate(pane) if "2. Say it is made." in line)
    found = classify(CLAUDE, pane[cut:], NOW)
    assert found is not None and found.rule == "plan-ready"
    shown = [line.strip() for line in found.prompt.splitlines()]
    assert shown[0] == "2. Say it is made.", shown


def test_auto_modes_billing_notice_is_a_prompt_of_its_two_keys() -> None:
    """Before: no rule knew it (unknown, and the turn waited there)."""
    found = classify(CLAUDE, real_pane("auto-mode-billing-notice"), NOW)
    assert found is not None and found.state is AgentState.WAITING
    assert found.options == (PromptOption("Enter", "continue"), PromptOption("Esc", "cancel"))
    shown = [line.strip() for line in found.prompt.splitlines()]
    assert shown[1].startswith("We're changing auto mode"), shown


def test_a_dialog_is_shown_from_its_top_not_from_what_sits_above_it() -> None:
    """Before: a prompt's text was the rule's last 15 lines, so its head (the item's
    summary) was the transcript above the dialog ("❯ list files"). Now it starts at the
    rule drawn above the dialog."""
    found = classify(CLAUDE, real_pane("permission-dialog"), NOW)
    assert found is not None
    shown = [line.strip() for line in found.prompt.splitlines()]
    assert shown[:2] == ["───", "Bash command"], shown
    assert not any(line.startswith("❯ list files") for line in shown)


def test_auto_mode_behind_a_gateway_is_a_prompt_of_its_three_keys() -> None:
    """Claude Code's default launch (auto mode) against another base URL stops at the first
    action on "Auto mode can't check actions in this session". Before: no rule knew it, the
    hook's PreToolUse kept the agent working for ever, nothing needed anyone."""
    found = classify(CLAUDE, real_pane("auto-mode-gateway"), NOW)
    assert found is not None and found.state is AgentState.WAITING
    assert found.options == (
        PromptOption("Enter", "stay in auto mode"),
        PromptOption("shift+Tab", "leave for accept edits mode and stop"),
        PromptOption("Esc", "cancel"),
    )
    # the dialog alone: the turn's blinking spinner above it would make each look new
    shown = found.prompt.splitlines()
    assert shown[0].strip() == "Auto mode can't check actions in this session", shown
    assert shown[-1].strip().startswith("Enter to stay in auto mode")


def test_idle_is_read_from_the_input_box_not_from_past_prompts() -> None:
    """Before: any ``❯ list files`` echoed in the scrollback was the input box. Now only a
    ``❯`` line between two horizontal borders is: the real pane's scrollback alone (its
    input box and footer cut) is no idle, its whole screen is."""
    lines = real_pane("idle-past-prompts")
    found = classify(CLAUDE, lines, NOW)
    assert found is not None and found.state is AgentState.IDLE
    assert found.line == "❯"  # the box's line, not an echoed prompt
    border = next(i for i, line in enumerate(lines) if line.startswith("────"))
    scrollback = lines[:border]
    assert any(line.startswith("❯ list files") for line in scrollback)
    assert classify(CLAUDE, scrollback, NOW) is None  # unknown, not idle


def test_the_500_shows_the_resend_placeholder_in_the_box_yet_reads_errored() -> None:
    found = classify(CLAUDE, real_pane("error-500"), NOW)
    assert found is not None and found.state is AgentState.ERRORED
    assert found.line.startswith("● API Error: 500 Internal server error")


async def claude_agent(home: Path, tmp_path: Path, tmux: Tmux, clock: ManualClock) -> SwarmService:
    """A service whose one agent, A, is a Claude Code agent on the pane ``swarm:a`` of
    ``tmux``."""
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": "A", "role": "dev", "tmux": "swarm:a", "tmux_socket": str(tmux.socket),
          "cli": "claude-code"}],
    )  # fmt: skip
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    return await SwarmService.open(settings, clock)


async def test_a_frozen_streams_wait_line_ends_in_stalled(
    home: Path, tmp_path: Path, tmux: Tmux, clock: ManualClock
) -> None:
    """Before: the real "Waiting for API response · will retry in 4m 12s" screen read as
    working (its footer says ``esc to interrupt``): the stall clock never ran, the agent was
    working for ever. Now it is errored, and the stall rules judge it stalled."""
    service = await claude_agent(home, tmp_path, tmux, clock)
    path = panes("claude-code") / f"claude-code-{VERSION}-stall-waiting-for-api.txt"
    tmux.window("swarm", "a", f"cat {path}; sleep 600", size="120x40")
    wait_text(tmux.ref("swarm:a"), "Waiting for API response")
    rule_sets, errors = load_rule_sets(home)
    assert errors == []
    text = TextWatcher(service, rule_sets)
    watcher = Watcher(service, watch_settings(interval_s=1.0, stall_after_s=30.0), text=text)
    try:
        task = await service.tasks.create(TaskSpec("answer the question"), "test")
        await service.tasks.assign(task.id, "A", "test")  # pinned: the scheduler gives it to A
        await Scheduler(service, RecordingDeliverer()).run_burst()
        assert (await service.tasks.get(task.id)).agent == "A"
        await watcher.tick()
        rows = {r["id"]: r for r in (await service.status())["agents"]}
        assert rows["A"]["state"] == "errored"
        assert "Waiting for API response" in rows["A"]["evidence"]
        for _ in range(20):  # watched every 10 s, past the grace and SWARM_STALL_AFTER
            clock.advance(10.0)
            await watcher.tick()
        rows = {r["id"]: r for r in (await service.status())["agents"]}
        assert rows["A"]["state"] == "stalled"
        assert [a.kind for a in await service.store.read(list_alerts)] == ["stalled"]
    finally:
        await text.close()
        await service.close()


async def test_a_dialog_only_the_terminal_can_answer_needs_the_person(
    home: Path, tmp_path: Path, tmux: Tmux, clock: ManualClock
) -> None:
    """Auto mode's approval behind a gateway ("❯ No" / "Yes", chosen with the arrows) opens
    no prompt and no hook asks: before, the agent read as working (its PreToolUse) and
    nothing needed anyone. Now the pane reads waiting and an alert in "Needs you" says to
    answer it in the terminal; it clears once the dialog has left."""
    service = await claude_agent(home, tmp_path, tmux, clock)
    saved = panes("claude-code")
    approval = saved / f"claude-code-{VERSION}-auto-mode-approval.txt"
    tmux.window("swarm", "a", f"cat {approval}; sleep 600", size="200x50")
    wait_text(tmux.ref("swarm:a"), "so this one needs your approval")
    text = TextWatcher(service, RULE_SETS)
    watcher = Watcher(service, watch_settings(interval_s=1.0), text=text)
    try:
        await watcher.tick()
        rows = {r["id"]: r for r in (await service.status())["agents"]}
        assert rows["A"]["state"] == "waiting"
        needs = [n for n in await service.inbox.needs() if n.kind == "alert"]
        assert len(needs) == 1 and "swarm attach A" in needs[0].text, needs
        assert await service.store.read(list_alerts) != []
        idle = saved / f"claude-code-{VERSION}-idle-start.txt"
        tmux.run("respawn-pane", "-k", "-t", "swarm:a", f"cat {idle}; sleep 600")
        wait_text(tmux.ref("swarm:a"), "? for shortcuts")
        clock.advance(5.0)
        await watcher.tick()
        assert await service.store.read(list_alerts) == []
        assert [n for n in await service.inbox.needs() if n.kind == "alert"] == []
    finally:
        await text.close()
        await service.close()
