"""swarm's files in an agent's workspace, for its CLI or, when its CLI is not known, for
every CLI swarm knows (``core.clis.CLIS``): the hooks that report its state, swarm's MCP
server; each CLI's own writer does the file (``core.clis.<cli>``), these loop over them and
keep what they write out of git."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from core.clis import CLIS, by_name
from core.clis.base import AgentCli, HookFiles, McpFiles
from core.clis.hook_files import Change, read_text, write_text
from core.clis.mcp_files import EDITORS, Server
from core.privacy.files import make_dirs
from core.workspaces import GitFailed, git, ok


def hook_files(cli: str | None) -> list[HookFiles]:
    """The hook files of an agent of ``cli``: its CLI's (none for a CLI that runs no hooks
    of swarm's), every CLI's when it is not known."""
    return [c.hooks for c in _clis(cli) if c.hooks is not None]


def mcp_files(cli: str | None) -> list[McpFiles]:
    """The MCP files of an agent of ``cli``: its CLI's (none for a CLI that reads no MCP
    server), every CLI's and the editors' when it is not known."""
    known = by_name(cli)
    found = [c.mcp for c in _clis(cli) if c.mcp is not None]
    return found if known is not None else [*found, *EDITORS]


def _clis(cli: str | None) -> Sequence[AgentCli]:
    known = by_name(cli)
    return CLIS if known is None else (known,)


def install_hooks(
    home: Path, folder: Path, cli: str | None, command: str, wait_s: float
) -> list[Change]:
    """swarm's hook ``command`` in the hook files of an agent of ``cli`` in ``folder``,
    kept out of git."""
    found = hook_files(cli)
    if found:  # every CLI's hook files, whichever this agent's are (a CLI changed later)
        keep_out_of_git(folder, [path for files in hook_files(None) for path in files.files])
    return [change for files in found for change in files.install(home, folder, command, wait_s)]


def install_report_rules(folder: Path, cli: str | None, swarm: str) -> list[Change]:
    """The rules that let an agent of ``cli`` run its ``swarm`` report commands unasked, in
    ``folder`` (its CLI's ``report_rules``, every CLI's when it is not known), kept out of
    git."""
    changes = [c for x in _clis(cli) if x.report_rules for c in x.report_rules(folder, swarm)]
    keep_out_of_git(folder, [change.path.relative_to(folder) for change in changes])
    return changes


def remove_hooks(home: Path, folder: Path) -> list[Change]:
    """Take swarm's hooks and report rules out of every CLI's files in ``folder``."""
    hooks = [c for cli in CLIS if cli.hooks is not None for c in cli.hooks.remove(home, folder)]
    rules = [c for x in CLIS if x.remove_report_rules for c in x.remove_report_rules(folder)]
    return hooks + rules


def install_mcp(home: Path, folder: Path, cli: str | None, server: Server) -> list[Change]:
    """swarm's MCP ``server`` in the MCP files of an agent of ``cli`` in ``folder``, kept
    out of git."""
    found = mcp_files(cli)
    keep_out_of_git(folder, [path for files in found for path in files.files])
    return [change for files in found for change in files.install(home, folder, server)]


def remove_mcp(home: Path, folder: Path) -> list[Change]:
    """Take swarm's MCP server out of every CLI's (and editor's) file in ``folder``."""
    found = [*(cli.mcp for cli in CLIS if cli.mcp is not None), *EDITORS]
    return [change for files in found for change in files.remove(home, folder)]


def keep_out_of_git(folder: Path, files: Sequence[Path]) -> list[str]:
    """Name swarm's ``files`` (relative to ``folder``) in the repository's ``info/exclude``
    when ``folder`` is a git work tree and they are not tracked there, so an agent's ``git
    add -A`` never commits them (they hold this machine's paths); the patterns added."""

    if not ok(folder, "rev-parse", "--is-inside-work-tree"):
        return []
    try:
        exclude = folder / git(folder, "rev-parse", "--git-path", "info/exclude").strip()
    except GitFailed:
        return []
    text = read_text(exclude) or ""
    have = set(text.splitlines())
    added = []
    for relative in files:
        pattern = f"/{relative.as_posix()}"
        if pattern not in have and not ok(folder, "ls-files", "--error-unmatch", str(relative)):
            added.append(pattern)
    if added:
        head = text if not text or text.endswith("\n") else text + "\n"
        make_dirs(exclude.parent)
        lines = ["# swarm's files in agents' workspaces (hooks, MCP server)", *added]
        write_text(exclude, head + "".join(f"{line}\n" for line in lines))
    return added
