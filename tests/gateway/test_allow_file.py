"""The answer "allow" writes a refused host into its agent's ``sandbox_allow`` in the agents
file (``core.sandbox.allow_file``): one line added or replaced in that agent's table, the
rest of the file as it was (comments, order, the other agents); a table in a form the edit
does not know, an agent not in the file, or a host that is no plain ``host:port`` is
refused in one line and the file left alone."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from core.errors import InvalidState
from core.sandbox.allow_file import allow_host, plain_entry

FILE = """\
# the team
[[agent]]
id = "alice"  # the sandboxed one
sandbox = true

[[agent]]
id = "bob"
sandbox = true
sandbox_allow = ["github.com:443"]   # its registry next

[desktop.agent.alice]
command = "claude"
"""


@pytest.fixture
def agents(tmp_path: Path) -> Path:
    path = tmp_path / "agents.toml"
    path.write_text(FILE)
    path.chmod(0o640)
    return path


def test_added_to_an_agent_without_a_list(agents: Path) -> None:
    assert allow_host(agents, "alice", "registry.npmjs.org:443") == ("registry.npmjs.org:443",)
    text = agents.read_text()
    assert text == FILE.replace(
        "one\nsandbox = true\n", 'one\nsandbox_allow = ["registry.npmjs.org:443"]\nsandbox = true\n'
    )
    assert agents.stat().st_mode & 0o777 == 0o640


def test_added_to_a_list_and_not_twice(agents: Path) -> None:
    assert allow_host(agents, "bob", "10.0.0.5:5432") == ("github.com:443", "10.0.0.5:5432")
    assert allow_host(agents, "bob", "10.0.0.5:5432") == ("github.com:443", "10.0.0.5:5432")
    data = tomllib.loads(agents.read_text())
    assert data["agent"][1]["sandbox_allow"] == ["github.com:443", "10.0.0.5:5432"]
    assert data["agent"][0].get("sandbox_allow") is None
    assert "# the team" in agents.read_text()


@pytest.mark.parametrize(
    ("agent", "entry", "said"),
    [
        ("carol", "a.example:443", r"no \[\[agent\]\] carol"),
        ("alice", "a.example", "not a host:port"),
        ("alice", "A.example:443", "not a host:port"),
        ("alice", "a\x00.example:443", "not a host:port"),
        ("alice", '"]\nevil = "x:443', "not a host:port"),
        ("alice", "[::1]:443", "not a host:port"),
        ("alice", "a.example:70000", "not a host:port"),
    ],
)
def test_refused_in_one_line(agents: Path, agent: str, entry: str, said: str) -> None:
    with pytest.raises(InvalidState, match=said):
        allow_host(agents, agent, entry)
    assert agents.read_text() == FILE


def test_a_list_over_several_lines_is_left_to_the_person(agents: Path) -> None:
    agents.write_text(FILE.replace('["github.com:443"]', '[\n  "github.com:443",\n]'))
    before = agents.read_text()
    with pytest.raises(InvalidState, match="by hand"):
        allow_host(agents, "bob", "a.example:443")
    assert agents.read_text() == before


def test_plain_entries() -> None:
    assert plain_entry("github.com:443") and plain_entry("10.0.0.5:5432")
    assert not plain_entry("github.com.:443") and not plain_entry("-a.com:443")


def test_an_agent_of_the_desktops_list_keeps_it_with_the_host_added(tmp_path: Path) -> None:
    """An agent whose hosts are ``[desktop]``'s list (its own table says none): the host is
    added to that list in its own table, never written alone over it (which would take the
    section's hosts away from it)."""
    path = tmp_path / "agents.toml"
    path.write_text(
        '[[agent]]\nid = "alice"\nsandbox = true\n\n'
        '[desktop]\ncommand = "claude"\nsandbox_allow = ["registry.npmjs.org:443"]\n'
    )
    assert allow_host(path, "alice", "github.com:443") == (
        "registry.npmjs.org:443", "github.com:443",
    )  # fmt: skip
    data = tomllib.loads(path.read_text())
    assert data["agent"][0]["sandbox_allow"] == ["registry.npmjs.org:443", "github.com:443"]
    assert data["desktop"]["sandbox_allow"] == ["registry.npmjs.org:443"]  # the others' as was
