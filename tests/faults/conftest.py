"""Fixtures of the fault suite (helpers live in faultkit.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faultkit import FaultServer  # noqa: E402


@pytest.fixture(scope="session")
def fault_server():
    server = FaultServer()
    yield server
    server.close()
