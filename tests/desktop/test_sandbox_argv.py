"""Issue 67: the sandbox's keys in the agents file, the bwrap command line built from them
(``core.sandbox``), and what the door lets through (``automation.launch.sandbox._door.refusal``)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from automation.launch.sandbox import _network as network
from automation.launch.sandbox._binds import (
    DEFAULT_INT,
    bwrap_argv,
    check_extra,
    check_git_links,
    git_guards,
    mounts,
    program_paths,
)
from automation.launch.sandbox._door import refusal
from automation.launch.sandbox._network import Network, with_args
from automation.launch.sandbox._network import check as network_check
from automation.launch.sandbox._network import mode_of as network_mode
from automation.launch.sandbox._objects import SHARED_AT
from bot.cli.doctor import _shadow_line
from core.agents_file import load_agents
from core.clis import by_name
from core.errors import ConfigError, InvalidInput
from core.models import Agent, Sandbox
from core.sandbox import DOOR_AT, branch_records, git_folders, swarm_for
from tests.helpers import run_cli


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agents.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sandbox_keys_per_agent_over_the_desktop_default(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        """
[desktop]
sandbox = true
sandbox_network = false

[[agent]]
id = "A"
role = "dev"
sandbox_read = ["/opt/data", "~/refs"]

[[agent]]
id = "B"
role = "dev"
sandbox = false

