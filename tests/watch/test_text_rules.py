"""Agent rule files: every bundled rule classifies its saved pane; users' own rule files."""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.agent_state import AgentState
from core.agents._text_rules import (
    RuleError,
    bundled_rule_files,
    classify,
    classify_any,
    duration_s,
    load_rule_file,
    load_rule_sets,
    next_clock_time,
    sandbox_failure,
)
from core.clis import CLIS, panes
from core.models import PromptOption
from tools.install_agents import PINS

NOW = dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.UTC).timestamp()  # 09:00 in Paris
RULE_SETS, _ = load_rule_sets(None)
CASES = [(rs, rule) for rs in RULE_SETS for rule in rs.rules]


# rules whose saved pane is a real capture (tests/watch/test_claude_code_panes.py)
REAL_PANES = {
    ("claude-code", "api-retrying"): "claude-code-2.1.328-limit-429-retrying",
    ("claude-code", "overloaded"): "claude-code-2.1.328-overload-529-retrying",
    ("claude-code", "api-wait"): "claude-code-2.1.328-stall-waiting-for-api",
    ("claude-code", "rate-limited"): "claude-code-2.1.328-limit-429-rejected",
    ("claude-code", "bypass-warning"): "claude-code-2.1.328-bypass-warning",
    ("claude-code", "mcp-server-found"): "claude-code-2.1.328-mcp-server-found",
    ("claude-code", "auto-mode-gateway"): "claude-code-2.1.328-auto-mode-gateway",
    ("claude-code", "auto-mode-approval"): "claude-code-2.1.328-auto-mode-approval",
    ("claude-code", "fullscreen-offer"): "claude-code-2.1.328-fullscreen-offer",
    ("claude-code", "continue-notice"): "claude-code-2.1.328-auto-mode-billing-notice",
    ("opencode", "working"): "opencode-1.18.33-working",
    ("codex", "hooks-review"): "codex-0.169.0-hooks-review",
    ("codex", "new-chat-where"): "codex-0.169.0-new-chat-where",
    ("codex", "turn"): "codex-0.169.0-stream-frozen",
    ("opencode", "input"): "opencode-1.18.33-answer",
    ("gemini", "quota-dialog"): "gemini-0.61.0-quota-dialog-switch",
    ("codex", "reconnecting"): "codex-0.169.0-reconnecting",
    ("codex", "rate-limited"): "codex-0.169.0-limit-429",
    ("opencode", "retrying-limit"): "opencode-1.18.33-limit-429-retrying",
    ("opencode", "retrying"): "opencode-1.18.33-error-500-retrying",
    ("opencode", "gave-up-limit"): "opencode-1.18.33-limit-429-gave-up",
    ("opencode", "api-error"): "opencode-1.18.33-error-500-gave-up",
    ("opencode", "permission"): "opencode-1.18.33-permission-external-dir",
    ("codex", "busy-reconnecting"): "codex-0.169.0-busy-reconnecting",
    ("gemini", "input"): "gemini-0.61.0-yolo-start",
    ("codex", "sandbox-exec"): "codex-0.169.0-sandbox-failed",
}
KEYLESS_DIALOGS = {  # chosen with the arrows: no prompt
    ("claude-code", "bypass-warning"), ("claude-code", "auto-mode-approval"),
    ("claude-code", "mcp-server-found"), ("opencode", "permission"),
}  # fmt: skip
# a screen whose footer still says "esc to interrupt": without a cli key, working wins
# (another file's working rule sees the footer; an agent needs cli = "claude-code")
UNDER_A_SPINNER = {
    ("claude-code", "api-retrying"), ("claude-code", "overloaded"), ("claude-code", "api-wait"),
    ("codex", "reconnecting"), ("codex", "busy-reconnecting"),
}  # fmt: skip


def pane(cli: str, rule: str) -> list[str]:
    """The saved pane text of one rule: ``REAL_PANES``' capture, else the pane named after
    the rule, else the real capture of the pinned version named after it
    (``<cli>-<version>-<rule>.txt``)."""
    name = REAL_PANES.get((cli, rule), rule)
    path = panes(cli) / f"{name}.txt"
    if not path.exists():
        path = panes(cli) / f"{cli}-{next(p.version for p in PINS if p.cli == cli)}-{rule}.txt"
    return path.read_text(encoding="utf-8").split("\n")


