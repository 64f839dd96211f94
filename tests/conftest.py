"""Shared pytest options and fixtures. Keep this file minimal; add your fixture with a comment."""

import pytest


def pytest_addoption(parser):
    # rewrite tests/fixtures/pages/**/expected.json from the current cleaner output
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden expected.json files from the current cleaner output (review the diff)",
    )


# One `scrapy demo` run per test session, shared by every test that only reads
# its database (copy it before writing). Returns the path and the finished process (stdout,
# stderr, returncode) so a test can also check the summary. Built on first use only.


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory):
    import subprocess
    import sys
    from pathlib import Path
    from types import SimpleNamespace

    root = Path(__file__).resolve().parents[1]
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "demo", "--db", str(path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return SimpleNamespace(path=path, returncode=proc.returncode, stdout=proc.stdout, stderr=proc.stderr)


# lead: in-process `scrapy.cmdline.execute` sets SCRAPY_SETTINGS_MODULE in os.environ (Scrapy's
# init_env), which then leaks into later tests' subprocesses (a `runspider` in a temp dir would
# load the project's settings). Every test starts from, and leaves, the same environment.
@pytest.fixture(autouse=True)
def _restore_environ():
    import os

    saved = dict(os.environ)
    yield
    if dict(os.environ) != saved:
        os.environ.clear()
        os.environ.update(saved)


# scaleout: one real redis-server per test session on a free loopback port (never
# 6379, never a fake); tests flush it before use. Skips when redis-server is not installed.
@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    from tests.redisserver import RedisServer, redis_binary

    if redis_binary() is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server
