"""Reading captures from disk (crawlers.diskinput): every bad input of fault cases 75-81
(tests/faults/CASES.md) becomes a Skip with a reason, never an exception, a hang or a read of
something outside the root."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest

from cleaners.decode import NotText, decode_capture, sniff_capture
from cleaners.model import RawPage
from crawlers.diskinput import DiskReader, MiB, Skip, _Candidate, escape_name, html_url

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
TEXT = (FIXTURES / "captures" / "harbor_release.txt").read_bytes()


def read_all(*paths, **kw):
    reader = DiskReader(**kw)
    items = list(reader.iter_inputs([str(p) for p in paths]))
    return reader, items


def by_name(items):
    out = {}
    for it in items:
        key = it.path if isinstance(it, Skip) else it.source_path
        out[os.path.basename(key)] = it
    return out


def test_fixture_tree_reads_text_and_html(tmp_path):
    reader, items = read_all(FIXTURES / "captures", FIXTURES / "html")
    pages = [i for i in items if isinstance(i, RawPage)]
    assert not [i for i in items if isinstance(i, Skip)]
    assert sorted(p.source_path or "" for p in pages) == [
        "harbor_release.txt",
        "mirror/news/index.html",
        "nested/lantern_statement.txt",
        "saved_canonical.html",
    ]
    txt = next(p for p in pages if p.source_path == "harbor_release.txt")
    assert txt.url is None and txt.final_url is None and txt.status == 200
    assert txt.headers["content-type"] == "text/plain; charset=utf-8"
    assert txt.spider == "ingest" and txt.discovered_via == "file"
    assert txt.body == TEXT
    assert txt.fetched_at.endswith("Z") and len(txt.fetched_at) == 20
    html = next(p for p in pages if p.source_path == "saved_canonical.html")
    assert html.url == "https://www.state.gov/deputy-secretary-meets-civil-society-leaders-on-labor-rights/"
    assert html.meta["url_from"] == "canonical"
    mirror = next(p for p in pages if (p.source_path or "").endswith("index.html"))
    assert mirror.url is None  # no canonical, no --base-url: a file copy
    assert reader.files_seen == 4


def test_base_url_gives_mirror_pages_their_url():
    _, items = read_all(FIXTURES / "html", base_url="https://ca.usembassy.gov")
    mirror = next(i for i in items if i.source_path.endswith("index.html"))
    assert mirror.url == "https://ca.usembassy.gov/mirror/news/"
    assert mirror.meta["url_from"] == "base_url"
    canon = next(i for i in items if i.source_path == "saved_canonical.html")
    assert canon.url.startswith("https://www.state.gov/")  # the page's own claim comes first


def test_html_url_order_and_schemes():
    page = '<link rel="canonical" href="/a/b/"><meta property="og:url" content="https://x.example/og">'
    assert html_url(page, "https://www.state.gov/") == ("https://www.state.gov/a/b/", "canonical")
    assert html_url(page) == ("https://x.example/og", "og:url")
    assert html_url('<link rel=canonical href="javascript:alert(1)">') == (None, "none")
    saved = "<!-- saved from url=(0033)https://mx.usembassy.gov/news-1/ -->\n<html></html>"
    assert html_url(saved) == ("https://mx.usembassy.gov/news-1/", "saved_from")
    assert html_url("<p>x</p>", "file:///etc/", "passwd") == (None, "none")


def test_bad_inputs_are_skipped_with_reasons(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "good.txt").write_bytes(TEXT)
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.html").write_bytes(b" \n\t\n")
    (root / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)
    (root / "doc.html").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    (root / "prog.txt").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(256)))
    (root / "bomb.html").write_bytes(gzip.compress(b"\x00" * (4 * MiB)))
    (root / "noise.txt").write_bytes(bytes(range(1, 32)) * 40)
    with open(root / "huge.txt", "wb") as fh:  # sparse: 2 GB on paper, nothing on disk
        fh.truncate(2 * 1024 * MiB)
    (root / "notes.md").write_text("not a capture")
    os.mkfifo(root / "pipe.txt")
    outside = tmp_path / "outside.txt"
    outside.write_bytes(TEXT)
    os.symlink(outside, root / "escape.txt")
    os.symlink(tmp_path, root / "updir")
    os.symlink(root, root / "self")
    os.symlink("loop_b.txt", root / "loop_a.txt")
    os.symlink("loop_a.txt", root / "loop_b.txt")
    os.symlink("gone.txt", root / "dangling.txt")
    os.symlink("good.txt", root / "alias.txt")
    try:  # a character device (/dev/zero's numbers): reading it would never end
        os.mknod(root / "zero.html", stat.S_IFCHR | 0o600, os.makedev(1, 5))
        device = True
    except (PermissionError, OSError):
        device = False
    sock: socket.socket | None = None
    try:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(root / "sock.html"))
    except OSError:
        sock = None

    started = time.monotonic()
    reader, items = read_all(root)
    assert time.monotonic() - started < 10  # the FIFO was never opened, the sparse file never read
    got = by_name(items)
    reasons = {name: (it.reason, it.failure) for name, it in got.items() if isinstance(it, Skip)}
    assert isinstance(got["good.txt"], RawPage)
    expected = {
        "empty.txt": ("empty", True),
        "blank.html": ("empty", True),
        "image.html": ("binary", True),
        "doc.html": ("binary", True),
        "prog.txt": ("binary", True),
        "bomb.html": ("binary", True),
        "huge.txt": ("too_large", True),
        "notes.md": ("unsupported_type", False),
        "pipe.txt": ("not_regular_file", True),
        "escape.txt": ("outside_root", True),
        "updir": ("symlink_loop", True),
        "self": ("symlink_loop", True),
        "loop_a.txt": ("symlink_loop", True),
        "loop_b.txt": ("symlink_loop", True),
        "dangling.txt": ("broken_symlink", True),
        "alias.txt": ("symlink_inside_root", False),
    }
    if sock is not None:
        expected["sock.html"] = ("not_regular_file", True)
    if device:
        expected["zero.html"] = ("not_regular_file", True)
    for name, want in expected.items():
        assert reasons.get(name) == want, (name, reasons.get(name))
    assert got["image.html"].detail == "png" and got["bomb.html"].detail == "gzip"
    assert got["doc.html"].detail == "pdf" and got["prog.txt"].detail == "elf"
    assert got["noise.txt"].reason in ("undecodable", "binary")
    assert "pipe.txt" in got and "fifo" in got["pipe.txt"].detail
    # Nothing from outside the root was read.
    assert not [
        i for i in items if isinstance(i, RawPage) and i.body == TEXT and "escape" in (i.source_path or "")
    ]
    if sock is not None:
        sock.close()


def test_root_option_refuses_paths_outside(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "other.txt").write_bytes(TEXT)
    (root / "in.txt").write_bytes(TEXT)
    reader, items = read_all(root / ".." / "other.txt", root / "in.txt", root / "missing.txt", root=str(root))
    got = by_name(items)
    assert got["other.txt"].reason == "outside_root"
    assert got["missing.txt"].reason == "not_found"
    assert isinstance(got["in.txt"], RawPage) and got["in.txt"].source_path == "in.txt"


def test_encodings_are_detected_and_recorded(tmp_path):
    text = "Statement on the caf\u00e9 workers\u2019 rights \u2014 a na\u00efve example. " * 20
    files = {
        "utf8.txt": text.encode("utf-8"),
        "bom8.txt": b"\xef\xbb\xbf" + text.encode("utf-8"),
        "bom16.txt": text.encode("utf-16"),
        "le16.txt": text.encode("utf-16-le"),
        "cp1252.txt": text.encode("cp1252"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    _, items = read_all(tmp_path)
    got = by_name(items)
    for name in files:
        page = got[name]
        assert isinstance(page, RawPage), (name, page)
        assert page.body.decode("utf-8") == text, name
    assert got["cp1252.txt"].meta["encoding"] == "cp1252"
    assert got["le16.txt"].meta["encoding"] == "utf-16-le"
    assert got["bom16.txt"].meta["encoding"].startswith("utf-16")


def test_cyrillic_cp1251_is_guessed():
    text = "Посольство США объявляет о новой программе помощи пострадавшим от торговли людьми. " * 10
    decoded = decode_capture(text.encode("cp1251"))
    enc = decoded.encoding
    assert decoded.text == text and enc.replace("_", "").lower() in ("cp1251", "windows1251")


def test_invalid_utf8_and_newline_names_are_escaped_losslessly(tmp_path):
    base = os.fsencode(tmp_path)
    bad = b"caf\xe9 statement.txt"
    nl = b"two\nlines.txt"
    for name in (bad, nl):
        with open(os.path.join(base, name), "wb") as fh:
            fh.write(TEXT)
    _, items = read_all(tmp_path)
    pages = [i for i in items if isinstance(i, RawPage)]
    names = sorted(p.source_path or "" for p in pages)
    assert len(names) == 2
    for shown in names:
        shown.encode("utf-8")  # storable as SQLite text
        assert "\n" not in shown
    assert sorted(unquote_to_bytes(n) for n in names) == sorted([bad, nl])
    assert escape_name("plain/name.txt") == "plain/name.txt"


def test_file_vanishing_or_locked_between_listing_and_reading(tmp_path):
    for n in range(3):
        (tmp_path / f"f{n}.txt").write_bytes(TEXT)
    reader = DiskReader()
    items = []
    gen = reader.iter_inputs([str(tmp_path)])
    items.append(next(gen))  # f0 read; f1 and f2 are already listed
    os.unlink(tmp_path / "f1.txt")
    (tmp_path / "f2.txt").write_bytes(b"")  # truncated after the walk saw its size
    items.extend(gen)
    got = by_name(items)
    assert isinstance(got["f0.txt"], RawPage)
    assert got["f1.txt"].reason == "vanished"
    assert got["f2.txt"].reason == "empty"


def test_file_growing_past_the_cap_while_read(tmp_path):
    path = tmp_path / "grow.txt"
    path.write_bytes(TEXT)
    reader = DiskReader(max_size=len(TEXT) + 10)
    cand = next(reader._walk_arg(str(path)))  # what the walk decided on the small file
    assert isinstance(cand, _Candidate)
    path.write_bytes(TEXT * 3)
    out = list(reader.read(cand))
    assert len(out) == 1 and isinstance(out[0], Skip) and out[0].reason == "too_large"


def test_fifo_swapped_in_after_listing_is_not_opened(tmp_path):
    path = tmp_path / "swap.txt"
    path.write_bytes(TEXT)
    reader = DiskReader()
    cand = next(reader._walk_arg(str(path)))
    assert isinstance(cand, _Candidate)
    path.unlink()
    os.mkfifo(path)
    done = threading.Event()
    result: list[RawPage | Skip] = []

    def go():
        result.extend(reader.read(cand))
        done.set()

    threading.Thread(target=go, daemon=True).start()
    assert done.wait(5), "opening a FIFO blocked"
    assert isinstance(result[0], Skip) and result[0].reason == "not_regular_file"


def test_sniff_capture_lets_text_through():
    assert sniff_capture(TEXT) is None
    assert sniff_capture("text".encode("utf-16")) is None
    assert sniff_capture("text without a byte order mark".encode("utf-16-le")) is None
    assert sniff_capture(b"\x1f\x8b\x08\x00") == "gzip"
    assert sniff_capture(b"abc\x00def" * 10) == "binary"


def test_decode_capture_refuses_what_is_not_text():
    with pytest.raises(NotText) as pdf:
        decode_capture(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    assert pdf.value.kind == "pdf"
    with pytest.raises(NotText) as nul:  # a NUL past the part sniff_capture reads
        decode_capture(b"caf\xe9 " * 3000 + b"\x00")
    assert nul.value.kind == "binary"
    with pytest.raises(NotText) as controls:
        decode_capture(bytes(range(1, 32)) * 40)
    assert controls.value.kind == "control"
    text = "Caf\u00e9 \u2019quoted\u2019 text. " * 20
    plain = decode_capture(text.encode("cp1252"))
    assert plain.text == text and not plain.replaced


def unprivileged(cmd: list[str]) -> list[str]:
    """`cmd` run without the capabilities that let root read mode-000 files."""
    if os.geteuid() != 0:
        return cmd
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("running as root without setpriv: permission checks cannot be exercised")
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all", "--", *cmd]


def test_unreadable_files_and_directories_are_reported(tmp_path):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.txt").write_bytes(TEXT)
    (tmp_path / "secret.txt").write_bytes(TEXT)
    (tmp_path / "ok.txt").write_bytes(TEXT)
    os.chmod(tmp_path / "locked", 0)
    os.chmod(tmp_path / "secret.txt", 0)
    code = (
        "import json, sys\n"
        "from crawlers.diskinput import DiskReader, Skip\n"
        "items = list(DiskReader().iter_inputs([sys.argv[1]]))\n"
        "print(json.dumps([[i.path, i.reason] if isinstance(i, Skip) else [i.source_path, 'page']\n"
        "                  for i in items]))\n"
    )
    try:
        out = subprocess.run(
            unprivileged([sys.executable, "-c", code, str(tmp_path)]),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    finally:
        os.chmod(tmp_path / "locked", stat.S_IRWXU)
        os.chmod(tmp_path / "secret.txt", stat.S_IRUSR | stat.S_IWUSR)
    got = {os.path.basename(p): r for p, r in json.loads(out)}
    assert got == {"locked": "unreadable", "secret.txt": "unreadable", "ok.txt": "page"}
