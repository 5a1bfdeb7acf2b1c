"""Reviews of a task's work: comments on its diff, sent back as one prompt."""
