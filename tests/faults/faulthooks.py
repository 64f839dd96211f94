"""Fault hooks run inside CleanerPool workers (cases 47 of tests/faults/CASES.md): crash, hang, or clean."""

from __future__ import annotations

import os
import signal
import time

from cleaners import clean
from cleaners.model import RawPage


def crash_or_clean(raw: RawPage):
    """SIGSEGV on a body saying CRASH, sleep forever on HANG, else the real cleaner."""
    if b"CRASH" in raw.body:
        os.kill(os.getpid(), signal.SIGSEGV)
    if b"HANG" in raw.body:
        time.sleep(3600)
    if b"PID" in raw.body:
        raise ValueError(f"pid={os.getpid()}")
    return clean(raw)
