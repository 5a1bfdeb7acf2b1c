"""swarm's own policy for Gemini CLI in an agent's workspace: a rule that runs the agent's
report commands (``REPORT_COMMANDS`` after the ``swarm`` it is told to run) unasked, and only
them. Gemini CLI 0.61 reads no workspace ``.gemini/policies/``, but it reads the workspace
``.gemini/settings.json``'s ``policyPaths`` (merged with the user's own): swarm's file is
named there, beside the user's ``~/.gemini/policies`` (a non-empty ``policyPaths`` would
leave it out otherwise), so the user's own rules keep working."""

from __future__ import annotations

import json
from pathlib import Path

from core.clis.base import REPORT_COMMANDS, Change
from core.clis.hook_files import json_settings, read_text, write_text
from core.errors import InvalidState

SETTINGS = Path(".gemini") / "settings.json"
POLICY = Path(".gemini") / "swarm-reports.toml"
USER_POLICIES = "~/.gemini/policies"  # the user's own folder, which it reads by default
KEY = "policyPaths"
HEADER = "# swarm's own reports, written by swarm for this agent\n"
ADDED = "# swarm added to policyPaths: "


def rule(swarm: str) -> str:
    """The policy file: ``swarm``'s report commands allowed (a command chained after one,
    or any other, still asks: Gemini CLI splits a command line before it matches)."""
    prefixes = ", ".join(json.dumps(f"{swarm} {command}") for command in REPORT_COMMANDS)
    return (
        HEADER + '[[rule]]\ntoolName = "run_shell_command"\n'
        f'commandPrefix = [{prefixes}]\ndecision = "allow"\npriority = 100\n'
    )


def install(folder: Path, swarm: str) -> list[Change]:
    """swarm's policy file in ``folder``'s ``.gemini/`` and its path, with the user's
    policies folder, in the ``policyPaths`` of its settings; the user's keys kept. The
    policy file notes the user's folder when swarm added it, for remove to take it out."""
    added_before = _added_by_swarm(read_text(folder / POLICY))
    named, added = _name_policy(folder)
    record = sorted(set(added_before) | ({USER_POLICIES} & set(added)))
    return [_write_policy(folder / POLICY, rule(swarm) + _note(record)), named]


def _note(added: list[str]) -> str:
    return f"{ADDED}{json.dumps(added)}\n" if added else ""


def _added_by_swarm(policy: str | None) -> list[str]:
    """The ``policyPaths`` entries other than its own that swarm's policy file says swarm
    added (its last line), [] for none or for a file that is not swarm's."""
    if policy is None or not policy.startswith(HEADER):
        return []
    for line in policy.splitlines():
        if line.startswith(ADDED):
            try:
                found = json.loads(line.removeprefix(ADDED))
            except ValueError:
                return []
            return [p for p in found if p == USER_POLICIES] if isinstance(found, list) else []
    return []


def remove(folder: Path) -> list[Change]:
    """swarm's policy file out of ``folder``'s ``.gemini/`` (only when it is swarm's: its
    first line) and its path out of ``policyPaths``; the key dropped when only the user's
    own default folder is left in it (as if it had never been set), the file when nothing
    else is left in it."""
    added = _added_by_swarm(read_text(folder / POLICY))
    return [_drop_policy(folder / POLICY), _unname_policy(folder, added)]


def _write_policy(path: Path, text: str) -> Change:
    if read_text(path) == text:
        return Change(path, "already installed")
    write_text(path, text)
    return Change(path, "rule added")


def _drop_policy(path: Path) -> Change:
    text = read_text(path)
    if text is None or not text.startswith(HEADER):
        return Change(path, "not installed")
    path.unlink()  # its folder goes with the settings file, when that is left empty
    return Change(path, "rule removed")


def _unname_policy(folder: Path, added: list[str]) -> Change:
    path = folder / SETTINGS
    original = read_text(path)
    settings = json_settings(path, original)
    paths = settings.get(KEY)
    ours = str(folder / POLICY)
    if not isinstance(paths, list) or ours not in paths:
        return Change(path, "not installed")
    left = [p for p in paths if p != ours and p not in added]
    if left and left != [USER_POLICIES]:
        settings[KEY] = left
    else:
        del settings[KEY]
    if settings:
        write_text(path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    else:  # nothing but ours was there: no file, as before install
        path.unlink()
        if not any(path.parent.iterdir()):
            path.parent.rmdir()
    return Change(path, "rule removed")


def _name_policy(folder: Path) -> tuple[Change, list[str]]:
    path = folder / SETTINGS
    original = read_text(path)
    settings = json_settings(path, original)
    paths = settings.setdefault(KEY, [])
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise InvalidState(f"{path}: {KEY!r} is not a list of paths: not changed")
    missing = [p for p in (USER_POLICIES, str(folder / POLICY)) if p not in paths]
    if not missing:
        return Change(path, "already installed"), []
    paths.extend(missing)
    write_text(path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    return Change(path, "rule added"), missing
