"""Golden cases: tests/fixtures/pages/<site>/<case>/ holds page.html, meta.json (url,
fetched_at, content_type) and expected.json. `pytest --update-golden` rewrites the
"document" part of expected.json from the current output (review the diff); the
"contains" / "not_contains" checks are written by hand and kept."""

import json
from pathlib import Path

import pytest

from cleaners import clean
from cleaners.__main__ import document_json
from cleaners.model import RawPage, normalise_text

PAGES = Path(__file__).parent / "fixtures" / "pages"
CASES = sorted(p.parent for p in PAGES.glob("*/*/page.html"))


def load(case: Path) -> dict:
    meta = json.loads((case / "meta.json").read_text())
    raw = RawPage(
        url=meta["url"],
        final_url=meta["url"],
        status=200,
        headers={"content-type": meta.get("content_type", "text/html")},
        body=(case / "page.html").read_bytes(),
        fetched_at=meta["fetched_at"],
        spider="test",
    )
    return document_json(clean(raw))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_golden(case, request):
    got = load(case)
    path = case / "expected.json"
    expected = json.loads(path.read_text()) if path.exists() else {"contains": [], "not_contains": []}
    if request.config.getoption("--update-golden"):
        expected["document"] = got
        path.write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n")
    assert "document" in expected, f"no golden output yet: run pytest --update-golden and review {path}"
    text = normalise_text(got["text"])
    for s in expected.get("contains", []):
        assert normalise_text(s) in text, s
    for s in expected.get("not_contains", []):
        assert normalise_text(s) not in text, s
    assert got == expected["document"]


def test_there_are_golden_cases_for_every_kind_of_site():
    assert {c.parent.name for c in CASES} >= {"state-gov", "usembassy", "aggregator"}