def test_the_five_agent_clis_have_rule_files() -> None:
    """Each CLI's folder holds its rule file, whose ``cli`` is the CLI's name."""
    names = {cli.name for cli in CLIS}
    assert {"claude-code", "codex", "aider", "gemini", "opencode"} <= names
    assert bundled_rule_files() == [cli.rule_file for cli in sorted(CLIS, key=lambda c: c.name)]
    for cli in CLIS:
        raw = tomllib.loads(cli.rule_file.read_text(encoding="utf-8"))
        assert raw["version"] >= 1 and raw["cli"] == cli.name


@pytest.mark.parametrize(("rule_set", "rule"), CASES, ids=[f"{rs.cli}/{r.name}" for rs, r in CASES])
def test_each_rule_classifies_its_saved_pane(rule_set: object, rule: object) -> None:
    from core.agents._text_rules import Rule, RuleSet

    assert isinstance(rule_set, RuleSet) and isinstance(rule, Rule)
    if rule.sandbox:  # not a state: the pane's sandbox failure
        failed = sandbox_failure(rule_set, pane(rule_set.cli, rule.name))
        assert failed is not None and failed.rule == rule.name
        return
    found = classify(rule_set, pane(rule_set.cli, rule.name), NOW)
    assert found is not None and (found.rule, found.state) == (rule.name, rule.state)
    assert found.evidence.startswith("text: ") and f"rule {rule.name}" in found.evidence
    if rule.state is AgentState.WAITING and (rule_set.cli, rule.name) not in KEYLESS_DIALOGS:
        assert len(found.options) >= 2 and found.prompt
    # auto-detection (no cli key) reaches the same state from the same pane
    detected = classify_any(RULE_SETS, pane(rule_set.cli, rule.name), NOW)
    expected = AgentState.WORKING if (rule_set.cli, rule.name) in UNDER_A_SPINNER else rule.state
    assert detected is not None and detected.state is expected


def test_claude_code_permission_prompt_and_its_options() -> None:
    (claude,) = [rs for rs in RULE_SETS if rs.cli == "claude-code"]
    found = classify(claude, pane("claude-code", "permission"), NOW)
    assert found is not None
    assert found.options == (
        PromptOption("1", "Yes"),
        PromptOption("2", "Yes, and don't ask again for rm commands in /home/dev/project"),
        PromptOption("3", "No, and tell Claude what to do differently (esc)"),
    )
    # the person sees the dialog as the pane shows it, from its box's top (a box's padding
    # and its borders' length shortened, blank lines left out), not a text rebuilt from the
    # match, nor the transcript above it (before: "> run the tests and clean ..." first)
    assert found.prompt.splitlines() == [
        "╭───╮",
        "│ Bash command │",
        "│   rm -rf build │",
        "│   Remove the old build output │",
        "│ Do you want to proceed? │",
        "│ ❯ 1. Yes │",
        "│   2. Yes, and don't ask again for rm commands in /home/dev/project │",
        "│   3. No, and tell Claude what to do differently (esc) │",
        "╰───╯",
    ]
    assert found.submit == () and found.questions == (4,) and not found.ambiguous


def test_codex_and_aider_prompts() -> None:
    sets = {rs.cli: rs for rs in RULE_SETS}
    codex = classify(sets["codex"], pane("codex", "approval"), NOW)
    assert codex is not None and [o.key for o in codex.options] == ["1", "2", "3"]
    assert codex.options[0].label == "Yes, proceed (y)"
    assert "  $ pnpm exec playwright test" in codex.prompt.splitlines()
    aider = classify(sets["aider"], pane("aider", "confirm"), NOW)
    assert aider is not None and aider.submit == ("enter",)
    assert [(o.key, o.label) for o in aider.options] == [
        ("Y", "Yes"), ("N", "No"), ("S", "Skip all"), ("D", "Don't ask again"),
    ]  # fmt: skip


def test_usage_limits_give_their_reset_time() -> None:
    sets = {rs.cli: rs for rs in RULE_SETS}
    claude = classify(sets["claude-code"], pane("claude-code", "usage-limit"), NOW)
    paris_3pm = dt.datetime(2027, 1, 15, 15, 0, tzinfo=ZoneInfo("Europe/Paris")).timestamp()
    assert claude is not None and claude.until == paris_3pm
    gemini = classify(sets["gemini"], pane("gemini", "quota"), NOW)
    assert gemini is not None and gemini.until == NOW + 42 * 60 + 10
    aider = classify(sets["aider"], pane("aider", "rate-limit"), NOW)
    assert aider is not None and aider.until == NOW + 8


