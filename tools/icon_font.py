"""Write the dashboard's icon font: the glyphs of every event icon (``core/event_kinds.py``'s
``SHOWN``) and of the other symbols the dashboard's pages show, cut from Noto Emoji (the
monochrome one, SIL Open Font License 1.1), so a browser without an emoji font shows them
instead of empty boxes (``bot/web/static/style.css`` puts it after the emoji fonts).

Run again when an icon is added (the browser test of the icons fails until then):
``npm pack @fontsource/noto-emoji@5.3.2``, unpack it, then
``python tools/icon_font.py package/files/noto-emoji-emoji-400-normal.woff2``
(needs ``fonttools`` and ``brotli``: a tool's own dependencies, not swarm's).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from core.event_kinds import SHOWN  # noqa: E402

OUT = ROOT / "bot" / "web" / "static" / "icons.woff2"
PAGES = "❓✋"  # shown by the dashboard's own pages (a card's question, "Needs you")


def wanted() -> list[int]:
    """The code points of every icon from U+2300 on (text fonts have those before: • →)."""
    chars = {c for entry in SHOWN.values() for c in entry.icon} | set(PAGES)
    return sorted(ord(c) for c in chars if ord(c) >= 0x2300 and c != "\ufe0f")


def main() -> None:
    from fontTools import subset  # type: ignore[import-not-found]  # the tool's own

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="Noto Emoji (woff2, ttf or otf)")
    args = parser.parse_args()
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]  # the copyright and licence lines stay in the font
    font = subset.load_font(str(args.source), options)
    found = font.getBestCmap()
    missing = [f"U+{c:04X}" for c in wanted() if c not in found]
    if missing:
        raise SystemExit(f"{args.source} has no glyph for {', '.join(missing)}")
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted())
    subsetter.subset(font)
    subset.save_font(font, str(OUT), options)
    print(f"{OUT}: {len(wanted())} icons, {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
