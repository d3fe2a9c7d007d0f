"""carta.clinical must import only the standard library (and itself)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import carta.clinical

CLINICAL_DIR = Path(carta.clinical.__file__).parent


def _imported_top_level_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_clinical_module_imports_only_stdlib_or_carta_clinical() -> None:
    offenders = {}
    for path in sorted(CLINICAL_DIR.rglob("*.py")):
        foreign = {
            name
            for name in _imported_top_level_names(path)
            if name not in sys.stdlib_module_names and name not in {"carta", "__future__"}
        }
        carta_outer = {
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if "import" in line and "carta." in line and "carta.clinical" not in line
        }
        if foreign or carta_outer:
            offenders[str(path.relative_to(CLINICAL_DIR))] = sorted(foreign | carta_outer)
    assert offenders == {}


def test_clinical_imports_with_polars_and_django_unavailable() -> None:
    """Import every carta.clinical module in a fresh interpreter where polars/django cannot load."""
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys

        class Block:
            blocked = ("polars", "django", "numpy", "pandas", "pyarrow")
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in self.blocked:
                    raise ImportError(f"{name} is blocked in this test")
                return None

        sys.meta_path.insert(0, Block())
        import carta.clinical
        count = 0
        for info in pkgutil.walk_packages(carta.clinical.__path__, "carta.clinical."):
            importlib.import_module(info.name)
            count += 1
        print(count)
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert int(completed.stdout.strip()) >= 5
