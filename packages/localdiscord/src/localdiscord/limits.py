"""Discord's documented size limits, so that over-long bot output fails here as it would live."""

from __future__ import annotations

from typing import Any

from localdiscord.errors import invalid_form

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_FIELDS = 25
MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
MAX_ACTION_ROWS = 5
MAX_ROW_BUTTONS = 5
COMPONENTS_V2_FLAG = 1 << 15
_EMBED_TEXT_LIMITS = {"title": 256, "description": 4096}

Json = dict[str, Any]


def check_message(body: Json) -> None:
    """Raise an ``Invalid Form Body`` ApiError if a message payload breaks a limit."""
    problems: dict[str, str] = {}
    content = body.get("content") or ""
    if len(content) > MAX_CONTENT:
        problems["content"] = f"Must be {MAX_CONTENT} or fewer in length."
    _check_embeds(body.get("embeds") or [], problems)
    if not int(body.get("flags") or 0) & COMPONENTS_V2_FLAG:
        _check_rows(body.get("components") or [], problems)
    if problems:
        raise invalid_form(problems)


def _check_embeds(embeds: list[Json], problems: dict[str, str]) -> None:
    if len(embeds) > MAX_EMBEDS:
        problems["embeds"] = f"Must be {MAX_EMBEDS} or fewer in length."
    total = 0
    for index, embed in enumerate(embeds):
        for key, limit in _EMBED_TEXT_LIMITS.items():
            text = embed.get(key) or ""
            total += len(text)
            if len(text) > limit:
                problems[f"embeds.{index}.{key}"] = f"Must be {limit} or fewer in length."
        fields = embed.get("fields") or []
        if len(fields) > MAX_FIELDS:
            problems[f"embeds.{index}.fields"] = f"Must be {MAX_FIELDS} or fewer in length."
        for pos, item in enumerate(fields):
            total += _check_field(item, f"embeds.{index}.fields.{pos}", problems)
        total += len((embed.get("footer") or {}).get("text") or "")
        total += len((embed.get("author") or {}).get("name") or "")
    if total > MAX_EMBED_TOTAL:
        problems["embeds"] = f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}"


def _check_field(item: Json, path: str, problems: dict[str, str]) -> int:
    name, value = item.get("name") or "", item.get("value") or ""
    if not name or len(name) > 256:
        problems[f"{path}.name"] = "Must be between 1 and 256 in length."
    if not value or len(value) > 1024:
        problems[f"{path}.value"] = "Must be between 1 and 1024 in length."
    return len(name) + len(value)


def _check_rows(rows: list[Json], problems: dict[str, str]) -> None:
    if len(rows) > MAX_ACTION_ROWS:
        problems["components"] = f"Must be {MAX_ACTION_ROWS} or fewer in length."
    for index, row in enumerate(rows):
        if row.get("type") != 1:
            problems[f"components.{index}.type"] = "Top-level components must be action rows."
            continue
        children = row.get("components") or []
        if not children or len(children) > MAX_ROW_BUTTONS:
            problems[f"components.{index}.components"] = "Must be between 1 and 5 in length."
        for pos, child in enumerate(children):
            custom_id = child.get("custom_id") or ""
            if len(custom_id) > 100:
                path = f"components.{index}.components.{pos}.custom_id"
                problems[path] = "Must be 100 or fewer in length."


def check_choices(data: Json) -> None:
    """Validate an autocomplete result (at most 25 choices, names of 1–100 characters)."""
    choices = data.get("choices")
    problems: dict[str, str] = {}
    if not isinstance(choices, list):
        problems["data.choices"] = "This field is required"
    elif len(choices) > MAX_CHOICES:
        problems["data.choices"] = f"Must be {MAX_CHOICES} or fewer in length."
    else:
        for index, choice in enumerate(choices):
            name = str(choice.get("name") or "")
            if not 1 <= len(name) <= MAX_CHOICE_NAME:
                problems[f"data.choices.{index}.name"] = "Must be between 1 and 100 in length."
            value = choice.get("value")
            if isinstance(value, str) and len(value) > MAX_CHOICE_NAME:
                problems[f"data.choices.{index}.value"] = "Must be 100 or fewer in length."
    if problems:
        raise invalid_form(problems)


def check_modal(data: Json) -> None:
    """Validate a modal: a title of 1–45 characters and 1–5 top-level components."""
    problems: dict[str, str] = {}
    if not 1 <= len(data.get("title") or "") <= 45:
        problems["data.title"] = "Must be between 1 and 45 in length."
    if not 1 <= len(data.get("components") or []) <= 5:
        problems["data.components"] = "Must be between 1 and 5 in length."
    if not data.get("custom_id"):
        problems["data.custom_id"] = "This field is required"
    if problems:
        raise invalid_form(problems)
