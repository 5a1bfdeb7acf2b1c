"""The figures and verdicts of ``bench/day_sandboxed.py``: a turn's end read from its
evidence (a protocol host's journal, or a tmux pane read with its CLI's rules), and from the
store, each localmodel's record and swarm's own cost the day's figures, with one verdict line
per clause of issue 79's "Done when"."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import time
from typing import Any

from bench.day_sandboxed_setup import FINDINGS, FOLLOWED, Agent, Day
from core.agent_state import AgentState
from core.agents._text_rules import classify, load_rule_sets
from core.hosts import wire

ENDS = (wire.TURN_END, wire.TURN_ERROR)
STOP_LIMIT_S = 1.0
MEDIUM_S = 15.0  # a medium turn's streamed answer (setup.MEDIUM_TEXT): live this long


class TurnEnd(threading.Thread):
    """When the agent's running turn ended, from its own evidence, read every 0.1 s from
    now: the host journal's next turn end (protocol), or the first of two reads of its pane
    that are no longer ``working`` by its CLI's rules (tmux)."""

    def __init__(self, day: Day, agent: Agent) -> None:
        super().__init__(daemon=True)
        self.day, self.agent, self.began = day, agent, time.time()
        self.ended: float | None = None
        self.evidence = ""

    def result(self, timeout: float) -> float | None:
        self.join(timeout)
        return self.ended

    def run(self) -> None:
        deadline = time.monotonic() + 65.0
        reader = self._journal if self.agent.route == "protocol" else self._pane()
        while time.monotonic() < deadline and self.ended is None:
            reader()
            time.sleep(0.1)
        if self.ended is None:
            self.evidence += " (no end seen in 65 s)"

    def _journal(self) -> None:
        path = wire.journal_path(self.day.home, self.agent.id)
        try:
            lines = path.read_bytes().splitlines()
        except OSError:
            return
        for entry in (wire.decode(line) for line in lines if line.strip()):
            if entry.get("type") in ENDS and float(entry.get("at") or 0) >= self.began:
                self.ended = float(entry["at"])
                reason = entry.get("stop_reason") or entry.get("reason") or entry.get("code")
                self.evidence = f"host journal {entry['type']} ({reason})"
                return

    def _pane(self) -> Any:
        rules = {rs.cli: rs for rs in load_rule_sets(None)[0]}[self.agent.cli]
        socket = self.day.home / "tmux" / "swarm"
        first_quiet: list[float] = []
        seen_working: list[bool] = []

        def read() -> None:
            at = time.time()
            shown = subprocess.run(
                ["tmux", "-S", str(socket), "capture-pane", "-p", "-J", "-t",
                 f"swarm-{self.agent.id}"], capture_output=True, text=True, timeout=5,
            ).stdout  # fmt: skip
            found = classify(rules, shown.split("\n"), at)
            working = found is not None and found.state is AgentState.WORKING
            if not seen_working:
                seen_working.append(working)
                self.evidence = "pane" + ("" if working else ": not working at the stop")
            if working:
                first_quiet.clear()
                return
            first_quiet.append(at)
            if len(first_quiet) >= 2:
                self.ended = first_quiet[0]
                rule = found.rule if found is not None else "no rule"
                self.evidence += f" read {found.state.value if found else 'unknown'} ({rule})"

        return read


def watch_turn_end(day: Day, agent: Agent) -> TurnEnd:
    watch = TurnEnd(day, agent)
    watch.start()
    return watch


# -- from the store and the model servers --------------------------------------------------


