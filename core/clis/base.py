"""What swarm knows of one agent CLI (``AgentCli``), one protocol for all of them; each CLI's
folder (``core/clis/<cli>/``) makes one, with the parts it has: its hook files
(``HookFiles``), its MCP file (``McpFiles``), its session files' usage (``SessionFiles``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, runtime_checkable

from core.agent_state import AgentState
from core.clis.logs import LogReader, SessionLogReader
from core.models import PromptOption

if TYPE_CHECKING:
    from core.hosts.turns import Driver, Launched

ProtocolUsage = Literal["turn_end", "sessions"]  # where a protocol turn's usage is read


@dataclass(frozen=True)
class Change:
    """What one install or remove did to one file in a workspace."""

    path: Path
    # "added", "already installed", "removed", "restored", "not installed", "kept"; a
    # report rule's "rule added" and "rule removed"
    what: str


@dataclass(frozen=True)
class Server:
    """How an agent CLI starts ``swarm mcp``: the program, its arguments, its environment."""

    command: str
    args: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)

    def entry(self) -> dict[str, Any]:
        """The ``mcpServers`` entry (Claude Code and Cursor read the same shape)."""
        return {"command": self.command, "args": list(self.args), "env": dict(self.env)}


class UnknownHookEvent(ValueError):
    """Malformed JSON or an event swarm does not read (logged; the hook exits 0)."""


class HookReading(NamedTuple):
    """What one hook call says, read by its CLI: the event, the state it shows, the evidence
    in plain words, and whether the agent's turn (and any dialog in it) is over."""

    name: str
    state: AgentState
    evidence: str
    ends_turn: bool


@dataclass(frozen=True)
class HookDialog:
    """A permission request a CLI's hook holds open until swarm answers it (Claude Code's
    ``PermissionRequest``): ``event`` names it; ``plan(payload)``: it asks to leave plan mode
    (a plan to approve); ``options(payload)``: a person's choices, in the CLI's own order;
    ``answer(key, by, payload)``: what the hook prints for the option ``key`` ``by`` chose;
    ``questions(payload)``: the agent's own questions the request asks (their input, None:
    it asks none), answered by ``answer_questions(reply, payload)``: what the hook prints for
    the person's answers (``core.hosts.answers.answers_option``)."""

    event: str
    plan: Callable[[Mapping[str, Any]], bool]
    options: Callable[[Mapping[str, Any]], tuple[PromptOption, ...]]
    answer: Callable[[str, str, Mapping[str, Any]], str]
    questions: Callable[[Mapping[str, Any]], Mapping[str, Any] | None] = lambda _payload: None
    answer_questions: Callable[[str, Mapping[str, Any]], str] = lambda _reply, _payload: ""


@dataclass(frozen=True)
class HookFiles:
    """The hooks swarm writes into an agent's workspace for one CLI, and how it reads them.

    ``files`` (relative to the workspace) are kept out of git; ``install(home, folder,
    command, wait_s)`` merges swarm's hook ``command`` into them (the user's own kept; a
    permission hook waits ``wait_s``), ``remove(home, folder)`` takes only swarm's out;
    ``read(payload)`` is what a hook call's JSON says (None: not this CLI's, or raises
    ``UnknownHookEvent`` for an event of its own it does not know); ``note`` is said after
    an install that wrote its files (a dialog the person meets at its next start);
    ``dialog``: the permission request its hook waits on (None: its hooks ask nothing)."""

    files: tuple[Path, ...]
    install: Callable[[Path, Path, str, float], list[Change]]
    remove: Callable[[Path, Path], list[Change]]
    read: Callable[[Mapping[str, Any]], HookReading | None]
    note: str = ""
    dialog: HookDialog | None = None


@dataclass(frozen=True)
class McpFiles:
    """Where one CLI reads swarm's MCP server: ``files`` (relative to the workspace, kept out
    of git), ``install(home, folder, server)`` and ``remove(home, folder)`` (the user's own
    kept), ``note`` said after an install (where the CLI reads the file)."""

    files: tuple[Path, ...]
    install: Callable[[Path, Path, Server], list[Change]]
    remove: Callable[[Path, Path], list[Change]]
    note: str = ""


@dataclass(frozen=True)
class UsageTurn:
    """One turn read from a CLI's own session file: ``ref`` names it once (its session and
    its last answer's id); ``usage`` in its API's names; ``cost_usd`` None when the file
    gave no cost for it; ``at`` when the turn began as the file tells it (its prompt's or
    its first answer's time, seconds since the epoch; None: the file gave none), which
    names the task it was spent for (the one its agent held then)."""

    ref: str
    session: str
    model: str | None
    usage: dict[str, int]
    cost_usd: float | None
    at: float | None = None


