"""opencode: ``opencode``. Mouse reporting off: a delivery's click on its window would open
its "Message Actions" dialog and the paste would go there."""

from core.clis.base import AgentCli

CLI = AgentCli(
    name="opencode",
    title="opencode",
    programs=("opencode",),
    env={"OPENCODE_DISABLE_MOUSE": "1"},
)
