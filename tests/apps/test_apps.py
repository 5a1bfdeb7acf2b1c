"""The test applications behave like the real thing, driven by a person through xdotool.

No driver here: these tests pin down what the applications themselves do with a click and
keys, so that the driver's tests can trust them.
"""

from __future__ import annotations

import shutil
import time
import tomllib
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from core.agents_file import load_agents
from tests.apps import launchers
from tests.apps.conftest import Person
from tests.apps.desktop import SLOW_PASTE_MS, AppWindow, MixedDesktop, grab, missing_reason
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.timeout(120)
ONE_LINE_PX, COMPOSER_EDGE_PX = 34, 9  # the page's one-line textarea; its padding and border


def _of_kind(desktop: MixedDesktop, kind: str, nth: int = 0) -> AppWindow:
    return [window for window in desktop.windows if window.kind == kind][nth]


def _submitted(desktop: MixedDesktop, window: AppWindow, before: int) -> list[str]:
    """What ``window`` received after its first ``before`` messages (waits for one)."""
    return desktop.wait_for(window.name, before + 1, timeout=10.0)[before:]


def test_chromium_shift_enter_adds_a_line_and_enter_sends(
    apps_desktop: MixedDesktop, person: Person
) -> None:
    window = _of_kind(apps_desktop, "chrome")
    before = len(apps_desktop.texts(window.name))
    person.set_clipboard("ünïcödé ✓ 中文")
    person.click_into(window)
    person.type("first line")
    person.keys("shift+Return")
    person.type("second line, ")  # ASCII: xdotool's remapped keys for others race Chromium
    person.keys("ctrl+v")
    person.keys("Return")
    assert _submitted(apps_desktop, window, before) == ["first line\nsecond line, ünïcödé ✓ 中文"]


def test_chromium_textarea_grows_upwards_and_shrinks_after_sending(
    apps_desktop: MixedDesktop, person: Person
) -> None:
    window = _of_kind(apps_desktop, "chrome", 1)
    x, y, width, height = window.input_box
    # the composer's edge and top padding above the one-line textarea (chat_page.html: 34 px
    # high, 8 px padding, a 1 px border): the textarea grows over them, and after the send
    # they look as before, whatever the history above holds (its last message scrolls to
    # just above this strip once the history is full)
    above = (x, y + height - ONE_LINE_PX - COMPOSER_EDGE_PX, width, COMPOSER_EDGE_PX)
    empty = grab(apps_desktop.xserver, above)
    before = len(apps_desktop.texts(window.name))
    person.click_into(window)
    lines = [f"line {n} of a long prompt" for n in range(8)]
    for line in lines[:-1]:
        person.type(line)
        person.keys("shift+Return")
    person.type(lines[-1])
    grown = grab(apps_desktop.xserver, above)
    person.keys("Return")
    assert _submitted(apps_desktop, window, before) == ["\n".join(lines)]
    assert ImageChops.difference(empty, grown).getbbox() is not None
    assert _settles_to(apps_desktop, above, empty)


def _settles_to(desktop: MixedDesktop, box: tuple[int, int, int, int], image: Image.Image) -> bool:
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        if ImageChops.difference(grab(desktop.xserver, box), image).getbbox() is None:
            return True
        time.sleep(0.05)
    return False


def test_chromium_enter_on_an_empty_composer_sends_an_empty_message(
    apps_desktop: MixedDesktop, person: Person
) -> None:
    window = _of_kind(apps_desktop, "chrome", 1)
    before = len(apps_desktop.texts(window.name))
    person.click_into(window)
    person.keys("Return")
    assert _submitted(apps_desktop, window, before) == [""]


def test_xterm_clipboard_paste_keeps_a_multi_line_text_in_one_message(
    apps_desktop: MixedDesktop, person: Person
) -> None:
    window = _of_kind(apps_desktop, "xterm")
    text = "Refactor the parser:\n  1. split tokens\n  2. keep “quotes” — and ✓ unicode\nDone."
    before = len(apps_desktop.texts(window.name))
    person.set_clipboard(text)
    person.click_into(window)
    person.keys("ctrl+shift+v")
    person.keys("Return")
    assert _submitted(apps_desktop, window, before) == [text]