[[agent]]
id = "C"
role = "dev"
cli = "codex"
""",
    )
    agents = {a.id: a for a in load_agents(path)}
    assert agents["A"].sandbox == Sandbox(network="none", read=("/opt/data", "~/refs"))
    assert agents["B"].sandbox is None
    assert agents["C"].sandbox == Sandbox(network="none")
    assert agents["C"].mcp  # Codex reports by MCP: its server through its door


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("sandbox = 1", "sandbox must be true or false"),
        ('sandbox_write = "/tmp"', "sandbox_write must be a list of absolute paths"),
        ('sandbox_read = ["relative/x"]', "sandbox_read must be a list of absolute paths"),
        ('sandbox_network = "no"', 'sandbox_network must be "model", "none" or "open"'),
        ('sandbox_allow = "github.com"', "sandbox_allow must be a list of hosts"),
        ('sandbox_allow = ["a b"]', "sandbox_allow must be a list of hosts"),
    ],
)
def test_a_bad_sandbox_key_is_one_line(tmp_path: Path, line: str, said: str) -> None:
    head = "" if line.startswith("sandbox =") else "sandbox = true\n"
    path = _file(tmp_path, f'[[agent]]\nid = "A"\nrole = "dev"\n{head}{line}\n')
    with pytest.raises(ConfigError, match=said):
        load_agents(path)


def _argv(tmp_path: Path, box: Sandbox, own_network: bool = False, **kw: object) -> list[str]:
    home, work = tmp_path / "user", tmp_path / "user" / "src" / "app"
    work.mkdir(parents=True)
    door = tmp_path / "doors" / "A"
    door.mkdir(parents=True)
    m = mounts(work, home, box, [str(home / ".claude")], ["/usr/bin", "/srv/tools/bin"], door)
    m = dataclasses.replace(m, network=not own_network)
    return bwrap_argv(m, ["claude", "--x"], **kw)  # type: ignore[arg-type]


def test_the_home_is_emptied_before_its_binds_and_the_rest_is_unseen(tmp_path: Path) -> None:
    argv = _argv(tmp_path, Sandbox())
    home, work = str(tmp_path / "user"), str(tmp_path / "user" / "src" / "app")
    assert argv[:5] == ["bwrap", "--die-with-parent", "--unshare-pid", "--unshare-ipc",
                        "--unshare-uts"]  # fmt: skip
    at = argv.index
    assert at("--tmpfs") < at(home) < at(work) and argv[at(work) - 1] == "--bind"
    assert argv[at(f"{home}/.claude") - 1] == "--bind"
    tools = at("/srv/tools/bin")
    assert argv[tools - 1 : tools + 2] == ["--ro-bind", "/srv/tools/bin", "/srv/tools/bin"]
    assert argv.count("/usr/bin") == 0  # in /usr, bound whole and read-only
    door = at(DOOR_AT)
    assert argv[door - 2 : door + 1] == ["--ro-bind", str(tmp_path / "doors" / "A"), DOOR_AT]
    assert "--unshare-net" not in argv and "--new-session" not in argv
    assert argv[-3:] == ["--", "claude", "--x"] and argv[at("--chdir") + 1] == work
    assert str(tmp_path) not in argv  # nothing above the worktree: no other project


def test_no_network_and_a_new_session_when_asked(tmp_path: Path) -> None:
    argv = _argv(tmp_path, Sandbox(network="none"), new_session=True, own_network=True)
    assert "--unshare-net" in argv and "--new-session" in argv


@pytest.mark.parametrize(
    ("said", "cli", "mode"),
    [("", "claude-code", "model"), ("", "gemini", "model"), ("", "aider", "model"),
     ("", "opencode", "model"), ("", "qwen-code", "open"),
     ("none", "claude-code", "none"), ("open", "gemini", "open"),
     ("model", "claude-code", "model"), ("", "codex", "model")],
)  # fmt: skip
def test_a_sandboxs_network_is_its_own_where_its_cli_has_a_gateway(
    said: str, cli: str, mode: str
) -> None:
    """Issue 78: not said, a sandbox's network is ``"model"`` for a CLI swarm's gateway
    serves (Claude Code, Gemini CLI, Codex, Aider, opencode), else the host's; said, it is
    what is said."""
    assert network_mode(Sandbox(network=said), by_name(cli)) == mode


def test_codexs_gateway_provider_goes_right_after_its_program() -> None:
    """Codex reads its base URL from its config only: swarm's provider is named with ``-c``
    right after ``codex`` or ``codex-acp`` (an argv, or the tmux route's ``sh -c`` line);
    a wrapper's command, or a CLI with no such words, is left as it is."""
    net = Network("model", own=True, args=("-c", 'x="http://127.0.0.1:4180/v1"'))
    codex = by_name("codex")
    assert with_args(["/opt/bin/codex", "--yolo"], net, codex) == [
        "/opt/bin/codex", "-c", 'x="http://127.0.0.1:4180/v1"', "--yolo"]  # fmt: skip
    assert with_args(["codex-acp"], net, codex) == ["codex-acp", *net.args]
    line = with_args(["/bin/sh", "-c", "env A=1 codex resume --last"], net, codex)
    assert line == ["/bin/sh", "-c", "env A=1 codex -c 'x=\"http://127.0.0.1:4180/v1\"' "
                    "resume --last"]  # fmt: skip
    assert with_args(["my-wrapper", "--x"], net, codex) == ["my-wrapper", "--x"]
    assert with_args(["claude"], Network("model"), by_name("claude-code")) == ["claude"]


@pytest.mark.timeout(60)
def test_aiders_model_goes_to_litellms_first_base_url_and_asks_its_usage(tmp_path: Path) -> None:
    """LiteLLM reads ``OPENAI_BASE_URL`` before ``OPENAI_API_BASE``: the first set outside is
    the gateway's upstream, and inside it is unset (else Aider would go around the relay);
    swarm's model settings file is written beside the relay and named after ``aider``."""
    aider = by_name("aider")
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/first/v1", "OPENAI_API_BASE": "http://x/v1",
           "OPENAI_API_KEY": "sk-person", "PATH": "/usr/bin:/bin"}  # fmt: skip
    try:
        net = network.prepare(tmp_path, "A", Sandbox(), aider, env)
        spec = json.loads((tmp_path / "gateway" / "A" / "spec.json").read_text())
    finally:
        network.stop(tmp_path, "A")
    assert spec["agents"][0]["model"]["upstream"] == "http://127.0.0.1:9/first"
    assert "OPENAI_BASE_URL" in net.unsetenv and "OPENAI_API_KEY" in net.unsetenv
    assert ("OPENAI_API_BASE", "http://127.0.0.1:4180/v1") in net.setenv
    assert ("OPENAI_API_KEY", network.PLACEHOLDER) in net.setenv
    settings = tmp_path / "doors" / "A" / "aider-model-settings.yml"
    assert "include_usage: true" in settings.read_text()
    named = ["--model-settings-file", f"{DOOR_AT}/aider-model-settings.yml"]
    assert with_args(["aider", "--yes-always"], net, aider) == ["aider", *named, "--yes-always"]
    env.pop("OPENAI_BASE_URL")
    assert aider is not None and aider.model_wire is not None
    assert network._model_route(tmp_path, "A", aider.model_wire, env, None)["upstream"] == (
        "http://x"
    )


