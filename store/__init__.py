"""Store: schema, migrations, deduplication and provenance in one SQLite file (the only user of sqlite-utils).

    from store import Store, SaveResult, StoreError, normalise_url
    db = Store("data/dispatches.db")
    res = db.save(doc, raw)          # or store.save(doc, raw, db)

See `store.db` for the identity cascade, `store.neardup` for the near-duplicate index,
`store.schema` for the tables and migrations, `store.urls` for URL identity.
"""

from .db import CRAWL_STATUSES, SaveResult, Store, StoreError, save
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
