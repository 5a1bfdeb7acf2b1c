"""Issue 79's "Done when": a replayed day of five sandboxed agent CLIs, each in its documented
no-prompt mode, set up only as the docs say.

Run: ``.venv/bin/python bench/day_sandboxed.py [--quick] [--home ~/swarm-day] [--keep]``.

One HOME and one SWARM_HOME under ``--home`` (not under ``/tmp``; made fresh, removed at the
end unless ``--keep``), a git repository ``app`` as the project, ``swarm workspaces init`` of
it; Claude Code, Codex (codex-acp) and Gemini CLI on the protocol route, opencode and Aider in
tmux, each ``sandbox = true`` with its no-prompt command of docs/agents.md's sandbox table,
each against its own ``python -m localmodel`` (bench/day_sandboxed_setup.py: the doc lines
followed are printed), started by ``swarm desktop up --headless`` beside a real ``swarm run
--no-discord`` (its dashboard on a free port, acted on with an admin token as the dashboard
page does). The day, in phases, each waiting for the last to settle:

1. plain tasks with dependencies (``swarm task add --after``) and a broadcast; each task's
   model reports it done through the sandbox's door (Aider cannot run its shell command in
   ``--yes-always``: its unreported turn is accepted by the person from the inbox);
2. a slow task (the model streams for ~55 s) per CLI, stopped or cancelled mid-turn: ``swarm
   agents stop``, the REST stop, ``swarm task cancel``, the REST cancel (``--quick``: the
   first and the last); a stopped task is cancelled by the person 20 s later;
3. Claude Code's ``AskUserQuestion``, answered through ``POST /api/v1/inbox/Q-n/reply``
   (the dashboard's Reply);
4. ``swarm run`` killed (SIGKILL) twice while every CLI's turn runs (first: turns that report
   while it is down; second: turns that end quietly, to be followed up), started again;
5. Gemini CLI's host killed (SIGKILL), a task added for it, ``swarm desktop up --headless``
   while ``swarm run`` runs;
6. 65 s of quiet, watched for stranded tasks.

Prints, from the store, the REST API, the hosts' journals, the panes and each localmodel's
record: tasks stranded (held by an idle agent with no open item > 60 s; lease expiries);
nudges and "unreported" items after a person's stop; each stop's and cancel's time to the
turn's end by CLI (the host's journal, or the pane read every 0.1 s with the CLI's rules:
not swarm's own word), and to swarm's agent state idle (its word, apart); prompts per task at
its model (turns begun with the task's prompt: 0 lost, >1 doubled); each agent's cost as
swarm shows it beside its model server's count; the set-up's findings; one verdict line per
"Done when" clause. Figures and a verdict, never an assertion.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench import day_sandboxed_setup as setup  # noqa: E402
from bench.day_sandboxed_figures import figures, verdicts  # noqa: E402
from bench.day_sandboxed_setup import AGENTS, Agent, Day, Job  # noqa: E402
from tests.pgcluster import free_port  # noqa: E402

ACTIONS = (("stop", "cli"), ("stop", "rest"), ("cancel", "cli"), ("cancel", "rest"))
KILL_BY_S = 6.0  # swarm run killed this long at most after the first turn's prompt reached its
# model (then 1 s more): within every medium turn's streamed answer (figures.MEDIUM_S)
DOWN_S = 15.0  # swarm run stays down this long after each kill: turns end meanwhile
QUIET_S = 75.0  # the day's end: a task held by an idle agent this long is stranded
STOPPED_WATCH_S = 20.0  # a stopped task is watched for nudges this long before the cancel
SETTLE_S = 240.0  # a phase's tasks settle within this, else the day goes on (and says so)
TERMINAL = ("done", "cancelled", "failed")
TASK_REF = re.compile(r"\bT-\d+\b")


def plan(quick: bool) -> list[Job]:
    """The day's jobs in the order they are added (so ``T-n`` is job ``n``)."""
    jobs: list[Job] = []

    def add(agent: str, kind: str, after: list[int] | None = None) -> Job:
        jobs.append(Job(len(jobs) + 1, agent, kind, after or []))
        return jobs[-1]

    per = 1 if quick else 3
    ids = [a for a, _, _ in AGENTS]
    for k in range(per):
        for n, agent in enumerate(ids):
            last = [j.n for j in jobs if j.agent == agent]
            before = ids[(n + 1) % len(ids)]
            cross = [j.n for j in jobs if j.agent == before][:1] if k == per - 1 else []
            add(agent, "plain", last[-1:] + cross)
    actions = ACTIONS[::3] if quick else ACTIONS
    for _ in actions:
        for agent in ids:
            add(agent, "slow")
    add("Claude-1", "ask")
    for kind in ("medium", "quiet"):
        for agent in ids:
            add(agent, kind)
    add("Gemini-1", "host")
    return jobs


