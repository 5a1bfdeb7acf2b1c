"""Interactions sent to the bot and the record of how the bot answered them."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from localdiscord.messages import RecordedMessage, UploadedFile
from localdiscord.payloads import channel_payload, interaction_member_payload
from localdiscord.waiting import Changes
from localdiscord.world import ALL_PERMISSIONS, ChannelSpec, UserSpec, World

Json = dict[str, Any]
T = TypeVar("T")
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
PONG, CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
DEFAULT_WAIT = 5.0


@dataclass(frozen=True)
class InteractionCallback:
    """The bot's initial response: callback ``type``, its ``data``, and the ack latency."""

    type: int
    data: Json
    latency: float
    files: list[UploadedFile] = field(default_factory=list)


@dataclass(frozen=True)
class MessageEdit:
    """One edit the bot made through the interaction webhook."""

    message_id: int
    body: Json
    latency: float


class InteractionHandle:
    """Returned by ``invoke_*``: await the callback, the original message and followups."""

    def __init__(self, payload: Json, changes: Changes, source: RecordedMessage | None) -> None:
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.source_message = source
        self.dispatched_at = time.perf_counter()
        self.acknowledged = False  # set when the callback is accepted, before it is answered
        self.callback: InteractionCallback | None = None
        self.original: RecordedMessage | None = None
        self.followups: list[RecordedMessage] = []
        self.edits: list[MessageEdit] = []
        self.rejected: list[str] = []
        self._changes = changes

    def __repr__(self) -> str:
        return f"<InteractionHandle id={self.id} type={self.type} callback={self.callback}>"

    @property
    def latency(self) -> float | None:
        """Seconds from dispatch to the initial callback, once it arrived."""
        return self.callback.latency if self.callback else None

    def elapsed(self) -> float:
        """Seconds since the interaction was dispatched."""
        return time.perf_counter() - self.dispatched_at

    async def wait_callback(self, timeout_s: float = DEFAULT_WAIT) -> InteractionCallback:
        """The initial callback (the acknowledgement)."""
        return await self._wait(lambda: self.callback, timeout_s, "the interaction callback")

    async def wait_original(
        self,
        predicate: Callable[[RecordedMessage], bool] | None = None,
        timeout_s: float = DEFAULT_WAIT,
    ) -> RecordedMessage:
        """The original response once it is no longer "thinking" (and matches ``predicate``)."""

        def probe() -> RecordedMessage | None:
            message = self.original
            if message is None or message.loading:
                return None
            return message if predicate is None or predicate(message) else None

        return await self._wait(probe, timeout_s, "the original response")

    async def wait_followups(
        self, count: int = 1, timeout_s: float = DEFAULT_WAIT
    ) -> list[RecordedMessage]:
        """The first ``count`` followup messages."""
        probe = lambda: self.followups[:count] if len(self.followups) >= count else None  # noqa: E731
        return await self._wait(probe, timeout_s, f"{count} followup(s)")

    async def wait_choices(self, timeout_s: float = DEFAULT_WAIT) -> list[Json]:
        """The autocomplete choices (callback type 8)."""
        callback = await self.wait_callback(timeout_s)
        if callback.type != AUTOCOMPLETE_RESULT:
            raise AssertionError(f"expected an autocomplete result, got callback {callback.type}")
        return list(callback.data.get("choices") or [])

    async def _wait(self, probe: Callable[[], T | None], timeout_s: float, what: str) -> T:
        return await self._changes.wait_until(probe, timeout_s, f"{what} of interaction {self.id}")


def new_token() -> str:
    """An interaction token: unique and unguessable, like Discord's."""
    return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)


def interaction_payload(
    world: World,
    kind: int,
    user: UserSpec,
    channel: ChannelSpec,
    data: Json,
    message: RecordedMessage | None = None,
) -> Json:
    """A complete INTERACTION_CREATE payload from ``user`` in ``channel``."""
    guild = world.guild
    payload: Json = {
        "id": str(world.snowflakes.next()),
        "application_id": str(world.application_id),
        "type": kind,
        "data": data,
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
        "channel_id": str(channel.id),
        "channel": channel_payload(guild, channel),
        "member": interaction_member_payload(guild, user),
        "token": new_token(),
        "version": 1,
        "app_permissions": str(ALL_PERMISSIONS),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    if message is not None:
        payload["message"] = message.to_payload(world)
    return payload


def interaction_metadata(handle: InteractionHandle, original_id: int | None = None) -> Json:
    """The ``interaction_metadata`` object of messages created in response to ``handle``."""
    payload = handle.payload
    metadata: Json = {
        "id": payload["id"],
        "type": payload["type"],
        "user": payload["member"]["user"],
        "authorizing_integration_owners": payload["authorizing_integration_owners"],
    }
    if payload["type"] == APPLICATION_COMMAND:
        metadata["name"] = payload["data"]["name"]
        metadata["command_type"] = payload["data"].get("type", 1)
    if handle.source_message is not None:
        metadata["interacted_message_id"] = str(handle.source_message.id)
    if original_id is not None:
        metadata["original_response_message_id"] = str(original_id)
    return metadata
