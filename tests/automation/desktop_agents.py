"""The agents file that matches the eight Tk windows of the test desktop."""

from __future__ import annotations

from collections.abc import Sequence

from automation.desktop.virtual_desktop import COUNT, input_box, input_point, watch_region


def agents_toml(ctrl_enter: Sequence[int] = (), extra: str = "") -> str:
    """An agents file matching the windows (``extra`` is appended, e.g. more agents)."""
    parts = ["# agents of the test desktop\n"]
    for i in range(COUNT):
        x, y = input_point(i)
        wx, wy, ww, wh = watch_region(i)
        bx, by, bw, bh = input_box(i)
        submit = 'submit = "ctrl+enter"\n' if i in ctrl_enter else ""
        parts.append(
            f'\n[[agent]]\nid = "Agent-{i + 1}"\nrole = "role{i + 1}"\n'
            f'capabilities = ["python"]\ninput = [{x}, {y}]\n'
            f"input_box = [{bx}, {by}, {bw}, {bh}]\n"
            f'clear = ["ctrl+/", "delete"]  # Tk: Ctrl+/ selects all\n'
            f"watch = [{wx}, {wy}, {ww}, {wh}]\n{submit}"
        )
    return "".join(parts) + extra
