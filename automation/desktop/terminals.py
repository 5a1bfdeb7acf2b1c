"""Terminal programs ``swarm desktop up`` can open: how each takes a title, a geometry and a
command, which keys paste into it by default, and the window classes that name it."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from automation.desktop.screen import Rect

CORE_FONT = "-misc-fixed-medium-r-normal--13-120-75-75-c-70-iso10646-1"  # 7x13, xfonts-base
CORE_CELL = (7, 13)
# The clipboard, not PRIMARY: clicks in quick succession select text (a double or triple click)
# and xterm then owns PRIMARY, so a Shift+Insert paste could insert the screen's own text.
XTERM_PASTE = "*VT100.translations: #override Ctrl Shift <Key>V: insert-selection(CLIPBOARD)"
TERMINAL_CLASSES = frozenset(
    name.lower()
    for name in (
        "XTerm",
        "UXTerm",
        "URxvt",
        "rxvt",
        "Gnome-terminal",
        "gnome-terminal-server",
        "konsole",
        "kitty",
        "Alacritty",
        "org.wezfurlong.wezterm",
        "xfce4-terminal",
        "Terminator",
        "Tilix",
        "st-256color",
        "foot",
        "Lxterminal",
        "mate-terminal",
        "Xfce4-terminal",
    )
)


@dataclass(frozen=True)
class Terminal:
    """One terminal program."""

    name: str
    program: str
    paste: str  # pastes the CLIPBOARD selection
    border: int  # pixels between the window's edge and the text (default internal border)
    sized_by_cells: bool  # its geometry option counts characters (xterm -geometry 80x24)

    def installed(self) -> bool:
        """True when the program is on PATH."""
        return shutil.which(self.program) is not None

    def argv(self, title: str, cell: Rect, command: Sequence[str]) -> list[str]:
        """The command line that opens a window titled ``title`` on ``cell`` running
        ``command``."""
        columns, rows = self.size(cell)
        x, y, where = cell.left, cell.top, f"{columns}x{rows}+{cell.left}+{cell.top}"
        if self.name == "xterm":  # Ctrl+Shift+V pastes CLIPBOARD (Shift+Insert: PRIMARY)
            return [
                self.program,
                "-fn",
                CORE_FONT,
                "-xrm",
                XTERM_PASTE,
                "-T",
                title,
                "-geometry",
                where,
                "-e",
                *command,
            ]
        if self.name == "urxvt":  # Ctrl+Alt+V pastes CLIPBOARD; no "paste N lines?" question
            return [
                self.program,
                "-fn",
                CORE_FONT,
                "-pe",
                "-confirm-paste",
                "-T",
                title,
                "-geometry",
                where,
                "-e",
                *command,
            ]
        if self.name == "gnome-terminal":
            return [self.program, "--title", title, f"--geometry={where}", "--", *command]
        if self.name == "konsole":
            return [self.program, "--separate", "-p", f"tabtitle={title}", "-e", *command]
        if self.name == "kitty":
            return [
                self.program,
                "--title",
                title,
                "-o",
                f"initial_window_width={columns}c",
                "-o",
                f"initial_window_height={rows}c",
                *command,
            ]
        if self.name == "alacritty":
            return [
                self.program,
                "--title",
                title,
                "-o",
                f"window.dimensions.columns={columns}",
                "-o",
                f"window.dimensions.lines={rows}",
                "-o",
                f"window.position.x={x}",
                "-o",
                f"window.position.y={y}",
                "-e",
                *command,
            ]
        return [self.program, "start", "--position", f"screen:{x},{y}", "--", *command]

    def size(self, cell: Rect) -> tuple[int, int]:
        """Columns and rows that fit ``cell`` with the core font."""
        width, height = CORE_CELL
        return (
            max(20, (cell.width - 2 * self.border) // width),
            max(5, (cell.height - 2 * self.border) // height),
        )

    def text_area(self, box: Rect) -> Rect:
        """Where the text shows inside the window's area ``box``."""
        border = self.border
        return Rect(
            box.left + border, box.top + border, box.width - 2 * border, box.height - 2 * border
        )


TERMINALS = {
    terminal.name: terminal
    for terminal in (
        Terminal("xterm", "xterm", "ctrl+shift+v", 2, True),
        Terminal("urxvt", "urxvt", "ctrl+alt+v", 2, True),
        Terminal("gnome-terminal", "gnome-terminal", "ctrl+shift+v", 0, True),
        Terminal("konsole", "konsole", "ctrl+shift+v", 0, False),
        Terminal("kitty", "kitty", "ctrl+shift+v", 0, True),
        Terminal("alacritty", "alacritty", "ctrl+shift+v", 0, True),
        Terminal("wezterm", "wezterm", "ctrl+shift+v", 0, False),
    )
}


def is_terminal_class(wm_class: Sequence[str]) -> bool:
    """True when a window's WM_CLASS (instance, class) names a terminal program."""
    return any(name.lower() in TERMINAL_CLASSES for name in wm_class)
