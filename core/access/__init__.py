"""Who may act: bearer tokens of the dashboard, the REST API and MCP (``tokens``: the rows;
``service``: ``TokenBook``, what the front ends call)."""
