"""The cost ledger: one row per agent turn (``turn_usage``) with its tokens (input, output,
cache read, cache write), its cost in dollars or none (unknown), and the task, agent,
account, CLI, model and source it came from; sums by task, agent, account, CLI, model, day
or campaign (its tasks' turns).

A turn's ``ref`` (``protocol:AGENT:HOST:SEQ``, ``transcript:SESSION:MESSAGE``) is recorded
once: a source read again adds nothing. Its cost is the CLI's where the CLI gives one,
else its tokens at the price table's price for its model (``core.costs.prices``), else
unknown: counted as such, never as zero. A turn whose usage is not known at all (a protocol
turn whose CLI said none, and whose session files swarm cannot read) is a row of no tokens
and unknown cost.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from core.accounts.naming import account_of
from core.context import Ctx
from core.costs import prices, queries
from core.costs.usage import Usage
from core.event_kinds import EventKind
from core.formats.text import one_line
from core.formats.timetext import utc_text
from core.store.conn import Conn
from core.store.tables import insert_event

MAX_TURN_COST = 1e6  # dollars: more for one turn is no cost
# one turn beyond either is held as suspect: recorded with its cost unknown, said to a person
SUSPECT_TOKENS = 100_000_000  # its four token counts together
SUSPECT_COST = 1_000.0  # dollars, said by its CLI or priced
SUSPECT = "suspect"  # its cost_from
NO_USAGE = "no_usage"  # the cost_from of a turn whose usage is not known: no tokens counted
# each dimension's column of the ledger; a campaign's turns are those of its tasks
DIMENSIONS = {"task": "task_id", "agent": "agent", "account": "account", "cli": "cli",
              "model": "model", "day": "day", "campaign": None}  # fmt: skip
REF_PREFIXES = {"task": "T", "campaign": "C"}  # an id's key: T-3, C-2
NO_KEY = "(none)"  # the key of the turns with no value: on no task, no campaign's task


def given_cost(value: Any) -> float | None:
    """A cost the CLI gave, if it is one (a finite number of dollars from 0 to a million)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if number and math.isfinite(value) and 0 <= value <= MAX_TURN_COST else None


@dataclass(frozen=True)
class Turn:
    """One turn to record: who, what it used, what it cost if the CLI said."""

    agent: str
    ref: str
    source: str  # protocol, transcript...
    usage: Usage | None  # None: not known (no tokens counted, its cost unknown)
    task_id: int | None = None
    model: str | None = None
    cost_usd: float | None = None


def record(conn: Conn, ctx: Ctx, turn: Turn) -> float | bool | None:
    """Add ``turn`` to the ledger: its cost (None: unknown), or False when its ``ref`` was
    recorded before (nothing added)."""
    agent = ctx.agents.get(turn.agent)
    account = account_of(agent, ctx.settings.credential_prints) if agent else "unconfigured"
    cost, source = turn.cost_usd, "cli" if turn.cost_usd is not None else None
    if cost is None and turn.usage is not None:
        price = prices.price_of(prices.table(ctx.settings.prices_file), turn.model)
        if price is not None:
            cost, source = price.cost(turn.usage.tokens()), "price"
    u = turn.usage or Usage()
    suspect = sum(u.tokens().values()) > SUSPECT_TOKENS or (cost or 0.0) > SUSPECT_COST
    said, cost, source = cost, (None if suspect else cost), (SUSPECT if suspect else source)
    if turn.usage is None and cost is None:
        source = NO_USAGE
    added = queries.add_turn(conn, (
        ctx.now, day_of(ctx.now), turn.ref, turn.task_id, turn.agent, account,
        agent.cli if agent else None, turn.model, turn.source, u.input, u.output,
        u.cache_read, u.cache_write, cost, source,
    ))  # fmt: skip
    if added and suspect:
        _say_suspect(conn, ctx, turn, u, said)
    return cost if added else False


def reprice(conn: Conn, ctx: Ctx) -> int:
    """Price the turns recorded with no price for their model, now that the price table (or
    ``SWARM_PRICES``) has one; how many. A cost beyond one turn's bound stays unknown."""
    table = prices.table(ctx.settings.prices_file)
    priced = 0
    for row in queries.unpriced_turns(conn):
        price = prices.price_of(table, row.model)
        if price is None:
            continue
        used = Usage(row.input_tokens, row.output_tokens, row.cache_read_tokens,
                     row.cache_write_tokens)  # fmt: skip
        cost = price.cost(used.tokens())
        if cost <= SUSPECT_COST:
            queries.price_turn(conn, row.id, cost)
            priced += 1
    return priced


