"""The first-start offers of the agents' CLIs, settled before their first task
(``swarm desktop up``): each CLI's ``first_start`` settings (``core.clis.base.FirstStart``)
written into the folder it starts in, as a user answering once would, so that no offer
stands between swarm and the CLI's input. A file that says the key already is left as it is
(the user's choice stands); one that is not a JSON object is left as it is, and said.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from core.clis import by_name, hook_files
from core.clis.base import AgentCli, FirstStart
from core.errors import InvalidState

log = logging.getLogger(__name__)


def settle(cli_name: str | None, folder: Path) -> list[str]:
    """Settle the first-start offers of ``cli_name`` in ``folder``; one line per file
    written or left (none when every setting was there already)."""
    cli = by_name(cli_name)
    if cli is None:
        return []
    return [line for setting in cli.first_start if (line := _settle(cli, setting, folder))]


def _settle(cli: AgentCli, setting: FirstStart, folder: Path) -> str:
    path = folder / setting.path
    said = f'{setting.key} = {json.dumps(setting.value)} settles "{setting.offer}"'
    try:  # the agent's to write: no link followed, no FIFO waited on (``hook_files``)
        raw = hook_files.read_text(path)
        data = json.loads(raw or "{}")
    except InvalidState as exc:
        data, problem = None, f"cannot be read ({exc})"
    except (OSError, json.JSONDecodeError) as exc:
        data, problem = None, f"cannot be read ({type(exc).__name__})"
    else:
        problem = "" if isinstance(data, dict) else "is not a JSON object"
    if data is None or problem:
        log.warning("%s %s: left as it is", path, problem)
        return (
            f'{path}: {problem}, left as it is; {cli.title} may show "{setting.offer}" at '
            "its first start (swarm reads it as a dialog: answer it in its terminal)"
        )
    if setting.key in data:
        return ""
    data[setting.key] = setting.value
    try:  # a temporary file of a name nobody could plant, renamed over it; no link followed
        hook_files.write_text(path, json.dumps(data, indent=2) + "\n")
    except InvalidState as exc:
        log.warning("%s cannot be written: %s", path, exc)
        return f"{path}: cannot be written ({exc}); {said} not done"
    except OSError as exc:
        log.warning("%s cannot be written: %s", path, exc)
        return f"{path}: cannot be written ({exc.strerror or exc}); {said} not done"
    return f"{path}: {said}"
