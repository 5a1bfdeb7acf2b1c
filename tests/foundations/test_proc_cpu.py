"""``tools/proc_cpu.py``'s reading of process accounting: the records' times, a command's
tree by parent pids (an orphan names the subreaper; a pid that came round again belongs to
no one), and each process's kind from its program, not its arguments."""

from __future__ import annotations

from pathlib import Path

from tools.proc_cpu import RECORD, Proc, kind_of, records, tree

START = 1_800_000_000


def _record(
    pid: int, ppid: int, btime: int, ticks: int, comm: bytes, etime: float = 100.0
) -> bytes:
    exponent, mantissa = 0, ticks
    while mantissa >= 1 << 13:  # comp_t: base-8 exponent, 13-bit mantissa
        exponent, mantissa = exponent + 1, mantissa >> 3
    comp = exponent << 13 | mantissa
    return RECORD.pack(0, 3, 0, 0, 0, 0, pid, ppid, btime, etime, comp, 5, 0, 0, 0, 0, 0, 0, comm)


def test_records_give_each_process_its_cpu_and_times(tmp_path: Path) -> None:
    acct = tmp_path / "acct"
    acct.write_bytes(_record(7, 1, START, 250, b"python") + _record(8, 7, START, 80_000, b"node"))
    first, second = records(acct)
    assert (first.pid, first.ppid, first.comm, first.cpu) == (7, 1, "python", 2.55)
    assert first.end == START + 1.0
    assert abs(second.cpu - 800.05) < 0.5  # 80,000 ticks need the exponent


def _proc(pid: int, ppid: int, start: float, end: float) -> Proc:
    return Proc(pid, ppid, start, end, 1.0, "x", False)


def test_the_tree_is_the_roots_descendants_and_the_orphans_it_reaped() -> None:
    root, reaper = 100, 99
    procs = [
        _proc(root, reaper, START, START + 50),
        _proc(101, root, START + 1, START + 10),  # a child
        _proc(102, 101, START + 2, START + 5),  # a grandchild
        _proc(103, reaper, START + 3, START + 40),  # a daemon, its parent gone first
        _proc(104, 555, START + 3, START + 4),  # someone else's
        _proc(105, 101, START + 30, START + 31),  # its parent pid, but 101 had ended
    ]
    assert sorted(p.pid for p in tree(procs, root, reaper, START)) == [100, 101, 102, 103]


def test_a_process_is_named_by_its_program_not_its_arguments() -> None:
    assert kind_of("/v/bin/python -I -m bot.cli run --no-discord") == "swarm run"
    assert kind_of("/v/bin/python -I -m bot.cli.hook --agent A") == "swarm hook"
    assert kind_of("/v/bin/python -I -m bot.protocol_host --home /tmp/x/claude") == "protocol host"
    assert kind_of("/v/bin/python -m localmodel --script /tmp/up-claude-code0/s.toml") == (
        "localmodel"
    )
    assert kind_of("tmux -S /tmp/t.sock new-session -d -s opencode") == "tmux"
    assert kind_of("/usr/bin/node /w/node_modules/.bin/gemini --acp") == "gemini"
    assert kind_of("kitty --title Agent-2 (swarm)") == "Xvfb/X"
    assert kind_of("python") == "python (other)"
