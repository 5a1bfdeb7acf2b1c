-- an agent's bearer token (swarm web token create --agent A): the agent it acts as on
-- the MCP endpoint (NULL for the dashboard's viewer and admin tokens)
-- step
ALTER TABLE web_tokens ADD COLUMN agent TEXT
