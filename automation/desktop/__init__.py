"""The desktop route (``delivery = "gui"``): prompts pasted into the agents' windows with
PyAutoGUI (``gui``: one input lock, the human check, its deadline), the clipboard and the
selections, the X focus, the screen and its waits, the windows under the input points, and
``swarm desktop up``'s windows (``session``, ``terminals``, ``window_place``,
``layout_profiles``), calibration, the screen signal's frames (``watch``) and the virtual
desktop of the demo and the tests."""
