"""Reviews of a task's work: comments on its diff, sent back as one prompt.

The package's face: what other packages use is named here; its modules (``_queries``: the
``review_comments`` rows and their statements, ``_sendback``: the comments sent to the agent
as one prompt, ``_service``: ``ReviewBook``, what the front ends call) are its own.
"""

from __future__ import annotations

from core.reviews._queries import ReviewComment, comment_rows
from core.reviews._service import ReviewBook

__all__ = ["ReviewBook", "ReviewComment", "comment_rows"]
