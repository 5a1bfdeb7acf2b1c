"""A turn's tokens (``Usage``), as each wire and CLI says them: apart from the ledger, so a
process that reads a model's answer (swarm's gateway, one per sandboxed agent) does not
import the ledger, its queries and the CLIs to count one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_TOKENS = 10**12  # more in one turn is no count
# a usage's fields as each wire names them: Anthropic (Claude Code's stream-json and
# transcripts), ACP (camelCase), OpenAI's Chat Completions and Responses, Gemini
_FIELDS = {
    "input": ("input_tokens", "inputTokens", "prompt_tokens", "promptTokenCount"),
    "output": ("output_tokens", "outputTokens", "completion_tokens", "candidatesTokenCount"),
    "cache_read": ("cache_read_input_tokens", "cachedReadTokens", "cached_tokens",
                   "cachedContentTokenCount"),
    "cache_write": ("cache_creation_input_tokens", "cachedWriteTokens"),
}  # fmt: skip


@dataclass(frozen=True)
class Usage:
    """One turn's tokens."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    def tokens(self) -> dict[str, int]:
        """kind -> count (the price table's kinds)."""
        return {"input": self.input, "output": self.output, "cache_read": self.cache_read,
                "cache_write": self.cache_write}  # fmt: skip

    @classmethod
    def from_wire(cls, raw: Any) -> Usage | None:
        """A usage as a CLI or a model API reports it (any of ``_FIELDS``' names; a count
        that is no whole number from 0 to ``MAX_TOKENS`` is left out); None when it names
        none."""
        if not isinstance(raw, Mapping):
            return None
        found: dict[str, int] = {}
        for kind, names in _FIELDS.items():
            for name in names:
                value = raw.get(name)
                if isinstance(value, int) and not isinstance(value, bool):
                    if 0 <= value <= MAX_TOKENS:
                        found[kind] = value
                    break
        return cls(**found) if found else None
