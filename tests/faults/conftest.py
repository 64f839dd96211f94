"""Fixtures of the fault suite (helpers live in faultkit.py)."""

from __future__ import annotations

import pytest

from tests.faults.faultkit import FaultServer


@pytest.fixture(scope="session")
def fault_server():
    server = FaultServer()
    yield server
    server.close()
