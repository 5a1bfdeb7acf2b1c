"""Who may act: bearer tokens of the dashboard, the REST API and MCP.

The package's face: what other packages use is named here; its modules (``_tokens``: the
tokens, made, looked up and revoked, ``_queries``: their statements, ``_service``:
``TokenBook``, what the front ends call) are its own.
"""

from __future__ import annotations

from core.access._service import TokenBook
from core.access._tokens import Principal, Role, check_name, new_token

__all__ = ["Principal", "Role", "TokenBook", "check_name", "new_token"]
