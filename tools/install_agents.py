"""Install the pinned real agent CLIs the live tests run into ``.cache/agents/`` (never globally).

npm packages go under ``.cache/agents/node_modules`` (``npm install --prefix``), each PyPI
package into its own venv, the folder its binary is in (Aider's ``.cache/agents/aider-venv``),
made by a Python new enough for it (the installer's own, else ``python3.N`` or pyenv's, else
Debian 13's python3.13 unpacked into ``.cache/python`` by ``tools/debian_python.py``, the
system untouched: Mistral Vibe's on Debian 12). A CLI already there at its pinned version is
left alone. Prints one line per CLI (installed, already there, or failed with the reason) and
exits 1 when one failed. Standard library only: CI runs it with the system's python3 before
the tests.

    python3 tools/install_agents.py [--dest DIR] [CLI ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / ".cache" / "agents"
TIMEOUT = 900  # seconds for one install command
# where no Python new enough runs: Debian 13's, unpacked into PRIVATE by DEBIAN_PYTHON
DEBIAN_PYTHON = Path(__file__).resolve().parent / "debian_python.py"
PRIVATE = ROOT / ".cache" / "python"
PRIVATE_VERSION = (3, 13)
OWN = (sys.version_info.major, sys.version_info.minor)  # the installer's own Python


@dataclass(frozen=True)
class Pin:
    """One CLI at its pinned version: its registry package and where its binary lands."""

    cli: str
    package: str
    version: str
    binary: str  # relative to the destination folder
    registry: str = "npm"  # or "pypi"
    extras: tuple[str, ...] = ()  # more npm packages installed with it (name@version)
    python: tuple[int, int] = (3, 11)  # pypi: the oldest Python its venv may be made with

    @property
    def venv(self) -> str:
        """A PyPI package's venv, relative to the destination: the folder of its binary."""
        return self.binary.split("/", 1)[0]


# The versions the live tests are written against (issue 38); tests/agents/live.py reads them.
PINS = (
    Pin("claude-code", "@anthropic-ai/claude-code", "2.1.328",
        "node_modules/@anthropic-ai/claude-code/bin/claude.exe"),
    Pin("codex", "@openai/codex", "0.169.0", "node_modules/.bin/codex",
        extras=("@zed-industries/codex-acp@0.16.0",)),  # its ACP adapter (the protocol route)
    Pin("gemini", "@google/gemini-cli", "0.61.0", "node_modules/.bin/gemini"),
    Pin("opencode", "opencode-ai", "1.18.33", "node_modules/.bin/opencode"),
    Pin("aider", "aider-chat", "0.86.2", "aider-venv/bin/aider", registry="pypi"),
    Pin("qwen-code", "@qwen-code/qwen-code", "0.24.4", "node_modules/.bin/qwen"),
    # 3.0.3 requires certifi==2026.10.19, which the index did not serve (its .post1 only)
    Pin("mistral-vibe", "mistral-vibe", "3.0.2", "vibe-venv/bin/vibe", registry="pypi",
        python=(3, 12)),
)  # fmt: skip


def installed_version(pin: Pin, dest: Path) -> str | None:
    """The version of ``pin``'s package installed under ``dest``, or None."""
    if pin.registry == "pypi":
        return _pip_version(pin, dest)
    manifest = dest / "node_modules" / pin.package / "package.json"
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None
    return version if isinstance(version, str) else None


def _pip_version(pin: Pin, dest: Path) -> str | None:
    python = dest / pin.venv / "bin" / "python"
    if not python.is_file():
        return None
    shown = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({pin.package!r}))"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return shown.stdout.strip() or None if shown.returncode == 0 else None


def is_ready(pin: Pin, dest: Path) -> bool:
    """The pinned version is installed and its binary (and extras) are in place."""
    binary = dest / pin.binary
    return (
        installed_version(pin, dest) == pin.version
        and binary.is_file()
        and os.access(binary, os.X_OK)
        and all((dest / "node_modules" / _name(extra)).is_dir() for extra in pin.extras)
        and not (pin.cli == "claude-code" and _claude_placeholder(dest))
    )


def _name(spec: str) -> str:
    """``@scope/name@1.2`` -> ``@scope/name``."""
    return spec.rsplit("@", 1)[0] if spec.rfind("@") > 0 else spec


def _claude_placeholder(dest: Path) -> bool:
    """Claude Code's ``bin/claude.exe`` is still the small stub its postinstall replaces."""
    exe = dest / "node_modules/@anthropic-ai/claude-code/bin/claude.exe"
    return exe.is_file() and exe.stat().st_size < 1_000_000


