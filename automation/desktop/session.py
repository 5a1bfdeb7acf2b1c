"""``swarm desktop up / status / down``: swarm opens the agents' windows itself.

Terminal agents get a terminal window on their grid cell showing the tmux session
``swarm-<agent>`` (on the home's own tmux server, ``automation.tmux_sessions``), which runs
the agent's command in its workspace. Every window swarm opens carries X properties naming
the agent and the home (:mod:`automation.desktop.window_place`), so that a second ``up``
finds it and opens only what is missing, and ``down`` closes exactly those. The agents file
gets each agent's exact ``input``, ``input_box``, ``watch``, ``app``, ``paste``, ``tmux`` and
``tmux_socket`` from the measured window: no calibration."""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from automation import tmux_sessions as tmux
from automation.agents_file_writer import write_agent_values
from automation.desktop import layout_profiles
from automation.desktop.screen import Rect
from automation.desktop.terminals import TERMINALS, Terminal
from automation.desktop.window_place import Desk, WindowInfo
from automation.launch import (
    AgentStatus,
    DesktopConfig,
    Launch,
    Outcome,
    Planned,
    TerminalSessions,
    fill,
    launch_env,
    planned,
    stopped,
    swarm_env,
)
from core.errors import InvalidInput, InvalidState, MissingDependency
from core.models import Agent
from core.privacy.files import make_dirs

log = logging.getLogger(__name__)
WINDOW_TIMEOUT_S = 20.0


def grid(monitor: Rect, layout: tuple[int, int]) -> list[Rect]:
    """The cells of ``layout`` (columns, rows) on ``monitor``, row by row."""
    columns, rows = layout
    width, height = monitor.width // columns, monitor.height // rows
    return [
        Rect(monitor.left + c * width, monitor.top + r * height, width, height)
        for r in range(rows)
        for c in range(columns)
    ]


def plan(
    agents: Sequence[Agent],
    config: DesktopConfig,
    screens: Sequence[Rect],
    workspace_of: Callable[[str], Path | None],
    count: int | None = None,
    default_folder: Path | None = None,
) -> list[Planned]:
    """The first ``count`` agents (all by default) with their cells; InvalidInput when the
    grid or the monitor cannot hold them."""
    if config.monitor >= len(screens):
        raise InvalidInput(
            f"monitor {config.monitor} does not exist: this desktop has "
            f"{len(screens)} (0 to {len(screens) - 1})"
        )
    chosen = list(agents) if count is None else list(agents)[:count]
    if count is not None and not 0 < count <= len(agents):
        raise InvalidInput(
            f"--agents must be from 1 to {len(agents)} (the agents file has {len(agents)})"
        )
    cells = grid(screens[config.monitor], config.layout)
    if len(chosen) > len(cells):
        columns, rows = config.layout
        raise InvalidInput(
            f"{len(chosen)} agents do not fit a {columns}x{rows} layout: choose "
            "a larger --layout or fewer --agents"
        )
    folder = default_folder or Path.cwd()
    return [
        planned(agent, config, _cell(cell), workspace_of(agent.id) or folder)
        for agent, cell in zip(chosen, cells, strict=False)
    ]


def _cell(rect: Rect) -> tuple[int, int, int, int]:
    return rect.left, rect.top, rect.width, rect.height


