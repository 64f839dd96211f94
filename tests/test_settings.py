"""Settings are read one way: `-s NAME=value` beats the environment, which beats the default in
`crawlers/settings.py`; the README's settings tables list exactly the settings the code has.

Every setting in the README's tables is set through `-s` and through the environment and
resolved by `scrapy settings` (a real subprocess). The settings whose effect lives in the
middlewares and the add-on are also checked by their effect, in real crawls of loopback servers:
the User-Agent a server sees, the Crawl-delay cap, the Retry-After cap and backoff, secret query
parameters, the allow-list, the circuit breaker, the memory warning and the bounded stop.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.settings import Settings

from crawlers.config import comma_list, setting_list, user_agent

ROOT = Path(__file__).resolve().parents[1]
SCRAPY = [sys.executable, "-m", "scrapy"]
PROBE = ROOT / "tests" / "settings_probe.py"
PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY")


# --- what the code and the README say --------------------------------------------------------
def code_settings() -> dict[str, tuple[str, Any]]:
    """{setting: (environment variable, default)} for every `NAME = from_env(VAR, default)`
    in crawlers/settings.py, read from its source so the environment of this process plays no part."""
    tree = ast.parse((ROOT / "crawlers" / "settings.py").read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target, value = node.targets[0], node.value
        if not isinstance(target, ast.Name):
            continue
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "from_env":
            env, default = (ast.literal_eval(arg) for arg in value.args)
            found[target.id] = (env, default)
        else:
            assert not target.id.startswith("DISPATCHES_"), f"{target.id} is not read through from_env"
    return found


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def readme_tables() -> dict[str, tuple[str, str]]:
    """{setting: (environment variable, default cell)} from the tables of the README's Settings."""
    rows = {}
    for line in readme_section("Settings").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| `") or len(cells) < 3:
            continue
        name = cells[0].strip("`")
        if len(cells) == 4:  # setting | environment variable | meaning | default
            rows[name] = (cells[1].strip("`"), cells[3])
        elif re.fullmatch(r"`[A-Z_]+`", cells[1]):  # setting | environment variable | default
            rows[name] = (cells[1].strip("`"), cells[2])
        else:  # setting | meaning | default
            rows[name] = (name, cells[2])
    return rows


def shown(default: Any) -> str:
    """How the README writes a default."""
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, (int, float)):
        return f"`{default:g}`"
    if isinstance(default, (list, tuple)):
        return f"`{','.join(default)}`" if default else "(none)"
    return f"`{default}`" if default else "(none)"


def test_readme_tables_and_the_code_list_the_same_settings_and_defaults():
    code, readme = code_settings(), readme_tables()
    assert set(code) == set(readme), (
        f"only in crawlers/settings.py: {sorted(set(code) - set(readme))}; "
        f"only in the README: {sorted(set(readme) - set(code))}"
    )
    for name, (env, default) in code.items():
        assert readme[name] == (env, shown(default)), name
    # Every DISPATCHES_* setting is read from the environment variable of its own name.
    assert all(env == name for name, (env, _) in code.items() if name.startswith("DISPATCHES_"))


def test_readme_states_the_precedence():
    text = " ".join(readme_section("Settings").split())
    first, second, third = (
        text.index(s) for s in ("1. `-s NAME=value`", "2. the environment", "3. the default")
    )
    assert first < second < third