def install(pin: Pin, dest: Path) -> str:
    """Install ``pin`` under ``dest``; raises ``RuntimeError`` with a one-line reason. Says
    what its line should add: the Python its venv was made with, when it is not this
    machine's own."""
    said = ""
    if pin.registry == "pypi":
        venv = dest / pin.venv
        if not (venv / "bin" / "python").is_file():  # (a venv of a Python gone: made anew)
            python, said = _python(pin.python)
            _run([python, "-m", "venv", *(["--clear"] if venv.exists() else []), str(venv)],
                 dest)  # fmt: skip
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
              "--disable-pip-version-check", f"{pin.package}=={pin.version}"], dest)  # fmt: skip
    else:
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed (apt-get install nodejs npm)")
        _run([npm, "install", "--prefix", str(dest), "--no-fund", "--no-audit", "--save-exact",
              "--loglevel=error", f"{pin.package}@{pin.version}", *pin.extras], dest)  # fmt: skip
        if pin.cli == "claude-code" and _claude_placeholder(dest):
            # npm may skip install scripts: this copies the native binary over bin/claude.exe
            _run(["node", "install.cjs"], dest / "node_modules" / pin.package)
    if not is_ready(pin, dest):
        found = installed_version(pin, dest)
        raise RuntimeError(f"after the install {pin.binary} is missing or the version is {found}")
    return said


def _python(oldest: tuple[int, int]) -> tuple[str, str]:
    """A Python of version ``oldest`` or newer and what to say of it: this one, else
    ``python3.N`` on the PATH (one that runs: a pyenv shim of a version not chosen does not),
    else pyenv's own install (nothing said of these), else Debian 13's python3.13 in
    :data:`PRIVATE` (made there by :data:`DEBIAN_PYTHON` when it is not, its lines printed
    as it goes; said)."""
    if oldest <= OWN:
        return sys.executable, ""
    minors = range(oldest[1], oldest[1] + 7)  # the oldest that fits first: the one measured
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for minor in minors:
        found = shutil.which(f"python3.{minor}")
        if found and _runs(found):
            return found, ""
        for python in sorted(pyenv.glob(f"3.{minor}.*/bin/python"), reverse=True):
            if _runs(str(python)):
                return str(python), ""
    wanted = f"{oldest[0]}.{oldest[1]}"
    looked = (f"it needs Python {wanted} or later, and none runs here (python3.{minors[0]} to "
              f"python3.{minors[-1]} on the PATH, or under {pyenv})")  # fmt: skip
    todo = (f"install one (`pyenv install {wanted}`, or the distribution's python3.{oldest[1]} "
            "where it has one), then `make agents`")  # fmt: skip
    if oldest > PRIVATE_VERSION:
        raise RuntimeError(f"{looked}: {todo}")
    try:
        private = _debian_python()
    except RuntimeError as exc:
        raise RuntimeError(
            f"{looked}, and Debian 13's could not be unpacked ({exc}): {todo}"
        ) from None
    where = PRIVATE.relative_to(ROOT) if PRIVATE.is_relative_to(ROOT) else PRIVATE
    return private, (f"its venv made by Debian 13's python3.13 in {where}: no {wanted}+ on "
                     "the PATH or under pyenv")  # fmt: skip


def _debian_python() -> str:
    """:data:`DEBIAN_PYTHON`'s Python in :data:`PRIVATE`, made when it is not there (its
    progress lines printed as they come); ``RuntimeError`` with its one-line reason."""
    try:
        done = subprocess.run(
            [sys.executable, str(DEBIAN_PYTHON), "--dest", str(PRIVATE)],
            stderr=subprocess.PIPE, text=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{DEBIAN_PYTHON.name} took over {TIMEOUT} s") from None
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    if done.returncode != 0:
        last = lines[-1] if lines else f"{DEBIAN_PYTHON.name} exited {done.returncode}"
        raise RuntimeError(last.removeprefix("debian-python: failed: "))
    version = f"{PRIVATE_VERSION[0]}.{PRIVATE_VERSION[1]}"
    return str(PRIVATE / "root" / "usr" / "bin" / f"python{version}")


def _runs(python: str) -> bool:
    try:
        done = subprocess.run([python, "-c", ""], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _run(argv: list[str], cwd: Path) -> None:
    try:
        done = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{Path(argv[0]).name} took over {TIMEOUT} s") from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        last = lines[-1].strip() if lines else "no output"
        raise RuntimeError(f"{Path(argv[0]).name} exited {done.returncode}: {last}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=DEST, help="install folder (.cache/agents)")
    parser.add_argument("cli", nargs="*", help="only these CLIs (default: all)")
    args = parser.parse_args(argv)
    known = {pin.cli for pin in PINS}
    unknown = [name for name in args.cli if name not in known]
    if unknown:
        parser.error(f"unknown CLI {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    dest: Path = args.dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    failed = 0
    for pin in PINS:
        if args.cli and pin.cli not in args.cli:
            continue
        label = f"{pin.cli} {pin.version}"
        if is_ready(pin, dest):
            print(f"agents: {label}: already there", flush=True)
            continue
        started = time.monotonic()
        try:
            said = install(pin, dest)
        except (RuntimeError, OSError) as exc:
            failed += 1
            print(f"agents: {label}: failed: {exc}", flush=True)
            continue
        took = f"{time.monotonic() - started:.0f} s" + (f"; {said}" if said else "")
        print(f"agents: {label}: installed ({took})", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