def _say_suspect(conn: Conn, ctx: Ctx, turn: Turn, usage: Usage, said: float | None) -> None:
    """A person hears of a turn held as suspect (``usage.suspect``)."""
    tokens = sum(usage.tokens().values())
    cost = "" if said is None else f" and ${said:,.2f}"
    insert_event(
        conn, ctx.now, EventKind.USAGE_SUSPECT,
        f"{turn.agent}'s turn said {tokens:,} tokens{cost}, beyond one turn's bound "
        f"({SUSPECT_TOKENS:,} tokens, ${SUSPECT_COST:,.0f}): recorded with its cost unknown, "
        f"not charged; check the agent's usage ({turn.ref})",
        task_id=turn.task_id, agent=turn.agent, actor=ctx.actor,
        data={"ref": turn.ref, "tokens": usage.tokens(), "cost_said": said},
    )  # fmt: skip


def say_not_charged(conn: Conn, ctx: Ctx, agent: str, dropped: dict[str, int]) -> None:
    """A person hears of the turns of sessions in ``agent``'s workspace that its hooks never
    named, not charged to it (``usage.not_charged``): session id -> how many turns."""
    for session, count in dropped.items():
        insert_event(
            conn, ctx.now, EventKind.USAGE_NOT_CHARGED,
            f"{count} turn(s) of session {one_line(session)[:80]} in {agent}'s workspace not "
            f"charged to {agent}: its hooks never named that session (another process's, "
            "e.g. a person's own CLI run there)",
            agent=agent, actor=ctx.actor, data={"session": session[:200], "turns": count},
        )  # fmt: skip


def say_overran(conn: Conn, ctx: Ctx, agent: str, seconds: float) -> None:
    """A person hears that ``agent``'s usage files took over ``seconds`` to read
    (``usage.overran``): its turns are not read until that read ends (a FIFO in its CLI's
    folder, a stalled disk)."""
    insert_event(
        conn, ctx.now, EventKind.USAGE_OVERRAN,
        f"{agent}'s CLI files took over {seconds:g} s to read (a FIFO or a stalled disk in "
        "its CLI's folder?): its usage is not read until that read ends",
        agent=agent, actor=ctx.actor, data={"seconds": seconds},
    )  # fmt: skip


def say_refused(conn: Conn, ctx: Ctx, agent: str, why: str) -> None:
    """A person hears that one of ``agent``'s CLI files is refused (``usage.refused``: a
    file of no shape its CLI writes, the agent's doing); its usage there is not counted
    until a read of it works again."""
    insert_event(
        conn, ctx.now, EventKind.USAGE_REFUSED,
        f"{agent}'s usage is not counted while its CLI's file is refused: {why}",
        agent=agent, actor=ctx.actor, data={"why": why},
    )  # fmt: skip


def day_of(at: float) -> str:
    """``2026-11-26``: the UTC day of ``at`` (a day's budget and a day's sums)."""
    return utc_text(at, "%Y-%m-%d")


# -- sums ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spent:
    """A sum of turns: their tokens, the dollars of those whose cost is known, and how many
    have none (``unknown``)."""

    key: str
    turns: int
    input: int
    output: int
    cache_read: int
    cache_write: int
    cost_usd: float
    unknown: int
    no_usage: int = 0  # of the unknown: turns whose usage is not known either (no tokens)

    def to_json(self) -> dict[str, Any]:
        """A plain dict (``--json``)."""
        return {
            "key": self.key, "turns": self.turns, "input_tokens": self.input,
            "output_tokens": self.output, "cache_read_tokens": self.cache_read,
            "cache_write_tokens": self.cache_write, "cost_usd": round(self.cost_usd, 6),
            "unknown_cost_turns": self.unknown, "unknown_usage_turns": self.no_usage,
        }  # fmt: skip

    def tokens_text(self) -> str:
        """``1200 in, 300 out, 0 cache read, 0 cache write tokens``, and the turns of unknown
        usage (``unknown tokens`` when no turn's are known)."""
        if self.no_usage and self.no_usage == self.turns:
            return "unknown tokens"
        known = (f"{self.input} in, {self.output} out, {self.cache_read} cache read, "
                 f"{self.cache_write} cache write tokens")  # fmt: skip
        return known + (f", {self.no_usage} turn(s) of unknown usage" if self.no_usage else "")

    def count_text(self, count: int) -> str:
        """One token count of the sum as shown: ``unknown`` when no turn's usage is known,
        ``1200+`` when some turns' is not (more than counted), else ``1200``."""
        if self.no_usage and self.no_usage == self.turns:
            return "unknown"
        return f"{count}+" if self.no_usage else str(count)

    def share_text(self, budget: float, usage_unknown: bool = False) -> str:
        """How much of ``budget`` the sum spent: ``42% spent``, ``at least 42% spent`` when
        some turns' cost is unknown, ``spent: unknown`` when none is known (or its agent's
        usage cannot be read: ``usage_unknown``), never 0 % for want of a figure."""
        if usage_unknown or (self.unknown and self.unknown == self.turns):
            return "spent: unknown"
        share = f"{self.cost_usd / budget:.0%} spent" if budget > 0 else "spent"
        return f"at least {share}" if self.unknown else share

    def cost_text(self) -> str:
        """``$0.42``, ``$0.42 + 2 turn(s) of unknown cost``, or ``unknown (3 turns)``."""
        if self.unknown and self.unknown == self.turns:
            return f"unknown ({self.turns} turn(s) with no cost)"
        known = f"${self.cost_usd:.4f}" if self.cost_usd < 1 else f"${self.cost_usd:.2f}"
        return known + (f" + {self.unknown} turn(s) of unknown cost" if self.unknown else "")


