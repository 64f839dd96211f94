"""The README's ingest section: every example command names a real command and real options."""

from __future__ import annotations

import re

import pytest

from test_ingest_e2e import REPO, run_in_process


def section_examples() -> list[list[str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("<!-- section: ingest -->", 1)[1].split("<!-- section:", 1)[0]
    examples = []
    for block in re.findall(r"```\n(.*?)```", section, re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("scrapy "):
                examples.append(line.split()[1:])
    return examples


def test_the_section_has_examples_of_all_three_commands():
    assert {argv[0] for argv in section_examples()} == {"ingest", "reprocess", "export-warc"}


@pytest.mark.parametrize("argv", section_examples(), ids=lambda a: " ".join(a))
def test_readme_example_options_exist(argv, monkeypatch, capsys):
    code, out, _ = run_in_process(monkeypatch, capsys, argv[0], "--help")
    assert code == 0
    for opt in (a for a in argv[1:] if a.startswith("--")):
        assert opt in out, f"{opt} of `scrapy {' '.join(argv)}` is not in `scrapy {argv[0]} --help`"
