"""Acting as a Discord user: slash commands, autocomplete, buttons, selects and modals."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from localdiscord.commands import CommandRegistry
from localdiscord.gateway import Gateway
from localdiscord.interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    DEFAULT_WAIT,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    InteractionHandle,
    interaction_payload,
)
from localdiscord.messages import MessageStore, RecordedMessage
from localdiscord.options import OptionBuilder
from localdiscord.world import ChannelRef, ChannelSpec, UserRef, UserSpec, World

log = logging.getLogger(__name__)
Json = dict[str, Any]
BUTTON, STRING_SELECT, TEXT_INPUT, ACTION_ROW, LABEL = 2, 3, 4, 1, 18
MessageRef = RecordedMessage | int


class InteractionDriver:
    """Mixin of :class:`LocalDiscordServer` that sends INTERACTION_CREATE events to the bot."""

    world: World
    commands: CommandRegistry
    gateway: Gateway
    store: MessageStore
    interactions: dict[int, InteractionHandle]
    component_settle_s: float

    async def invoke_slash(
        self,
        user: UserRef,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        channel: ChannelRef | None = None,
    ) -> InteractionHandle:
        """Run ``/name`` (e.g. ``"task create"``) as ``user``; options by name, typed values.

        Users, channels and roles may be given as specs or ids. Raises ValueError for what
        Discord's client would refuse (unknown or missing options, values outside choices).
        """
        invoker = self.world.guild.user(user)
        root, *path = name.strip().lstrip("/").split()
        command = self.commands.find(root, self.world.guild.id)
        data = OptionBuilder(self.world, invoker).command_data(command, path, dict(options or {}))
        return await self._send(APPLICATION_COMMAND, invoker, self._channel(channel), data)

    async def begin_autocomplete(
        self,
        user: UserRef,
        name: str,
        focused: str,
        value: str = "",
        options: dict[str, Any] | None = None,
        *,
        channel: ChannelRef | None = None,
    ) -> InteractionHandle:
        """Send an autocomplete interaction while ``user`` types ``value`` into ``focused``."""
        invoker = self.world.guild.user(user)
        root, *path = name.strip().lstrip("/").split()
        command = self.commands.find(root, self.world.guild.id)
        values = {**(options or {}), focused: value}
        builder = OptionBuilder(self.world, invoker, autocomplete=True)
        data = builder.command_data(command, path, values, focused=focused)
        return await self._send(AUTOCOMPLETE, invoker, self._channel(channel), data)

    async def invoke_autocomplete(
        self,
        user: UserRef,
        name: str,
        focused: str,
        value: str = "",
        options: dict[str, Any] | None = None,
        *,
        channel: ChannelRef | None = None,
        timeout_s: float = DEFAULT_WAIT,
    ) -> list[Json]:
        """Autocomplete and return the bot's choices (``[{"name": ..., "value": ...}]``)."""
        handle = await self.begin_autocomplete(user, name, focused, value, options, channel=channel)
        return await handle.wait_choices(timeout_s)

    async def click_button(
        self, user: UserRef, message: MessageRef, custom_id: str, *, as_held: bool = False
    ) -> InteractionHandle:
        """Click an enabled button of a recorded message. ``as_held``: of ``message`` as the
        caller holds it (a copy taken earlier: a client that has not redrawn since the bot
        edited it), not as the server has it now."""
        if as_held and isinstance(message, RecordedMessage):
            target = message
        else:
            target = self._message(message)
        component = _component(target, custom_id)
        if component.get("type") != BUTTON or component.get("disabled"):
            raise ValueError(f"{custom_id!r} is not an enabled button")
        data = {"custom_id": custom_id, "component_type": BUTTON}
        return await self._component(user, target, data)

    async def select_menu(
        self, user: UserRef, message: MessageRef, custom_id: str, values: list[str]
    ) -> InteractionHandle:
        """Pick ``values`` in a string select menu of a recorded message."""
        target = self._message(message)
        component = _component(target, custom_id)
        if component.get("type") != STRING_SELECT:
            raise ValueError(f"{custom_id!r} is not a string select (others are not supported)")
        offered = {option["value"] for option in component.get("options") or []}
        low, high = component.get("min_values", 1), component.get("max_values", 1)
        if not set(values) <= offered or not low <= len(values) <= high:
            raise ValueError(f"cannot select {values} from {sorted(offered)} ({low}..{high})")
        data = {"custom_id": custom_id, "component_type": STRING_SELECT, "values": list(values)}
        return await self._component(user, target, data)

    async def submit_modal(
        self, user: UserRef, opened: InteractionHandle, values: dict[str, str]
    ) -> InteractionHandle:
        """Submit the modal the bot opened for ``opened``; values by custom_id or label."""
        callback = opened.callback
        if callback is None or callback.type != MODAL:
            raise ValueError("that interaction was not answered with a modal")
        modal = callback.data
        components = [_submitted(row, values) for row in modal.get("components") or []]
        data = {"custom_id": modal["custom_id"], "components": components}
        channel = self.world.guild.channel(int(opened.payload["channel_id"]))
        invoker = self.world.guild.user(user)
        await self._settle(opened.dispatched_at + callback.latency)
        return await self._send(MODAL_SUBMIT, invoker, channel, data, opened.source_message)

    async def _component(
        self, user: UserRef, message: RecordedMessage, data: Json
    ) -> InteractionHandle:
        invoker = self.world.guild.user(user)
        channel = self.world.guild.channel(message.channel_id)
        await self._settle(message.changed_at)
        return await self._send(MESSAGE_COMPONENT, invoker, channel, data, message)

    async def _send(
        self,
        kind: int,
        invoker: UserSpec,
        channel: ChannelSpec,
        data: Json,
        message: RecordedMessage | None = None,
    ) -> InteractionHandle:
        payload = interaction_payload(self.world, kind, invoker, channel, data, message)
        handle = InteractionHandle(payload, self.world.changes, message)
        self.interactions[handle.id] = handle
        log.debug("dispatching interaction %s (type %s)", handle.id, kind)
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return handle

    async def _settle(self, changed_at: float) -> None:
        """Act no sooner than ``component_settle_s`` after the bot's last change.

        discord.py registers a view or modal only once it has read the HTTP answer that
        created it, so an instant click could race it; a human never clicks that fast.
        """
        delay = changed_at + self.component_settle_s - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)

    def _channel(self, channel: ChannelRef | None) -> ChannelSpec:
        if channel is not None:
            return self.world.guild.channel(channel)
        if not self.world.guild.channels:
            raise ValueError("the guild has no text channel; add one with add_text_channel()")
        return self.world.guild.channels[0]

    def _message(self, message: MessageRef) -> RecordedMessage:
        message_id = message.id if isinstance(message, RecordedMessage) else int(message)
        return self.store.get(message_id)


def _component(message: RecordedMessage, custom_id: str) -> Json:
    component = message.component(custom_id)
    if component is None:
        known = message.custom_ids()
        raise ValueError(f"message {message.id} has no component {custom_id!r}; it has {known}")
    return component


def _submitted(component: Json, values: dict[str, str], label: str | None = None) -> Json:
    """Mirror a modal component with the user's input; values keyed by custom_id or label."""
    kind = component.get("type")
    if kind == ACTION_ROW:
        inner = component.get("components") or []
        return {"type": ACTION_ROW, "components": [_submitted(c, values) for c in inner]}
    if kind == LABEL:
        inner = _submitted(component["component"], values, component.get("label"))
        return {"type": LABEL, "component": inner}
    if kind != TEXT_INPUT:
        raise ValueError(f"modal component type {kind} is not supported")
    custom_id = component["custom_id"]
    label = component.get("label") or label
    value = values.get(custom_id, values.get(label or "", ""))
    if component.get("required", True) and not value:
        raise ValueError(f"modal field {label or custom_id!r} is required")
    return {"type": TEXT_INPUT, "custom_id": custom_id, "value": value}