def test_xterm_shift_insert_pastes_the_primary_selection(
    apps_desktop: MixedDesktop, person: Person
) -> None:
    window = _of_kind(apps_desktop, "xterm", 1)
    text = "from PRIMARY\nsecond line"
    before = len(apps_desktop.texts(window.name))
    person.set_clipboard("not this one")
    person.set_primary(text)
    person.click_into(window)  # a click without a drag leaves the selection alone
    person.keys("shift+Insert")
    person.keys("Return")
    assert _submitted(apps_desktop, window, before) == [text]


def test_xterm_prompt_has_readline_keys(apps_desktop: MixedDesktop, person: Person) -> None:
    window = _of_kind(apps_desktop, "xterm")
    before = len(apps_desktop.texts(window.name))
    person.click_into(window)
    person.type("typed before")
    person.keys("ctrl+u")  # kill to the line start
    person.type("middle")
    person.keys("ctrl+a")  # line start, not select all
    person.type("<")
    person.keys("ctrl+e")  # line end
    person.type(">")
    person.keys("Escape", "Return")  # a new line, not a send
    person.type("next")
    person.keys("Return")
    assert _submitted(apps_desktop, window, before) == ["<middle>\nnext"]


def test_tk_ctrl_a_moves_to_the_line_start_instead_of_selecting(
    apps_desktop: MixedDesktop, person: Person
) -> None:
    window = _of_kind(apps_desktop, "tk")
    before = len(apps_desktop.texts(window.name))
    person.click_into(window)
    person.type("hello")
    person.keys("ctrl+a")
    person.type("> ")
    person.keys("Return")
    assert _submitted(apps_desktop, window, before) == ["> hello"]


def test_tk_ctrl_slash_selects_all_and_a_paste_does_not_replace_the_selection(
    apps_desktop: MixedDesktop, person: Person
) -> None:
    window = _of_kind(apps_desktop, "tk")
    before = len(apps_desktop.texts(window.name))
    person.set_clipboard("pasted")
    person.click_into(window)
    person.type("old text")
    person.keys("ctrl+slash", "ctrl+v")  # X11 Tk: the paste goes in at the cursor
    person.keys("Return")
    person.type("stale")
    person.keys("ctrl+slash", "Delete")  # what clears a Tk Text: select all, then delete
    person.type("fresh")
    person.keys("Return")
    assert apps_desktop.wait_for(window.name, before + 2)[before:] == ["old textpasted", "fresh"]


def test_tk_slow_window_shows_a_paste_late_at_the_top_of_its_input(
    apps_desktop: MixedDesktop, person: Person
) -> None:
    window = _of_kind(apps_desktop, "tk-slow")
    before = len(apps_desktop.texts(window.name))
    person.set_clipboard("slow\npaste " + "x" * 40)
    person.click_into(window)
    empty = settled(apps_desktop, window.input_box)  # focus ring and caret drawn
    person.keys("ctrl+v", "Return")  # Return comes before the paste shows: an empty message
    assert _submitted(apps_desktop, window, before) == [""]
    time.sleep(SLOW_PASTE_MS / 1000 + 0.3)
    shown = ImageChops.difference(grab(apps_desktop.xserver, window.input_box), empty)
    person.keys("Return")
    assert _submitted(apps_desktop, window, before + 1) == ["slow\npaste " + "x" * 40]
    left, top, right, bottom = shown.getbbox() or (0, 0, 0, 0)
    assert top < 10 and bottom < 60 and right - left > 200  # two lines at the input's top


def settled(
    desktop: MixedDesktop, box: tuple[int, int, int, int], quiet: float = 0.15, timeout: float = 5.0
) -> Image.Image:
    """A grab of ``box`` once it has not changed for ``quiet`` seconds (a blinking caret
    aside: changes at most 3 pixels wide do not count)."""
    last, since = grab(desktop.xserver, box), time.monotonic()
    deadline = since + timeout
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.02)
        image = grab(desktop.xserver, box)
        diff = ImageChops.difference(last, image).getbbox()
        if diff is not None and diff[2] - diff[0] > 3:
            last, since = image, time.monotonic()
    return last


