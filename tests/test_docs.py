"""The README is the user's manual: every command it shows exists, takes the options it shows,
and every project command has `--help` and an example there."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(
    p.stem
    for p in (REPO / "crawlers" / "commands").glob("*.py")
    # export-warc.py, store-writer.py, job-status.py name the commands; their bodies live in the
    # module with an underscore
    if not p.stem.startswith("_")
    and not ("_" in p.stem and p.with_name(p.stem.replace("_", "-") + ".py").exists())
)
SPIDERS = {"state_gov", "usembassy", "syndication", "originals", "wayback"}


def readme_lines() -> list[str]:
    """Command lines from the README's code blocks, comments cut."""
    lines = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", README, re.S):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith(("scrapy ", "python -m cleaners", "datasette ")):
                    lines.append(part)
    return lines


def scrapy_examples() -> list[list[str]]:
    return [line.split()[1:] for line in readme_lines() if line.startswith("scrapy ")]


def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_scrapy_list_prints_the_spiders():
    proc = run("scrapy", "list")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == sorted(SPIDERS)


def test_every_project_command_is_listed_and_has_a_readme_example():
    assert {"crawl", "demo", "ingest", "reprocess", "export-warc", "browse"} <= set(COMMANDS)
    shown = {argv[0] for argv in scrapy_examples() if argv}
    assert set(COMMANDS) <= shown, f"no README example for: {set(COMMANDS) - shown}"
    listing = run("scrapy", "-h").stdout
    for name in COMMANDS:
        assert re.search(rf"^\s+{re.escape(name)}\s", listing, re.M), f"`scrapy -h` does not list {name}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_covering_the_readme_options(command):
    proc = run("scrapy", command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout
    used = {
        a.split("=", 1)[0]
        for argv in scrapy_examples()
        if argv and argv[0] == command
        for a in argv[1:]
        if a.startswith("--")
    }
    missing = {opt for opt in used if opt not in proc.stdout}
    assert not missing, f"README uses {missing} with `scrapy {command}` but --help does not list them"


def test_readme_crawl_examples_name_real_spiders_and_arguments():
    crawls = [argv for argv in scrapy_examples() if argv[:1] == ["crawl"]]
    assert {argv[1] for argv in crawls} == SPIDERS
    sources = {
        name: (REPO / "crawlers" / "spiders" / f"{name}.py").read_text()
        + (REPO / "crawlers" / "spiders" / "base.py").read_text()
        for name in SPIDERS
    }
    for argv in crawls:
        for i, a in enumerate(argv):
            if a == "-a":
                arg = argv[i + 1].split("=", 1)[0]
                assert re.search(rf"\b{arg}\b", sources[argv[1]]), f"spider {argv[1]} takes no argument {arg}"


def test_cleaners_module_has_help():
    proc = run("cleaners", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "--url" in proc.stdout
    assert any(line.startswith("python -m cleaners") for line in readme_lines())


def test_the_two_fresh_machine_commands_are_the_ci_commands():
    """CI runs exactly the README's test command after installing the test extra."""
    ci = (REPO / ".ci" / "run").read_text()
    assert "pip install -e . && scrapy demo" in README
    assert "pip install -e '.[test]' && python -m pytest -q" in README
    assert "python -m pip install --quiet -e '.[test]'" in ci
    assert re.search(r"^python -m pytest -q$", ci, re.M)
    # ...and, before it, the checks the README's development section names, on the whole tree.
    assert "ruff check . && ruff format --check . && mypy" in README
    for check in ("ruff check .", "ruff format --check .", "mypy"):
        assert re.search(rf"^{re.escape(check)}(\s+#.*)?$", ci, re.M), check


def readme_block_after(marker: str) -> list[str]:
    """The lines of the first code block after `marker` in the README."""
    rest = README[README.index(marker) :]
    block = re.search(r"```\n(.*?)```", rest, re.S)
    assert block is not None, f"no code block after {marker}"
    return block.group(1).splitlines()


def test_readme_demo_output_is_what_the_demo_prints(demo_build):
    """Counts, crawls and the Browse lines as `scrapy demo` prints them (the time varies)."""
    assert demo_build.returncode == 0, demo_build.stderr[-2000:]
    shown = readme_block_after("<!-- demo-output -->")
    printed = demo_build.stderr.split("\nDemo database: ", 1)[1].splitlines()[1:]
    path = str(demo_build.path)
    printed = [line.replace(path, "data/demo.db") for line in printed]
    assert shown[0].startswith("Demo database: data/demo.db  (")
    assert [ln for ln in shown[1:] if ln.strip()] == [ln for ln in printed if ln.strip()]
    assert shown[shown.index("Browse it:") + 1] == "  scrapy browse --db data/demo.db"


def test_demo_outside_any_project_is_what_the_readme_says(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "demo"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "Unknown command: demo" in proc.stdout + proc.stderr
    assert "`Unknown command: demo` with exit status 2" in " ".join(README.split())


@pytest.mark.parametrize(
    "line",
    [ln for ln in readme_lines() if ln.startswith(("scrapy reprocess", "scrapy export-warc"))],
)
def test_readme_reprocess_and_export_examples_run_on_the_demo_database(demo_build, tmp_path, line):
    """Each reprocess/export-warc example of the README, for real, on a copy of the demo database."""
    import shutil

    assert demo_build.returncode == 0, demo_build.stderr[-2000:]
    db = tmp_path / "demo.db"
    shutil.copy(demo_build.path, db)
    argv = line.split()[1:]
    if argv[0] == "export-warc":  # the output file goes to the test's folder
        argv[1] = str(tmp_path / argv[1])
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", *argv, "--db", str(db)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DISPATCHES_CLEAN_WORKERS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    if argv[0] == "export-warc":
        assert Path(argv[1]).stat().st_size > 0
