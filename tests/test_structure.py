"""Import structure: the CLI entry module loads once; heavy packages load only when used."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT


def _python(code: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=30, cwd=ROOT, check=True)
    return proc.stdout.strip()


def test_python_m_bot_cli_loads_the_cli_module_once() -> None:
    code = ("import runpy, sys\n"
            "try:\n"
            "    runpy.run_module('bot.cli.main', run_name='__main__', alter_sys=True)\n"
            "except SystemExit:\n"
            "    pass\n"
            "print('bot.cli.main' in sys.modules, 'bot.cli.tasks' in sys.modules)")
    # as `python -m bot.cli --help`: the groups are imported, bot.cli.main is never imported
    # again
    assert _python(code, "--help").splitlines()[-1] == "False True"


def test_stats_and_planning_import_without_pil_or_a_model_client() -> None:
    code = ("import sys, core.reports.stats, core.planning, core.reports.summary\n"
            "print(sorted(m for m in ('PIL', 'openai') if m in sys.modules))")
    assert _python(code) == "[]"
