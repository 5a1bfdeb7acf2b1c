"""What each agent is doing and why: its signals, the judge, alerts, screens and pane text,
and what swarm installs for each agent CLI (hooks, MCP files, text rules with real panes);
``_service`` (``SignalBook``): hook events and alerts, as the front ends call them.

The package's face: what other packages use is named here (``__all__``); its modules
are its own. Where callers still call a group of operations through a module's name,
that module is exported whole under its old name (``tests/project/test_package_faces.py``:
``NAMESPACES``, a list that only shrinks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.faces import lazy_face

if TYPE_CHECKING:
    from core.agents import _alerts as alerts
    from core.agents import _hook_events as hook_events
    from core.agents import _judge as judge
    from core.agents import _limit_events as limit_events
    from core.agents import _protocol_events as protocol_events
    from core.agents import _queries as queries
    from core.agents import _session_queries as session_queries
    from core.agents import _signal_queries as signal_queries
    from core.agents import _signals as signals
    from core.agents import _transcript as transcript
    from core.agents import _workspace_files as workspace_files
    from core.agents._alerts import (
        GATEWAY_DOWN,
        GIT_REFUSED,
        HELD_BEHIND_TURN,
        HOOKS_SILENT,
        HOST_REFUSED,
        STALLED,
        STOPPED,
        UNREACHABLE,
        UNREPORTED,
        Alert,
        OpenAlerts,
        clear_alert,
        ever_opened,
        list_alerts,
        open_alert,
        open_kinds,
        say_open,
    )
    from core.agents._frames import (
        THUMBNAIL_BOX,
        FrameSource,
        frame_path,
        frames_differ,
        save_frame,
        thumbnail_size,
    )
    from core.agents._hook_events import HookEvent, UnknownHookEvent, parse
    from core.agents._hook_intake import HookIntake
    from core.agents._identity import (
        Placement,
        Refused,
        Resolver,
        claimed_agent,
        hook_agent,
        record_window,
    )
    from core.agents._judge import (
        HELD,
        Freshness,
        Verdict,
        clock_time,
        duration,
        limits,
        until_text,
    )
    from core.agents._queries import (
        ASSIGNABLE_HEAD,
        ASSIGNABLE_TAIL,
        EVERY_AGENT,
        PROBE_AGENT_COLUMNS,
        turn_ended_on_pane,
    )
    from core.agents._screen_judge import (
        RECHECK_S,
        RECHECK_STEP_S,
        SMALL,
        WORKING,
        ScreenJudge,
        ScreenLook,
    )
    from core.agents._service import SignalBook, TranscriptBook
    from core.agents._signals import StateRow
    from core.agents._text_rules import (
        Rule,
        RuleSet,
        SandboxFailure,
        TextMatch,
        classify_any,
        load_rule_sets,
        sandbox_failure,
    )
    from core.agents._transcript import PAGE, Line
else:
    __getattr__, __dir__ = lazy_face(__name__, __file__)

__all__ = [
    "ASSIGNABLE_HEAD",
    "ASSIGNABLE_TAIL",
    "EVERY_AGENT",
    "GATEWAY_DOWN",
    "GIT_REFUSED",
    "HELD",
    "HELD_BEHIND_TURN",
    "HOOKS_SILENT",
    "HOST_REFUSED",
    "PAGE",
    "PROBE_AGENT_COLUMNS",
    "RECHECK_S",
    "RECHECK_STEP_S",
    "SMALL",
    "STALLED",
    "STOPPED",
    "THUMBNAIL_BOX",
    "UNREACHABLE",
    "UNREPORTED",
    "WORKING",
    "Alert",
    "FrameSource",
    "Freshness",
    "HookEvent",
    "HookIntake",
    "Line",
    "OpenAlerts",
    "Placement",
    "Refused",
    "Resolver",
    "Rule",
    "RuleSet",
    "SandboxFailure",
    "ScreenJudge",
    "ScreenLook",
    "SignalBook",
    "StateRow",
    "TextMatch",
    "TranscriptBook",
    "UnknownHookEvent",
    "Verdict",
    "alerts",
    "claimed_agent",
    "classify_any",
    "clear_alert",
    "clock_time",
    "duration",
    "ever_opened",
    "frame_path",
    "frames_differ",
    "hook_agent",
    "hook_events",
    "judge",
    "limit_events",
    "limits",
    "list_alerts",
    "load_rule_sets",
    "open_alert",
    "open_kinds",
    "parse",
    "protocol_events",
    "queries",
    "record_window",
    "sandbox_failure",
    "save_frame",
    "say_open",
    "session_queries",
    "signal_queries",
    "signals",
    "thumbnail_size",
    "transcript",
    "turn_ended_on_pane",
    "until_text",
    "workspace_files",
]
