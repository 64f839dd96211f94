"""Datasette plugin shipped with Dispatches: the data behind the reading pages.

Loaded by `scrapy browse` (or `datasette ... --plugins-dir store/plugins`) together with the
templates in `store/templates/`. It owns three things:

- template variables: the start page (search, the questions, the tables with their titles) and a
  statement's page (its copies and versions, read through the canned queries `statement_copies`
  and `statement_versions` of `store/metadata.yml`, so the page and the CSV/JSON say the same);
- cells of query results: a statement's title links to the statement, and a copy's "what it
  changed" links to the comparison page;
- the comparison page `/-/compare/DB/copy/ID` (a copy against the official text) and
  `/-/compare/DB/version/ID` (a version against the one before it), word by word.

Every query here is a read; the SQL of the questions lives in the metadata, not here. Datasette
registers a plugin for the whole process, so every hook checks that the database is a Dispatches
database (it has `articles` and `copies`) before it changes anything.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

# Questions that need one statement's number: reached from a statement's page, not the start page.
PER_STATEMENT_QUERIES = ("statement_copies", "statement_versions")
# Canned-query columns that name a statement: shown as a link to the statement's page.
TITLE_COLUMNS = ("title", "statement", "article_title")
# Word-level comparison of two very long texts is quadratic; beyond this many words per changed
# block, the block is shown as removed and added whole.
MAX_WORDS_PER_BLOCK = 4000


async def is_dispatches(datasette, database: str | None) -> bool:
    """True when `database` is a Dispatches database (the pages below make no sense elsewhere)."""
    if not database or database not in datasette.databases:
        return False
    names = set(await datasette.get_database(database).table_names())
    return {"articles", "copies"} <= names


# --- template variables ---------------------------------------------------------------------


@hookimpl
def extra_template_vars(template, database, table, columns, view_name, request, datasette):
    async def variables() -> dict[str, Any]:
        if view_name == "index":
            names = [name for name in datasette.databases if name != "_internal"]
            if len(names) == 1 and await is_dispatches(datasette, names[0]):
                return {"dispatches_start": await start_page(datasette, names[0], request)}
            return {}
        if not await is_dispatches(datasette, database):
            return {}
        if view_name == "database":
            return {"dispatches_start": await start_page(datasette, database, request)}
        if view_name == "row" and table == "articles" and request is not None:
            return {"dispatches_statement": await statement_page(datasette, database, request)}
        if view_name == "table" and table == "articles":
            # `?_all_columns=1` asks for Datasette's own table with every column and filter
            return {"dispatches_statements": request is None or not request.args.get("_all_columns")}
        return {}

    return variables


async def start_page(datasette, database: str, request) -> dict[str, Any]:
    """What the start page shows: the database's title, the questions and the visible tables."""
    actor = request.actor if request is not None else None
    # the database's own block: `metadata(database=...)` would let the top-level keys win
    meta = (datasette.metadata("databases") or {}).get(database) or {}
    table_meta = meta.get("tables") or {}
    queries = await datasette.get_canned_queries(database, actor)
    questions = [
        {
            "name": name,
            "title": query.get("title") or name,
            "description": query.get("description") or "",
        }
        for name, query in queries.items()
        if name not in PER_STATEMENT_QUERIES
    ]
    db = datasette.get_database(database)
    counts = await db.table_counts(limit=10)
    tables = []
    for name in list(await db.table_names()) + list(await db.view_names()):
        config = table_meta.get(name) or {}
        if config.get("hidden") or name.startswith(("articles_fts", "sqlite_")) or not config:
            continue
        tables.append(
            {
                "name": name,
                "title": config.get("title") or name,
                "description": config.get("description") or "",
                "count": counts.get(name),
            }
        )
    return {
        "database": database,
        "title": meta.get("title") or database,
        "description": meta.get("description") or "",
        "statements": counts.get("articles"),
        "copies": counts.get("copies"),
        "questions": questions,
        "tables": tables,
    }


async def statement_page(datasette, database: str, request) -> dict[str, Any]:
    """A statement's copies and versions, through the canned queries that list them."""
    pks = request.url_vars.get("pks", "")
    article_id = tilde_decode(pks.split(",")[0]) if pks else ""
    out: dict[str, Any] = {"article_id": article_id}
    for key, name in (("copies", "statement_copies"), ("versions", "statement_versions")):
        query = await datasette.get_canned_query(database, name, request.actor)
        if query is None:
            out[key] = None  # the metadata in use does not ship the query: say so on the page
            continue
        result = await datasette.get_database(database).execute(query["sql"], {"article_id": article_id})
        out[key] = [dict(row) for row in result.rows]
    db = tilde_encode(database)
    for row in out["copies"] or []:
        if row.get("what_it_changed") not in (None, "nothing"):
            row["compare_url"] = datasette.urls.path(f"/-/compare/{db}/copy/{row['copy_id']}")
    for i, row in enumerate(out["versions"] or []):
        if i:
            row["compare_url"] = datasette.urls.path(f"/-/compare/{db}/version/{row['version_id']}")
    return out