def test_clock_times_and_durations() -> None:
    paris = ZoneInfo("Europe/Paris")
    at = next_clock_time("8am", "Europe/Paris", NOW)  # 8am has passed today: tomorrow's
    assert at == dt.datetime(2027, 1, 16, 8, 0, tzinfo=paris).timestamp()
    assert (
        next_clock_time("12:50am", "Europe/Paris", NOW)
        == dt.datetime(2027, 1, 16, 0, 50, tzinfo=paris).timestamp()
    )
    assert next_clock_time("13pm", None, NOW) is None
    assert next_clock_time("3:05 PM", "Not/AZone", NOW) is not None  # this machine's zone
    assert duration_s("3 days 6 hours 57 minutes") == 3 * 86400 + 6 * 3600 + 57 * 60
    assert duration_s("2h15m") == 2 * 3600 + 15 * 60


@pytest.mark.parametrize(
    ("cli", "line"),
    [
        ("codex", "■ You've hit your usage limit. Try again in {}."),
        ("gemini", "✕ You have reached your daily quota limit. Please retry in {}."),
    ],
)
def test_a_reset_more_than_a_week_away_is_no_reset_shown(cli: str, line: str) -> None:
    """Before: ``try again in 99999999999999999999 days`` was stored as a reset 8.64e24 s
    away (and 400 digits as infinity), which no formatter could show: every tick failed."""
    sets = {rs.cli: rs for rs in RULE_SETS}
    week = 7 * 86400
    for absurd in ("99999999999999999999 days", "9" * 400 + " days", "3650 days", "8 days"):
        found = classify(sets[cli], [line.format(absurd)], NOW)
        assert found is not None and found.state is AgentState.LIMITED
        assert found.until is None  # no reset shown: SWARM_LIMIT_BACKOFF
    weekly = classify(sets[cli], [line.format("6 days 23 hours")], NOW)
    assert weekly is not None and weekly.until == NOW + week - 3600
    assert classify(sets[cli], [line.format("7 days")], NOW).until == NOW + week  # type: ignore[union-attr]


def test_a_zone_name_that_is_no_zone_reads_as_this_machines_zone() -> None:
    """Before: a claude-code limit naming a 1,000-part "zone" made ``ZoneInfo`` recurse
    (RecursionError): the pane's classification, and the watcher's tick with it, failed."""
    rules = {rs.cli: rs for rs in RULE_SETS}["claude-code"]
    for zone in ("a/" * 1000 + "b", "x" * 300, "UTC/", "../../etc/passwd"):
        found = classify(rules, [f"You've hit your session limit · resets 3pm ({zone})"], NOW)
        assert found is not None and found.until == next_clock_time("3pm", None, NOW)


def test_nothing_matching_is_no_verdict() -> None:
    assert classify_any(RULE_SETS, ["$ ls", "README.md"], NOW) is None
    assert classify_any(RULE_SETS, [], NOW) is None


def test_the_cli_key_chooses_one_rule_file() -> None:
    lines = pane("aider", "confirm")
    assert classify_any(RULE_SETS, lines, NOW, cli="aider") is not None
    assert classify_any(RULE_SETS, lines, NOW, cli="claude-code") is None


def test_a_codex_turn_counts_only_above_its_composer_and_until_its_end() -> None:
    """Codex's turn rule: its prompt with no "Worked for" (nor "■") below it, above the
    composer (``followed_by``). Cut above the composer, the frozen stream's prompt is no
    turn (the input rule takes it); the answered screen's "Worked for" ends it."""
    codex = {rs.cli: rs for rs in RULE_SETS}["codex"]
    frozen = pane("codex", "turn")
    found = classify(codex, frozen, NOW)
    assert found is not None and (found.rule, found.line) == ("turn", "› freeze midway")
    composer = next(i for i, line in enumerate(frozen) if line.startswith("› Ask Codex"))
    cut = classify(codex, frozen[:composer], NOW)  # its echo is then the lowest "›"
    assert cut is not None and (cut.rule, cut.line) == ("input", "› freeze midway")
    answered = (panes("codex") / "codex-0.169.0-answer.txt").read_text()
    found = classify(codex, answered.split("\n"), NOW)
    assert found is not None and (found.rule, found.state) == ("input", AgentState.IDLE)


