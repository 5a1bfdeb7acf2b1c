"""The store over PostgreSQL: connections, LISTEN, failover, dead peers."""
