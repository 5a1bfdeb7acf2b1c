"""The inbox route (``delivery = "inbox"``, or no display): each message a file the agent
reads (``files``), written under a temporary name and linked, never overwritten."""
