"""Permission prompts a person answers: requests, dialogs in a pane, keys typed."""