def _spent(key: str, sums: queries.Sums) -> Spent:
    return Spent(
        key, sums.turns, sums.input, sums.output, sums.cache_read, sums.cache_write,
        sums.cost, sums.unknown, sums.no_usage,
    )  # fmt: skip


def by(
    conn: Conn, dimension: str, since: float | None = None, until: float | None = None
) -> list[Spent]:
    """The sums per task, agent, account, CLI, model, day or campaign (``DIMENSIONS``),
    turns from ``since`` to ``until`` (None: no bound), the most spent first."""
    column = DIMENSIONS[dimension]
    low = since if since is not None else float("-inf")
    high = until if until is not None else float("inf")
    if column is None:
        rows = queries.sums_by_campaign(conn, low, high)
    else:
        rows = queries.sums_by(conn, column, low, high)
    return [_spent(_key(dimension, r.key), r.sums) for r in rows]


def spend_json(spend: dict[str, list[Spent]]) -> dict[str, list[dict[str, Any]]]:
    """The sums per dimension as JSON (``swarm stats --json``'s ``cost``, the dashboard's
    API): ``by_task``, ``by_agent``, ``by_account``, ``by_cli``, ``by_model``, ``by_day``,
    ``by_campaign``."""
    return {f"by_{dimension}": [s.to_json() for s in rows] for dimension, rows in spend.items()}


def total(parts: list[Spent], key: str = "all") -> Spent:
    """The sum of ``parts`` (the sums of one dimension: each turn in one of them)."""
    return Spent(
        key, sum(p.turns for p in parts), sum(p.input for p in parts),
        sum(p.output for p in parts), sum(p.cache_read for p in parts),
        sum(p.cache_write for p in parts), sum(p.cost_usd for p in parts),
        sum(p.unknown for p in parts), sum(p.no_usage for p in parts),
    )  # fmt: skip


def _key(dimension: str, value: Any) -> str:
    if value is None:
        return NO_KEY
    prefix = REF_PREFIXES.get(dimension)
    return f"{prefix}-{value}" if prefix else str(value)


def of_task(conn: Conn, task_id: int) -> Spent:
    """What ``task_id``'s turns used and cost."""
    row = queries.sums_of_task(conn, task_id)
    return _spent(f"T-{task_id}", row)


def of_agent_day(conn: Conn, agent: str, day: str) -> Spent:
    """What ``agent``'s turns of the UTC ``day`` used and cost."""
    row = queries.sums_of_agent_day(conn, agent, day)
    return _spent(agent, row)


def of_campaign(conn: Conn, campaign_id: int) -> Spent:
    """What the turns on campaign ``campaign_id``'s tasks used and cost."""
    return _spent(f"C-{campaign_id}", queries.sums_of_campaign(conn, campaign_id))


def of_account_day(conn: Conn, account: str, day: str) -> Spent:
    """What ``account``'s turns of the UTC ``day`` used and cost."""
    return _spent(account, queries.sums_of_account_day(conn, account, day))


def turns_after(conn: Conn, after_id: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` turns recorded after turn ``after_id``, in order (the export): the
    ledger's row, its task as ``T-3``."""
    return [
        _shown({("task" if k == "task_id" else k): (_task(v) if k == "task_id" else v)
                for k, v in asdict(row).items()})
        for row in queries.turns_after(conn, after_id, limit)
    ]  # fmt: skip


_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """A ledger row as shown: a turn of unknown usage has no token counts (None), not 0."""
    if row.get("cost_from") == NO_USAGE:
        return {**row, **dict.fromkeys(_TOKENS)}
    return row


def _task(task_id: int | None) -> str | None:
    return None if task_id is None else f"T-{task_id}"


def turns_of_task(conn: Conn, task_id: int) -> list[dict[str, Any]]:
    """``task_id``'s turns, oldest first (``swarm task show --json``)."""
    rows = queries.turns_of_task(conn, task_id)
    return [_shown(asdict(r)) for r in rows]
