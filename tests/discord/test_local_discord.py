"""``swarm run --local-discord`` (issue 41, item 6): the real coordinator and bot against a
local Discord, used from its page as a person would: a slash command typed as text makes
the bot post a task's card, a button on it acts, a modal is a form; no Discord application."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo import NEXT_STEPS
from tests.discord.local_run import local_run, message_with
from tests.helpers import ROOT, cli_env, run_cli, write_agents
from tests.web.live import free_port

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


@pytest.mark.timeout(90)
async def test_a_slash_command_from_the_page_makes_a_card_and_its_button_acts(
    tmp_path: Path,
) -> None:
    async with local_run(tmp_path, env={"DISCORD_TOKEN": "a-real-looking-token"}) as run:
        unused = "swarm run: DISCORD_TOKEN is set but not used: the bot connects to the local "
        assert run.lines.count(unused + "Discord") == 1
        await run.until(lambda s: s["bot_ready"] and s["commands"], "the bot's commands")
        sent = await run.post("command", {"text": f"/task create title:{HOSTILE} Fix role:backend"})
        assert sent["ok"]
        answer = await run.until(message_with("T-1 created"), "the bot's answer")
        assert answer["ephemeral"] and answer["answers"] == "/task create"
        assert answer["content"] == "🆕 T-1 created: its card follows in #swarm"  # the mention
        card = await run.until(message_with("— assigned to Agent-1"), "the task's card")
        # as typed: the page shows it as text (test_local_discord_page)
        assert card["content"] == f"📨 **T-1** · {HOSTILE} Fix — assigned to Agent-1"
        # "assigned" is the card's word: the prompt's file may come after it
        folder = tmp_path / "home" / "inbox" / "Agent-1"
        inbox = await run.until(lambda _: sorted(folder.glob("*.txt")), "the prompt's file")
        assert len(inbox) == 1 and HOSTILE in inbox[0].read_text()

        done = next(b for row in card["rows"] for b in row if b["label"] == "Done")
        await run.post("button", {"message_id": card["id"], "custom_id": done["custom_id"]})
        said = await run.until(message_with("T-1 is now done"), "the button's answer")
        assert said["ephemeral"]

        unknown = await run.post("command", {"text": "/task create title:x colour:red"}, 400)
        assert "has no option 'colour'" in unknown["error"]
        assert (await run.post("command", {"text": "/nope"}, 400))["error"].startswith(
            "unknown command /nope; the bot has /agent"
        )

        await run.post("command", {"text": "/task create title:With a form details_form:true"})
        modal = await run.until(lambda s: s["modals"], "the details form")
        assert modal[0]["title"] == "Task details"
        field = modal[0]["fields"][0]
        assert field["label"] == "Details" and field["paragraph"]
        answer = {"interaction_id": modal[0]["interaction_id"], "values": {field["custom_id"]: "x"}}
        await run.post("modal", answer)
        await run.until(message_with("With a form"), "the task made by the form")
        assert await run.stop() == 0
    assert "swarm run: stopped" in run.lines
    # the person's Done is the person's (issue 53, item 8): the event names them
    done_events = run_cli(
        tmp_path / "home", "events", "--kind", "task.done", config=tmp_path / "agents.toml"
    )
    assert "T-1 done by Agent-1 (reported by discord:" in done_events.out, done_events


def test_the_flags_help_names_the_page_and_its_default_port(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "run", "--help")
    assert result.code == 0
    text = " ".join(result.out.split())
    assert "--local-discord the bot on a local Discord in this process, with a page" in text
    assert "--local-discord-port PORT the local Discord's port on 127.0.0.1 (default 8766;" in text


def test_a_taken_port_is_one_line_and_nothing_starts(tmp_path: Path) -> None:
    agents = write_agents(tmp_path / "agents.toml", [{"id": "Agent-1", "delivery": "inbox"}])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            tmp_path / "home",
            "run",
            "--local-discord",
            "--local-discord-port",
            str(port),
            config=agents,
            env={"SWARM_WEB_PORT": str(free_port())},
        )
    assert result.code != 0
    assert result.err.strip().splitlines() == [
        f"swarm: error: cannot listen on 127.0.0.1:{port} for the local Discord: Address "
        "already in use (choose another port with --local-discord-port)"
    ]
    assert "swarm run:" not in result.out  # no page, no banner
    assert not (tmp_path / "home" / "swarm.db").exists()


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--local-discord", "--no-discord"],
            "--local-discord runs the bot: leave out --no-discord",
        ),
        (["--local-discord-port", "9"], "--local-discord-port goes with --local-discord"),
        (["--local-discord", "--local-discord-port", "70000"], "expected a port from 0 to 65535"),
    ],
)
def test_flags_that_do_not_go_together(tmp_path: Path, args: list[str], error: str) -> None:
    result = run_cli(tmp_path / "home", "run", *args)
    assert result.code != 0 and error in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_without_localdiscord_it_names_the_extra(tmp_path: Path) -> None:
    hide = (
        "import sys; sys.modules['localdiscord'] = None; "  # as if it were not installed
        "from bot.cli.main import main; sys.exit(main(['run', '--local-discord']))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", hide],
        env=cli_env(tmp_path / "home"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "swarm: error: --local-discord needs the localdiscord package (the swarm[demo] extra): "
        "in the swarm repository run make, or pip install ./packages/localdiscord"
    ]
    assert proc.stdout == "" and not (tmp_path / "home").exists()


def test_swarm_run_without_a_token_points_at_the_local_discord(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "run")
    assert result.code != 0
    assert result.err.strip().endswith(
        "or try the bot without a Discord application: swarm run --local-discord (or swarm demo)"
    )


def test_the_demos_next_steps_name_terminal_agents_not_calibration() -> None:
    assert "swarm workspaces init" in NEXT_STEPS and "swarm desktop up" in NEXT_STEPS
    assert "swarm run --local-discord" in NEXT_STEPS
    assert not re.search(r"calibrat", NEXT_STEPS)
