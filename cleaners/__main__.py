"""`python -m cleaners FILE [--url URL]`: print the Document of one saved page as JSON.

Handy when writing a rule: the JSON lists every removal with the rule that made it.
Exit status 0 with the Document on stdout; 2 with one line on stderr when the page is
rejected or the file cannot be read.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import mimetypes
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from cleaners import CleanConfig, clean
from cleaners.model import Document, RawPage, Rejected
from cleaners.urls import DEFAULT_OFFICIAL_DOMAINS


def document_json(doc: Document) -> dict:
    """The Document as a JSON-able dict: dates ISO, removals as {rule, text}."""
    out = dataclasses.asdict(doc)
    for key, value in out.items():
        if isinstance(value, date):
            out[key] = value.isoformat()
        elif isinstance(value, tuple):
            out[key] = list(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cleaners",
        description="Clean one saved page (HTML or text) and print its Document as JSON.",
    )
    parser.add_argument("file", help="a saved page: .html, .htm, .txt (or any file; the type is sniffed)")
    parser.add_argument("--url", help="the URL the page was fetched from (sets site rules and provenance)")
    parser.add_argument("--content-type", help="override the Content-Type (default: from the file name)")
    parser.add_argument("--text-only", action="store_true", help="print only the cleaned text")
    parser.add_argument(
        "--official-domains",
        metavar="PATTERNS",
        help="comma-separated host patterns whose pages are official originals "
        f"(default: {','.join(DEFAULT_OFFICIAL_DOMAINS)})",
    )
    args = parser.parse_args(argv)
    config = CleanConfig()
    if args.official_domains is not None:
        patterns = tuple(p for p in args.official_domains.split(",") if p.strip())
        if not patterns:
            parser.error("--official-domains needs at least one host pattern")
        config = CleanConfig(official_domains=patterns)

    path = Path(args.file)
    try:
        if not path.is_file():
            raise OSError("not a regular file")
        body = path.read_bytes()
    except OSError as err:
        print(f"error: cannot read {args.file}: {err.strerror or err}", file=sys.stderr)
        return 2
    ctype = args.content_type or mimetypes.guess_type(path.name)[0] or ""
    mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat()
    raw = RawPage(
        url=args.url,
        final_url=args.url,
        status=200,
        headers={"content-type": ctype} if ctype else {},
        body=body,
        fetched_at=mtime,
        spider="cli",
        discovered_via="file",
        source_path=path.name,
    )
    try:
        doc = clean(raw, config)
    except Rejected as exc:
        print(f"rejected: {exc.reason}" + (f" ({exc.detail})" if exc.detail else ""), file=sys.stderr)
        return 2
    if args.text_only:
        sys.stdout.write(doc.text + "\n")
    else:
        json.dump(document_json(doc), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    return 0


def run() -> int:
    """`main()`, quiet when the reader of stdout goes away (`python -m cleaners ... | head`)."""
    try:
        status = main()
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # Python would report the pipe again when it flushes stdout at exit: point stdout at
        # /dev/null first (the recipe of the `signal` module's documentation).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(run())
