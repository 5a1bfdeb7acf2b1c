-- the deliveries an agent was given, by when: a delivery is held while one given to its agent
-- after its hook last spoke may have begun a turn (core/tasks/message_queries.not_mid_turn),
-- a read of each claim that would otherwise scan all of the agent's deliveries
-- step
CREATE INDEX deliveries_given ON deliveries (agent_id, updated_at) WHERE state = 'delivered'
