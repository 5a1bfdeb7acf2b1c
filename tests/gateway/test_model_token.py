"""A route a relay on the host's loopback leads to (``gateway = true``: any local process can
reach that port) asks each request for its agent's own credential, in whatever header its CLI
sends it (or Gemini's ``key``): without it, a 401 and nothing upstream, no record; with it, the
person's key put on the wire as for any route. The spec names the credential's variable, never
the credential; a variable named but unset asks for one no request can send."""

from __future__ import annotations

from pathlib import Path

import pytest
from localmodel import LocalModel

from automation.launch.gateway import ModelGateway, ModelRoute, Vendor
from automation.launch.gateway._spec import parse_spec
from tests.gateway.rig import PLACEHOLDER, REAL_KEYS, Rig
from tests.gateway.wire import FORMATS, VENDOR_OF, request


@pytest.mark.parametrize("fmt", FORMATS)
async def test_only_the_agents_own_credential_passes(
    model: LocalModel, sockets: Path, fmt: str
) -> None:
    vendor = VENDOR_OF[fmt]
    async with Rig(model, sockets) as rig:
        route = rig.routes[vendor]
        rig.routes[vendor] = ModelRoute(route.agent, sockets / "own.sock", route.upstream,
                                        vendor, route.key, token=PLACEHOLDER)  # fmt: skip
        guarded = ModelGateway([rig.routes[vendor]], rig.records.append)
        await guarded.start()
        try:
            path, body, headers = request(fmt, "say hi", stream=False)
            wrong = {k: v.replace(PLACEHOLDER, "not-its-own") for k, v in headers.items()}
            wrong_path = path.replace(PLACEHOLDER, "not-its-own")
            async with rig.client(vendor).post(wrong_path, json=body, headers=wrong) as answer:
                assert answer.status == 401
            async with rig.client(vendor).post(wrong_path, json=body) as answer:
                assert answer.status == 401
            assert model.requests == [] and rig.records == []
            async with rig.client(vendor).post(path, json=body, headers=headers) as answer:
                assert answer.status == 200, await answer.text()
        finally:
            await guarded.close()
    assert len(model.requests) == 1 and len(rig.records) == 1


def test_the_spec_names_the_credentials_variable_never_the_credential() -> None:
    raw = {"records": "/r", "agents": [{"agent": "A", "model": {
        "socket": "/s/a.sock", "upstream": "https://api.anthropic.com", "vendor": "anthropic",
        "key_env": "ANTHROPIC_API_KEY", "token_env": "GATEWAY_AGENT_TOKEN"}}]}  # fmt: skip
    spec = parse_spec(raw)
    env = {"ANTHROPIC_API_KEY": REAL_KEYS[Vendor.ANTHROPIC], "GATEWAY_AGENT_TOKEN": "own"}
    (route,) = spec.model_routes(env)
    assert route.token == "own" and "own" not in repr(route)
    (unset,) = spec.model_routes({})
    assert unset.token and unset.token != "own"  # asked, and no request has it
    raw["agents"][0]["model"]["token_env"] = "not a name"  # type: ignore[index]
    with pytest.raises(ValueError, match="token_env is the name of an environment variable"):
        parse_spec(raw)