class Run:
    """The day's ``swarm run --no-discord``: started, killed, started again."""

    def __init__(self, day: Day) -> None:
        self.day, self.starts = day, 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills: list[dict[str, Any]] = []

    def start(self) -> None:
        self.starts += 1
        log = (self.day.logs / f"run-{self.starts}.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "run", "--no-discord"], cwd=self.day.root,
            env=self.day.env, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip

    def kill(self) -> float:
        assert self.proc is not None
        at = time.time()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        return at

    def end(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Rest:
    """The dashboard's REST API with the person's admin token."""

    def __init__(self, port: int, token: str) -> None:
        self.base, self.token = f"http://127.0.0.1:{port}/api/v1", token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body or {}).encode() if method == "POST" else None
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return {"error": error.code, "said": error.read().decode(errors="replace")[:300]}
        except (OSError, ValueError) as error:
            return {"error": type(error).__name__}


def store(day: Day) -> sqlite3.Connection:
    """The day's SQLite store, read-only."""
    return sqlite3.connect(f"file:{day.home / 'swarm.db'}?mode=ro", uri=True, timeout=10)


def statuses(day: Day) -> dict[int, tuple[str, str | None]]:
    with store(day) as conn:
        rows = conn.execute("SELECT id, status, assignee FROM tasks").fetchall()
    return {int(i): (str(s), a) for i, s, a in rows}


def add_job(day: Day, job: Job) -> float:
    """``swarm task add`` of ``job`` as the person runs it; when."""
    args = ["task", "add", job.title, "--details", "Work in the repository; report when done.",
            "--agent", job.agent, "--json"]  # fmt: skip
    if job.after:
        args += ["--after", *(f"T-{n}" for n in job.after)]
    at = time.time()
    said = json.loads(setup.swarm(day, *args))
    got = str(said.get("id"))
    if got != job.ref:
        raise SystemExit(f"{job.title} became {got}, not {job.ref}: the store was not fresh")
    return at


def settle(day: Day, jobs: list[Job], within: float = SETTLE_S) -> list[str]:
    """Until every one of ``jobs`` ended (done, cancelled, failed); those that did not."""
    deadline = time.monotonic() + within
    while True:
        found = statuses(day)
        left = [j.ref for j in jobs if found.get(j.n, ("?", None))[0] not in TERMINAL]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(1.0)


def first_requests(
    day: Day, jobs: list[Job], within: float, live_s: float
) -> dict[str, float | None]:
    """When each job's prompt first reached its model, looked for together until all did,
    ``within`` passed, or the first seen has been at its model ``live_s`` (a kill after it
    would come after that turn: None, not yet)."""
    deadline = time.monotonic() + within
    seen: dict[str, float | None] = {j.ref: None for j in jobs}
    while time.monotonic() < deadline and None in seen.values():
        for job in (j for j in jobs if seen[j.ref] is None):
            seen[job.ref] = first_request(day.agent(job.agent), job.ref, within=0.0)
        found = [at for at in seen.values() if at is not None]
        if found and time.time() - min(found) >= live_s:
            break
        time.sleep(0.3)
    return seen


def first_request(agent: Agent, ref: str, within: float = 120.0) -> float | None:
    """When ``agent``'s model first got ``ref``'s prompt (None: not within ``within``)."""
    assert agent.model is not None
    deadline = time.monotonic() + within
    while True:
        seen = [r["at"] for r in agent.model.requests()
                if f"| task {ref} |" in str(r.get("prompt") or "")]  # fmt: skip
        if seen:
            return float(min(seen))
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)


