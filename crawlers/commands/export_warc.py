"""`scrapy export-warc OUT.warc.gz`: the stored raw pages as a WARC/1.1 file for archives.

Scrapy names a command after its module, and a module name with a dash cannot be written as
an import statement, so the command body lives here as `ExportWarc` and the two-line module
`export-warc.py` next to it turns it into the `export-warc` command (a plain `Command` class
here would also register an `export_warc` twin in `scrapy -h`).

Owns choosing the pages (`--site`, `--since`), writing atomically (a temporary file renamed
into place, so a failed export never leaves half a WARC under the final name) and the
summary. Record layout is `crawlers.warc.write_warc`'s; the pages come from `Store.raw_pages`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

from scrapy.exceptions import UsageError

from crawlers.commands._common import (
    EX_TEMPFAIL,
    add_page_options,
    check_since,
    check_site,
    existing_database,
    one_line_errors,
    open_store,
    reject_unknown_options,
    unwritable,
)


class ExportWarc:
    """The body of `scrapy export-warc` (mixed with ScrapyCommand in `export-warc.py`)."""

    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options] OUT.warc.gz"

    def short_desc(self) -> str:
        return "Write stored raw pages as a WARC/1.1 file (readable by warcio and scrapy ingest)"

    def long_desc(self) -> str:
        return (
            "Write the raw pages kept in the database (DISPATCHES_KEEP_RAW) as WARC/1.1: a warcinfo "
            "record, then one response record per page with its original URL, fetch date, status "
            "and headers, and WARC-Payload-Digest; captures read from files without a URL become "
            "resource records at urn:dispatches:file:PATH. OUT ending in .gz is gzipped per record. "
            "The file appears only when complete. Exit status 0 written, 1 failed, 2 bad usage, "
            "75 the database is locked by another process."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)  # type: ignore[misc]
        one_line_errors(parser, "export-warc")
        group = parser.add_argument_group("Export")
        group.add_argument("--db", metavar="PATH", help="SQLite database (default DISPATCHES_DB)")
        add_page_options(group)
        group.add_argument("--force", action="store_true", help="replace OUT if it exists")
        group.add_argument("--json", action="store_true", help="print what was written as JSON on stdout")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        from crawlers.warc import write_warc

        paths = reject_unknown_options(args)
        if len(paths) != 1:
            raise UsageError("give exactly one output file, e.g. export.warc.gz")
        out = paths[0]
        since = check_since(opts.since)
        site = check_site(opts.site)
        if os.path.isdir(out):
            raise UsageError(f"{out} is a directory; give a file name", print_help=False)
        if os.path.lexists(out) and not opts.force:
            raise UsageError(f"{out} exists; use --force to replace it", print_help=False)
        db_path = existing_database(self.settings, opts)  # type: ignore[attr-defined]
        if db_path is None:
            self.exitcode = 1
            return
        from store import StoreError
        from store.connection import is_locked

        out_dir = os.path.dirname(os.path.abspath(out))
        why = unwritable(db_path)
        if why:  # SQLite writes next to the database even to read it (its -shm index)
            sys.stderr.write(f"dispatches: cannot open the database for export: {why}\n")
            self.exitcode = 1
            return
        if not os.access(out_dir, os.W_OK | os.X_OK):
            sys.stderr.write(
                f"dispatches: cannot write {out}: {out_dir} is not writable; nothing was changed\n"
            )
            self.exitcode = 1
            return
        tmp = None
        try:
            db = open_store(self.settings, db_path)  # type: ignore[attr-defined]
            try:
                fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".warc.part", dir=out_dir)
                with os.fdopen(fd, "wb") as fh:
                    n = write_warc(
                        fh,
                        # Pages a URL held before another statement replaced it are history too.
                        db.raw_pages(site=site, since=since, include_superseded=True),
                        filename=os.path.basename(out),
                        gzip=out.endswith(".gz"),
                        info={"dispatches-site": site or "", "dispatches-since": since or ""},
                    )
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o644)
                os.replace(tmp, out)
                tmp = None
            finally:
                db.close()
        except StoreError as exc:
            sys.stderr.write(f"dispatches: {exc}\n")
            self.exitcode = EX_TEMPFAIL if exc.__cause__ is not None and is_locked(exc.__cause__) else 1
            return
        except OSError as exc:
            sys.stderr.write(f"dispatches: cannot write {out}: {exc.strerror or exc}\n")
            self.exitcode = 1
            return
        finally:
            if tmp and os.path.exists(tmp):
                os.unlink(tmp)
        if opts.json:
            sys.stdout.write(json.dumps({"path": out, "records": n, "site": site, "since": since}) + "\n")
        else:
            sys.stderr.write(
                f"Wrote {n} page records to {out}" + (" (no raw pages matched)" if n == 0 else "") + "\n"
            )
        self.exitcode = 0
