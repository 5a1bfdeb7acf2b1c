"""The wire between swarm and its protocol hosts: where a host's files are and what its socket
and journal say (``wire``), each message declared once as a pydantic model read total
(``model``, ``fields``): the journal's entries (``entries``: ``bodies``, ``permission``), the
socket's requests (``requests``) and replies (``replies``), each union read and written by
one ``TypeAdapter``; a question's answers option, plain JSON (``answers``: a hook or a report
that reads one imports no model); how an agent's lines are read bounded (``lines``), the
driver a host speaks to its agent through (``turns``), which hosts run (``running``), and
swarm's side of the socket and the journal files (``client``, ``journal_file``). The hosts
themselves, and starting, delivering to and stopping them, are the protocol route's
(``automation.protocol``); a CLI's own protocol driver is its folder's
(``core.clis.claude_code.stream_json``)."""