def events(day: Day, where: str = "1", args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{day.home / 'swarm.db'}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    with conn:
        rows = conn.execute(f"SELECT * FROM events WHERE {where} ORDER BY id", args).fetchall()
    return [dict(r) for r in rows]


def begins_turn(body: Any, marker: str) -> bool:
    """The request is a turn's first with the prompt that holds ``marker``: nothing of the
    model's (its answer, a tool call, a tool's result) follows that prompt in it."""
    if not isinstance(body, dict):
        return False
    items = body.get("messages") or body.get("input") or body.get("contents") or []
    items = items if isinstance(items, list) else []
    said = [json.dumps(i) for i in items]
    at = [n for n, i in enumerate(items) if isinstance(i, dict) and i.get("role") == "user"
          and marker in said[n] and not _tool_result(said[n])]  # fmt: skip
    if not at:
        return False
    for n, item in enumerate(items[at[-1] + 1 :], at[-1] + 1):
        if not isinstance(item, dict):
            continue
        if item.get("role") in ("assistant", "model", "tool") or _tool_result(said[n]):
            return False
        if str(item.get("type")) in ("function_call", "function_call_output", "reasoning"):
            return False
    return True


def _tool_result(said: str) -> bool:
    return '"tool_result"' in said or '"functionResponse"' in said


def prompts_at_model(day: Day) -> dict[str, int]:
    """Each job's turns begun with its prompt at its agent's model (a turn's first request
    whose latest prompt is the task's: 0 lost, more than 1 doubled)."""
    counts = {j.ref: 0 for j in day.jobs}
    for agent in day.agents:
        assert agent.model is not None
        for request in agent.model.requests():
            body = request.get("body")
            if agent.cli != "aider" and not (isinstance(body, dict) and body.get("tools")):
                continue  # a side request (a title, Gemini CLI's router)
            prompt = str(request.get("prompt") or "")
            for job in (j for j in day.jobs if j.agent == agent.id):
                marker = f"| task {job.ref} |"
                if marker in prompt and begins_turn(body, marker):
                    counts[job.ref] += 1
    return counts


def model_usage(agent: Agent) -> dict[str, int]:
    """The tokens the agent's model server reported in its answers."""
    assert agent.model is not None
    total = {"requests": 0, "input": 0, "output": 0}
    for request in agent.model.admin.requests(since=0):
        usage = request.get("usage") or {}
        total["requests"] += 1
        total["input"] += int(usage.get("input") or 0)
        total["output"] += int(usage.get("output") or 0)
    return total


def costs(day: Day, ran: dict[str, Any]) -> dict[str, Any]:
    """Each agent's cost as ``swarm stats --json`` and ``desktop status --json`` show it,
    beside its model server's count."""
    try:
        by_agent = {r.get("key"): r for r in json.loads(ran["stats"])["cost"]["by_agent"]}
    except (ValueError, KeyError, TypeError):
        by_agent = {}
    try:
        status = {r.get("agent") or r.get("id"): r for r in json.loads(ran["status"])}
    except (ValueError, TypeError, AttributeError):
        status = {}
    found = {}
    for agent in day.agents:
        row = status.get(agent.id) or {}
        shown = {k: v for k, v in row.items() if "today" in k or "spend" in k or "cost" in k}
        found[agent.id] = {"cli": agent.cli, "swarm_stats": by_agent.get(agent.id),
                           "desktop_status": shown, "model_server": model_usage(agent)}  # fmt: skip
    return found


def stops(day: Day, ran: dict[str, Any]) -> list[dict[str, Any]]:
    """Each stop and cancel with what followed: nudges, "unreported" items and the model
    requests of its agent after it (until the person's decision, or 20 s)."""
    found = []
    for entry in ran.get("stops", []):
        if "at" not in entry:
            found.append(entry)
            continue
        at, until = entry["at"], entry.get("decided_at", entry["at"] + 20.0)
        after = events(day, "agent_id = ? AND ts > ? AND ts < ?", (entry["agent"], at, until))
        nudged = [e["text"][:120] for e in after if e["kind"] == "agent.nudged"]
        unreported = [e["text"][:120] for e in after
                      if "unreported" in e["kind"] or "without reporting" in e["text"]]  # fmt: skip
        model = day.agent(entry["agent"]).model
        assert model is not None
        asked = [round(r["at"] - at, 2) for r in model.requests() if at + 1.0 < r["at"] < until]
        found.append({**entry, "nudges": nudged, "unreported": unreported,
                      "model_requests_after_s": asked})  # fmt: skip
    return found


def refusals(day: Day) -> dict[str, list[str]]:
    """The hosts each sandboxed agent's gateway refused (its ``refusals.jsonl``)."""
    found: dict[str, list[str]] = {}
    for path in sorted((day.home / "gateway").glob("*/records/refusals.jsonl")):
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            seen = found.setdefault(str(entry.get("agent")), [])
            host = f"{entry.get('host')}:{entry.get('port')}"
            if host not in seen:
                seen.append(host)
    return found


def figures(day: Day, ran: dict[str, Any]) -> dict[str, Any]:
    counts = prompts_at_model(day)
    refused = refusals(day)
    for agent, hosts in refused.items():  # the docs' set-up let it try: an item for a person
        FINDINGS.append(f"{agent}'s gateway refused {', '.join(hosts)}: set up as the docs "
                        "say, a no-prompt day still opens a refused-host item")  # fmt: skip
    leases = events(day, "kind = 'task.lease_expired'")
    stopped = stops(day, ran)
    by_cli: dict[str, list[Any]] = {}
    for entry in stopped:
        by_cli.setdefault(entry.get("cli", "?"), []).append(
            {
                k: entry.get(k)
                for k in (
                    "action",
                    "task",
                    "turn_end_s",
                    "idle_s",
                    "evidence",
                    "said",
                )
            }
        )
    first = {}
    for kill in ran.get("kills", []):
        after = events(day, "kind = 'task.assigned' AND ts > ?", (kill["restarted_at"],))
        first[kill["kind"]] = round(after[0]["ts"] - kill["restarted_at"], 2) if after else None
    return {
        "tasks": len(day.jobs),
        "wall_s": round(ran.get("ended", 0) - ran.get("began", 0), 1),
        "set_up_followed": FOLLOWED,
        "set_up_findings": FINDINGS,
        "stranded": ran.get("stranded_seen", {}),
        "lease_expired": [f"T-{e['task_id']}: {e['text'][:100]}" for e in leases],
        "stops_and_cancels_by_cli": by_cli,
        "after_a_stop": [
            {
                k: e.get(k)
                for k in (
                    "task",
                    "agent",
                    "action",
                    "nudges",
                    "unreported",
                    "model_requests_after_s",
                )
            }
            for e in stopped
            if str(e.get("action", "")).startswith("stop")
        ],
        "prompts_at_model": counts,
        "lost": [r for r, n in counts.items() if n == 0],
        "doubled": {r: n for r, n in counts.items() if n > 1},
        "kills": ran.get("kills", []),
        "restart_to_first_assignment_s": first,
        "host_death": ran.get("host"),
        "ask": ran.get("ask"),
        "person": ran.get("person"),
        "phases_left": {k: ran[k].get("left") for k in ("plain", "ask", "host") if k in ran},
        "left_at_end": ran.get("left"),
        "cost": costs(day, ran),
        "agents_sample": ran.get("agents_sample"),
        "errors": ran.get("errors", []),
        "inbox_at_end": [
            f"{i.get('ref')} {i.get('kind')}: {str(i.get('text'))[:140]}"
            for i in (ran.get("inbox_at_end") or {}).get("items", [])
        ],
        "refused_hosts": refused,
    }


def _cost_ok(row: dict[str, Any]) -> bool:
    """Known (dollars above 0, no turn of unknown cost) or shown unknown where a person
    looks (``desktop status``'s today); never $0.00 for tokens the model served."""
    served = row["model_server"]["input"] + row["model_server"]["output"]
    today = str((row.get("desktop_status") or {}).get("cost_today", ""))
    stats = row.get("swarm_stats") or {}
    known = float(stats.get("cost_usd") or 0) > 0 and not stats.get("unknown_cost_turns")
    return not served or known or "unknown" in today


def _took(entry: dict[str, Any]) -> float | None:
    """A stop's or cancel's time to the turn's end from the person's command (a CLI's: its
    own start included; swarm records a stop once it is over, so its record is no start)."""
    took = entry.get("turn_end_s")
    return None if took is None else float(took)


def verdicts(result: dict[str, Any]) -> list[str]:
    """One line per clause of the "Done when"."""
    stops = [e for rows in result["stops_and_cancels_by_cli"].values() for e in rows]
    slow = [e for e in stops if (_took(e) or 99.0) > STOP_LIMIT_S]
    clis = {cli for cli, rows in result["stops_and_cancels_by_cli"].items()
            if rows and all(r.get("turn_end_s") is not None
                            and "exited" not in str(r.get("said")) for r in rows)}  # fmt: skip
    nudged = [e for e in result["after_a_stop"] if e["nudges"] or e["unreported"]
              or e["model_requests_after_s"]]  # fmt: skip
    kills = result["kills"]
    host = result.get("host_death") or {}
    ask = result.get("ask") or {}
    bad_cost = [a for a, row in result["cost"].items() if not _cost_ok(row)]
    lines = [
        ("set up only as the docs say", not result["set_up_findings"],
         f"{len(result['set_up_followed'])} doc lines followed, "
         f"{len(result['set_up_findings'])} findings"),
        ("swarm run killed twice mid-turn", len(kills) == 2 and all(
            any(isinstance(v, float) and 0 < v < MEDIUM_S for v in k["turns_live_at_kill"].values())
            for k in kills),
         f"{len(kills)} kills, tasks left after them: {[k['left'] for k in kills]}"),
        ("stops and cancels on every CLI", len(clis) == 5,
         f"each ended its turn, its CLI still there: {sorted(clis)}"),
        ("AskUserQuestion answered from the dashboard", ask.get("left") == [] and bool(
            ask.get("answer_at_model")) and any(str(p.get("item", "")).startswith("Q-")
                                               for p in result.get("person") or []),
         f"{ask.get('task')} left: {ask.get('left')}, the person's answer in the tool's "
         f"result at the model: {ask.get('answer_at_model')}"),
        ("desktop up after a host death", host.get("left") == [] and result[
            "prompts_at_model"].get(str(host.get("task"))) == 1,
         f"{host.get('task')} left: {host.get('left')}, at its model "
         f"{result['prompts_at_model'].get(str(host.get('task')))} time(s)"),
        ("no task stranded", not result["stranded"] and not result["lease_expired"],
         f"stranded {list(result['stranded'])}, lease expiries {len(result['lease_expired'])}"),
        ("no nudge after a stop", not nudged, f"{len(nudged)} stops followed by a nudge, an "
         "unreported item or a model request"),
        ("every turn ended within 1 s of its stop", not slow and bool(stops),
         f"{len(stops) - len(slow)}/{len(stops)} within 1 s"),
        ("every prompt at its model once", not result["lost"] and not result["doubled"],
         f"lost {result['lost']}, doubled {result['doubled']}"),
        ("every cost known or shown unknown", not bad_cost, f"not: {bad_cost}"),
    ]  # fmt: skip
    return [f"{'PASS' if ok else 'FAIL'}  {name}: {why}" for name, ok, why in lines]
