"""Varied prompt texts for the delivery tests and the benchmark."""

from __future__ import annotations

import random

from core.models import Agent
from core.protocols import Parcel

PIECES = (
    "Please review T-12 and report back.",
    "Unicode: café, naïve, Ærøskøbing, Straße, ½ ≠ ¼, → ✓ ✗",
    "Emoji: 😀 🚀 👩‍💻 🇯🇵 ❤️",
    "CJK: 你好，世界。日本語のテキスト。한국어 문장.",
    "Right-to-left: שלום עולם, مرحبا بالعالم",
    'Shell-ish: $(rm -rf /) `whoami` && echo "done" | tee -a log; exit 1',
    "Brackets {json: [1, 2, 3]} <tag attr='x'> \\back\\slash\\ %s %d {0}",
    "\tindented with a tab",
    "    indented with spaces, trailing spaces   ",
    "- [ ] a checklist item\n- [x] a done item",
    "```python\ndef f(x):\n    return x * 2\n```",
)


def parcel(delivery_id: int, agent: Agent, text: str) -> Parcel:
    """A parcel from the tests."""
    return Parcel(delivery_id=delivery_id, agent=agent, text=text, sender="test")


def make_texts(count: int, seed: int = 7, long_every: int = 97) -> list[str]:
    """``count`` distinct texts: multi-line, unicode, some 2,000 characters long."""
    rng = random.Random(seed)
    texts = []
    for n in range(count):
        head = f"[{n:05d}] message {n}"
        if n % long_every == long_every - 1:
            texts.append(_long_text(head, rng))
            continue
        lines = [head, *rng.sample(PIECES, rng.randint(1, 4))]
        texts.append("\n".join(lines))
    return texts


def _long_text(head: str, rng: random.Random) -> str:
    body = head + "\n"
    while len(body) < 2000:
        body += rng.choice(PIECES) + rng.choice(("\n", " ", "\n\n"))
    return body[:2000]
