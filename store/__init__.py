"""Store: schema, migrations, deduplication and provenance in one SQLite file.

    from store import Store, SaveResult, StoreError, normalise_url
    db = Store("data/dispatches.db")
    res = db.save(doc, raw)          # or store.save(doc, raw, db)

`store.db` holds `Store`, which composes the parts named in its docstring; `store.neardup`
compares texts, `store.schema` holds the tables and migrations, `store.urls` URL identity.
The store is the only package that imports sqlite-utils.
"""

from .connection import StoreError
from .copies import SaveResult
from .db import Store, save
from .runs import CRAWL_STATUSES
from .urls import normalise_url, redact_url, role_for

__all__ = [
    "Store",
    "SaveResult",
    "StoreError",
    "normalise_url",
    "redact_url",
    "role_for",
    "save",
    "CRAWL_STATUSES",
]
