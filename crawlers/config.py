"""How the crawl side reads Dispatches' settings: one list parser and the derived settings.

The defaults of every ``DISPATCHES_*`` setting, and the rule that the environment overrides a
default while ``-s NAME=value`` overrides both, live in ``crawlers/settings.py``. Components
read the resulting values through Scrapy's ``Settings`` object in ``from_crawler`` (``getint``,
``getfloat``, ``getbool``, ``get``) and comma lists through ``setting_list`` below, so a value
given with ``-s``, in the environment or as a Python list in ``settings.py`` reads the same.

``DerivedSettings`` is a Scrapy add-on for the settings computed from others (the User-Agent
from ``DISPATCHES_CONTACT``): an add-on sees the final settings of a crawl, ``-s`` included,
which ``settings.py`` cannot, since it is imported before the command line is applied.

``database_path`` is where every command finds the database: a relative ``DISPATCHES_DB``
means the same file from any folder of the checkout.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

__all__ = ["DerivedSettings", "comma_list", "database_path", "project_root", "setting_list", "user_agent"]

PRODUCT = "Dispatches/0.1"


def comma_list(value: str | Iterable[object] | None) -> list[str]:
    """Items of a comma-separated text or of a list, stripped, empty items dropped.

    ``"a, b,"``, ``"a,b"`` and ``["a", " b", ""]`` all give ``["a", "b"]``; None gives ``[]``.
    """
    if value is None:
        return []
    items: Iterable[object] = value.split(",") if isinstance(value, str) else value
    return [text for text in (str(item).strip() for item in items) if text]


def setting_list(settings: BaseSettings, name: str) -> list[str]:
    """The setting ``name`` as a list of strings (see ``comma_list``)."""
    return comma_list(settings.get(name))


def project_root() -> str | None:
    """The folder of the nearest ``scrapy.cfg`` above the working directory, or None."""
    from scrapy.utils.conf import closest_scrapy_cfg

    cfg = closest_scrapy_cfg()
    return os.path.dirname(cfg) if cfg else None


def database_path(settings: BaseSettings, given: str | None = None) -> str:
    """The database a command uses: ``given`` (``--db``, relative to the working directory as
    a shell path is) or else ``DISPATCHES_DB``, whose relative path is taken from the project
    root (the folder of ``scrapy.cfg``), so a run from a subfolder uses the same file.
    Outside a project (a Scrapyd egg) a relative ``DISPATCHES_DB`` stays relative.
    """
    if given:
        return os.path.abspath(given)
    path = str(settings.get("DISPATCHES_DB") or "")
    if not path or path == ":memory:" or os.path.isabs(path):
        return path
    root = project_root()
    return os.path.join(root, path) if root else path


def user_agent(contact: str) -> str:
    """The User-Agent that names the project and who to tell when the crawler misbehaves."""
    return f"{PRODUCT} (+{contact}; statement archive for researchers)"


class DerivedSettings:
    """Scrapy add-on: sets the settings computed from other settings, from their final values.

    * ``USER_AGENT`` names ``DISPATCHES_CONTACT``, so ``-s DISPATCHES_CONTACT=...`` changes it;
    * ``MEMUSAGE_WARNING_MB`` is half of ``MEMUSAGE_LIMIT_MB``.

    Both are set at the add-on priority, which is above Scrapy's defaults and below
    ``settings.py``, the spider and ``-s``: a ``USER_AGENT`` or ``MEMUSAGE_WARNING_MB`` given
    explicitly in any of those wins.
    """

    def update_settings(self, settings: BaseSettings) -> None:
        contact = settings.get("DISPATCHES_CONTACT")
        if contact:
            settings.set("USER_AGENT", user_agent(str(contact)), priority="addon")
        settings.set("MEMUSAGE_WARNING_MB", settings.getint("MEMUSAGE_LIMIT_MB") // 2, priority="addon")
