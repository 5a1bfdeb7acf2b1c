"""Interaction callbacks and the interaction webhook (followups, original response edits)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from localdiscord.bodies import json_response, no_content, read_body
from localdiscord.errors import (
    ALREADY_ACKNOWLEDGED,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    ApiError,
    invalid_form,
    not_found,
)
from localdiscord.interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_MESSAGE,
    DEFERRED_UPDATE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    PONG,
    UPDATE_MESSAGE,
    InteractionCallback,
    InteractionHandle,
    MessageEdit,
    interaction_metadata,
)
from localdiscord.limits import check_choices, check_modal
from localdiscord.messages import EPHEMERAL, LOADING, RecordedMessage, UploadedFile

if TYPE_CHECKING:
    from localdiscord.server import LocalDiscordServer

log = logging.getLogger(__name__)
Json = dict[str, Any]
ALLOWED_CALLBACKS = {
    1: {PONG},
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
}
CHAT_INPUT_COMMAND_MESSAGE = 20


class InteractionResponder:
    """Handlers for ``/interactions/{id}/{token}/callback`` and ``/webhooks/{app}/{token}``."""

    def __init__(self, server: LocalDiscordServer) -> None:
        self._server = server
        self._world = server.world

    def register(self, router: web.UrlDispatcher, api: str) -> None:
        """Add the routes under the API prefix."""
        router.add_post(api + "/interactions/{interaction_id:\\d+}/{token}/callback", self.callback)
        hook = api + "/webhooks/{app_id:\\d+}/{token}"
        router.add_post(hook, self.followup)
        router.add_get(hook + "/messages/{message_id}", self.get_message)
        router.add_patch(hook + "/messages/{message_id}", self.edit_message)
        router.add_delete(hook + "/messages/{message_id}", self.delete_message)

    # -- initial callback ----------------------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        """Record the initial response; enforce "once" and the acknowledgement deadline."""
        received = time.perf_counter()
        handle = self._server.interactions.get(int(request.match_info["interaction_id"]))
        if handle is None or handle.token != request.match_info["token"]:
            raise not_found(UNKNOWN_INTERACTION, "interaction")
        body, files = await read_body(request)
        latency = received - handle.dispatched_at
        self._check_acceptable(handle, body, latency)
        kind, data = int(body["type"]), body.get("data") or {}
        message = await self._apply(handle, kind, data, files)  # may refuse: then not acked
        handle.acknowledged = True
        if request.query.get("with_response", "").lower() in ("1", "true"):
            response = json_response(self._callback_response(handle, kind, message))
        else:
            response = no_content()
        # Answer the bot before waking test waiters, so the bot has what the answer carries
        # (e.g. the message id its view is stored under) by the time the test acts on it.
        await response.prepare(request)
        await response.write_eof()
        handle.callback = InteractionCallback(kind, data, latency, list(files.values()))
        self._world.changes.notify()
        log.debug("interaction %s answered with type %s after %.3fs", handle.id, kind, latency)
        return response

    def _check_acceptable(self, handle: InteractionHandle, body: Json, latency: float) -> None:
        if handle.acknowledged:
            handle.rejected.append("already acknowledged")
            raise ApiError(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
        deadline = self._server.ack_deadline_s
        if deadline is not None and latency > deadline:
            handle.rejected.append(f"late by {latency - deadline:.3f}s")
            log.warning(
                "interaction %s answered after %.2fs (limit %.1fs)", handle.id, latency, deadline
            )
            self._world.changes.notify()
            raise not_found(UNKNOWN_INTERACTION, "interaction")
        if body.get("type") not in ALLOWED_CALLBACKS.get(handle.type, set()):
            raise invalid_form({"type": f"callback type {body.get('type')} is not valid here"})

    async def _apply(
        self, handle: InteractionHandle, kind: int, data: Json, files: dict[int, UploadedFile]
    ) -> RecordedMessage | None:
        if kind == AUTOCOMPLETE_RESULT:
            check_choices(data)
        elif kind == MODAL:
            check_modal(data)
        elif kind in (CHANNEL_MESSAGE, DEFERRED_MESSAGE):
            loading = kind == DEFERRED_MESSAGE
            if loading:
                data = {"flags": (int(data.get("flags") or 0) & EPHEMERAL) | LOADING}
            handle.original = self._create(handle, data, files, allow_empty=loading)
            await self._server.announce("MESSAGE_CREATE", handle.original)
        elif kind in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            handle.original = handle.source_message
            if kind == UPDATE_MESSAGE and handle.original is not None:
                self._server.store.edit(handle.original, data, files)
                await self._server.announce("MESSAGE_UPDATE", handle.original)
        shows_message = kind in (CHANNEL_MESSAGE, DEFERRED_MESSAGE, UPDATE_MESSAGE)
        return handle.original if shows_message else None

    def _create(
        self, handle: InteractionHandle, body: Json, files: dict[int, UploadedFile], **extra: Any
    ) -> RecordedMessage:
        original_id = handle.original.id if handle.original else None
        return self._server.store.create(
            int(handle.payload["channel_id"]),
            self._world.bot,
            body,
            files,
            type=CHAT_INPUT_COMMAND_MESSAGE if handle.type == APPLICATION_COMMAND else 0,
            webhook_id=self._world.application_id,
            interaction_id=handle.id,
            interaction_metadata=interaction_metadata(handle, original_id),
            **extra,
        )

    def _callback_response(
        self, handle: InteractionHandle, kind: int, message: RecordedMessage | None
    ) -> Json:
        interaction: Json = {"id": str(handle.id), "type": handle.type}
        response: Json = {"interaction": interaction}
        if message is not None:
            interaction.update(
                response_message_id=str(message.id),
                response_message_loading=message.loading,
                response_message_ephemeral=message.ephemeral,
            )
            response["resource"] = {"type": kind, "message": message.to_payload(self._world)}
        return response

    # -- webhook -------------------------------------------------------------------------

    def _handle(self, request: web.Request) -> InteractionHandle:
        token = request.match_info["token"]
        if int(request.match_info["app_id"]) == self._world.application_id:
            for handle in self._server.interactions.values():
                if handle.token == token and handle.acknowledged:
                    return handle
        raise not_found(UNKNOWN_WEBHOOK, "Webhook")

    def _target(self, handle: InteractionHandle, message_id: str) -> RecordedMessage:
        if message_id == "@original":
            if handle.original is None:
                raise not_found(UNKNOWN_MESSAGE, "Message")
            return self._server.store.get(handle.original.id)
        wanted = int(message_id)
        for message in [handle.original, *handle.followups]:
            if message is not None and message.id == wanted:
                return self._server.store.get(wanted)
        raise not_found(UNKNOWN_MESSAGE, "Message")

    async def followup(self, request: web.Request) -> web.Response:
        """``POST /webhooks/{app}/{token}``; the first after a defer fills the loading message."""
        handle = self._handle(request)
        body, files = await read_body(request)
        original = handle.original
        if original is not None and original.loading:
            self._server.store.edit(original, body, files)
            message = original
            await self._server.announce("MESSAGE_UPDATE", message)
        else:
            message = self._create(handle, body, files)
            await self._server.announce("MESSAGE_CREATE", message)
        handle.followups.append(message)
        self._world.changes.notify()
        if request.query.get("wait", "").lower() not in ("1", "true"):
            return no_content()
        return json_response(message.to_payload(self._world))

    async def get_message(self, request: web.Request) -> web.Response:
        """``GET /webhooks/{app}/{token}/messages/{id|@original}``."""
        message = self._target(self._handle(request), request.match_info["message_id"])
        return json_response(message.to_payload(self._world))

    async def edit_message(self, request: web.Request) -> web.Response:
        """``PATCH /webhooks/{app}/{token}/messages/{id|@original}``."""
        handle = self._handle(request)
        message = self._target(handle, request.match_info["message_id"])
        body, files = await read_body(request)
        self._server.store.edit(message, body, files)
        handle.edits.append(MessageEdit(message.id, body, handle.elapsed()))
        self._world.changes.notify()
        await self._server.announce("MESSAGE_UPDATE", message)
        return json_response(message.to_payload(self._world))

    async def delete_message(self, request: web.Request) -> web.Response:
        """``DELETE /webhooks/{app}/{token}/messages/{id|@original}``."""
        message = self._target(self._handle(request), request.match_info["message_id"])
        self._server.store.delete(message)
        await self._server.announce("MESSAGE_DELETE", message)
        return no_content()
