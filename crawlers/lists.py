"""Comma lists: the one parser for list-valued settings and spider arguments."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["comma_list"]


def comma_list(value: str | Iterable[object] | None) -> list[str]:
    """ "a, b,,c" or ["a", " b"] -> ["a", "b", "c"]: items stripped, empty ones dropped.

    Scrapy hands a list setting over as given: a string from `-s NAME=a,b` or the environment,
    a list from `settings.py`; spider arguments (`-a hosts=a,b`) are always strings.
    """
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [s for s in (str(v).strip() for v in items) if s]
