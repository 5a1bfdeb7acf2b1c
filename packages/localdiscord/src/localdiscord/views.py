"""Messages and modals as the web client's page shows them: plain fields of text, which the
page puts on screen as text (never as HTML)."""

from __future__ import annotations

import re
from typing import Any

from localdiscord.messages import RecordedMessage
from localdiscord.world import World

Json = dict[str, Any]
ACTION_ROW, BUTTON, STRING_SELECT, TEXT_INPUT, LABEL = 1, 2, 3, 4, 18
APPLICATION_COMMAND = 2
MENTION = re.compile(r"<(#|@!?|@&)(\d+)>")


def message_view(message: RecordedMessage, world: World) -> Json:
    """One message: author, text, embeds, buttons and menus, and what it answered."""
    metadata = message.interaction_metadata or {}
    command = metadata.get("name") if metadata.get("type") == APPLICATION_COMMAND else None
    return {
        "id": str(message.id),
        "author": message.author.name,
        "bot": message.author.bot,
        "content": shown_mentions(message.content, world),
        "ephemeral": message.ephemeral,
        "thinking": message.loading,
        "edited": message.edited_at is not None,
        "answers": f"/{command}" if command else None,
        "embeds": [_embed(embed) for embed in message.embeds],
        "rows": [_row(row) for row in message.components if row.get("type") == ACTION_ROW],
        "attachments": [a.filename for a in message.attachments],
    }


def shown_mentions(text: str, world: World) -> str:
    """``text`` with its mentions as Discord's client shows them: ``<#id>`` as ``#name``,
    ``<@id>`` as ``@name``, ``<@&id>`` as ``@role`` (an unknown id is left as it is)."""

    def name(m: re.Match[str]) -> str:
        kind, ref = m[1], int(m[2])
        try:
            if kind == "#":
                return f"#{world.guild.channel(ref).name}"
            if kind == "@&":
                return f"@{world.guild.role(ref).name}"
            return f"@{world.guild.user(ref).name}"
        except KeyError:
            return m[0]

    return MENTION.sub(name, text)


def modal_view(interaction_id: int, data: Json) -> Json:
    """An open modal: its title and text fields (other kinds are named, not offered)."""
    fields: list[Json] = []
    unsupported: list[str] = []
    for component in data.get("components") or []:
        _modal_fields(component, None, fields, unsupported)
    return {
        "interaction_id": str(interaction_id),
        "title": str(data.get("title") or ""),
        "fields": fields,
        "unsupported": unsupported,
    }


def _modal_fields(
    component: Json, label: str | None, fields: list[Json], skipped: list[str]
) -> None:
    kind = component.get("type")
    if kind == ACTION_ROW:
        for inner in component.get("components") or []:
            _modal_fields(inner, label, fields, skipped)
    elif kind == LABEL:
        _modal_fields(component.get("component") or {}, component.get("label"), fields, skipped)
    elif kind == TEXT_INPUT:
        fields.append(
            {
                "custom_id": str(component.get("custom_id") or ""),
                "label": str(component.get("label") or label or ""),
                "paragraph": component.get("style") == 2,
                "required": bool(component.get("required", True)),
                "placeholder": str(component.get("placeholder") or ""),
                "value": str(component.get("value") or ""),
                "max_length": component.get("max_length"),
            }
        )
    else:
        skipped.append(f"{label or 'a field'} (component type {kind})")


def _embed(embed: Json) -> Json:
    author = embed.get("author") or {}
    footer = embed.get("footer") or {}
    return {
        "title": str(embed.get("title") or ""),
        "description": str(embed.get("description") or ""),
        "author": str(author.get("name") or ""),
        "fields": [
            {
                "name": str(f.get("name") or ""),
                "value": str(f.get("value") or ""),
                "inline": bool(f.get("inline")),
            }
            for f in embed.get("fields") or []
        ],
        "footer": str(footer.get("text") or ""),
        "color": _colour(embed.get("color")),
    }


def _colour(value: Any) -> str | None:
    """``#rrggbb`` for an embed's colour; anything else: none (the page sets it as a style)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFFFF:
        return f"#{value:06x}"
    return None


def _row(row: Json) -> list[Json]:
    return [_component(component) for component in row.get("components") or []]


def _component(component: Json) -> Json:
    kind = component.get("type")
    emoji = (component.get("emoji") or {}).get("name") or ""
    if kind == BUTTON:
        style = component.get("style")
        return {
            "kind": "link" if component.get("url") else "button",
            "custom_id": str(component.get("custom_id") or ""),
            "label": " ".join(filter(None, [emoji, str(component.get("label") or "")])),
            "style": style if style in (1, 2, 3, 4, 5) else 2,
            "disabled": bool(component.get("disabled")),
            "url": str(component.get("url") or ""),
        }
    if kind == STRING_SELECT:
        return {
            "kind": "select",
            "custom_id": str(component.get("custom_id") or ""),
            "placeholder": str(component.get("placeholder") or ""),
            "options": [
                {"label": str(o.get("label") or ""), "value": str(o.get("value") or "")}
                for o in component.get("options") or []
            ],
            "max_values": int(component.get("max_values") or 1),
            "disabled": bool(component.get("disabled")),
        }
    return {"kind": "unsupported", "label": f"(a component of type {kind})"}
