"""The TEXT signal's cost: reading and classifying 8 tmux agents' panes, as each watch tick does.

A private tmux server runs 8 panes (100x40), each showing one saved pane of the bundled rule
files (Claude Code, Codex CLI, Aider, Gemini CLI) below 200 lines of scrollback. Each tick
reads the 8 panes with ``tmux capture-pane`` (``capture_all``: one tmux client for the 8
panes of the server, as the watcher does) and classifies
them with every rule file (no ``cli`` key: auto-detect) and, for comparison, with the
agent's own rule file. Prints per-tick times (p50/p99) and the CPU one tick costs this
process, its tmux clients and the tmux server, as a share of one core at a 1 s interval.

    .venv/bin/python bench/text_signal.py --ticks 200
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.agents import classify_any, load_rule_sets
from core.clis import panes
from core.tmux import PaneRef, capture_all

PANES = [
    ("claude-code", "working"), ("claude-code", "permission"), ("codex", "working"),
    ("codex", "approval"), ("aider", "confirm"), ("aider", "input"), ("gemini", "working"),
    ("gemini", "quota"),
]  # fmt: skip


def server_cpu_s(socket: str) -> float:
    """CPU seconds the tmux server has used so far (from /proc)."""
    pid = subprocess.run(["tmux", "-S", socket, "display-message", "-p", "#{pid}"],
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds of this process and its finished children (the tmux clients)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def start(socket: str) -> list[PaneRef]:
    """8 windows of a private tmux server, each showing one saved pane; their refs."""
    refs = []
    for i, (cli, rule) in enumerate(PANES):
        command = f"seq 200; cat {panes(cli) / f'{rule}.txt'}; sleep 3600"
        if i == 0:
            args = ["new-session", "-d", "-s", "bench", "-n", "w0", "-x", "100", "-y", "40"]
        else:
            args = ["new-window", "-d", "-t", "bench:", "-n", f"w{i}"]
        subprocess.run(["tmux", "-S", socket, "-f", "/dev/null", *args, command], check=True)
        refs.append(PaneRef(f"bench:w{i}", socket))
    time.sleep(1.0)  # let the panes print
    return refs


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (milliseconds)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    """Run the ticks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=200)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("tmux is not installed")
    rule_sets, _ = load_rule_sets(None)
    folder = tempfile.mkdtemp(prefix="bench-text-")
    socket = f"{folder}/tmux.sock"
    refs = start(socket)
    try:
        reads, auto, own = [], [], []
        cpu0, server0 = own_cpu_s(), server_cpu_s(socket)
        for _ in range(args.ticks):
            t0 = time.perf_counter()
            panes = capture_all(refs)
            t1 = time.perf_counter()
            found = [classify_any(rule_sets, p.lines, time.time()) for p in panes]
            t2 = time.perf_counter()
            for (cli, _), pane in zip(PANES, panes, strict=True):
                classify_any(rule_sets, pane.lines, time.time(), cli)
            t3 = time.perf_counter()
            reads.append(t1 - t0)
            auto.append(t2 - t1)
            own.append(t3 - t2)
            assert all(f is not None for f in found), found
        cpu = (own_cpu_s() - cpu0) / args.ticks
        server = (server_cpu_s(socket) - server0) / args.ticks
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], check=False)
        shutil.rmtree(folder, ignore_errors=True)
    whole = [a + b for a, b in zip(reads, auto, strict=True)]
    print(f"8 panes, {args.ticks} ticks; per tick:")
    print(f"  capture-pane x8        p50 {pct(reads, 0.5):6.2f} ms  p99 {pct(reads, 0.99):6.2f} ms")
    print(f"  classify, auto-detect  p50 {pct(auto, 0.5):6.2f} ms  p99 {pct(auto, 0.99):6.2f} ms")
    print(f"  classify, cli key      p50 {pct(own, 0.5):6.2f} ms  p99 {pct(own, 0.99):6.2f} ms"
          f"  ({statistics.median(own) / statistics.median(auto):.2f}x auto-detect)")  # fmt: skip
    print(f"  read + classify (auto) p50 {pct(whole, 0.5):6.2f} ms  p99 {pct(whole, 0.99):6.2f} ms")
    print(
        f"  CPU per tick: this process and its tmux clients {cpu * 1000:.1f} ms, "
        f"tmux server {server * 1000:.2f} ms"
    )
    print(f"  at a 1 s interval: {(cpu + server) * 100:.1f} % of one core")


if __name__ == "__main__":
    main()