class DesktopSession:
    """Open, find and close the agents' windows for one swarm home: a terminal agent's shows
    its tmux session (``automation.launch.TerminalSessions``), an editor's is its own."""

    def __init__(
        self,
        home: Path,
        config_path: Path,
        display: Any,
        env: Mapping[str, str] | None = None,
        agent_swarm: str = "swarm",
    ) -> None:
        self.home = home
        self.config_path = config_path
        self.desk = Desk(display)
        self.sessions = TerminalSessions(home, config_path, env, agent_swarm)
        self.env = self.sessions.env
        self._before: set[int] = set()  # windows open before this up: not ours
        self.notes = self.sessions.notes  # agent -> what up did besides (in words)

    # --- finding what is open ---

    def windows(self) -> dict[str, WindowInfo]:
        """This home's marked windows by agent (the topmost when there are several)."""
        found: dict[str, WindowInfo] = {}
        for info in self.desk.windows():
            if info.agent is not None and info.home == str(self.home):
                found[info.agent] = info
        return found

    def status(self, agent_ids: Sequence[str]) -> list[AgentStatus]:
        """Each agent's window, session and process."""
        windows = self.windows()
        rows = []
        for row in self.sessions.status(agent_ids):
            info = windows.get(row.agent)
            box = self.desk.box(info.window) if info else None
            rows.append(
                AgentStatus(
                    row.agent,
                    info.window if info else None,
                    _cell(box) if box else None,
                    row.session,
                    row.process,
                    row.pid,
                    row.alive,
                )
            )
        return rows

    # --- up ---

    def check(self, planned: Sequence[Planned]) -> None:
        """tmux and each terminal agent's terminal program installed."""
        terminals = [p for p in planned if p.launch.kind == "terminal"]
        if terminals:
            tmux.require_tmux()
        for item in terminals:
            self._require_terminal(item.launch)

    def up(
        self,
        planned: Sequence[Planned],
        timeout: float = WINDOW_TIMEOUT_S,
        stop: threading.Event | None = None,
    ) -> list[Outcome]:
        """Open what is missing (none more once ``stop`` is set), place every window opened
        in its cell, write the agents file."""
        self.check(planned)
        state = self.sessions.load_state()
        existing = self.windows()
        before = {info.window for info in self.desk.windows()}
        self._before = before
        deadline = time.monotonic() + timeout
        pending: list[tuple[Planned, Outcome, subprocess.Popen[bytes] | None]] = []
        for item in planned:  # terminals all at once; editors one by one (found by class)
            if stopped(stop):
                break
            window = existing.get(item.agent)
            if item.launch.kind == "terminal":
                pending.append((item, *self._open_terminal(item, window, state)))
                continue
            outcome, process = self._open_gui(item, window)
            self._settle(item, outcome, process, time.monotonic() + timeout)
            pending.append((item, outcome, None))
        for item, outcome, process in pending:
            if item.launch.kind == "terminal":
                self._settle(item, outcome, process, deadline)
        values = {
            outcome.agent: {**item.values, **outcome.values, **self.sessions.usage_values(item)}
            for item, outcome, _ in pending
        }
        write_agent_values(self.config_path, values)
        self.sessions.save_state(state)
        return [outcome for _, outcome, _ in pending]

    def _open_terminal(
        self, item: Planned, window: WindowInfo | None, state: dict[str, Any]
    ) -> tuple[Outcome, subprocess.Popen[bytes] | None]:
        name = tmux.session_name(item.agent)
        running = tmux.exists(self.sessions.server(item.agent), name)
        if window is not None and running:
            return Outcome(item.agent, "kept", window.window, session=name), None
        if window is not None:  # its session ended while the window stayed: start afresh
            self._close_window(window)
        action = self.sessions.open(item, state)
        action = "reattached" if action == "kept" else action  # its window was opened anew
        process = self._spawn_terminal(item, name)
        return Outcome(item.agent, action, session=name), process

    def _open_gui(
        self, item: Planned, window: WindowInfo | None
    ) -> tuple[Outcome, subprocess.Popen[bytes] | None]:
        """Keep the editor's window, or run its command (``code --new-window {workspace}``)."""
        if window is not None:
            return Outcome(item.agent, "kept", window.window), None
        argv = shlex.split(fill(item.launch.command, item.agent, item.workspace))
        make_dirs(self.home / "desktop")
        env = {
            **self.env,
            **launch_env(item.launch, self.env),
            **swarm_env(self.home, self.config_path, item.agent),
        }
        try:
            with self._log(item).open("ab") as out:
                process = subprocess.Popen(
                    argv,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    cwd=str(item.workspace),
                )
        except OSError as exc:
            raise InvalidState(f"{item.agent}: cannot run {argv[0]}: {exc.strerror}") from None
        return Outcome(item.agent, "started"), process

    def _spawn_terminal(self, item: Planned, session: str) -> subprocess.Popen[bytes]:
        terminal = TERMINALS[item.launch.terminal]
        shows = tmux.attach_command(self.sessions.server(item.agent), session)
        argv = terminal.argv(title_of(item.agent), Rect(*item.cell), shows)
        make_dirs(self.home / "desktop")
        with self._log(item).open("ab") as out:
            return subprocess.Popen(
                argv,
                env=tmux.client_env(self.env),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=str(item.workspace),
            )

    def _settle(
        self,
        item: Planned,
        outcome: Outcome,
        process: subprocess.Popen[bytes] | None,
        deadline: float,
    ) -> None:
        """Find the window (when just opened), mark it, place it, measure it."""
        if process is not None:
            outcome.window = self._wait_window(item, process, deadline)
            self.desk.mark(outcome.window, item.agent, str(self.home), process.pid)
        assert outcome.window is not None
        self.desk.place(outcome.window, Rect(*item.cell))
        box = self.desk.wait_placed(outcome.window, Rect(*item.cell))
        outcome.box = _cell(box)
        if item.launch.kind == "terminal":
            outcome.values = self._terminal_values(item, box)
        else:
            outcome.values = self._gui_values(item, box)

    def _terminal_values(self, item: Planned, box: Rect) -> dict[str, list[int] | str]:
        terminal = TERMINALS[item.launch.terminal]
        text = terminal.text_area(box)
        server = self.sessions.server(item.agent)
        pane = tmux.pane(server, tmux.session_name(item.agent))
        return {
            "app": "terminal",
            "input": [box.left + box.width // 2, box.top + box.height // 2],
            "input_box": [text.left, text.top, text.width, text.height],
            "watch": [text.left, text.top, text.width, text.height],
            "paste": terminal.paste,
            "tmux": pane.target if pane else f"{tmux.session_name(item.agent)}:0",
            "tmux_socket": str(server.socket),  # (an agent's server always has one)
        }

    def _gui_values(self, item: Planned, box: Rect) -> dict[str, list[int] | str]:
        """The window as the watch region; input and box from the application's profile."""
        values: dict[str, list[int] | str] = {"watch": [box.left, box.top, box.width, box.height]}
        assert item.launch.app is not None
        profile = layout_profiles.load(self.home, item.launch.app)
        if profile is None:
            log.warning("no layout profile %s for %s", item.launch.app, item.agent)
            return values
        point, input_box = layout_profiles.apply(profile, box)
        values.update(app="chat", input=list(point), input_box=list(input_box))
        return values

    def _wait_window(self, item: Planned, process: subprocess.Popen[bytes], deadline: float) -> int:
        title = title_of(item.agent)
        wanted = (item.launch.window_class or "").lower()
        while True:
            for info in reversed(self.desk.windows()):
                if info.agent is not None or info.window in self._before:
                    continue
                by_class = bool(wanted) and wanted in (c.lower() for c in info.wm_class)
                if info.pid == process.pid or info.title == title or by_class:
                    return info.window
            if process.poll() is not None and process.returncode != 0 and not wanted:
                raise InvalidState(
                    f"{item.launch.terminal} for {item.agent} exited with "
                    f"{process.returncode}: see {self._log(item)}"
                )
            if time.monotonic() > deadline:
                hint = "" if item.launch.kind == "terminal" else " (set class = its WM_CLASS)"
                raise InvalidState(
                    f"no window for {item.agent} appeared{hint}: see {self._log(item)}"
                )
            time.sleep(0.03)

    def _log(self, item: Planned) -> Path:
        return self.home / "desktop" / f"{item.agent}.terminal.log"

    # --- down ---

    def down(self, agent_ids: Sequence[str], keep_sessions: bool = False) -> list[str]:
        """Close this home's windows of ``agent_ids`` (and end their sessions unless
        ``keep_sessions``); what was closed, one line each."""
        windows = self.windows()
        closed = []
        for agent in agent_ids:
            info = windows.get(agent)
            if info is not None:
                self._close_window(info)
                closed.append(f"{agent}: window closed")
        return closed if keep_sessions else closed + self.sessions.end(agent_ids)

    def _close_window(self, info: WindowInfo, timeout: float = 5.0) -> None:
        """End the process swarm started for the window (its tmux client: the session lives
        on), else ask the window to close."""
        pid = info.swarm_pid
        if pid is not None and tmux.alive(pid):
            _signal_group(pid, signal.SIGTERM)
        else:
            self.desk.close(info.window)
        deadline = time.monotonic() + timeout
        while any(w.window == info.window for w in self.desk.windows()):
            if time.monotonic() > deadline:
                log.warning("window of %s still open after %.0f s", info.agent, timeout)
                return
            time.sleep(0.03)

    # --- state and checks ---

    def started(self) -> set[str]:
        """The agents ``up`` started and ``down`` has not stopped."""
        return self.sessions.started()

    def _require_terminal(self, launch: Launch) -> None:
        terminal: Terminal = TERMINALS[launch.terminal]
        if not terminal.installed():
            raise MissingDependency(
                f"{terminal.program} is not installed (terminal = "
                f"{launch.terminal!r} for {launch.agent})"
            )


def title_of(agent: str) -> str:
    """The title of an agent's terminal window."""
    return f"{agent} (swarm)"


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def pointer(desk: Desk) -> tuple[int, int]:
    """Where the pointer is, in root coordinates."""
    reply = desk.root.query_pointer()
    return int(reply.root_x), int(reply.root_y)


def record_profile(
    session: DesktopSession,
    app: str,
    agent: str,
    ask: Callable[[str], None],
    position: Callable[[], tuple[int, int]] | None = None,
) -> layout_profiles.Profile:
    """Record ``app``'s layout profile on ``agent``'s open window: ``ask(question)`` returns
    once the user points (Enter), then the pointer is read. Nothing is saved on a failure."""
    info = session.windows().get(agent)
    if info is None:
        raise InvalidState(f"{agent} has no window swarm opened: run swarm desktop up first")
    read = position or (lambda: pointer(session.desk))
    box = session.desk.box(info.window)
    points = []
    for where in (
        f"the chat input of {agent}'s window",
        "one corner of the box where typed text shows",
        "the opposite corner of that box",
    ):
        ask(f"Hover the pointer over {where}, then press Enter: ")
        point = read()
        if not box.contains(*point):
            raise InvalidInput(
                f"{list(point)} is outside {agent}'s window {box.width}x{box.height}"
                f"+{box.left}+{box.top}: nothing saved"
            )
        points.append(point)
    (x1, y1), (x2, y2) = points[1], points[2]
    input_box = (min(x1, x2), min(y1, y2), abs(x1 - x2) + 1, abs(y1 - y2) + 1)
    profile = layout_profiles.record(app, box, points[0], input_box)
    layout_profiles.save(session.home, profile)
    return profile


def apply_profile(
    session: DesktopSession, profile: layout_profiles.Profile, agents: Sequence[str]
) -> list[str]:
    """Write input points and boxes from ``profile`` for those of ``agents`` whose window is
    open; the agents written."""
    windows = session.windows()
    values: dict[str, dict[str, list[int] | str]] = {}
    for agent in agents:
        info = windows.get(agent)
        if info is None:
            continue
        box = session.desk.box(info.window)
        point, input_box = layout_profiles.apply(profile, box)
        values[agent] = {
            "app": "chat",
            "input": list(point),
            "input_box": list(input_box),
            "watch": [box.left, box.top, box.width, box.height],
        }
    if values:
        write_agent_values(session.config_path, values)
    return list(values)


def desktop_problems(session: DesktopSession, agents: Sequence[Agent]) -> dict[str, list[str]]:
    """For each agent swarm opened (remembered, or with a marked window): what is wrong with
    its window (missing, input point outside it) and its command (not running)."""
    started = session.started()
    windows = session.windows()
    ours = [a for a in agents if a.id in started or a.id in windows]
    rows = {row.agent: row for row in session.status([a.id for a in ours])}
    found: dict[str, list[str]] = {}
    for agent in ours:
        problems = []
        info = windows.get(agent.id)
        if info is None:
            problems.append("its window is not open (swarm desktop up opens it)")
        elif agent.input is not None:
            box = session.desk.box(info.window)
            if not box.contains(*agent.input):
                problems.append(
                    f"input point {list(agent.input)} is outside its window "
                    f"{box.width}x{box.height}+{box.left}+{box.top} (swarm desktop up rewrites it)"
                )
        if info is not None and not rows[agent.id].alive:
            problems.append("its command is not running (swarm desktop up restarts it)")
        found[agent.id] = problems
    return found