# --- cells of query results -----------------------------------------------------------------


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    # Tables have Datasette's own links (labels of foreign keys); only query results get these.
    if table is not None or value is None or database not in datasette.databases:
        return None
    keys = row.keys()
    if column in TITLE_COLUMNS and "article_id" in keys and row["article_id"] is not None:
        href = datasette.urls.row(database, "articles", str(row["article_id"]))
        return Markup(f'<a href="{escape(href)}">{escape(value)}</a>')
    if column == "what_it_changed" and value != "nothing" and "copy_id" in keys:
        href = datasette.urls.path(f"/-/compare/{tilde_encode(database)}/copy/{row['copy_id']}")
        return Markup(f'<a href="{escape(href)}">{escape(value)}</a>')
    return None


# --- the comparison page --------------------------------------------------------------------


@hookimpl
def register_routes():
    return [(r"^/-/compare/(?P<database>[^/]+)/(?P<kind>copy|version)/(?P<id>[0-9]+)$", compare_view)]


async def compare_view(datasette, request):
    database = tilde_decode(request.url_vars["database"])
    kind, item = request.url_vars["kind"], int(request.url_vars["id"])
    if not await is_dispatches(datasette, database):
        raise NotFound("No such Dispatches database")
    visible, _ = await datasette.check_visibility(
        request.actor, permissions=[("view-database", database), "view-instance"]
    )
    if not visible:
        raise NotFound("No such Dispatches database")
    db = datasette.get_database(database)
    if kind == "copy":
        found = await db.execute(
            "select c.id, c.article_id, c.url, c.site, a.title, a.canonical_url,"
            " a.text as before_text, t.text as after_text"
            " from copies c join articles a on a.id = c.article_id"
            " left join texts t on t.sha256 = c.text_sha256 where c.id = ?",
            [item],
        )
        labels = ("the official text", "this copy")
    else:
        found = await db.execute(
            "select v.id, v.article_id, v.url, v.title, v.seen_at,"
            " (select p.text from versions p where p.article_id = v.article_id"
            "   and (p.seen_at < v.seen_at or (p.seen_at = v.seen_at and p.id < v.id))"
            "   order by p.seen_at desc, p.id desc limit 1) as before_text,"
            " v.text as after_text"
            " from versions v where v.id = ?",
            [item],
        )
        labels = ("the text before", "this version")
    row = found.first()
    if row is None:
        raise NotFound(f"No {kind} {item}")
    record = dict(row)
    before, after = record["before_text"] or "", record["after_text"] or ""
    paragraphs, removed, added = compare_texts(before, after)
    html = await datasette.render_template(
        "dispatches_compare.html",
        {
            "database": database,
            "kind": kind,
            "record": record,
            "labels": labels,
            "paragraphs": paragraphs,
            "removed": removed,
            "added": added,
            "words_before": len(before.split()),
            "words_after": len(after.split()),
            "statement_url": datasette.urls.row(database, "articles", str(record["article_id"])),
        },
        request=request,
        view_name="dispatches_compare",
    )
    return Response.html(html)


def split_paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def compare_texts(before: str, after: str) -> tuple[list[list[tuple[str, str]]], int, int]:
    """`after` against `before`, paragraph by paragraph and, inside changed ones, word by word.

    Returns:
        The paragraphs of the comparison, each a list of (kind, text) runs where kind is
        "same", "removed" or "added"; and the number of words removed and added.
    """
    old, new = split_paragraphs(before), split_paragraphs(after)
    out: list[list[tuple[str, str]]] = []
    removed = added = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend([[("same", p)] for p in old[i1:i2]])
            continue
        a, b = _words(old[i1:i2]), _words(new[j1:j2])
        if len(a) > MAX_WORDS_PER_BLOCK or len(b) > MAX_WORDS_PER_BLOCK:
            runs = [("removed", w) for w in a] + [("added", w) for w in b]
        else:
            runs = []
            for wop, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
                if wop == "equal":
                    runs += [("same", w) for w in a[a1:a2]]
                    continue
                runs += [("removed", w) for w in a[a1:a2]]
                runs += [("added", w) for w in b[b1:b2]]
        removed += sum(1 for kind, w in runs if kind == "removed" and w.strip())
        added += sum(1 for kind, w in runs if kind == "added" and w.strip())
        out.extend(_paragraph_runs(runs))
    return out, removed, added


def _words(paragraphs: list[str]) -> list[str]:
    """The words of `paragraphs`, with a "\\n" word between two paragraphs."""
    words: list[str] = []
    for paragraph in paragraphs:
        if words:
            words.append("\n")
        words.extend(paragraph.split())
    return words


def _paragraph_runs(words: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Words tagged same/removed/added -> paragraphs of merged runs (the "\\n" words split them)."""
    paragraphs: list[list[tuple[str, str]]] = [[]]
    for kind, word in words:
        if word == "\n":
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        runs = paragraphs[-1]
        if runs and runs[-1][0] == kind:
            runs[-1] = (kind, runs[-1][1] + " " + word)
        else:
            runs.append((kind, word))
    return [p for p in paragraphs if p]
