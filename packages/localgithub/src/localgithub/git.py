"""Git commands on the bare repositories (the git CLI, run as subprocesses)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVER_IDENTITY = {
    "GIT_AUTHOR_NAME": "GitHub",
    "GIT_AUTHOR_EMAIL": "noreply@github.com",
    "GIT_COMMITTER_NAME": "GitHub",
    "GIT_COMMITTER_EMAIL": "noreply@github.com",
}


class GitError(RuntimeError):
    """A git command failed."""


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    env["HOME"] = env.get("HOME", "/nonexistent")
    env.update(extra or {})
    return env


async def git(
    repo: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run ``git -C repo args``; return (exit code, stdout)."""
    proc = await asyncio.create_subprocess_exec(
        "git",
        "-C",
        str(repo),
        *args,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(env),
    )
    out, _err = await proc.communicate(stdin)
    return proc.returncode or 0, out.decode("utf-8", "replace")


async def git_ok(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git and return its stripped stdout; raise GitError on failure."""
    code, out = await git(repo, *args, env=env)
    if code != 0:
        raise GitError(f"git {' '.join(args)} exited {code}")
    return out.strip()


async def resolve(repo: Path, ref: str) -> str | None:
    """The commit sha of a branch, tag or sha, or None."""
    if ref.startswith("-"):
        return None
    code, out = await git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return out.strip() if code == 0 else None


async def branch_sha(repo: Path, branch: str) -> str | None:
    """The sha of refs/heads/<branch>, or None if there is no such branch."""
    if branch.startswith("-"):
        return None
    return await resolve(repo, f"refs/heads/{branch}")


def create_bare(path: Path, default_branch: str, files: dict[str, str | bytes]) -> str:
    """Make a bare repository with one commit holding ``files``; return the commit sha."""
    if path.exists():
        raise ValueError(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    run = _SyncGit()
    run("init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(path))
    run("-C", str(path), "config", "http.receivepack", "true")
    with tempfile.TemporaryDirectory(prefix="localgithub-") as tmp:
        work = Path(tmp)
        for name, content in (files or {"README.md": "# repository\n"}).items():
            target = work / name
            target.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode() if isinstance(content, str) else content
            target.write_bytes(data)
        index_env = {"GIT_INDEX_FILE": str(work / ".git-index"), "GIT_WORK_TREE": str(work)}
        run("--git-dir", str(path), "add", "--all", ":!.git-index", env=index_env)
        tree = run("--git-dir", str(path), "write-tree", env=index_env)
    sha = run("-C", str(path), "commit-tree", tree, "-m", "Initial commit")
    run("-C", str(path), "update-ref", f"refs/heads/{default_branch}", sha)
    return sha


class _SyncGit:
    """Blocking git, for set-up helpers called outside the event loop's handlers."""

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            ["git", *args],
            capture_output=True,
            env=_env({**SERVER_IDENTITY, **(env or {})}),
            check=False,
        )
        if result.returncode != 0:
            raise GitError(f"git {args[0]} failed: {result.stderr.decode(errors='replace')}")
        return result.stdout.decode().strip()


async def branches(repo: Path) -> dict[str, str]:
    """Every branch and the sha it points at."""
    out = await git_ok(
        repo, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads"
    )
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


@dataclass(frozen=True)
class MergeResult:
    """A merge tree: its id, or the conflicting files."""

    tree: str | None
    conflicts: tuple[str, ...]


async def merge_tree(repo: Path, base: str, head: str) -> MergeResult:
    """Merge ``head`` into ``base`` without a work tree (``git merge-tree --write-tree``)."""
    code, out = await git(repo, "merge-tree", "--write-tree", "--name-only", "-z", base, head)
    parts = out.split("\0")
    if code == 0:
        return MergeResult(parts[0].strip(), ())
    if code == 1:
        files = []
        for part in parts[1:]:
            if not part:
                break  # the conflicted file list ends with an empty entry
            files.append(part)
        return MergeResult(None, tuple(files))
    raise GitError(f"git merge-tree exited {code}")


async def commit_tree(
    repo: Path, tree: str, parents: list[str], message: str, author: tuple[str, str]
) -> str:
    """Write a commit object; return its sha."""
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    args += ["-m", message]
    identity = {
        **SERVER_IDENTITY,
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
    }
    return await git_ok(repo, *args, env=identity)


async def update_branch(repo: Path, branch: str, new: str, old: str) -> bool:
    """Move a branch from ``old`` to ``new`` atomically; False if it had moved meanwhile."""
    code, _ = await git(repo, "update-ref", f"refs/heads/{branch}", new, old)
    return code == 0


@dataclass(frozen=True)
class ChangedFile:
    """One file of a diff."""

    filename: str
    status: str
    additions: int
    deletions: int
    patch: str
    blob_sha: str
    previous_filename: str | None


_STATUS = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied"}


async def changed_files(repo: Path, base: str, head: str) -> list[ChangedFile]:
    """The files changed from the merge base of ``base`` and ``head`` to ``head``."""
    code, merge_base = await git(repo, "merge-base", base, head)
    start = merge_base.strip() if code == 0 else base
    raw = await git_ok(repo, "diff", "--raw", "--numstat", "-M", "-z", start, head)
    entries = _parse_raw_numstat(raw)
    files = []
    for name, status, blob, old_name, adds, dels in entries:
        _, patch = await git(repo, "diff", "-M", start, head, "--", *{name, old_name or name})
        files.append(ChangedFile(name, status, adds, dels, _hunks(patch), blob, old_name))
    return files


def _parse_raw_numstat(raw: str) -> list[tuple[str, str, str, str | None, int, int]]:
    tokens = raw.split("\0")
    raws: list[tuple[str, str, str | None, str]] = []
    i = 0
    while i < len(tokens) and tokens[i].startswith(":"):
        meta = tokens[i][1:].split()
        letter = meta[4][0]
        if letter in "RC":
            raws.append((tokens[i + 2], letter, tokens[i + 1], meta[3]))
            i += 3
        else:
            raws.append((tokens[i + 1], letter, None, meta[3]))
            i += 2
    counts: list[tuple[int, int]] = []
    while i < len(tokens) and tokens[i]:
        added, deleted, rest = tokens[i].split("\t", 2)
        counts.append((_int(added), _int(deleted)))
        i += 3 if rest == "" else 1
    out = []
    for (name, letter, old, blob), (adds, dels) in zip(raws, counts, strict=False):
        out.append((name, _STATUS.get(letter, "changed"), blob, old, adds, dels))
    return out


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _hunks(patch: str) -> str:
    """The patch text from the first hunk on, as GitHub's ``patch`` field has it."""
    start = patch.find("\n@@")
    return patch[start + 1 :].rstrip("\n") if start >= 0 else ""


@dataclass(frozen=True)
class CommitInfo:
    """A commit's metadata."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_date: str
    committer_name: str
    committer_email: str
    committer_date: str
    message: str


_FORMAT = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B%x1e"


async def log(repo: Path, revisions: str) -> list[CommitInfo]:
    """The commits of ``revisions`` (e.g. ``base..head``), oldest first."""
    out = await git_ok(repo, "log", "--reverse", f"--format={_FORMAT}", revisions, "--")
    commits = []
    for record in out.split("\x1e"):
        fields = record.lstrip("\n").split("\0")
        if len(fields) < 10:
            continue
        sha, tree, parents, an, ae, ad, cn, ce, cd, message = fields[:10]
        commits.append(
            CommitInfo(
                sha, tree, tuple(parents.split()), an, ae, ad, cn, ce, cd, message.rstrip("\n")
            )
        )
    return commits