def test_a_model_network_for_a_cli_without_a_gateway_is_refused_in_one_line() -> None:
    with pytest.raises(InvalidInput, match='has no gateway set-up in swarm yet: "open"'):
        network_check("A", Sandbox(network="model"), by_name("qwen-code"))
    with pytest.raises(InvalidInput, match="sandbox_allow: "):
        network_check("A", Sandbox(network="model", allow=("127.1:80",)), by_name("claude-code"))


def _worktree(tmp_path: Path) -> tuple[Path, Path]:
    """A repository ``repo`` with one commit and a worktree ``wt`` (its branch ``wt``)."""
    repo, work = tmp_path / "repo", tmp_path / "wt"
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}  # fmt: skip
    for args in (["init", "-q", str(repo)], ["-C", str(repo), "commit", "-q", "--allow-empty",
                 "-m", "x"], ["-C", str(repo), "worktree", "add", "-q", str(work)]):  # fmt: skip
        subprocess.run(["git", *args], check=True, env=env, timeout=30)
    return repo, work


def _keys(tmp_path: Path) -> Path:
    """The person's ``~/.ssh`` with a key in it."""
    keys = tmp_path / "user" / ".ssh"
    keys.mkdir(parents=True)
    (keys / "id_ed25519").write_text("SECRET-KEY\n")
    return keys


