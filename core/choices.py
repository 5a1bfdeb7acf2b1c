"""What a person chooses from when an agent asks: an option's key, label and kind (allow or
reject, once or always, as ACP names them), read from its words where its route names none.
Shared by the dialogs (``core.dialogs.permissions``) and each CLI's own dialogs
(``core.clis``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.formats.text import one_line, shorten

LABEL_MAX = 200  # characters of an option's label kept (the rest cut, with an ellipsis)
# an option's kind, as ACP names them: what choosing it does
ALLOW_ONCE, ALLOW_ALWAYS = "allow_once", "allow_always"
REJECT_ONCE, REJECT_ALWAYS = "reject_once", "reject_always"
KINDS = (ALLOW_ONCE, ALLOW_ALWAYS, REJECT_ONCE, REJECT_ALWAYS)
# the kind of an option its route names none for (a pane's dialog), by its words
_REJECTS = re.compile(r"(?i)^\W*(no|reject|deny|don'?t allow|decline|cancel|keep planning)\b")
_ALWAYS = re.compile(r"(?i)don'?t ask again|\balways\b|\bsession\b|\ball\b")
_ALLOWS = re.compile(r"(?i)^\W*(yes|allow|approve|proceed|accept|ok|go ahead)\b")


def option_kind(label: str) -> str:
    """The kind of an option that names none, from its words (``No, and tell Claude ...``:
    reject_once; ``Yes, and don't ask again``: allow_always); empty when they say none."""
    if _REJECTS.search(label):
        return REJECT_ALWAYS if _ALWAYS.search(label) else REJECT_ONCE
    if _ALLOWS.search(label):
        return ALLOW_ALWAYS if _ALWAYS.search(label) else ALLOW_ONCE
    return ""


@dataclass(frozen=True)
class PromptOption:
    """One choice: ``key`` is what the agent takes (``1``, ``y``, ``allow``); ``label``: words;
    ``kind``: what choosing it does (``KINDS``; empty: unknown)."""

    key: str
    label: str
    kind: str = ""

    @classmethod
    def of(cls, key: str, label: str, kind: object = None) -> PromptOption:
        """An option as swarm keeps it: its label on one line within ``LABEL_MAX``, its kind
        one of ``KINDS`` (else read from its label)."""
        label = shorten(one_line(label), LABEL_MAX)
        return cls(key, label, kind if kind in KINDS else option_kind(label))

    def to_json(self) -> dict[str, str]:
        """A plain dict: the label the agent gave, its key (for ``--option``) and its kind."""
        return {"key": self.key, "label": self.label, "kind": self.kind}
