"""Recorded messages and attachments: what the bot (or a simulated user) posted where."""

from __future__ import annotations

import copy
import datetime as dt
import mimetypes
import re
import time
from dataclasses import dataclass, field
from typing import Any

from localdiscord.errors import EMPTY_MESSAGE, UNKNOWN_MESSAGE, ApiError, not_found
from localdiscord.limits import check_message
from localdiscord.payloads import member_payload, user_payload
from localdiscord.snowflake import iso_timestamp
from localdiscord.world import UserSpec, World

Json = dict[str, Any]
EPHEMERAL = 1 << 6
LOADING = 1 << 7
_KEPT_FLAGS = EPHEMERAL | LOADING


@dataclass(frozen=True)
class UploadedFile:
    """One ``files[n]`` part of a multipart request."""

    filename: str
    data: bytes
    content_type: str | None = None


@dataclass
class RecordedAttachment:
    """A stored attachment; ``data`` holds the uploaded bytes."""

    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None

    def to_payload(self) -> Json:
        """The attachment object."""
        return {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
            "description": self.description,
            "ephemeral": False,
            "flags": 0,
        }


@dataclass
class RecordedMessage:
    """A message as the server stores it; edits update it in place and keep ``history``."""

    id: int
    channel_id: int
    guild_id: int
    author: UserSpec
    content: str = ""
    embeds: list[Json] = field(default_factory=list)
    components: list[Json] = field(default_factory=list)
    attachments: list[RecordedAttachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    edited_at: dt.datetime | None = None
    changed_at: float = field(default_factory=time.perf_counter)  # perf_counter of last change
    deleted: bool = False
    webhook_id: int | None = None
    interaction_id: int | None = None
    interaction_metadata: Json | None = None
    message_reference: Json | None = None
    allowed_mentions: Json | None = None  # as the request sent it (None: not sent)
    history: list[Json] = field(default_factory=list)

    @property
    def pings(self) -> set[str]:
        """The mentions in the content Discord would notify, given ``allowed_mentions``
        (without it Discord notifies every mention): ``@everyone``, ``<@&id>``, ``<@id>``."""
        allowed = self.allowed_mentions
        parse = (
            set(allowed.get("parse", [])) if allowed is not None else {"everyone", "roles", "users"}
        )
        found = set()
        if "everyone" in parse:
            found |= {m for m in ("@everyone", "@here") if m in self.content}
        for kind, pattern in (("roles", r"<@&(\d+)>"), ("users", r"<@!?(\d+)>")):
            listed = {str(i) for i in (allowed or {}).get(kind, [])}
            for ident in re.findall(pattern, self.content):
                if kind in parse or ident in listed:
                    found.add(f"<@&{ident}>" if kind == "roles" else f"<@{ident}>")
        return found

    @property
    def ephemeral(self) -> bool:
        """True for messages only the invoking user can see."""
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while a deferred response is still "thinking"."""
        return bool(self.flags & LOADING)

    def component(self, custom_id: str) -> Json | None:
        """Find a (possibly nested) component by ``custom_id``."""
        return _find_component(self.components, custom_id)

    def custom_ids(self) -> list[str]:
        """All custom ids of interactive components, in order."""
        found: list[str] = []
        _collect_ids(self.components, found)
        return found

    def to_payload(self, world: World) -> Json:
        """The full message object discord.py parses."""
        payload: Json = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "guild_id": str(self.guild_id),
            "author": user_payload(self.author),
            "member": member_payload(world.guild, self.author, with_user=False),
            "content": self.content,
            "timestamp": iso_timestamp(self.created_at),
            "edited_timestamp": iso_timestamp(self.edited_at) if self.edited_at else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [item.to_payload() for item in self.attachments],
            "embeds": copy.deepcopy(self.embeds),
            "components": copy.deepcopy(self.components),
            "reactions": [],
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
        }
        _add_optional(payload, self)
        return payload


def _add_optional(payload: Json, message: RecordedMessage) -> None:
    if message.webhook_id is not None:
        payload["webhook_id"] = str(message.webhook_id)
        payload["application_id"] = str(message.webhook_id)
    if message.interaction_metadata is not None:
        payload["interaction_metadata"] = copy.deepcopy(message.interaction_metadata)
    if message.message_reference is not None:
        payload["message_reference"] = copy.deepcopy(message.message_reference)


def _find_component(components: list[Json], custom_id: str) -> Json | None:
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        children = list(component.get("components") or [])
        children += [component[key] for key in ("accessory", "component") if key in component]
        found = _find_component(children, custom_id)
        if found is not None:
            return found
    return None


def _collect_ids(components: list[Json], found: list[str]) -> None:
    for component in components:
        if "custom_id" in component:
            found.append(component["custom_id"])
        children = list(component.get("components") or [])
        children += [component[key] for key in ("accessory", "component") if key in component]
        _collect_ids(children, found)


class MessageStore:
    """All messages by id, with the rules for creating and editing them from request bodies."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._messages: dict[int, RecordedMessage] = {}
        self._attachments: dict[int, RecordedAttachment] = {}

    def all(self) -> list[RecordedMessage]:
        """Every message ever stored, oldest first (deleted ones included)."""
        return list(self._messages.values())

    def get(self, message_id: int, channel_id: int | None = None) -> RecordedMessage:
        """A live message; ApiError 404 ``Unknown Message`` otherwise."""
        message = self._messages.get(message_id)
        if message is None or message.deleted:
            raise not_found(UNKNOWN_MESSAGE, "Message")
        if channel_id is not None and message.channel_id != channel_id:
            raise not_found(UNKNOWN_MESSAGE, "Message")
        return message

    def attachment(self, attachment_id: int) -> RecordedAttachment | None:
        """The stored attachment with this id, if any."""
        return self._attachments.get(attachment_id)

    def create(
        self,
        channel_id: int,
        author: UserSpec,
        body: Json,
        files: dict[int, UploadedFile],
        *,
        allow_empty: bool = False,
        **extra: Any,
    ) -> RecordedMessage:
        """Validate a create payload and store the new message (``extra`` sets fields)."""
        check_message(body)
        if not allow_empty and not _has_content(body, files):
            raise ApiError(400, EMPTY_MESSAGE, "Cannot send an empty message")
        message = RecordedMessage(
            id=self._world.snowflakes.next(),
            channel_id=channel_id,
            guild_id=self._world.guild.id,
            author=author,
            content=body.get("content") or "",
            embeds=[_normal_embed(embed) for embed in body.get("embeds") or []],
            components=copy.deepcopy(body.get("components") or []),
            flags=int(body.get("flags") or 0),
            message_reference=body.get("message_reference"),
            allowed_mentions=copy.deepcopy(body.get("allowed_mentions")),
            **extra,
        )
        message.attachments = self._new_attachments(message, body, files)
        self._messages[message.id] = message
        self._world.changes.notify()
        return message

    def edit(self, message: RecordedMessage, body: Json, files: dict[int, UploadedFile]) -> None:
        """Apply an edit payload in place; the previous version goes to ``history``."""
        check_message({"flags": message.flags, **body})
        message.history.append(message.to_payload(self._world))
        if "content" in body:
            message.content = body["content"] or ""
        if "allowed_mentions" in body:
            message.allowed_mentions = copy.deepcopy(body["allowed_mentions"])
        if "embeds" in body:
            message.embeds = [_normal_embed(embed) for embed in body["embeds"] or []]
        if "components" in body:
            message.components = copy.deepcopy(body["components"] or [])
        if body.get("flags") is not None:
            message.flags = (int(body["flags"]) & ~_KEPT_FLAGS) | (message.flags & EPHEMERAL)
        message.flags &= ~LOADING
        if "attachments" in body or files:
            message.attachments = self._edited_attachments(message, body, files)
        message.edited_at = dt.datetime.now(dt.UTC)
        message.changed_at = time.perf_counter()
        self._world.changes.notify()

    def delete(self, message: RecordedMessage) -> None:
        """Mark a message deleted (it stays in ``all()`` for inspection)."""
        message.deleted = True
        self._world.changes.notify()

    def _new_attachments(
        self, message: RecordedMessage, body: Json, files: dict[int, UploadedFile]
    ) -> list[RecordedAttachment]:
        described = {str(item.get("id")): item for item in body.get("attachments") or []}
        return [
            self._store_file(message, upload, described.get(str(index), {}))
            for index, upload in sorted(files.items())
        ]

    def _edited_attachments(
        self, message: RecordedMessage, body: Json, files: dict[int, UploadedFile]
    ) -> list[RecordedAttachment]:
        if "attachments" not in body:
            return message.attachments + self._new_attachments(message, body, files)
        kept_ids = {str(item.get("id")) for item in body["attachments"] or []}
        kept = [item for item in message.attachments if str(item.id) in kept_ids]
        return kept + self._new_attachments(message, body, files)

    def _store_file(
        self, message: RecordedMessage, upload: UploadedFile, meta: Json
    ) -> RecordedAttachment:
        attachment_id = self._world.snowflakes.next()
        filename = meta.get("filename") or upload.filename
        url = f"{self._world.http_base}/attachments/{message.channel_id}/{attachment_id}/{filename}"
        attachment = RecordedAttachment(
            id=attachment_id,
            filename=filename,
            data=upload.data,
            url=url,
            content_type=mimetypes.guess_type(filename)[0] or upload.content_type,
            description=meta.get("description"),
        )
        self._attachments[attachment_id] = attachment
        return attachment


def _has_content(body: Json, files: dict[int, UploadedFile]) -> bool:
    keys = ("content", "embeds", "components", "sticker_ids", "poll")
    return bool(files) or any(body.get(key) for key in keys)


def _normal_embed(embed: Json) -> Json:
    return {"type": "rich", **copy.deepcopy(embed)}