def test_git_folders_of_a_worktree(tmp_path: Path) -> None:
    repo, work = _worktree(tmp_path)
    assert git_folders(work) == [str(repo / ".git" / "worktrees" / "wt"), str(repo / ".git")]
    assert git_folders(repo) == []  # its .git is in it
    shutil.rmtree(repo / ".git" / "hooks")  # an agent must not be the one to make it
    git = repo / ".git"
    own = git / "worktrees" / "wt"
    main = subprocess.run(["git", "-C", str(repo), "symbolic-ref", "HEAD"], check=True,
                          capture_output=True, text=True, timeout=30).stdout.strip()  # fmt: skip
    subprocess.run(["git", "-C", str(repo), "pack-refs", "--all"], check=True, timeout=30)
    assert not (git / main).exists()  # the person's branch only in packed-refs
    guarded = [work / ".git", git / "config", git / "hooks", git / "info", git / "worktrees",
               own / "commondir", own / "gitdir", git / "HEAD", git / main,
               git / "logs" / main]  # fmt: skip
    # its .git file too: what it names stays its own; not its own branch, refs/heads/wt
    assert git_guards(work) == [str(p) for p in guarded]
    assert (git / main).read_text().strip() == subprocess.run(
        ["git", "-C", str(repo), "rev-parse", main],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()  # loosened with its value, so a loose ref cannot shadow it
    # a checkout of its own: what tells git what to run stays read-only
    assert git_guards(repo) == [str(git / "config"), str(git / "hooks"), str(git / "info")]
    box = mounts(work, tmp_path / "home", Sandbox(), (), (), None)
    argv = bwrap_argv(box, ["sh"])
    binds = [(argv[i], argv[i + 1], argv[i + 2]) for i in range(len(argv) - 2)
             if argv[i].endswith("bind")]  # fmt: skip
    store = git / "swarm" / "objects" / "wt"  # its own object store, outside every worktree
    at = {p: next(n for n, (o, _, dest) in enumerate(binds) if (o, dest) == (op, str(p)))
          for op, p in (
        ("--ro-bind", git), ("--bind", git / "objects"), ("--bind", git / "refs" / "heads"),
        ("--bind", git / "logs" / "refs" / "heads"), ("--ro-bind", git / "worktrees"),
        ("--bind", own), ("--ro-bind", git / "objects" / "info"),
        ("--ro-bind", git / main), ("--ro-bind", own / "commondir"))}  # fmt: skip
    # the common folder read-only, what commits write read-write inside it, the worktrees
    # read-only and its own read-write again, and the guards inside those: each after the
    # folder it lies in
    for inner in at:
        assert all(at[outer] < at[inner] for outer in at if outer in inner.parents), inner
    # of the common folder, only the branches and their reflogs are written: not its other
    # refs (the person's stash, tags, remote-tracking branches, notes) nor other reflogs
    common_writes = {dest for o, _, dest in binds if o == "--bind" and dest.startswith(str(git))}
    wanted = {git / "objects", git / "refs" / "heads", git / "logs" / "refs" / "heads", own}
    assert common_writes == {str(p) for p in wanted}, common_writes
    # its objects: its own store at the repository's, which is shown read-only beside it and
    # named by swarm's alternates (read-only over the store's own); outside, the repository
    # reads the store as its alternate
    shown = {dest: (o, src) for o, src, dest in binds}
    assert shown[str(git / "objects")] == ("--bind", str(store))
    assert shown[SHARED_AT] == ("--ro-bind", str(git / "objects"))
    info = shown[str(git / "objects" / "info")]
    assert info[0] == "--ro-bind" and Path(info[1], "alternates").read_text() == SHARED_AT + "\n"
    assert (git / "objects" / "info" / "alternates").read_text() == "../swarm/objects/wt\n"


def _worktree_and_main(tmp_path: Path) -> tuple[Path, Path, Path, str]:
    """:func:`_worktree`, its own git folder and the main checkout's branch (short)."""
    repo, work = _worktree(tmp_path)
    main = subprocess.run(["git", "-C", str(repo), "symbolic-ref", "--short", "HEAD"], check=True,
                          capture_output=True, text=True, timeout=30).stdout.strip()  # fmt: skip
    return repo, work, repo / ".git" / "worktrees" / "wt", main


def _heads(repo: Path, *names: str) -> list[str]:
    """The loose ref files of ``names`` (branches) and their reflogs, as guards name them."""
    git = repo / ".git"
    return [str(p) for n in names for p in (git / "refs/heads" / n, git / "logs/refs/heads" / n)]


def test_the_branch_its_agent_may_move_is_swarms_record_not_what_its_head_names(
    tmp_path: Path,
) -> None:
    repo, work, own, main = _worktree_and_main(tmp_path)
    git = repo / ".git"
    subprocess.run(["git", "-C", str(repo), "branch", "other"], check=True, timeout=30)
    # no record yet: the first start grants the branch its HEAD names, and records it; a
    # check (swarm doctor) writes nothing
    check_git_links(work)
    assert branch_records.read(git, "wt") is None
    guarded = git_guards(work)
    assert not set(_heads(repo, "wt")) & set(guarded)
    assert set(_heads(repo, main, "other")) <= set(guarded)
    assert branch_records.read(git, "wt") == "refs/heads/wt"
    assert branch_records.moves_none(work) is None
    # inside, its HEAD pointed at the person's branch: its next start does not make that
    # branch its own (it stays bound read-only), the recorded one stays its
    (own / "HEAD").write_text(f"ref: refs/heads/{main}\n")
    guarded = git_guards(work)
    assert set(_heads(repo, main, "other")) <= set(guarded), guarded
    assert not set(_heads(repo, "wt")) & set(guarded)
    # swarm moves the worktree to a task's branch: that one is its own from then on
    subprocess.run(["git", "-C", str(work), "switch", "-q", "other"], check=True, timeout=30)
    branch_records.record_folder(work, "other")
    assert set(_heads(repo, main, "wt")) <= set(git_guards(work))
    assert not set(_heads(repo, "other")) & set(git_guards(work))


def test_a_first_start_on_a_branch_checked_out_elsewhere_grants_no_branch(
    tmp_path: Path,
) -> None:
    repo, work, own, main = _worktree_and_main(tmp_path)
    git = repo / ".git"
    # a HEAD rewritten before swarm kept records (git never checks a branch out twice)
    (own / "HEAD").write_text(f"ref: refs/heads/{main}\n")
    record = branch_records.path_of(git, "wt")
    assert branch_records.moves_none(work) == record and not record.exists()  # (doctor's)
    assert set(_heads(repo, main, "wt")) <= set(git_guards(work))
    assert branch_records.read(git, "wt") == branch_records.NO_BRANCH
    # a record that is no plain file grants nothing either
    record.unlink()
    record.symlink_to(tmp_path / "elsewhere")
    assert set(_heads(repo, main, "wt")) <= set(git_guards(work))


def test_a_branch_where_it_would_shadow_a_remote_branch_is_not_its_to_make(
    tmp_path: Path,
) -> None:
    repo, work, _, _ = _worktree_and_main(tmp_path)
    git, heads = repo / ".git", repo / ".git" / "refs" / "heads"
    run = ["git", "-C", str(repo)]
    subprocess.run([*run, "remote", "add", "origin", "https://example.invalid/app.git"],
                   check=True, timeout=30)  # fmt: skip
    (git / "refs" / "remotes" / "upstream").mkdir(parents=True)  # fetched, not configured
    subprocess.run([*run, "branch", "elsewhere/x"], check=True, timeout=30)  # no remote's name
    check_git_links(work)  # (swarm doctor) writes nothing
    assert not (heads / "origin").exists() and not (heads / "upstream").exists()
    guarded = git_guards(work)
    # an empty folder where "origin/main" would be a branch (git takes refs/heads/origin/main
    # before refs/remotes/origin/main), read-only inside; "elsewhere" is no remote
    assert str(heads / "origin") in guarded and str(heads / "upstream") in guarded
    assert not any((heads / "origin").iterdir()) and str(heads / "elsewhere") not in guarded
    # the person makes a branch there as before: git removes the empty folder in its way
    subprocess.run([*run, "branch", "upstream"], check=True, timeout=30)
    assert (heads / "upstream").is_file() and str(heads / "upstream") in git_guards(work)
    # one made before (loose or packed) stays until the person deletes it: swarm doctor
    # names each (branch_records.shadowing)
    subprocess.run([*run, "branch", "origin/main"], check=True, timeout=30)
    assert branch_records.shadowing(git) == ["origin/main", "upstream"]
    subprocess.run([*run, "pack-refs", "--all"], check=True, timeout=30)
    assert branch_records.shadowing(git) == ["origin/main", "upstream"]
    # a name no git branch takes, written by hand where branches are (its agent's to write):
    # doctor's line quotes it where it is a command to type
    (heads / "origin").mkdir(exist_ok=True)  # (pack-refs removed the empty folder)
    (heads / "origin" / "x; rm -rf ~").write_text("0" * 40 + "\n")
    assert "origin/x; rm -rf ~" in branch_records.shadowing(git)
    line = _shadow_line(git, "origin/x; rm -rf ~")
    assert line.endswith("(git branch -D 'origin/x; rm -rf ~')"), line


def test_a_worktrees_store_keeps_the_persons_alternates_and_inside_reads_them(
    tmp_path: Path,
) -> None:
    repo, work = _worktree(tmp_path)
    objects = repo / ".git" / "objects"
    person = "/srv/reference/objects\n../../../ref/.git/objects\n"  # git clone --reference
    (objects / "info" / "alternates").write_text(person)
    box = mounts(work, tmp_path / "home", Sandbox(), (), (), None)
    assert mounts(work, tmp_path / "home", Sandbox(), (), (), None) == box  # listed once
    # outside: the person's lines as they were, the store's after them, relative
    assert (objects / "info" / "alternates").read_text() == person + "../swarm/objects/wt\n"
    # inside, the repository's store (at SHARED_AT) has the person's alternates, absolute
    # (as git reads them from its store), and the worktrees' stores
    shown = {dest: source for source, dest in box.shown}
    inside = Path(shown[f"{SHARED_AT}/info"], "alternates").read_text().splitlines()
    store = repo / ".git" / "swarm" / "objects" / "wt"  # every worktree's store, read-only
    assert inside == ["/srv/reference/objects", str(tmp_path / "ref" / ".git" / "objects"),
                      str(store)]  # fmt: skip


@pytest.mark.parametrize(
    "plant",
    [
        "worktrees/wt/config.worktree -> key",  # its own git folder: not guarded when missing
        "refs/heads/id_ed25519 -> key",  # a branch of its own, a link
        "refs/heads -> keys",  # the branches' folder made a link
        "logs/refs -> user",  # the reflogs' folder, beside a branch named as the key's file
    ],
)
def test_a_link_the_agent_left_in_its_git_folders_is_refused_nothing_bound(
    tmp_path: Path, plant: str
) -> None:
    repo, work = _worktree(tmp_path)
    git, keys = repo / ".git", _keys(tmp_path)
    subprocess.run(["git", "-C", str(work), "branch", "id_ed25519"], check=True, timeout=30)
    where, _, what = plant.partition(" -> ")
    target = {"key": keys / "id_ed25519", "keys": keys, "user": keys.parent}[what]
    link = git / where
    if where == "logs/refs":  # reflogs at logs/refs/heads/<branch>: the link's heads/.ssh...
        (keys.parent / "heads").symlink_to(keys)
    shutil.rmtree(link, ignore_errors=True)
    link.unlink(missing_ok=True)
    link.symlink_to(target)
    with pytest.raises(ValueError, match="is a symbolic link: refused, nothing bound"):
        mounts(work, tmp_path / "home", Sandbox(), (), (), None)


def test_a_packed_branch_is_loosened_only_through_folders_that_are_no_link(
    tmp_path: Path,
) -> None:
    repo, work = _worktree(tmp_path)
    git, keys = repo / ".git", _keys(tmp_path)
    head = (git / "refs" / "heads").iterdir().__next__().read_text().strip()
    (git / "packed-refs").write_text(f"{head} refs/heads/feature/x\n")
    (git / "refs" / "heads" / "feature").symlink_to(keys)  # an agent's link, leading out
    with pytest.raises(ValueError, match="feature is a symbolic link"):
        mounts(work, tmp_path / "home", Sandbox(), (), (), None)
    assert sorted(p.name for p in keys.iterdir()) == ["id_ed25519"]  # nothing written there


def test_a_cli_in_node_modules_is_seen_as_its_package(tmp_path: Path) -> None:
    package = tmp_path / "lib" / "node_modules" / "@scope" / "cli"
    (package / "bin").mkdir(parents=True)
    script = package / "bin" / "cli.js"
    script.write_text("#!/usr/bin/env node\n")
    script.chmod(0o755)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "cli").symlink_to(script)
    found = program_paths(["FOO=1", "cli", "--flag", str(script)], {"PATH": f"{bin_dir}:/usr/bin"})
    assert str(bin_dir) in found and str(package) in found and str(script) in found


