"""The CLI zygote runs the CLI as a fresh process would: same output, status, environment."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.cli_zygote import Zygote
from tests.helpers import ROOT, cli_env


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    started = Zygote(ROOT)
    yield started
    started.close()


def fresh(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "bot.cli.main", *argv], env=env,
                          capture_output=True, text=True, timeout=60, cwd=ROOT)  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def test_each_run_gives_what_a_fresh_process_gives(zygote: Zygote, tmp_path: Path) -> None:
    runs = (
        ["task", "add", "first\twith a tab"],
        ["task", "list"],
        ["task", "show", "T-9"],  # exit 2, one line on stderr naming the database
        ["no-such-command"],  # argparse's usage and exit 2
        ["--as", "someone", "task", "done", "T-1"],
        ["status"],
        ["--help"],
    )
    homes = tmp_path / "zygote", tmp_path / "fresh"
    with ThreadPoolExecutor(1) as beside:  # the fresh processes' runs, in their own home
        wanted = beside.submit(lambda: [fresh(argv, cli_env(homes[1])) for argv in runs])
        ran = [zygote.run(argv, cli_env(homes[0]), ROOT, 60) for argv in runs]
        wants = wanted.result()
    for argv, one, want in zip(runs, ran, wants, strict=True):
        assert one is not None
        got = (one[0], *(text.replace(str(homes[0]), "HOME") for text in one[1:]))
        assert got == (want[0], *(text.replace(str(homes[1]), "HOME") for text in want[1:]))
        assert got[0] in (0, 2) and (got[1] or got[2]), argv


def test_a_run_sees_only_its_own_environment(zygote: Zygote, tmp_path: Path) -> None:
    first = zygote.run(["task", "add", "t"], cli_env(tmp_path / "a", agent="Agent-7"), ROOT, 60)
    second = zygote.run(["task", "add", "t"], cli_env(tmp_path / "b"), ROOT, 60)
    assert first is not None and second is not None
    shown = zygote.run(["task", "show", "T-1"], cli_env(tmp_path / "b"), ROOT, 60)
    assert shown is not None and shown[0] == 0
    assert "Agent-7" not in shown[1]  # the earlier run's SWARM_AGENT did not stay behind
    assert (tmp_path / "a").is_dir() and (tmp_path / "b").is_dir()


def test_a_run_over_its_time_is_killed_and_the_next_one_runs(
    zygote: Zygote, tmp_path: Path
) -> None:
    env = cli_env(tmp_path / "home")
    with pytest.raises(subprocess.TimeoutExpired):
        zygote.run(["events", "--follow"], env, ROOT, 0.5)
    after = zygote.run(["task", "add", "after the timeout"], env, ROOT, 60)
    assert after is not None and after[0] == 0 and "after the timeout" in after[1]


def test_a_second_run_at_once_is_left_to_a_fresh_process(zygote: Zygote, tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home")
    ended: list[BaseException] = []

    def follow() -> None:
        try:
            zygote.run(["events", "--follow"], env, ROOT, 1.0)
        except subprocess.TimeoutExpired as exc:
            ended.append(exc)

    thread = threading.Thread(target=follow)
    thread.start()
    try:
        while not zygote.lock.locked():
            pass
        assert zygote.run(["task", "list"], env, ROOT, 60) is None
    finally:
        thread.join()
    assert len(ended) == 1  # the first run was the zygote's, to its time limit


def test_a_different_start_up_environment_does_not_fit(zygote: Zygote, tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home")
    assert zygote.fits(env)
    assert not zygote.fits({**env, "PYTHONUTF8": "0" if env.get("PYTHONUTF8") == "1" else "1"})
    assert not zygote.fits({**env, "LC_ALL": "C" if env.get("LC_ALL") != "C" else "POSIX"})


ENDINGS = {  # a CLI's ``main``, and what it leaves behind as the process ends
    "returns": "print('out'); return None",
    "returns 3": "print('out', file=sys.stderr); return 3",
    "exits with words": "raise SystemExit('no such task')",
    "raises": "raise ValueError('broken')",
    "leaves a thread": "threading.Thread(target=lambda: (time.sleep(0.3), print('late'))).start()",
    "registers an exit": "atexit.register(print, 'at exit'); print('first', end='')",
    "is interrupted": "raise KeyboardInterrupt",
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_child_ends_as_the_interpreter_ends_it(ending: str) -> None:
    """A forked run leaves by ``os._exit`` (no teardown of the inherited modules), after doing
    what the interpreter's end does: the same status, output and last line of stderr as
    ``sys.exit(main())`` at a script's end."""
    head = "import atexit, sys, threading, time\ndef main():\n    " + ENDINGS[ending] + "\n"
    tails = {"interpreter": "sys.exit(main())\n",
             "zygote": "from tests.cli_zygote import _leave\n_leave(main)\n"}  # fmt: skip
    started = {  # the two at once: "leaves a thread" waits 0.3 s in each
        how: subprocess.Popen(
            [sys.executable, "-c", head + tail],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for how, tail in tails.items()
    }
    ended = {}
    for how, process in started.items():
        out, err = process.communicate(timeout=30)
        ended[how] = process.returncode, out, err.strip().splitlines()[-1:]
    assert ended["zygote"] == ended["interpreter"]
    assert ended["zygote"][0] in (0, 1, 3, -2), ended