class UsageReader(Protocol):
    """Reads one session file from where it stopped: the turns ended since."""

    def read(self) -> Sequence[UsageTurn]: ...


@runtime_checkable
class RefusingReader(Protocol):
    """A reader that may refuse its file (opencode's database, which its agent could have
    written into a shape that holds a reader): ``refused``, why its last read read nothing
    (None: it read)."""

    refused: str | None


@dataclass(frozen=True)
class SessionFiles:
    """Where a CLI writes its sessions, with each turn's usage: its config folder
    is ``$<config_env>``, else ``$HOME/<config_home>``; ``folder(config, cwd)`` holds the
    sessions it ran in ``cwd``, ``pattern`` (relative to it, ``*/*/x-*.jsonl`` for files in
    subfolders) names them, ``reader(path, cwd)`` reads ``cwd``'s turns in one (a file of
    every workspace's: opencode's database). ``cwd_of(path)``: the folder a session file
    says it ran in, for a CLI whose ``folder`` holds a file per session of every workspace
    (Codex's); None: each file is read for ``cwd``. ``recent(now)``: the patterns where a
    session begun about ``now`` is written (Codex's folders of the day), for a CLI whose
    folder keeps every session it ever ran: after the first look only those and the files
    already followed are listed (None: ``pattern`` at each look)."""

    config_env: str
    config_home: str
    folder: Callable[[Path, str], Path]
    reader: Callable[[Path, str], UsageReader]
    pattern: str = "*.jsonl"
    cwd_of: Callable[[Path], str | None] | None = None
    recent: Callable[[float], list[str]] | None = None

    def config_folder(self, env: Mapping[str, str]) -> Path | None:
        """The CLI's own folder in the environment ``env`` it runs with: ``$<config_env>``,
        else ``$HOME/<config_home>``; None when neither is set."""
        given = env.get(self.config_env, "").strip()
        if given:
            return Path(given).expanduser()
        home = env.get("HOME", "").strip()
        return Path(home) / self.config_home if home else None


@dataclass(frozen=True)
class ModelChoice:
    """How the CLI is told its model, as swarm reads it before a turn (``swarm desktop up``'s
    price warning): ``flags`` on its command line (``--model X``, ``--model=X``), ``env``
    (its variables), ``config(folder)`` (its own config file in its folder: Codex's
    ``config.toml``), else ``default`` (the pinned version's own model; None: not known).
    ``cli_cost``: the routes on which the CLI gives each turn's cost itself (no price needed:
    Claude Code's stream-json)."""

    flags: tuple[str, ...] = ("--model",)
    env: tuple[str, ...] = ()
    config: Callable[[Path], str | None] | None = None
    default: str | None = None
    cli_cost: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionLog:
    """A log the CLI writes in its own data folder (a protocol agent's ``cli_dir``), one file
    for every process of its user, each line naming its session (opencode's): ``path(cli_dir)``
    names it, ``reader(lines, session)`` reads the lines of one session. swarm only reads it:
    never empties, moves or writes it."""

    path: Callable[[Path], Path]
    reader: SessionLogReader


@dataclass(frozen=True)
class FirstStart:
    """A first-start offer of the CLI settled as a user would, by a documented setting it
    reads: ``key`` = ``value`` in the JSON file ``path`` of the folder it starts in, written
    by ``swarm desktop up`` unless the file says ``key`` already; ``offer`` is the screen it
    settles, in the CLI's words."""

    path: str
    key: str
    value: Any
    offer: str


@dataclass(frozen=True)
class ModelWire:
    """How a CLI reaches its model API, for a sandbox whose model goes through swarm's
    gateway (``sandbox_network = "model"``): the ``vendor`` (where the gateway puts the key:
    ``anthropic``, ``openai``, ``gemini``), the variable its API's base URL is read from
    (``base_url``: its value outside is the gateway's upstream, else ``upstream``, the public
    API), the variables that hold an API key the gateway can put on the wire (``keys``, the
    first set wins: never inside), the one that holds a placeholder inside instead
    (``token``: a variable the CLI sends as its credential without asking about it), and what
    the CLI expects after the host in its base URL (``suffix``: OpenAI's ``/v1``); ``args``:
    words put right after its program for a CLI that reads its base URL from its config, not
    its environment (``{url}``: the base URL inside, ``{token}``: ``token``'s name, ``{door}``:
    the folder of ``files`` as the CLI sees it); ``overrides``: variables the CLI reads its
    base URL from ahead of ``base_url`` (the first set outside is the upstream; never set
    inside); ``files``: (name, text) written by swarm beside the relay, read-only inside."""

    vendor: str
    base_url: str
    upstream: str
    keys: tuple[str, ...]
    token: str
    suffix: str = ""
    args: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    files: tuple[tuple[str, str], ...] = ()