def test_a_node_package_brings_the_packages_it_depends_on_installed_beside_it(
    tmp_path: Path,
) -> None:
    """Codex's native binary is an optional dependency (``@openai/codex-linux-x64``)."""
    modules = tmp_path / "node_modules"
    deps = {"optionalDependencies": {"@scope/cli-linux": "1", "@scope/cli-mac": "1"},
            "dependencies": {"../../etc": "1", "a/b/c": "1", "plain": "1"}}  # fmt: skip
    for name, data in (("@scope/cli", deps), ("@scope/cli-linux", {"dependencies": {"x": 1}}),
                       ("plain", []), ("x", {}), ("unused", {})):  # fmt: skip
        (modules / name).mkdir(parents=True)
        (modules / name / "package.json").write_text(json.dumps(data))
    script = modules / "@scope" / "cli" / "cli.js"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "cli").symlink_to(script)
    found = program_paths(["cli"], {"PATH": str(tmp_path / "bin")})
    packages = [Path(p).relative_to(modules).as_posix() for p in found if str(modules) in p]
    assert sorted(packages) == ["@scope/cli", "@scope/cli-linux", "plain", "x"], found


def test_extra_paths_never_show_swarms_home_or_the_users_secrets(tmp_path: Path) -> None:
    home, swarm = tmp_path / "user", tmp_path / "user" / ".swarm"
    for folder in (swarm / "workspaces", home / ".ssh", home / "refs"):
        folder.mkdir(parents=True)
    check_extra(["~/refs"], home, swarm)
    bad_ones = [
        ("~/.ssh", "secrets"),
        (str(home), "swarm's home"),
        (str(swarm / "workspaces"), "swarm's home"),
        ("/nope", "does not exist"),
    ]
    for bad, said in bad_ones:
        with pytest.raises(ValueError, match=said):
            check_extra([bad], home, swarm)