class Person(threading.Thread):
    """The person at the dashboard: answers Claude Code's question (option 1) and accepts
    Aider's unreported turns of the jobs it cannot report (its shell declined)."""

    def __init__(self, day: Day, rest: Rest) -> None:
        super().__init__(daemon=True)
        self.day, self.rest, self.halt = day, rest, threading.Event()
        self.asked = {j.ref for j in day.jobs if j.kind == "ask"}
        self.accepts = {j.ref for j in day.jobs if j.agent == "Aider-1" and j.kind != "slow"}
        self.did: list[dict[str, Any]] = []
        self.answered: set[str] = set()

    def run(self) -> None:
        while not self.halt.wait(1.0):
            found = self.rest.call("GET", "/inbox")
            for item in found.get("items", []) if isinstance(found, dict) else []:
                self.answer(item)

    def answer(self, item: dict[str, Any]) -> None:
        ref, tasks = str(item.get("ref")), named_tasks(item)
        if ref in self.answered:
            return
        if ref.startswith("Q-") and tasks & self.asked:
            said = self.rest.call("POST", f"/inbox/{ref}/reply", {"text": "1"})
        elif tasks & self.accepts and "accept" in item.get("actions", []):
            said = self.rest.call("POST", f"/inbox/{ref}/accept", {})
        else:
            return
        self.answered.add(ref)
        self.did.append({"at": time.time(), "item": ref, "kind": item.get("kind"),
                         "tasks": sorted(tasks), "said": str(said)[:200]})  # fmt: skip


def named_tasks(item: dict[str, Any]) -> set[str]:
    """The tasks an inbox item names: its task, what it concerns, refs in its text."""
    said = f"{item.get('text') or ''} {item.get('concerns') or ''}"
    found = set(TASK_REF.findall(said))
    task = item.get("task")
    if task is not None:
        found.add(str(task) if str(task).startswith("T-") else f"T-{task}")
    return found


class Watcher(threading.Thread):
    """Every 2 s while the day runs: tasks held by an agent that reads idle with no open
    item naming them (stranded after ``QUIET_S - 5`` s... counted from ``idle_since``)."""

    def __init__(self, day: Day, rest: Rest) -> None:
        super().__init__(daemon=True)
        self.day, self.rest, self.halt = day, rest, threading.Event()
        self.idle_since: dict[str, float] = {}
        self.stranded: dict[str, dict[str, Any]] = {}
        self.sample: Any = None

    def run(self) -> None:
        while not self.halt.wait(2.0):
            agents = self.rest.call("GET", "/agents")
            inbox = self.rest.call("GET", "/inbox")
            if not isinstance(agents, list) or not isinstance(inbox, dict):
                continue  # swarm run is down
            self.sample = self.sample or agents[:1]
            self.look(agents, inbox)

    def look(self, agents: list[dict[str, Any]], inbox: dict[str, Any]) -> None:
        state = {str(a.get("id") or a.get("agent")): str(a.get("state")) for a in agents}
        named = {ref for item in inbox.get("items", []) for ref in named_tasks(item)}
        now = time.time()
        held = {f"T-{n}": a for n, (s, a) in statuses(self.day).items()
                if s in ("assigned", "in_progress") and a}  # fmt: skip
        for ref in list(self.idle_since):
            if ref not in held:
                del self.idle_since[ref]
        for ref, agent in held.items():
            if state.get(agent) == "idle" and ref not in named:
                since = self.idle_since.setdefault(ref, now)
                if now - since > 60 and ref not in self.stranded:
                    self.stranded[ref] = {"agent": agent, "idle_since": since}
            else:
                self.idle_since.pop(ref, None)