LONG_TEXT = "\n".join(f"{n:03d} naïve café — ✓ 漢字 \t{'x' * (n % 50)}" for n in range(60))[:2000]


@pytest.mark.parametrize(("kind", "paste"), [("chrome", "ctrl+v"), ("xterm", "ctrl+shift+v"),
                                             ("tk", "ctrl+v")])  # fmt: skip
def test_a_long_multi_line_unicode_paste_arrives_whole(
    apps_desktop: MixedDesktop, person: Person, kind: str, paste: str
) -> None:
    window = _of_kind(apps_desktop, kind)
    before = len(apps_desktop.texts(window.name))
    person.set_clipboard(LONG_TEXT)
    person.click_into(window)
    person.keys(paste)
    time.sleep(0.3)  # a person waits until the paste is on screen before pressing Enter
    person.keys("Return")
    assert len(LONG_TEXT) == 2000
    assert _submitted(apps_desktop, window, before) == [LONG_TEXT]


def test_agents_toml_describes_every_window(apps_desktop: MixedDesktop, tmp_path: Path) -> None:
    text = apps_desktop.agents_toml()
    agents = tomllib.loads(text)["agent"]
    assert [agent["id"] for agent in agents] == [w.name for w in apps_desktop.windows]
    assert [agent["app"] for agent in agents] == [
        "chat", "chat", "terminal", "terminal", "chat", "chat"
    ]  # fmt: skip
    for agent in agents:
        x, y = agent["input"]
        bx, by, bw, bh = agent["input_box"]
        assert bx <= x < bx + bw and by <= y < by + bh, agent
        assert min(bx, by) >= 0 and bx + bw <= 1920 and by + bh <= 1080, agent
    assert agents[4]["clear"] == ["ctrl+/", "delete"]
    path = tmp_path / "agents.toml"
    path.write_text(text, encoding="utf-8")
    loaded = load_agents(path)  # the product's own loader and key validation
    assert [agent.input_box for agent in loaded] == [w.input_box for w in apps_desktop.windows]


def test_without_a_window_manager_a_click_leaves_the_keyboard_where_it_was(
    apps_desktop: MixedDesktop, person: Person
) -> None:
    chrome, xterm = _of_kind(apps_desktop, "chrome"), _of_kind(apps_desktop, "xterm")
    person.click_into(chrome)
    chrome_before = len(apps_desktop.texts(chrome.name))
    xterm_before = len(apps_desktop.texts(xterm.name))
    x, y = xterm.input
    apps_desktop.xserver.xdotool("mousemove", str(x), str(y), "click", "1")
    person.type("meant for the terminal")
    person.keys("Return")
    assert _submitted(apps_desktop, chrome, chrome_before) == ["meant for the terminal"]
    assert apps_desktop.texts(xterm.name)[xterm_before:] == []


def test_under_openbox_a_click_gives_the_keyboard(tmp_path: Path) -> None:
    reason = missing_reason() or (None if shutil.which("openbox") else "openbox not installed")
    if reason:
        skip_or_fail(reason)
    desktop = MixedDesktop(["chrome", "xterm", "tk"], tmp_path, window_manager=True).start()
    try:
        for window in desktop.windows:
            x, y, width, height = launchers.window_box(desktop.xserver, window.window)
            assert x >= 0 and y >= 0 and x + width <= 1920 and y + height <= 1080, window
            desktop.xserver.xdotool("mousemove", *map(str, window.input), "click", "1")
            desktop.xserver.xdotool("type", "--delay", "5", f"to {window.name}")
            desktop.xserver.xdotool("key", "Return")
            assert desktop.wait_for(window.name, 1, timeout=10.0) == [f"to {window.name}"]
    finally:
        desktop.stop()
