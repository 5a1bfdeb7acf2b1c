"""Text formats every feature shares: text, times, TOML, the JSON output shape."""
