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


def rule(swarm: str) -> str:
    """The policy file: ``swarm``'s report commands allowed (a command chained after one,
    or any other, still asks: Gemini CLI splits a command line before it matches)."""
    prefixes = ", ".join(json.dumps(f"{swarm} {command}") for command in REPORT_COMMANDS)
    return (
        "# swarm's own reports, written by swarm for this agent\n"
        '[[rule]]\ntoolName = "run_shell_command"\n'
        f'commandPrefix = [{prefixes}]\ndecision = "allow"\npriority = 100\n'
    )


def install(folder: Path, swarm: str) -> list[Change]:
    """swarm's policy file in ``folder``'s ``.gemini/`` and its path, with the user's
    policies folder, in the ``policyPaths`` of its settings; the user's keys kept."""
    return [_write_policy(folder / POLICY, rule(swarm)), _name_policy(folder)]


def _write_policy(path: Path, text: str) -> Change:
    if read_text(path) == text:
        return Change(path, "already installed")
    write_text(path, text)
    return Change(path, "added")


def _name_policy(folder: Path) -> Change:
    path = folder / SETTINGS
    original = read_text(path)
    settings = json_settings(path, original)
    paths = settings.setdefault(KEY, [])
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise InvalidState(f"{path}: {KEY!r} is not a list of paths: not changed")
    missing = [p for p in (USER_POLICIES, str(folder / POLICY)) if p not in paths]
    if not missing:
        return Change(path, "already installed")
    paths.extend(missing)
    write_text(path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    return Change(path, "added")