@pytest.mark.parametrize(
    ("argv", "passes"),
    [
        (["task", "done", "T-1", "--note", "x"], True),
        (["ask", "which table?"], True),
        (["send", "Agent-2", "hi"], True),
        (["approve", "R-1"], False),
        (["task", "merge", "T-1"], False),
        (["task", "add", "x"], False),
        (["--config", "/etc/passwd", "status"], False),
        (["db", "copy"], False),
        ([], False),
        (["reservations", "--json"], True),
        (["reservations", "check-commit", "--agent", "A", "--index", "x"], True),
        (["reservations", "install-hook"], False),  # every agent's hooks: a person's
        (["reservations", "--agent", "A", "install-hook"], False),
    ],
)
def test_the_door_passes_an_agents_own_commands_only(argv: list[str], passes: bool) -> None:
    assert (refusal(argv) is None) == passes


def _team(tmp_path: Path) -> Path:
    return _file(
        tmp_path,
        """
[[agent]]
id = "Agent-1"
role = "dev"
cli = "claude-code"
sandbox = true
sandbox_network = false

[[agent]]
id = "Agent-2"
role = "dev"
""",
    )


def test_agents_shows_who_runs_sandboxed_and_explain_says_what_it_reaches(tmp_path: Path) -> None:
    config = _team(tmp_path)
    home = tmp_path / "home"
    shown = run_cli(home, "agents", config=config)
    assert shown.code == 0, shown.err
    head, first, second = shown.out.splitlines()[:3]
    assert "SANDBOX" in head and "bwrap, no network" in first and "bwrap" not in second
    said = run_cli(home, "agents", "explain", "Agent-1", config=config)
    assert said.code == 0, said.err
    assert "sandboxed (bubblewrap):" in said.out and "~/.claude" in said.out
    assert "network: none" in said.out and "only through its door" in said.out
    plain = run_cli(home, "agents", "explain", "Agent-2", config=config)
    assert "sandboxed" not in plain.out


