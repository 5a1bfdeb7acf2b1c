"""A lazy face (``core.faces.lazy_face``) imports a private module at the first use of one
of its names, and only then: a process that starts one module of a package does not import
the modules beside it. Checked on a package planted in ``tmp_path`` (what is imported when)
and on the product's lazy faces in a fresh Python (each name of ``__all__`` is there, and the
door's and the gateway's processes leave the judge and the launch's ``up`` unimported)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

LAZY = ("automation.launch", "automation.launch.sandbox", "automation.launch.gateway",
        "core.agents")  # fmt: skip
FACE = """
from typing import TYPE_CHECKING

from core.faces import lazy_face

if TYPE_CHECKING:
    from plant import _rules as rules
    from plant._seam import Seam
    from plant._seam import start as start_seam
else:
    __getattr__, __dir__ = lazy_face(__name__, __file__)

__all__ = ["Seam", "rules", "start_seam"]
"""
ASK = """
import json, sys
import plant
seen = [{m: m in sys.modules for m in ("plant._rules", "plant._seam")}]
from plant import Seam
seen.append({m: m in sys.modules for m in ("plant._rules", "plant._seam")})
seen.append([plant.rules.RULE, Seam.__name__, plant.start_seam(), "rules" in dir(plant)])
try:
    plant.nothing
except AttributeError as error:
    seen.append(str(error))
print(json.dumps(seen))
"""


def fresh(code: str, path: Path = ROOT) -> object:
    """What ``code`` prints (JSON) in a new Python with ``path`` and the checkout importable."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=path, capture_output=True, text=True, check=True,
        env={"PYTHONPATH": f"{path}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    return json.loads(done.stdout)


def test_a_name_is_imported_at_its_first_use_and_not_before(tmp_path: Path) -> None:
    plant = tmp_path / "plant"
    plant.mkdir()
    (plant / "__init__.py").write_text(FACE, encoding="utf-8")
    (plant / "_rules.py").write_text("RULE = 'kept'\n", encoding="utf-8")
    (plant / "_seam.py").write_text("class Seam: ...\ndef start(): return 'started'\n")
    assert fresh(ASK, tmp_path) == [
        {"plant._rules": False, "plant._seam": False},
        {"plant._rules": False, "plant._seam": True},
        ["kept", "Seam", "started", True],
        "module 'plant' has no attribute 'nothing'",
    ]


def test_a_face_without_type_checking_imports_is_refused(tmp_path: Path) -> None:
    from core.faces import lazy_face

    face = tmp_path / "__init__.py"
    face.write_text("from typing import TYPE_CHECKING\n", encoding="utf-8")
    with pytest.raises(TypeError, match="no imports under"):
        lazy_face("plant", str(face))
    face.write_text("if TYPE_CHECKING:\n    from . import _rules\n", encoding="utf-8")
    with pytest.raises(TypeError, match="absolute from-imports only"):
        lazy_face("plant", str(face))


def test_each_name_a_lazy_face_exports_is_there() -> None:
    code = f"""
import importlib, json
missing = []
for name in {LAZY!r}:
    face = importlib.import_module(name)
    missing += [f"{{name}}.{{n}}" for n in face.__all__ if getattr(face, n, None) is None]
print(json.dumps(missing))
"""
    assert fresh(code) == []


NEVER_IN = ("automation.launch._up", "automation.launch._hooks", "core.agents._judge",
            "core.agents._screen_judge")  # fmt: skip
# a gateway counts a turn's tokens (core.costs.usage), and records nothing in the store
NEVER_IN_GATEWAY = ("core.costs.ledger", "core.clis", "core.store.conn", "pydantic")


@pytest.mark.parametrize(
    ("started", "never"),
    [("automation.launch.sandbox._door", NEVER_IN),
     ("automation.launch.gateway._main", NEVER_IN + NEVER_IN_GATEWAY)],
)  # fmt: skip
def test_the_doors_and_the_gateways_process_import_no_more_than_they_use(
    started: str, never: tuple[str, ...]
) -> None:
    code = f"""
import json, sys
import {started}
print(json.dumps(sorted(m for m in {never!r} if m in sys.modules)))
"""
    assert fresh(code) == []


def test_load_all_imports_every_lazy_faces_modules() -> None:
    """What a process about to fork many children does (the tests' CLI zygote): each lazy
    face's modules imported, those of a face another face's module brought in too."""
    code = """
import json, sys
import automation.launch
from core import faces
before = "automation.launch.gateway._model" in sys.modules
faces.load_all()
print(json.dumps([before] + [m in sys.modules for m in (
    "automation.launch._up", "automation.launch.sandbox._wrap",
    "automation.launch.gateway._model", "core.agents._judge")]))
"""
    assert fresh(code) == [False, True, True, True, True]
