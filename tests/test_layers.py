"""The import layering of the project, checked by import-linter.

The contracts live in pyproject.toml (`[tool.importlinter]`): crawlers over store over cleaners,
spiders that import neither the item pipeline nor the store, no import cycles inside crawlers.
Each contract is its own test, run through the real `lint-imports` command, so a failure names
the contract and prints the imports that break it.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"][
    "contracts"
]


def test_contracts_cover_the_layers_the_project_promises():
    """The layering, the spiders' imports and the crawlers' cycles each have a contract."""
    by_id = {c["id"]: c for c in CONTRACTS}
    assert by_id["layers"]["type"] == "layers"
    assert by_id["layers"]["layers"] == ["crawlers", "store", "cleaners"]
    assert by_id["spiders"]["type"] == "forbidden"
    assert set(by_id["spiders"]["forbidden_modules"]) == {"crawlers.pipelines", "store"}
    assert by_id["crawlers-acyclic"]["type"] == "acyclic_siblings"


@pytest.mark.parametrize("contract", [c["id"] for c in CONTRACTS])
def test_import_contract_is_kept(contract):
    proc = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--contract", contract],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = proc.stdout[proc.stdout.find("Contracts") :]  # after the banner
    assert proc.returncode == 0, report[-4000:] + proc.stderr[-2000:]
