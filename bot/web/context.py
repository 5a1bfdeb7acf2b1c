"""What every route needs, kept on ``app.state``: the service, settings, the event hub."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from bot.web.events import EventHub
from bot.web.refusals import RefusalAudit
from bot.web.settings import WebSettings
from core.service.swarm import SwarmService

if TYPE_CHECKING:
    from bot.web.metrics import Metrics


@dataclass
class WebContext:
    """The dashboard's parts."""

    service: SwarmService
    settings: WebSettings
    hub: EventHub
    metrics: Metrics
    refusals: RefusalAudit = field(default_factory=RefusalAudit)


def web_context(request: Request) -> WebContext:
    """The context of the app serving ``request``."""
    ctx: WebContext = request.app.state.web
    return ctx
