"""Claude Code's tool calls in words: a call's title names what it does (``Bash: git status``,
``Edit: src/app.py``), not only its tool, from the ``input`` its ``tool_use`` carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.formats.text import flat, shorten

# the input field that says what a call does, first found first (Bash's command, a file's
# path, a search's pattern, a fetch's address, a task's description)
SAID_BY = ("command", "file_path", "notebook_path", "path", "pattern", "url", "query",
           "description", "prompt")  # fmt: skip
TITLE_MAX = 160  # characters of a title


def tool_title(name: str, given: Any) -> str:
    """``Bash: git status``: the tool and what its input says it does (its name alone when
    the input says nothing known)."""
    if isinstance(given, Mapping):
        for key in SAID_BY:
            value = given.get(key)
            if isinstance(value, str) and value.strip():
                return shorten(flat(f"{name}: {value.strip()}"), TITLE_MAX)
    return shorten(flat(name), TITLE_MAX)
