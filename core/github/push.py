"""``git push`` of an agent's branch to GitHub with the token kept out of argv, the remote
URL and every log: it reaches git only through the environment of that one process
(``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_0``/``GIT_CONFIG_VALUE_0``: an ``http.extraHeader``),
which ``ps`` shows only to the same user, and which git never prints."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from core.errors import InvalidState
from core.privacy.redact import redact_urls
from core.workspaces import changed_files, conflicted_files, current_branch, safe_env

PUSH_TIMEOUT_S = 120.0


class PushRefused(InvalidState):
    """The branch was not pushed; the message says why in one line."""


def auth_env(token: str, url: str) -> dict[str, str]:
    """The environment that gives git the token for ``url`` only (basic auth as GitHub
    takes it: ``x-access-token:<token>``), and never asks a terminal or a helper."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": f"http.{url}.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
        "GIT_CONFIG_KEY_1": "credential.helper",
        "GIT_CONFIG_VALUE_1": "",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
    }


def push(worktree: Path, branch: str, url: str, token: str) -> str:
    """Push ``branch`` of ``worktree`` to ``url`` (same name there, forced only as a lease on
    what GitHub had). PushRefused (one line) when the worktree, on that branch, has
    uncommitted changes or is mid-merge (a worktree moved on to another task's branch pushes
    this one as committed), or git refuses; the pushed head's hash otherwise."""
    if not worktree.is_dir():
        raise PushRefused(f"{worktree} does not exist: nothing pushed")
    here = current_branch(worktree) == branch  # else: the worktree moved on to another task
    dirty = changed_files(worktree) if here else []
    if dirty or (here and conflicted_files(worktree)):
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise PushRefused(
            f"{worktree} has uncommitted changes ({shown}): commit them, then the branch is "
            "pushed (nothing pushed)"
        )
    env = safe_env(auth_env(token, url))
    proc = subprocess.run(
        [
            "git",
            "push",
            "--porcelain",
            "--recurse-submodules=no",
            url,
            f"refs/heads/{branch}:refs/heads/{branch}",
        ],
        cwd=worktree,
        env=env,
        capture_output=True,
        text=True,
        timeout=PUSH_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        said = " ".join((proc.stderr or proc.stdout).split())[-300:]
        raise PushRefused(
            redact_urls(f"git push of {branch} refused: {said}").replace(token, "***")
        )
    head = subprocess.run(
        ["git", "rev-parse", f"refs/heads/{branch}"],
        cwd=worktree,
        env=safe_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return head.stdout.strip()


def conflicts(worktree: Path, url: str, token: str, base: str, head_sha: str) -> list[str]:
    """The files a merge of ``head_sha`` into GitHub's ``base`` would conflict in (``git
    merge-tree``: nothing is checked out or changed; GitHub's base is fetched first)."""
    env = safe_env(auth_env(token, url))
    fetched = subprocess.run(
        [
            "git",
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-recurse-submodules",
            url,
            f"refs/heads/{base}",
            head_sha,
        ],
        cwd=worktree,
        env=env,
        capture_output=True,
        text=True,
        timeout=PUSH_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    if fetched.returncode != 0:
        said = " ".join(fetched.stderr.split())[-300:]
        raise PushRefused(_hidden(f"git fetch of {base} refused: {said}", token))
    base_sha = subprocess.run(
        ["git", "rev-parse", "FETCH_HEAD"],
        cwd=worktree,
        capture_output=True,
        text=True,
        check=True,
        env=safe_env(),
    ).stdout.split()[0]
    tree = subprocess.run(
        ["git", "merge-tree", "--write-tree", "--name-only", "--no-messages", base_sha, head_sha],
        cwd=worktree,
        env=safe_env(),
        capture_output=True,
        text=True,
        timeout=PUSH_TIMEOUT_S,
    )
    if tree.returncode == 0:
        return []
    if tree.returncode != 1:
        raise PushRefused(f"git merge-tree failed: {' '.join(tree.stderr.split())[-200:]}")
    return [line for line in tree.stdout.splitlines()[1:] if line.strip()]


def _hidden(text: str, token: str) -> str:
    """``text`` redacted, and the token itself replaced wherever it is."""
    text = redact_urls(text)
    return text.replace(token, "[redacted]") if token else text
