"""swarm's MCP server: the tools an agent calls instead of ``swarm task ...`` in a shell.

:mod:`bot.mcp.tools` lists the tools, :mod:`bot.mcp.identity` says who calls them (never a
tool argument), :mod:`bot.mcp.server` serves them over stdio (``swarm mcp``) or mounts the
streamable-HTTP transport on the dashboard at ``/mcp``. The ``mcp`` package (the official SDK,
extra ``swarm[mcp]``) is imported only here.
"""
