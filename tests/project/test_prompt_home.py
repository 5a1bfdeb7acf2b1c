"""A permission prompt has one home (issue 52, item 3): ``core/dialogs/``. Opening one (from a
hook, a pane or a protocol agent's request), the pane's twin of a hook's dialog, a hook's
wait for the decision, the sweep of prompts whose hook is gone, deciding and closing: the
functions live there, and the prompts' table is named there; the other features, the loops
and the inbox call them. ``swarm hook`` and the coordinator's hook socket share what they
share from below (``bot/hook_common.py``, ``bot/hook_relay.py``): neither imports the other.

The scan is of the syntax tree: a function or constant of the prompt path defined outside
``core/dialogs/``, a call that opens, closes or marks a prompt outside it, a statement
naming ``agent_prompts`` outside it, or an import between the hook's two ends fails, naming
the file."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tests.helpers import ROOT
from tests.project.test_named_queries import tables_named
from tests.source_trees import parsed, walked

HOME = "core/dialogs/"
# What the prompt path is made of: each defined in core/dialogs and nowhere else.
PROMPT_PATH = {
    # a prompt's rows: opened, closed, its pane seen (deciding is `decide`, a name others use)
    "open_prompt", "close_if_open", "pane_shows", "hook_prompt", "waiting_hooks",
    # a hook's request: its text, opened, its pane twin, its session's closed
    "request_text", "input_lines", "open_hook_prompt", "same_dialog", "close_session", "TWIN_S",
    # the hook's wait, and the process that waits
    "wait_for_decision", "this_process",
    # the sweep of the prompts whose hook is gone
    "abandoned", "abandon", "close_all", "GRACE_S",
    # a pane's dialog as a prompt, and the hook's twin of it
    "record_pane", "same_prompt_text", "HOOK_SETTLE_S", "HOOK_ASKS_S", "ANSWERED_IN_TERMINAL",
    # a protocol agent's request
    "open_request", "close_request",
}  # fmt: skip
# A hook's request's choices and the answer its hook prints are its CLI's (its folder's
# hook_dialog.py, behind core.clis.base.HookDialog): defined there and nowhere else.
CLI_DIALOG = {"request_options", "permission_options", "decision_json", "PERMISSION_OPTIONS",
              "PLAN_OPTIONS"}  # fmt: skip
CLI_DIALOG_HOME = "core/clis/claude_code/hook_dialog.py"
# The writes on a prompt: only core/dialogs calls them (the others call its named functions).
WRITES = {"open_prompt", "close", "close_if_open", "pane_shows"}
PERMISSIONS = "core.dialogs.permissions"
# Statements elsewhere that name the prompts' table, with why (a list that only shrinks): the
# lease expiry's "does Needs you show something of this task's agent" is one statement on
# the tasks, an EXISTS over the open prompts inside it.
TABLE_NAMED_ELSEWHERE = {"core/tasks/_queries.py": "the lease expiry's EXISTS over open prompts"}
HOOK_ENDS = ("bot/cli/hook.py", "bot/hook_server.py")


def _modules() -> Iterator[tuple[str, ast.Module]]:
    """Every module of the product outside ``core/dialogs/``: its path and syntax tree."""
    for top in ("bot", "automation", "core"):
        for path in sorted((ROOT / top).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if not name.startswith(HOME):
                yield name, parsed(path.read_text("utf-8"))


def defined(tree: ast.Module) -> set[str]:
    """The names the module defines at its top level and in its classes: functions,
    classes' methods, and constants assigned."""
    found: set[str] = set()
    for node in walked(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.add(node.name)
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        found.update(t.id for t in targets if isinstance(t, ast.Name))
    return found


def prompt_writes(tree: ast.Module) -> list[int]:
    """The lines where the module calls a write of ``core.dialogs.permissions`` (through the
    module imported under any name, or the function imported by name)."""
    aliases: set[str] = set()
    functions: set[str] = set()
    for node in walked(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "core.dialogs":
            aliases.update(a.asname or a.name for a in node.names if a.name == "permissions")
        elif isinstance(node, ast.ImportFrom) and node.module == PERMISSIONS:
            functions.update(a.asname or a.name for a in node.names if a.name in WRITES)
        elif isinstance(node, ast.Import):
            aliases.update(a.asname or a.name for a in node.names if a.name == PERMISSIONS)
    lines = []
    for node in walked(tree):
        if not isinstance(node, ast.Call):
            continue
        call = node.func
        if isinstance(call, ast.Name) and call.id in functions:
            lines.append(node.lineno)
        elif isinstance(call, ast.Attribute) and call.attr in WRITES:
            held = ast.unparse(call.value)
            if held in aliases or held == PERMISSIONS:
                lines.append(node.lineno)
    return sorted(lines)


def imported(tree: ast.Module) -> set[str]:
    """Every module the module imports, at any depth of its code (``from a import b``: both
    ``a`` and ``a.b``)."""
    found: set[str] = set()
    for node in walked(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_the_scan_sees_a_prompt_function_a_write_and_an_import() -> None:
    source = (
        "from core.dialogs import permissions as p\n"
        "from core.dialogs.permissions import close_if_open as shut\n"
        "import core.dialogs.permissions\n"
        "GRACE_S = 30.0\n"
        "def decision_json(key): ...\n"
        "class Hook:\n"
        "    async def wait_for_decision(self): ...\n"
        "def f(conn, ctx):\n"
        "    p.open_prompt(conn, ctx)\n"
        "    shut(conn, ctx, 1, 'why')\n"
        "    core.dialogs.permissions.close(conn, ctx, 1, 'why')\n"
        "    p.open_prompts(conn)\n"
        "    other.close()\n"
        "    from bot import hook_server\n"
    )
    tree = parsed(source)
    assert defined(tree) & PROMPT_PATH == {"GRACE_S", "wait_for_decision"}
    assert defined(tree) & CLI_DIALOG == {"decision_json"}
    assert prompt_writes(tree) == [9, 10, 11]
    assert "bot.hook_server" in imported(tree)


def test_the_prompt_path_is_defined_in_core_dialogs_only() -> None:
    found = {name: sorted(defined(tree) & PROMPT_PATH) for name, tree in _modules()}
    assert {name: names for name, names in found.items() if names} == {}, (
        "a function of the permission prompts' path belongs in core/dialogs/"
    )


def test_a_hooks_choices_and_answer_are_its_clis_alone() -> None:
    """Claude Code's hook dialog (its choices, the JSON its hook prints) is in its folder,
    and nowhere else: not in core/dialogs (which asks the CLI through HookDialog)."""
    trees = dict(_modules())
    trees.update((f"core/dialogs/{p.name}", parsed(p.read_text("utf-8")))
                 for p in sorted((ROOT / HOME).glob("*.py")))  # fmt: skip
    found = {name: sorted(defined(tree) & CLI_DIALOG) for name, tree in trees.items()}
    assert {name: names for name, names in found.items() if names} == {
        CLI_DIALOG_HOME: sorted(CLI_DIALOG)
    }
    home = set().union(*(defined(parsed(p.read_text("utf-8")))
                         for p in (ROOT / HOME).glob("*.py")))  # fmt: skip
    assert home >= PROMPT_PATH, sorted(PROMPT_PATH - home)


def test_only_core_dialogs_opens_closes_or_marks_a_prompt() -> None:
    found = {name: prompt_writes(tree) for name, tree in _modules()}
    assert {name: lines for name, lines in found.items() if lines} == {}, (
        "call core.dialogs' named functions (hooks, pane_prompts, protocol_requests, "
        "dead_hooks, hook_wait) instead of writing a prompt's row"
    )


def test_only_core_dialogs_names_the_prompts_table() -> None:
    found = set()
    for top in ("bot", "automation", "core"):
        for path in sorted((ROOT / top).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if not name.startswith(HOME) and "agent_prompts" in tables_named(path.read_text()):
                found.add(name)
    assert found == set(TABLE_NAMED_ELSEWHERE), (
        "a statement on agent_prompts belongs in core/dialogs/prompt_queries.py (or queries.py)"
    )


def test_the_hooks_two_ends_import_each_other_not() -> None:
    cli, server = (parsed((ROOT / name).read_text("utf-8")) for name in HOOK_ENDS)
    assert not {m for m in imported(cli) if m.startswith("bot.hook_server")}
    assert not {m for m in imported(server) if m.startswith("bot.cli")}
    assert {"bot.hook_common.freshness", "bot.hook_common.hook_refusal"} <= imported(cli)
    assert {"bot.hook_common.freshness", "bot.hook_common.hook_refusal"} <= imported(server)


def test_the_inbox_reads_prompts_through_core_dialogs() -> None:
    # the needs-you list, a read model, may read any table: the prompts it reads through
    # core.dialogs' functions
    for path in sorted((ROOT / "core/inbox").glob("*.py")):
        assert "agent_prompts" not in tables_named(path.read_text("utf-8")), path.name