def test_without_bwrap_doctor_says_so_and_desktop_up_refuses_in_one_line(tmp_path: Path) -> None:
    config, home = _team(tmp_path), tmp_path / "home"
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("git", "tmux"):  # what else the commands look for, but no bwrap
        found = shutil.which(tool)
        if found:
            (bare / tool).symlink_to(found)
    env = {"PATH": str(bare)}
    doctor = run_cli(home, "doctor", "--json", config=config, env=env, timeout=60)
    rows = [r for r in json.loads(doctor.out) if r["check"] == "sandbox"]
    assert rows == [
        {
            "check": "sandbox",
            "status": "PROBLEM",
            "detail": (
                "Agent-1 has sandbox = true but bwrap is not installed (apt-get install bubblewrap)"
            ),
        }
    ]
    up = run_cli(home, "desktop", "up", "--headless", config=config, env=env, timeout=60)
    assert up.code == 2 and up.out == ""
    assert up.err == ("swarm: error: Agent-1 has sandbox = true but bwrap is not installed "
                         "(apt-get install bubblewrap)\n")  # fmt: skip
    if shutil.which("bwrap"):
        ok = run_cli(home, "doctor", "--json", config=config, timeout=60)
        rows = [r for r in json.loads(ok.out) if r["check"] == "sandbox"]
        assert rows[0]["status"] == "ok" and "Agent-1" in rows[0]["detail"], rows