# -- users' rule files ------------------------------------------------------------------------

GOOD = """
version = 2
cli = "mycli"
[[rule]]
name = "busy"
state = "working"
match = 'crunching'
"""


def test_a_users_rule_file_is_used_and_can_replace_a_bundled_one(home: Path) -> None:
    rules = home / "agent-rules"
    rules.mkdir()
    (rules / "mycli.toml").write_text(GOOD)
    (rules / "codex.toml").write_text(GOOD.replace("mycli", "codex").replace("crunching", "zzz"))
    sets, errors = load_rule_sets(home)
    assert errors == []
    by_cli = {rs.cli: rs for rs in sets}
    assert by_cli["mycli"].version == 2 and by_cli["codex"].path.parent == rules
    found = classify_any(sets, ["crunching numbers"], NOW)
    assert found is not None and (found.cli, found.state) == ("mycli", AgentState.WORKING)
    assert classify_any(sets, pane("codex", "working"), NOW, cli="codex") is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='working'\nmatch='('",
         "rule a: match is not a valid regular expression"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='busy'\nmatch='x'",
         "rule a: state must be one of"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='waiting'\nmatch='x'\noption='(\\d)'",
         "rule a: option needs the group(s) key, label"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='limited'\nmatch='x'\nreset='at'",
         "rule a: reset needs a (?P<time>...) or (?P<in>...) group"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='idle'\nmatch='x'\ncolour=1",
         "rule a: unknown key(s) colour"),
        ("cli = 'x'\n[[rule]]\nname='a'\nstate='idle'\nmatch='x'", "version must be"),
        ("version = 1\ncli = 'x'", "no rules"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='idle'\nmatch='x'\n"
         "[[rule]]\nname='a'\nstate='idle'\nmatch='y'", "rule a appears twice"),
        ("version = [", "is not valid TOML"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='box'\nstate='idle'\nmatch='x'\nframed='yes'",
         "rule box: framed must be true or false"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='working'\nmatch='x'\nabove='y'",
         "rule a: above is for an idle rule's input box only"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='errored'\nmatch='x'\nended_by='('",
         "rule a: ended_by is not a valid regular expression"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='idle'\nmatch='x'\nmoving=true\n"
         "ended_by='y'", "rule a: ended_by is for a message, not a dialog or an input box"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='errored'\nmatch='x'\nmoving=true",
         "rule a: moving is true or false, and for an idle or working rule only"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='working'\nmatch='x'\n"
         "followed_by='('", "rule a: followed_by is not a valid regular expression"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='idle'\nmatch='x'\nspinner='y'",
         "rule a: spinner is for a working rule only"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='working'\nmatch='x'\nspinner='('",
         "rule a: spinner is not a valid regular expression"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='waiting'\nmatch='x'\ntop='y'",
         "rule a: top is for a dialog (a rule with option) only"),
        ("version = 1\ncli = 'x'\n[[rule]]\nname='a'\nstate='waiting'\nmatch='x'\nfield='y'",
         "rule a: field is for a dialog (a rule with option) only"),
    ],
)  # fmt: skip
def test_a_bad_users_rule_file_is_one_line_naming_file_and_rule(
    home: Path, text: str, words: str
) -> None:
    rules = home / "agent-rules"
    rules.mkdir()
    bad = rules / "x.toml"
    bad.write_text(text)
    with pytest.raises(RuleError) as caught:
        load_rule_file(bad)
    message = str(caught.value)
    assert message.startswith(f"agent rules file {bad}") and words in message, message
    assert "\n" not in message
    sets, errors = load_rule_sets(home)  # the bundled rules keep working
    assert len(errors) == 1 and str(bad) in errors[0] and "\n" not in errors[0]
    assert {rs.cli for rs in sets} == {cli.name for cli in CLIS}


def test_the_rule_files_and_panes_are_package_data() -> None:
    """pyproject's package-data globs take every CLI folder's rule file, saved panes and
    saved logs into the wheel."""
    root = Path(__file__).resolve().parents[2]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = data["package-data"]["core"]
    shipped = [p for cli in CLIS for p in cli.folder.rglob("*.*") if p.suffix in (".toml", ".txt")]
    files = [p.relative_to(root / "core").as_posix() for p in shipped if p.is_file()]
    assert len(files) >= 2 * len(bundled_rule_files())
    for name in files:
        assert any(fnmatch.fnmatchcase(name, glob) for glob in globs), name
