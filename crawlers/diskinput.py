"""Captures on disk -> `RawPage`s, for `scrapy ingest`.

Owns which files are read and how: only regular files, only inside the ingest root, never
through a symlinked directory, size checked with `stat` before a byte is read, binary payloads
recognised by their magic bytes, text decoded with a recorded encoding, and the URL of a saved
HTML page found in the page itself. Everything that cannot be read becomes a `Skip` with a
short reason instead of an exception, so one bad file never stops a run.

Leaves WARC record parsing to `crawlers.warc`, cleaning to `cleaners` and saving to `store`.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urljoin, urlsplit

from cleaners.decode import NotText, decode_capture, sniff_capture
from cleaners.model import RawPage, utc_timestamp
from crawlers.capture import Skip

__all__ = [
    "MiB",
    "DiskReader",
    "Skip",
    "display_path",
    "escape_name",
    "html_url",
]

MiB = 1024 * 1024

TEXT_EXTS = (".txt", ".text")
HTML_EXTS = (".html", ".htm", ".xhtml", ".shtml")
WARC_EXTS = (".warc", ".warc.gz", ".arc", ".arc.gz")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(slots=True)
class _Candidate:
    real: str  # resolved path that is opened
    rel: str  # path relative to the ingest root, as listed (lossless escaped form)
    shown: str  # path for messages
    kind: str  # "text", "html", "warc"
    st: os.stat_result = field(repr=False, default=None)  # type: ignore[assignment]


def _name_is_clean(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped bytes that were not UTF-8
        return False
    return not _CONTROL.search(name) and "\n" not in name and "\r" not in name


def escape_name(name: str) -> str:
    """A lossless, printable, UTF-8-safe form of a file name or relative path.

    Clean names are returned as they are; a name with bytes that are not UTF-8 (or with
    newlines/control characters) is percent-encoded as a whole, so `unquote_to_bytes` gives
    the original bytes back and SQLite never sees a lone surrogate.
    """
    if _name_is_clean(name):
        return name
    raw = os.fsencode(name)
    return quote(raw, safe="/!$&'()*+,;=:@-._~ ")


def display_path(path: str) -> str:
    """The path as it may appear in logs and the events table (escaped, one line)."""
    return escape_name(path)


_CANONICAL_RES = (
    re.compile(r"""<link\b[^>]*\brel\s*=\s*["']?canonical\b[^>]*>""", re.I),
    re.compile(r"""<meta\b[^>]*\bproperty\s*=\s*["']?og:url\b[^>]*>""", re.I),
)
_HREF = re.compile(r"""\b(?:href|content)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->", re.I)


def html_url(text: str, base_url: str | None = None, rel: str | None = None) -> tuple[str | None, str]:
    """The URL a saved HTML page names for itself.

    Order: `rel=canonical`, `og:url`, the browser's "saved from url" comment, then `base_url`
    joined with the file's relative path (a mirror: `dir/index.html` -> `base_url/dir/`).
    Only absolute http(s) URLs count; relative ones resolve against `base_url` when given.

    Returns:
        (url or None, how it was found: "canonical", "og:url", "saved_from", "base_url", "none")
    """
    head = text[:200_000]  # the head of any real page; bounds regex work on odd files
    for how, pattern in zip(("canonical", "og:url"), _CANONICAL_RES, strict=True):
        for tag in pattern.finditer(head):
            m = _HREF.search(tag.group(0))
            if not m:
                continue
            value = next(g for g in m.groups() if g is not None).strip()
            url = _absolute(value, base_url)
            if url:
                return url, how
    m = _SAVED_FROM.search(head)
    if m:
        url = _absolute(m.group(1), None)
        if url:
            return url, "saved_from"
    if base_url and rel is not None:
        path = rel.replace(os.sep, "/")
        if path.endswith(("/index.html", "/index.htm")) or path in ("index.html", "index.htm"):
            path = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
        url = _absolute(quote(path, safe="/!$&'()*+,;=:@-._~%"), base_url.rstrip("/") + "/")
        if url:
            return url, "base_url"
    return None, "none"


def _absolute(value: str, base: str | None) -> str | None:
    import html

    value = html.unescape(value).strip()
    if not value:
        return None
    if base:
        value = urljoin(base, value)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return value


class DiskReader:
    """Walks ingest arguments and yields `RawPage`s and `Skip`s, never raising for bad input.

    Args:
        max_size: files (and WARC record payloads) larger than this are skipped "too_large";
            checked with stat before reading, and again while reading.
        base_url: URL prefix for saved HTML that names no URL of its own.
        root: when given, every argument must resolve inside it ("outside_root" otherwise)
            and relative paths are taken from it.
    """

    def __init__(self, *, max_size: int = 10 * MiB, base_url: str | None = None, root: str | None = None):
        self.max_size = max_size
        self.base_url = base_url
        self.root = os.path.realpath(root) if root else None
        self.files_seen = 0

    # --- walking -------------------------------------------------------------------------
    def iter_inputs(self, paths: Iterable[str]) -> Iterator[RawPage | Skip]:
        """Every RawPage and Skip from the given files and folders, in a stable order."""
        for arg in paths:
            for item in self._walk_arg(arg):
                if isinstance(item, Skip):
                    yield item
                else:
                    yield from self.read(item)

    def _walk_arg(self, arg: str) -> Iterator[_Candidate | Skip]:
        shown = display_path(arg)
        try:
            real = os.path.realpath(arg, strict=True)
        except OSError as exc:
            self.files_seen += 1
            yield _oserror_skip(shown, exc, missing="not_found")
            return
        if self.root and not _inside(real, self.root):
            self.files_seen += 1
            yield Skip(shown, "outside_root", f"resolves to {display_path(real)}")
            return
        if os.path.isdir(real):
            yield from self._walk_dir(real, self.root or real)
            return
        self.files_seen += 1
        root = self.root or os.path.dirname(os.path.abspath(arg))
        rel = os.path.relpath(real if self.root else os.path.abspath(arg), root)
        yield from self._candidate(real, rel, root, shown)

    def _walk_dir(self, top: str, root: str) -> Iterator[_Candidate | Skip]:
        errors: list[OSError] = []
        # os.walk never descends into symlinked directories (followlinks=False): no loops.
        for dirpath, dirnames, filenames in os.walk(top, onerror=errors.append):
            while errors:
                exc = errors.pop()
                self.files_seen += 1
                yield _oserror_skip(display_path(exc.filename or dirpath), exc)
            dirnames.sort()
            for name in list(dirnames):
                path = os.path.join(dirpath, name)
                if os.path.islink(path):
                    dirnames.remove(name)
                    self.files_seen += 1
                    yield _symlink_skip(path, root)
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                self.files_seen += 1
                if os.path.islink(path):
                    yield _symlink_skip(path, root)
                    continue
                yield from self._candidate(path, os.path.relpath(path, root), root, display_path(path))
        while errors:
            exc = errors.pop()
            self.files_seen += 1
            yield _oserror_skip(display_path(exc.filename or top), exc)

    def _candidate(self, real: str, rel: str, root: str, shown: str) -> Iterator[_Candidate | Skip]:
        kind = _kind(real)
        if kind is None:
            yield Skip(shown, "unsupported_type", os.path.splitext(real)[1] or "no extension", failure=False)
            return
        try:
            st = os.lstat(real)
        except OSError as exc:
            yield _oserror_skip(shown, exc)
            return
        if not stat.S_ISREG(st.st_mode):
            yield Skip(shown, "not_regular_file", _file_type(st.st_mode))
            return
        if kind != "warc":
            if st.st_size > self.max_size:
                yield Skip(shown, "too_large", f"{_mib(st.st_size)} > {_mib(self.max_size)}")
                return
        if st.st_size == 0:
            yield Skip(shown, "empty")
            return
        yield _Candidate(real=real, rel=escape_name(rel), shown=shown, kind=kind, st=st)

    # --- reading -------------------------------------------------------------------------
    def read(self, cand: _Candidate) -> Iterator[RawPage | Skip]:
        """The RawPage(s) of one checked file, or Skips."""
        try:
            fd = os.open(cand.real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            yield _oserror_skip(cand.shown, exc)
            return
        fh = os.fdopen(fd, "rb")
        with fh:
            st = os.fstat(fd)
            # The file may have been swapped for a FIFO, a link or a bigger file since the walk.
            if not stat.S_ISREG(st.st_mode):
                yield Skip(cand.shown, "not_regular_file", _file_type(st.st_mode))
                return
            if cand.kind == "warc":
                from crawlers.warc import iter_warc

                yield from iter_warc(fh, name=cand.rel, shown=cand.shown, max_size=self.max_size)
                return
            try:
                data = fh.read(self.max_size + 1)
            except OSError as exc:
                yield _oserror_skip(cand.shown, exc)
                return
        if len(data) > self.max_size:
            yield Skip(cand.shown, "too_large", f"grew past {_mib(self.max_size)} while reading")
            return
        if not data.strip():
            yield Skip(cand.shown, "empty", "no bytes" if not data else "whitespace only")
            return
        kind = sniff_capture(data)
        if kind:
            yield Skip(cand.shown, "binary", kind)
            return
        fetched_at = utc_timestamp(datetime.fromtimestamp(st.st_mtime, UTC))
        if cand.kind == "text":
            yield from self._text_page(cand, data, fetched_at)
        else:
            yield from self._html_page(cand, data, fetched_at)

    def _text_page(self, cand: _Candidate, data: bytes, fetched_at: str) -> Iterator[RawPage | Skip]:
        try:
            decoded = decode_capture(data)  # binary was skipped already: NotText here is noise
        except (UnicodeError, LookupError) as exc:
            yield Skip(cand.shown, "undecodable", str(exc)[:200])
            return
        text, encoding = decoded.text, decoded.encoding
        text = text.replace("\x00", "")
        if not text.strip():
            yield Skip(cand.shown, "empty", "whitespace only")
            return
        # Stored transcoded to UTF-8: one decoding, the same for the cleaner now and reprocess later.
        yield RawPage(
            url=None,
            final_url=None,
            status=200,
            headers={"content-type": "text/plain; charset=utf-8"},
            body=text.encode("utf-8", "replace"),  # a lone surrogate becomes "?"
            fetched_at=fetched_at,
            spider="ingest",
            discovered_via="file",
            source_path=cand.rel,
            meta={"encoding": encoding, "file_size": len(data)},
        )

    def _html_page(self, cand: _Candidate, data: bytes, fetched_at: str) -> Iterator[RawPage | Skip]:
        from w3lib.encoding import html_to_unicode

        # The bytes' own encoding, for a page that declares none (no BOM, no <meta charset>).
        try:
            guessed: str | None = decode_capture(data).encoding
        except NotText as exc:
            yield Skip(cand.shown, "binary", str(exc)[:200])
            return
        except (UnicodeError, LookupError):
            guessed = None
        try:
            encoding, text = html_to_unicode(None, data, auto_detect_fun=lambda _: guessed)
        except (UnicodeError, LookupError) as exc:  # an unknown codec name that w3lib let through
            yield Skip(cand.shown, "undecodable", str(exc)[:200])
            return
        url, how = html_url(text, self.base_url, cand.rel)
        yield RawPage(
            url=url,
            final_url=url,
            status=200,
            headers={"content-type": f"text/html; charset={encoding}"},
            body=data,
            fetched_at=fetched_at,
            spider="ingest",
            discovered_via="file",
            source_path=cand.rel,
            meta={"encoding": encoding, "url_from": how, "file_size": len(data)},
        )


def _kind(path: str) -> str | None:
    low = path.lower()
    if low.endswith(WARC_EXTS):
        return "warc"
    if low.endswith(HTML_EXTS):
        return "html"
    if low.endswith(TEXT_EXTS):
        return "text"
    return None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _symlink_skip(path: str, root: str) -> Skip:
    """Symlinks met during a walk are never followed; say what they would have led to."""
    shown = display_path(path)
    try:
        target = os.path.realpath(path, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Skip(shown, "symlink_loop", "link chain never ends")
        return Skip(shown, "broken_symlink", display_path(os.readlink(path)) if os.path.islink(path) else "")
    parent = os.path.realpath(os.path.dirname(path))
    if os.path.isdir(target) and _inside(parent, target):
        return Skip(shown, "symlink_loop", f"points to its ancestor {display_path(target)}")
    if not _inside(target, os.path.realpath(root)):
        return Skip(shown, "outside_root", f"points to {display_path(target)}")
    # Inside the root the target is walked under its own name anyway.
    return Skip(
        shown, "symlink_inside_root", f"read as {display_path(os.path.relpath(target, root))}", failure=False
    )


def _oserror_skip(shown: str, exc: OSError, missing: str = "vanished") -> Skip:
    code = exc.errno
    if code == errno.ENOENT:
        return Skip(shown, missing, "no such file")
    if code in (errno.EACCES, errno.EPERM):
        return Skip(shown, "unreadable", "permission denied")
    if code == errno.ELOOP:
        return Skip(shown, "symlink_loop", "too many levels of symbolic links")
    if code == errno.EISDIR:
        return Skip(shown, "not_regular_file", "directory")
    return Skip(shown, "read_error", exc.strerror or type(exc).__name__)


def _file_type(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISDIR, "directory"),
        (stat.S_ISLNK, "symlink"),
    ):
        if test(mode):
            return name
    return "special file"


def _mib(n: int) -> str:
    return f"{n / MiB:.1f} MiB"
