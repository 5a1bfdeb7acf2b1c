"""Who may decide from Slack: the member ids of ``SWARM_SLACK_ADMIN_IDS``, no one else.
Every attempt is audited; a refused one is also an ``access.refused`` event naming the
person's Slack id, and the person is told in one line only they see."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.slack.settings import SlackSettings
from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
REFUSAL = "Only swarm's Slack admins may decide here (SWARM_SLACK_ADMIN_IDS)."


@dataclass(frozen=True)
class Person:
    """Who acts in Slack: their member id and (when Slack says) their name."""

    id: str
    name: str = ""

    @property
    def actor(self) -> str:
        """How they are named in events: ``slack:alice`` (``slack:U123`` without a name)."""
        return f"slack:{self.name or self.id}"


async def may_decide(
    service: SwarmService, settings: SlackSettings, person: Person, what: str
) -> bool:
    """True for an admin (audited); else False, audited and recorded as refused."""
    if person.id in settings.admin_ids:
        await service.history.audit(person.id, person.name or person.id, what, True)
        return True
    log.warning("refused %s for %s (%s)", what, person.name, person.id)
    why = "not a Slack admin (SWARM_SLACK_ADMIN_IDS)"
    await service.history.refused(person.actor, None, what, why, person.id)
    return False