def phase_plain(day: Day) -> dict[str, Any]:
    jobs = [j for j in day.jobs if j.kind == "plain"]
    added = {j.ref: add_job(day, j) for j in jobs}
    time.sleep(5)
    said = setup.swarm(day, "broadcast", f"{setup.GUIDELINES} (the day's one broadcast)")
    return {"added": added, "broadcast": said.strip()[:200], "left": settle(day, jobs)}


def phase_stops(day: Day, rest: Rest, quick: bool) -> list[dict[str, Any]]:
    """Per action, one slow task per CLI acted on once its model streams the turn."""
    from bench.day_sandboxed_figures import watch_turn_end

    slow = [j for j in day.jobs if j.kind == "slow"]
    done: list[dict[str, Any]] = []
    for round_n, (what, how) in enumerate(ACTIONS[::3] if quick else ACTIONS):
        jobs = slow[round_n * len(AGENTS) : (round_n + 1) * len(AGENTS)]
        for job in jobs:
            add_job(day, job)
        watchers = []
        for job in jobs:
            agent = day.agent(job.agent)
            began = first_request(agent, job.ref, within=90.0)
            if began is None:
                done.append({"task": job.ref, "agent": job.agent, "action": f"{what} {how}",
                             "skipped": "its prompt never reached the model"})  # fmt: skip
                continue
            time.sleep(max(0.0, began + 3.0 - time.time()))  # the turn streams
            watch = watch_turn_end(day, agent)
            at = time.time()
            idle_watch = IdleWatch(rest, job.agent)
            said = act(day, rest, what, how, job)
            watchers.append((job, at, said, watch, idle_watch))
        for job, at, said, watch, idle_watch in watchers:
            ended = watch.result(timeout=70.0)
            idle = idle_watch.result()
            done.append({"task": job.ref, "agent": job.agent, "cli": day.agent(job.agent).cli,
                         "action": f"{what} {how}", "at": at, "said": said[:160],
                         "turn_end_s": None if ended is None else round(ended - at, 3),
                "ended_at": ended,
                         "evidence": watch.evidence,
                         "idle_s": None if idle is None else round(idle - at, 3)})  # fmt: skip
        revive(day, f"after the {what} by {how}")
        if what == "stop":
            time.sleep(STOPPED_WATCH_S)
            for job, *_ in watchers:
                decided = time.time()
                setup.swarm(day, "task", "cancel", job.ref, check=False)
                next(d for d in done if d["task"] == job.ref)["decided_at"] = decided
        settle(day, jobs, within=60)
    return done


def revive(day: Day, when: str) -> list[str]:
    """As a person reading ``swarm desktop status``: an agent whose session or host is gone
    is started again by ``swarm desktop up --headless`` (a finding: said with ``when``)."""
    try:
        rows = json.loads(setup.swarm(day, "desktop", "status", "--json", check=False))
    except ValueError:
        return []
    gone = [r.get("agent") for r in rows if not r.get("alive") and not r.get("stray")]
    if gone:
        setup.FINDINGS.append(f"{', '.join(map(str, gone))} gone {when}: the person ran "
                              "swarm desktop up --headless again")  # fmt: skip
        said = setup.swarm(day, "desktop", "up", "--headless", timeout=600, check=False,
                           said=True)  # fmt: skip
        (day.logs / f"desktop-up-revive-{int(time.time())}.txt").write_text(said)
    return [str(g) for g in gone]


