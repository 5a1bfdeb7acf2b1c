"""The network of a sandboxed agent, outside the sandbox: the model gateway that puts the
person's key on the wire and reads each answer's usage, the egress proxy that opens only the
hosts an agent's allow-list names, and the process that runs both for a spec's agents. The
relay that runs inside the sandbox is ``relay.py`` beside this file (``RELAY``), run by path
with the standard library only. See docs/gateway.md."""

from pathlib import Path
from typing import TYPE_CHECKING

from core.faces import lazy_face

if TYPE_CHECKING:
    from automation.launch.gateway._allow import AllowList, AllowListError, Refused, Target
    from automation.launch.gateway._launch import GatewayStartError, gateway_pid
    from automation.launch.gateway._launch import start as start_gateway
    from automation.launch.gateway._launch import stop as stop_gateway
    from automation.launch.gateway._main import MODULE, REFUSALS_FILE, USAGE_FILE, main, running
    from automation.launch.gateway._model import ModelGateway, ModelRoute, Vendor
    from automation.launch.gateway._proxy import EgressProxy, EgressRoute
    from automation.launch.gateway._records import JsonLinesSink, Refusal, UsageRecord, read_lines
    from automation.launch.gateway._spec import Spec, SpecError, parse_spec, read_spec
else:
    __getattr__, __dir__ = lazy_face(__name__, __file__)

RELAY = Path(__file__).with_name("relay.py")  # run inside: python -I RELAY --listen PORT:SOCKET

__all__ = [
    "MODULE",
    "REFUSALS_FILE",
    "RELAY",
    "USAGE_FILE",
    "AllowList",
    "AllowListError",
    "EgressProxy",
    "EgressRoute",
    "GatewayStartError",
    "JsonLinesSink",
    "ModelGateway",
    "ModelRoute",
    "Refusal",
    "Refused",
    "Spec",
    "SpecError",
    "Target",
    "UsageRecord",
    "Vendor",
    "gateway_pid",
    "main",
    "parse_spec",
    "read_lines",
    "read_spec",
    "running",
    "start_gateway",
    "stop_gateway",
]  # fmt: skip
