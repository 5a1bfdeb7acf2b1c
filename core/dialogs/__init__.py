"""Permission prompts a person answers, the whole path: the rows (``permissions``), a hook's
request (``hooks``) and its wait (``hook_wait``), the prompts whose hook is gone
(``dead_hooks``), dialogs in a pane (``pane``) and their prompts (``pane_prompts``), a
protocol agent's request (``protocol_requests``), the keys typed (``answer_keys``)."""