def act(day: Day, rest: Rest, what: str, how: str, job: Job) -> str:
    if how == "cli":
        args = ["agents", "stop", job.agent] if what == "stop" else ["task", "cancel", job.ref]
        return setup.swarm(day, *args, check=False, said=True).strip()
    path = f"/agents/{job.agent}/stop" if what == "stop" else f"/tasks/{job.ref}/cancel"
    return json.dumps(rest.call("POST", path, {}))


class IdleWatch(threading.Thread):
    """When swarm's REST API first shows ``agent`` idle or stopped (its own word), read
    every 0.2 s from now for at most 20 s."""

    def __init__(self, rest: Rest, agent: str) -> None:
        super().__init__(daemon=True)
        self.rest, self.agent = rest, agent
        self.seen: float | None = None
        self.start()

    def run(self) -> None:
        deadline = time.monotonic() + 20.0
        while time.monotonic() < deadline:
            rows = self.rest.call("GET", "/agents")
            for row in rows if isinstance(rows, list) else []:
                if row.get("id") == self.agent and row.get("state") in ("idle", "stopped"):
                    self.seen = time.time()
                    return
            time.sleep(0.2)

    def result(self) -> float | None:
        self.join(25.0)
        return self.seen


def phase_ask(day: Day) -> dict[str, Any]:
    job = next(j for j in day.jobs if j.kind == "ask")
    at = add_job(day, job)
    left = settle(day, [job], within=180)
    model = day.agent(job.agent).model
    assert model is not None
    results = [json.dumps(r.get("body")) for r in model.requests()
               if "AskUserQuestion" in json.dumps(r.get("body"))]  # fmt: skip
    answered = any('"tool_result"' in b and "Postgres" in b.split('"tool_result"', 1)[1]
                   for b in results)  # fmt: skip
    return {"task": job.ref, "added": at, "left": left, "answer_at_model": answered}


def phase_kills(day: Day, run: Run) -> list[dict[str, Any]]:
    """``swarm run`` SIGKILLed while each CLI's turn runs, twice; started again."""
    kills = []
    revive(day, "before the kills")
    for kind in ("medium", "quiet"):
        jobs = [j for j in day.jobs if j.kind == kind]
        for job in jobs:
            add_job(day, job)
        seen = first_requests(day, jobs, within=20.0, live_s=KILL_BY_S)
        time.sleep(1.0)
        killed = run.kill()
        # a turn is live at the kill when its prompt reached the model less than its
        # streamed answer's length (MEDIUM_S) before
        under = {ref: None if at is None else round(killed - at, 2) for ref, at in seen.items()}
        time.sleep(DOWN_S)
        run.start()
        restarted = time.time()
        left = settle(day, jobs, within=SETTLE_S)
        kills.append({"kind": kind, "killed_at": killed, "restarted_at": restarted,
                      "turns_live_at_kill": under, "left": left})  # fmt: skip
    return kills


def phase_host(day: Day) -> dict[str, Any]:
    """Gemini CLI's host killed; a task for it; ``desktop up`` while ``swarm run`` runs."""
    from core.hosts import running

    job = next(j for j in day.jobs if j.kind == "host")
    pid = running.host_pid(day.home, job.agent)
    if pid is not None:
        subprocess.run(["kill", "-KILL", str(pid)], check=False)
    time.sleep(3.0)
    added = add_job(day, job)
    time.sleep(2.0)
    up = setup.swarm(day, "desktop", "up", "--headless", timeout=600, check=False, said=True)
    (day.logs / "desktop-up-2.txt").write_text(up)
    return {
        "host_pid": pid,
        "task": job.ref,
        "added": added,
        "up": up[-600:],
        "left": settle(day, [job], within=180),
    }


