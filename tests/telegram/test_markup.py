"""Text for Telegram's HTML: escaped, mentions inert, bounded in UTF-16 code units."""

from __future__ import annotations

from bot.telegram.markup import MESSAGE_LIMIT, bounded, label, quoted, visible_length


def test_quoted_escapes_and_makes_mentions_inert() -> None:
    assert quoted("<b>hi</b> & @boss\x1b[31m") == "&lt;b&gt;hi&lt;/b&gt; &amp; @\u2060boss\\x1b[31m"
    assert quoted("x" * 10, 5) == "xxxx…"


def test_bounded_keeps_what_fits_and_cuts_what_does_not() -> None:
    fits = "<b>T-1</b> " + "&lt;" * (MESSAGE_LIMIT - 4)
    assert bounded(fits) == fits and visible_length(fits) == MESSAGE_LIMIT
    wide = "<b>T-1</b> " + "😀" * 3000  # two UTF-16 code units each
    cut = bounded(wide)
    assert cut.endswith("…") and "<b>" not in cut
    assert visible_length(cut) <= MESSAGE_LIMIT


def test_a_label_is_one_bounded_line() -> None:
    assert label("Yes,\nand  don't ask again") == "Yes, and don't ask again"
    assert len(label("y" * 200)) == 64


def test_only_data_our_buttons_carry_is_a_press() -> None:
    from bot.telegram.callbacks import Press, parse

    assert parse("p:choose:7:2") == Press("p", "choose", "7", 2)
    assert parse("n:option:R-7:1") == Press("n", "option", "R-7", 1)
    assert parse("g:approve:12") == Press("g", "approve", "12")
    for forged in ("g:drop:12", "t:done:T-1", "n:nudge:12", "p:choose:R-7:0", "x:done:1", ""):
        assert parse(forged) is None, forged
