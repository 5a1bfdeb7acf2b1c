"""An agent's sandbox limits as the agents file gives them (``sandbox_limits``): read, said."""

from __future__ import annotations

import re

from core.models import Limits

UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def shown(limits: Limits) -> str:
    """``pids 512, memory 4G, cpu 2``."""
    return f"pids {limits.pids}, memory {size_text(limits.memory)}, cpu {limits.cpu:g}"


def parse(value: object, where: str) -> Limits:
    """``sandbox_limits`` of the agents file; ValueError in one line for a bad one."""
    if not isinstance(value, dict) or not set(value) <= {"pids", "memory", "cpu"}:
        raise ValueError(f"{where}: sandbox_limits takes pids, memory and cpu")
    base = Limits()
    pids, cpu = value.get("pids", base.pids), value.get("cpu", base.cpu)
    if isinstance(pids, bool) or not isinstance(pids, int) or not 16 <= pids <= 1 << 22:
        raise ValueError(f"{where}: sandbox_limits.pids must be a whole number 16-4194304")
    if isinstance(cpu, bool) or not isinstance(cpu, int | float) or not 0.05 <= cpu <= 1024:
        raise ValueError(f"{where}: sandbox_limits.cpu must be a number of cores 0.05-1024")
    return Limits(pids, _bytes(value.get("memory", size_text(base.memory)), where), float(cpu))


def _bytes(raw: object, where: str) -> int:
    found = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)i?B?\s*", str(raw), re.IGNORECASE)
    if isinstance(raw, bool) or found is None:
        raise ValueError(f'{where}: sandbox_limits.memory must be a size such as "4G"')
    size = int(found.group(1)) * UNITS[found.group(2).upper()]
    if size < 64 << 20:
        raise ValueError(f"{where}: sandbox_limits.memory must be at least 64M")
    return size


def size_text(size: int) -> str:
    """``4G``, ``512M``: the largest unit that divides ``size``."""
    for unit in ("T", "G", "M", "K"):
        if size % UNITS[unit] == 0:
            return f"{size // UNITS[unit]}{unit}"
    return str(size)