def environment_reads(path: Path, root: Path = ROOT) -> list[str]:
    """`os.environ[...]`, `os.environ.get(...)` and `os.getenv(...)` reads of a `DISPATCHES_*` name
    in the source file `path`, as "file:line NAME"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        key: ast.expr | None = None
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if isinstance(node.value, ast.Attribute) and node.value.attr == "environ":
                key = node.slice
        elif isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute):
            func = node.func
            environ_get = func.attr in ("get", "pop") and getattr(func.value, "attr", None) == "environ"
            if environ_get or func.attr == "getenv":
                key = node.args[0]
        if isinstance(key, ast.Constant) and str(key.value).startswith("DISPATCHES_"):
            found.append(f"{path.relative_to(root)}:{key.lineno} {key.value!s}")
    return found


def test_only_the_settings_module_reads_dispatches_settings_from_the_environment():
    folders = ("crawlers", "cleaners", "store", "bench", "scripts")
    sources = [path for folder in folders for path in (ROOT / folder).rglob("*.py")]
    settings_module = ROOT / "crawlers" / "settings.py"
    assert settings_module in sources
    reads = [hit for path in sources if path != settings_module for hit in environment_reads(path)]
    assert reads == [], "read these through Scrapy's settings (crawlers/settings.py has the defaults)"


def test_the_environment_read_check_sees_every_form(tmp_path):
    source = tmp_path / "reads.py"
    source.write_text(
        "import os\n"
        "a = os.environ['DISPATCHES_A']\n"
        "b = os.environ.get('DISPATCHES_B', 1)\n"
        "c = os.getenv('DISPATCHES_C')\n"
        "os.environ['DISPATCHES_D'] = 'written, not read'\n"
        "e = os.environ.get('HOME')\n",
        encoding="utf-8",
    )
    hits = environment_reads(source, root=tmp_path)
    assert sorted(hit.split()[-1] for hit in hits) == ["DISPATCHES_A", "DISPATCHES_B", "DISPATCHES_C"]


# --- one list parser -------------------------------------------------------------------------
def test_a_comma_list_reads_the_same_from_every_source():
    cmdline = Settings({"X": "a, b"}, priority="cmdline")
    environment = Settings({"X": "a,b,"}, priority="project")
    module = Settings({"X": ["a", " b", ""]}, priority="project")
    assert setting_list(cmdline, "X") == setting_list(environment, "X") == setting_list(module, "X")
    assert setting_list(module, "X") == ["a", "b"]
    assert setting_list(Settings(), "X") == []
    assert comma_list(" , ,") == [] and comma_list(("x",)) == ["x"]


# --- the sweep: every README setting through -s and through the environment ------------------
def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any Dispatches setting or proxy, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHES_") and k not in PROXY_VARS}
    env.update(extra or {})
    return env


def sweep_values(name: str, default: Any) -> tuple[str, str, Any, Any]:
    """(environment text, -s text, value expected from each) for a setting of this default."""
    if name == "LOG_LEVEL":
        return "WARNING", "ERROR", "WARNING", "ERROR"
    if isinstance(default, bool):
        return ("0", "False", False, False) if default else ("1", "True", True, True)
    if isinstance(default, int):
        return str(default + 3), str(default + 5), default + 3, default + 5
    if isinstance(default, float):
        return str(default + 0.5), str(default + 1.25), default + 0.5, default + 1.25
    if isinstance(default, list):
        return " a, b,,", "c ,d", ["a", "b"], ["c", "d"]
    return "from-env", "from-cmdline", "from-env", "from-cmdline"


def resolve(settings: dict[str, Any], env: dict[str, str], cmdline: dict[str, str]) -> dict[str, Any]:
    """{setting: value} as `scrapy settings` resolves it under this environment and these `-s`,
    read with the getter each default's type calls for."""
    getters = {bool: "getbool", int: "getint", float: "getfloat", list: "getlist"}
    argv = [sys.executable, str(PROBE)]
    argv += [f"{getters.get(type(default), 'get')}:{name}" for name, default in settings.items()]
    for name, value in cmdline.items():
        argv += ["-s", f"{name}={value}"]
    proc = subprocess.run(argv, cwd=ROOT, env=clean_env(env), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    values: dict[str, Any] = {}
    for name, default in settings.items():
        out = printed[name]
        if isinstance(default, bool):
            values[name] = out == "True"
        elif isinstance(default, (int, float)):
            values[name] = type(default)(out)
        elif isinstance(default, list):
            values[name] = comma_list(ast.literal_eval(out))
        else:
            values[name] = out
    return values


def test_every_setting_is_read_from_the_environment_and_from_s_which_wins():
    code = code_settings()
    defaults = {name: default for name, (_, default) in code.items()}
    cases = {name: sweep_values(name, default) for name, default in defaults.items()}
    env = {code[name][0]: env_text for name, (env_text, _, _, _) in cases.items()}
    cmdline = {name: cmd_text for name, (_, cmd_text, _, _) in cases.items()}
    assert resolve(defaults, {}, {}) == defaults
    assert resolve(defaults, env, {}) == {name: case[2] for name, case in cases.items()}
    assert resolve(defaults, env, cmdline) == {name: case[3] for name, case in cases.items()}


# --- effects, in real crawls of loopback servers ---------------------------------------------
class Server(ThreadingHTTPServer):
    """Loopback HTTP server that logs every request (path and User-Agent).

    `/robots.txt` answers `robots`; `/status/CODE?retry_after=N` answers CODE (with that
    Retry-After); any other path a small HTML page.
    """

    daemon_threads = True

    def __init__(self, host: str, robots: str = "User-agent: *\nAllow: /\n"):
        super().__init__((host, 0), Handler)
        self.host = host
        self.robots = robots
        self.log: list[tuple[str, str]] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.server_port}"

    @property
    def allow_entry(self) -> str:
        return f"{self.host}:{self.server_port}"

    def paths(self, prefix: str = "/") -> list[str]:
        return [path for path, _ in self.log if path.startswith(prefix)]

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        self.server.log.append((self.path, self.headers.get("User-Agent", "")))
        url = urlsplit(self.path)
        status, headers, body = 200, {"Content-Type": "text/html"}, b"<html><body><p>ok</p></body></html>"
        if url.path == "/robots.txt":
            headers["Content-Type"] = "text/plain"
            body = self.server.robots.encode()
        elif url.path.startswith("/status/"):
            status = int(url.path.split("/")[2])
            for value in parse_qs(url.query).get("retry_after", []):
                headers["Retry-After"] = value
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def servers():
    made: list[Server] = []

    def make(host: str = "127.0.0.1", **kw: Any) -> Server:
        made.append(Server(host, **kw))
        return made[-1]

    yield make
    for server in made:
        server.close()


