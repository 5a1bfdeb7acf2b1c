"""Who may act: bearer tokens of the dashboard, the REST API and MCP."""
