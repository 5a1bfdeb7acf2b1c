"""Block Kit's limits (https://api.slack.com/reference/block-kit): a message that breaks one
is refused with ``invalid_blocks``, as Slack refuses it; a text over 40,000 characters with
``msg_too_long``."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
MAX_BLOCKS = 50
MAX_TEXT = 40_000  # a message's top-level text
SECTION_TEXT = 3_000
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2_000
SELECT_OPTIONS = 100  # a static_select's options
OPTION_TEXT = 75
OPTION_VALUE = 150
PLACEHOLDER = 150
ACTION_ID = 255
BLOCK_ID = 255


def problem(text: str | None, blocks: list[Json] | None) -> str | None:
    """The error Slack answers for this message, or None when it is accepted."""
    if not text and not blocks:
        return "no_text"
    if text and len(text) > MAX_TEXT:
        return "msg_too_long"
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    return None if all(_block_ok(b) for b in blocks) else "invalid_blocks"


def _block_ok(block: Any) -> bool:
    if not isinstance(block, dict) or len(str(block.get("block_id", ""))) > BLOCK_ID:
        return False
    kind = block.get("type")
    if kind == "section":
        return _text_ok(block.get("text"), SECTION_TEXT)
    if kind == "context":
        elements = block.get("elements") or []
        return 0 < len(elements) <= CONTEXT_ELEMENTS and all(
            _text_ok(e, SECTION_TEXT) for e in elements
        )
    if kind == "actions":
        elements = block.get("elements") or []
        return 0 < len(elements) <= ACTIONS_ELEMENTS and all(_element_ok(e) for e in elements)
    return kind == "divider"


def _text_ok(text: Any, limit: int) -> bool:
    return (
        isinstance(text, dict)
        and text.get("type") in ("mrkdwn", "plain_text")
        and 0 < len(str(text.get("text", ""))) <= limit
    )


def _element_ok(element: Any) -> bool:
    return _button_ok(element) or _select_ok(element)


def _select_ok(element: Any) -> bool:
    """A ``static_select``: a placeholder, 1 to 100 options of plain text and a value."""
    if not isinstance(element, dict) or element.get("type") != "static_select":
        return False
    options = element.get("options")
    placeholder = element.get("placeholder")
    return (
        0 < len(str(element.get("action_id", ""))) <= ACTION_ID
        and (placeholder is None or _plain_ok(placeholder, PLACEHOLDER))
        and isinstance(options, list)
        and 0 < len(options) <= SELECT_OPTIONS
        and all(_option_ok(o) for o in options)
    )


def _option_ok(option: Any) -> bool:
    return (
        isinstance(option, dict)
        and _plain_ok(option.get("text"), OPTION_TEXT)
        and 0 < len(str(option.get("value", ""))) <= OPTION_VALUE
    )


def _plain_ok(text: Any, limit: int) -> bool:
    return _text_ok(text, limit) and text.get("type") == "plain_text"


def _button_ok(element: Any) -> bool:
    return (
        isinstance(element, dict)
        and element.get("type") == "button"
        and _text_ok(element.get("text"), BUTTON_TEXT)
        and element["text"].get("type") == "plain_text"
        and 0 < len(str(element.get("action_id", ""))) <= ACTION_ID
        and len(str(element.get("value", ""))) <= BUTTON_VALUE
        and element.get("style") in (None, "primary", "danger")
    )