# what an agent runs to report (its prompts name them): never a person's decision to allow
REPORT_COMMANDS = ("task start", "task done", "task note", "task fail", "ask", "send")
ReportArgs = Callable[[str], tuple[str, ...]]  # the agent's swarm command -> its arguments


@dataclass(frozen=True)
class AgentCli:
    """One agent CLI.

    ``name`` is the agents file's ``cli`` value and its rule file's ``cli``; ``folder`` is
    its folder (``core/clis/<cli>/``: its rule file ``rules.toml``, its saved real panes
    ``panes/``); ``programs`` the executables that start it; ``placeholders`` what its empty
    input shows in grey (regular expressions of the whole text after the input's marker: a
    plain capture cannot tell it from typed text);
    ``resume_option`` is added to the command to continue the last conversation, or
    ``resume_subcommand`` put right after the program; ``hooks`` the hook files swarm
    writes into its workspace (None: it runs no hooks of swarm's, its pane alone tells its
    state); ``turn_start`` the hook events that say it took a prompt; ``env`` what its launch
    needs in the environment (set only where the user's environment does not);
    ``launch_args`` what ``swarm desktop up`` puts right after the program (unless the
    command says it).

    ``mcp`` the file swarm's MCP server goes in (None: it reads no MCP server);
    ``reports_by_mcp``: its agents have swarm's MCP tools unless
    the agents file says ``mcp = false`` (Codex CLI: its shell may be sandboxed from swarm's
    home, its MCP servers are not). Its keys are an agent's defaults when the agents file does
    not say them: ``reset`` the steps that start a fresh conversation (key combinations, or
    ``"text:..."`` typed), ``submit`` the key that sends the prompt, ``clear`` editing keys
    that empty its input (never a key that means something else to it), ``interrupt`` the
    keys that stop its running turn in its terminal, pressed ``interrupt.KEY_GAP_S`` apart
    (``swarm agents stop`` and a withdrawal on the tmux route: Escape; opencode's Escape
    twice; Aider's one Ctrl+C), ``interrupt_armed`` what its pane shows once the first of
    several keys armed the interrupt (a regular expression: the next key waits for it, not
    for the gap, so a busy CLI does not read two keys at once as another key),
    ``interrupt_quits_s`` how soon a second interrupt quits the CLI (Aider 0.86: a Ctrl+C
    within 2 s of the last, whatever ran between): swarm's next stop waits that out. The
    wait from a paste to the submit key is the routes' (``GuiOptions.submit_gap_s``,
    ``settle_s``), the same for every CLI (Gemini CLI's need).

    ``debug_log`` names the environment variable by which the CLI writes a debug log, which
    swarm sets at launch (``core.clis.logs.log_path``) and reads with ``log_reader`` for what
    the screen does not show (Gemini CLI's retries of a 429 or a 5xx). ``session_log``: a log
    of its own that tells what its protocol does not (opencode's retries over ACP), read on
    the protocol route for the agent's session alone (None: none).

    ``protocol`` is the structured protocol swarm speaks to it (``"acp"``: Zed's Agent Client
    Protocol, JSON-RPC on its standard input and output; ``"stream-json"``: Claude Code's own
    JSON lines, whose flags the host adds), None: no protocol route (``delivery =
    "protocol"`` is refused); ``protocol_args`` make it speak it, put right after the program
    (``--acp``, a subcommand ``acp``); ``protocol_adapter`` a program that speaks it for the
    CLI instead, given the command's arguments (Codex's ``codex-acp``). ``protocol_driver``:
    the host's driver of a protocol that is the CLI's own (Claude Code's stream-json), given
    the launched agent (None: ACP, which the protocol route speaks itself).

    ``credentials`` names the environment variables that hold the credential it runs with,
    the first set wins (an agent's derived account is its CLI and a fingerprint of it:
    ``core.accounts``). ``sessions``: its own session files, read for each turn's usage on
    the tmux and desktop routes (None: it writes none swarm reads). ``protocol_usage``:
    where its protocol agents' turns' usage comes from: ``"turn_end"``, the
    protocol's own turn end (Claude Code's stream-json ``result``: the whole turn's), or
    ``"sessions"``, its session files as on the tmux route (its protocol gives none, or
    less than the turn's: ``core.costs.turns.protocol_usage``). ``cumulative_usage``: its
    protocol's turn end says its session's running total, not the turn's (Mistral Vibe's
    ACP): its host keeps each session's total and journals what a turn added
    (``--cumulative-usage``). ``report_args``: given the
    agent's ``swarm`` command, the arguments that let it run swarm's own report commands
    (``REPORT_COMMANDS``) and MCP tools without asking a person (None: it asks for none, or
    cannot be told).
    """

    name: str
    title: str
    programs: tuple[str, ...]
    folder: Path
    hooks: HookFiles | None = None
    resume_option: str | None = None
    resume_subcommand: str | None = None
    turn_start: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    launch_args: tuple[str, ...] = ()
    mcp: McpFiles | None = None
    reports_by_mcp: bool = False
    reset: tuple[str, ...] = ("text:/clear", "enter")
    submit: str = "enter"
    clear: tuple[str, ...] = ("ctrl+e", "ctrl+u")  # end of line, delete to its start
    interrupt: tuple[str, ...] = ("escape",)
    interrupt_armed: str = ""
    interrupt_quits_s: float = 0.0
    placeholders: tuple[str, ...] = ()
    debug_log: str | None = None
    log_reader: LogReader | None = None
    session_log: SessionLog | None = None
    protocol: str | None = None
    protocol_args: tuple[str, ...] = ()
    protocol_adapter: str | None = None
    adapter_package: str | None = None  # the package that installs ``protocol_adapter``
    # the MCP servers of its protocol session as its command line's arguments, where only its
    # configuration can trust their tools (codex-acp: a session's server is asked about at
    # every call); None: they go with the session
    mcp_args: Callable[[Sequence[Mapping[str, Any]]], tuple[str, ...]] | None = None
    protocol_driver: Callable[[Launched], Driver] | None = None
    first_start: tuple[FirstStart, ...] = ()
    credentials: tuple[str, ...] = ()
    sessions: SessionFiles | None = None
    protocol_usage: ProtocolUsage = "turn_end"
    cumulative_usage: bool = False
    report_args: ReportArgs | None = None
    # given an agent's workspace and its ``swarm`` command, writes the rules that run its
    # report commands unasked (Gemini CLI's policy file); None: it has none swarm writes
    report_rules: Callable[[Path, str], list[Change]] | None = None
    # and takes them out of a workspace folder again (``hooks install --remove``)
    remove_report_rules: Callable[[Path], list[Change]] | None = None
    # its own state and configuration under the home, read and written in a sandbox (a
    # trailing "/": a folder, made when missing; else a file, bound when it exists)
    state: tuple[str, ...] = ()
    # the files of ``state`` it writes at its first start, made with this text when missing
    # so they are bound and kept (else written in the sandbox's own home, and lost with it)
    state_seeds: tuple[tuple[str, str], ...] = ()
    # the person's variables its sandbox is given (names or ``fnmatch`` patterns: its
    # vendor's family); with its credentials, debug log and ``env`` (``env_names``)
    env_family: tuple[str, ...] = ()
    # how it reaches its model through swarm's gateway (None: not known: a sandbox whose
    # network is not said shares the host's, and "model" is refused)
    model_wire: ModelWire | None = None
    # how its model is chosen, and its default (None: swarm cannot tell its model)
    model: ModelChoice | None = None

    @property
    def env_names(self) -> tuple[str, ...]:
        """The names (and patterns) of the environment its sandbox keeps
        (``automation.launch.sandbox._environment``)."""
        own = [*self.env_family, *self.credentials, *self.env]
        return tuple(dict.fromkeys(own + ([self.debug_log] if self.debug_log else [])))

    @property
    def speaks_protocol(self) -> bool:
        """Whether swarm can drive it over a protocol (``delivery = "protocol"``)."""
        return self.protocol is not None

    @property
    def rule_file(self) -> Path:
        """Its rule file: what its terminal text means (``core.agents._text_rules``)."""
        return self.folder / "rules.toml"

    @property
    def panes(self) -> Path:
        """Its saved real panes (``<cli>-<version>-<what>.txt``), the rule file's tests."""
        return self.folder / "panes"