def the_day(day: Day, quick: bool, setup_only: bool = False) -> dict[str, Any]:
    port = free_port()
    day.env = setup.person_env(day, port)
    day.logs.mkdir()
    token = setup.set_up(day)
    run = Run(day)
    run.start()
    rest = Rest(port, token)
    deadline = time.monotonic() + 90
    while not isinstance(rest.call("GET", "/agents"), list):
        if time.monotonic() > deadline:
            raise SystemExit(f"swarm run's dashboard never answered: {day.logs}/run-1.log")
        time.sleep(1.0)
    time.sleep(10.0)  # every host ready, the watch's first look
    if setup_only:
        try:
            status = setup.swarm(day, "desktop", "status", check=False, said=True)
            return {"agents": rest.call("GET", "/agents"), "followed": setup.FOLLOWED,
                    "status": status}  # fmt: skip
        finally:
            run.end()
    person, watcher = Person(day, rest), Watcher(day, rest)
    person.start()
    watcher.start()
    ran: dict[str, Any] = {"began": time.time()}
    try:
        phases: dict[str, Callable[[], Any]] = {
            "plain": lambda: phase_plain(day),
            "stops": lambda: phase_stops(day, rest, quick),
            "ask": lambda: phase_ask(day),
            "kills": lambda: phase_kills(day, run),
            "host": lambda: phase_host(day),
            "left": lambda: settle(day, day.jobs, within=60),
        }
        for name, phase in phases.items():
            print(f"{time.strftime('%H:%M:%S')} phase {name}", file=sys.stderr, flush=True)
            try:
                ran[name] = phase()
            except (Exception, SystemExit) as error:  # the day goes on; the figures say it
                ran.setdefault("errors", []).append(f"{name}: {type(error).__name__}: {error}")
        time.sleep(QUIET_S)
    finally:
        person.halt.set()
        watcher.halt.set()
        ran["ended"] = time.time()
        ran["person"] = person.did
        ran["stranded_seen"] = watcher.stranded
        ran["agents_sample"] = watcher.sample
        ran["inbox_at_end"] = rest.call("GET", "/inbox")
        ran["status"] = setup.swarm(day, "desktop", "status", "--json", check=False)
        ran["stats"] = setup.swarm(day, "stats", "--json", "--period", "1d", check=False)
        run.end()
    return ran


def end_day(day: Day) -> None:
    """``desktop down`` (hosts, sessions, gateways, doors), the model servers."""
    setup.swarm(day, "desktop", "down", "--headless", timeout=120, check=False)
    for agent in day.agents:
        if agent.model is not None:
            agent.model.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--home", type=Path, default=Path.home() / "swarm-day",
                        help="the day's folder (HOME, SWARM_HOME, the repository); not under "
                        "/tmp; made fresh")  # fmt: skip
    parser.add_argument(
        "--quick", action="store_true", help="fewer tasks: one plain task per CLI, two stop rounds"
    )
    parser.add_argument("--keep", action="store_true", help="keep the day's folder")
    parser.add_argument("--setup-only", action="store_true",
                        help="set up, desktop up, swarm run; print the agents and end")  # fmt: skip
    parser.add_argument(
        "--verdicts-of",
        type=Path,
        metavar="FILE",
        help="only print the verdicts of a day's saved output (its JSON)",
    )
    args = parser.parse_args()
    if args.verdicts_of is not None:
        saved = json.JSONDecoder().raw_decode(args.verdicts_of.read_text())[0]
        print("\n".join(verdicts(saved)))
        return
    root = args.home.resolve()
    setup.fresh_root(root)
    day = Day(root, [Agent(i, c, r) for i, c, r in AGENTS], plan(args.quick))
    try:
        ran = the_day(day, args.quick, args.setup_only)
        result = ran if args.setup_only else figures(day, ran)
    finally:
        end_day(day)
    if args.setup_only:
        print(json.dumps(result, indent=2, default=str))
        return
    print(json.dumps(result, indent=2, default=str), flush=True)
    print("\n".join(verdicts(result)))
    if args.keep:
        print(f"kept: {root}", file=sys.stderr)
    else:
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