def test_a_sandboxed_agent_is_told_its_doors_swarm() -> None:
    fenced, plain = Agent("A", "dev", sandbox=Sandbox()), Agent("B", "dev")
    outside = "SWARM_HOME=/h /venv/bin/swarm"
    assert swarm_for(fenced, outside) == "/run/swarm/swarm" and swarm_for(plain, outside) == outside


def test_gateway_true_is_an_agents_own_or_desktops_default_for_a_cli_with_a_gateway(
    tmp_path: Path,
) -> None:
    """``gateway = true`` (issue 78): an agent's own, or ``[desktop]``'s as the default of each
    agent whose CLI has a gateway set-up (Aider's none: not its default, and refused as its
    own in one line); such an agent's turns are booked from its gateway's records."""
    from core.costs.usage_place import metered

    path = tmp_path / "agents.toml"
    path.write_text(
        '[desktop]\ncommand = "claude"\ngateway = true\n\n'
        '[[agent]]\nid = "C"\nrole = "dev"\n\n'
        '[[agent]]\nid = "A"\nrole = "dev"\ncli = "qwen-code"\n\n'
        '[[agent]]\nid = "G"\nrole = "dev"\ncli = "gemini"\ngateway = false\n'
    )
    agents = {a.id: a for a in load_agents(path)}
    assert [(n, agents[n].gateway, metered(agents[n])) for n in "CAG"] == [
        ("C", True, True), ("A", False, False), ("G", False, False)]  # fmt: skip
    path.write_text('[[agent]]\nid = "A"\nrole = "dev"\ncli = "qwen-code"\ngateway = true\n')
    with pytest.raises(ConfigError, match="gateway = true but Qwen Code has no gateway set-up"):
        load_agents(path)
    path.write_text('[[agent]]\nid = "C"\nrole = "dev"\ncli = "codex"\ngateway = "yes"\n')
    with pytest.raises(ConfigError, match="gateway must be true or false"):
        load_agents(path)


@pytest.mark.parametrize("new_session", [False, True], ids=["terminal", "new-session"])
def test_in_a_terminal_bwrap_leaves_the_ctrl_c_to_the_command_inside(
    tmp_path: Path, new_session: bool
) -> None:
    # in a tmux pane the terminal's SIGINT goes to bwrap too: bwrap ignores it (the filter
    # before it) and the command inside gets it back; a new session has no terminal
    work = tmp_path / "user" / "src" / "app"
    work.mkdir(parents=True)
    m = mounts(work, tmp_path / "user", Sandbox(), [], ["/usr/bin"], None)
    m = dataclasses.replace(m, python="/opt/py/bin/python")
    argv = bwrap_argv(m, ["claude", "--x"], new_session=new_session)
    assert argv[:3] == ["/opt/py/bin/python", "-I", "-S"]  # the environment's filter
    assert argv[7] == ("-" if new_session else "ignore") and argv[8] == "bwrap"
    inside = argv[argv.index("--") + 1 :]
    if new_session:
        assert inside == ["claude", "--x"]
    else:
        assert inside == ["/opt/py/bin/python", "-I", "-S", "-c", DEFAULT_INT, "claude", "--x"]