# Settings every probe crawl uses and none of these tests is about.
PROBE_FIXED = {
    "DOWNLOAD_DELAY": "0.01",
    # One request in flight per host: with two, a loaded machine sends the third failing request
    # before the second one's answer opens the circuit, and the count below would depend on timing.
    "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
    "AUTOTHROTTLE_ENABLED": "False",
    "RETRY_TIMES": "0",
    "LOG_LEVEL": "INFO",
}


def probe(
    tmp_path: Path, urls: list[str], *, env: dict[str, str], cmdline: dict[str, str], close_after: int = 0
) -> tuple[dict, str]:
    """Run the probe spider under the project settings; its record and the log."""
    out = tmp_path / f"probe-{len(list(tmp_path.glob('probe-*')))}.json"
    argv = [*SCRAPY, "runspider", str(PROBE), "-a", f"urls={','.join(urls)}", "-a", f"out={out}"]
    if close_after:
        argv += ["-a", f"close_after={close_after}"]
    for key, value in {**PROBE_FIXED, **cmdline}.items():
        argv += ["-s", f"{key}={value}"]
    proc = subprocess.run(argv, cwd=ROOT, env=clean_env(env), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8")), proc.stderr


@pytest.mark.parametrize("source", ["cmdline", "environment"])
def test_middleware_settings_take_effect_from_s_and_from_the_environment(servers, tmp_path, source):
    polite = servers("127.0.0.1", robots="User-agent: *\nAllow: /\nCrawl-delay: 100\n")
    deferring = servers("127.0.0.2")
    failing = servers("127.0.0.3")
    contact = f"mailto:{source}@example.org"
    values = {
        "DISPATCHES_CONTACT": contact,
        # spaces and an empty item: the one list parser drops them
        "DISPATCHES_ALLOW_HOSTS": f"{polite.allow_entry}, {deferring.allow_entry},,{failing.allow_entry}",
        "DISPATCHES_MAX_CRAWL_DELAY": "0.25",
        "DISPATCHES_RETRY_BACKOFF": "0.3",
        "DISPATCHES_SECRET_PARAMS": "probe_secret, other_secret",
        "DISPATCHES_MAX_RETRY_AFTER": "5",
        "DISPATCHES_CIRCUIT_BREAKER": "2",
    }
    memory_env, memory_setting = ("DISPATCHES_MEMORY_LIMIT_MB", "MEMUSAGE_LIMIT_MB")
    if source == "cmdline":
        env, cmdline = {}, {**values, memory_setting: "3000"}
    else:
        env, cmdline = {**values, memory_env: "3000"}, {}
    not_allowed = f"http://127.0.0.1:{deferring.server_port}/page/other-port"  # port not listed
    urls = [
        f"{polite.base}/page/plain",
        f"{polite.base}/page/secret?probe_secret=s1&keep=1&other_secret=s2",
        f"{polite.base}/status/503",
        f"{deferring.base}/status/429?retry_after=60",
        *(f"{failing.base}/status/500/{i}" for i in range(3)),
        not_allowed,
    ]
    record, log = probe(tmp_path, urls, env=env, cmdline=cmdline)
    stats = record["stats"]

    # DISPATCHES_CONTACT: every request, robots.txt included, names the contact.
    agents = {agent for server in (polite, deferring, failing) for _, agent in server.log}
    assert agents == {user_agent(contact)}
    assert record["settings"]["USER_AGENT"] == user_agent(contact)
    # DISPATCHES_MAX_CRAWL_DELAY caps robots.txt's 100 s.
    assert stats["dispatches/crawl_delay/127.0.0.1"] == 0.25
    # DISPATCHES_RETRY_BACKOFF: a 503 without Retry-After pauses the host for the backoff.
    assert "127.0.0.1 answered 503: pausing the host for 0.3 s" in log
    # DISPATCHES_SECRET_PARAMS: both extra names removed before the request left.
    assert "/page/secret?keep=1" in polite.paths("/page/secret")
    assert not any("secret=" in path for path in polite.paths())
    # DISPATCHES_MAX_RETRY_AFTER: 60 s is beyond the cap of 5, so the host waits for the next run.
    assert stats["dispatches/deferred/127.0.0.2"] == 1
    # DISPATCHES_CIRCUIT_BREAKER: two failures in a row open the circuit; the third is not sent.
    assert stats["safety/circuit_open"] == ["127.0.0.3"]
    assert len(failing.paths("/status/500")) == 2
    # DISPATCHES_ALLOW_HOSTS: a pinned port lets no other port of the same host through.
    assert stats["safety/blocked/loopback"] == 1
    # MEMUSAGE_LIMIT_MB (env DISPATCHES_MEMORY_LIMIT_MB): the derived warning follows it.
    assert record["settings"]["MEMUSAGE_WARNING_MB"] == 1500


def test_a_crawl_opens_no_remote_control_and_imports_no_shared_crawl_machinery(servers, tmp_path):
    """Scrapy's remote-control server (it runs code sent to it) is neither on nor loaded, and a
    crawl that is not part of a shared job never imports redis: every cron run starts without
    them (aiohttp and redis are about half a second of a crawl's start)."""
    server = servers("127.0.0.1")
    record, _ = probe(tmp_path, [f"{server.base}/page/x"], env={}, cmdline={})
    assert "RemoteControl" not in record["extensions"]
    assert "TelnetConsole" not in record["extensions"]
    assert {"CoreStats", "CrawlState", "BoundedStop"} <= set(record["extensions"])
    assert record["imported"] == []


def test_without_an_allowed_host_loopback_is_not_fetched(servers, tmp_path):
    server = servers()
    record, _ = probe(tmp_path, [f"{server.base}/page/x"], env={}, cmdline={})
    assert server.log == []
    assert record["stats"]["safety/blocked/loopback"] == 1


BOUNDED_STOP_CRAWL = {
    "DOWNLOAD_DELAY": "0.4",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
    "RANDOMIZE_DOWNLOAD_DELAY": "False",
}


@pytest.mark.parametrize(
    ("env", "cmdline", "dropping", "agent"),
    [
        # default on; -s DISPATCHES_CONTACT beats the environment's
        (
            {"DISPATCHES_ALLOW_PRIVATE": "1", "DISPATCHES_CONTACT": "mailto:env@example.org"},
            {"DISPATCHES_CONTACT": "mailto:cmdline@example.org"},
            True,
            user_agent("mailto:cmdline@example.org"),
        ),
        # off from the environment; an explicit USER_AGENT beats DISPATCHES_CONTACT
        (
            {"DISPATCHES_BOUNDED_STOP": "0", "DISPATCHES_CONTACT": "mailto:env@example.org"},
            {"DISPATCHES_ALLOW_PRIVATE": "true", "USER_AGENT": "ProbeAgent/1"},
            False,
            "ProbeAgent/1",
        ),
        # off from -s, although the environment says on
        (
            {"DISPATCHES_BOUNDED_STOP": "1", "DISPATCHES_ALLOW_PRIVATE": "1"},
            {"DISPATCHES_BOUNDED_STOP": "false"},
            False,
            user_agent(code_settings()["DISPATCHES_CONTACT"][1]),
        ),
    ],
    ids=["default-on", "env-off", "cmdline-off"],
)
def test_bounded_stop_and_user_agent_precedence(servers, tmp_path, env, cmdline, dropping, agent):
    server = servers()
    urls = [f"{server.base}/page/{i}" for i in range(6)]
    record, _ = probe(tmp_path, urls, env=env, cmdline={**BOUNDED_STOP_CRAWL, **cmdline}, close_after=1)
    assert record["reason"] == "probe_done"
    fetched = server.paths("/page/")
    if dropping:  # requests queued behind the download delay are dropped at the stop
        assert record["stats"].get("safety/dropped_at_stop", 0) >= 1
        assert len(fetched) < 6
    else:  # Scrapy's own graceful stop: every queued request is still downloaded
        assert "safety/dropped_at_stop" not in record["stats"]
        assert len(fetched) == 6
    assert {a for _, a in server.log} == {agent}
