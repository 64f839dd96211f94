"""Spider arguments checked before a crawl starts: names, empty values, dates, limits.

Scrapy sets every `-a name=value` it does not recognise as a spider attribute, so a typo
(`-a sinse=2024-01-01`) would silently run a full, unfiltered crawl. `CheckedArguments` knows the
arguments a spider takes from the named parameters of its `__init__` chain and refuses any
other, naming the closest one it does take.
"""

from __future__ import annotations

import difflib
import inspect
from datetime import date

__all__ = ["ArgumentError", "CheckedArguments", "parse_day", "parse_limit", "parse_window"]


class ArgumentError(ValueError):
    """A spider argument that cannot be used; the message is one line for the user."""


def parse_day(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ArgumentError(f"-a {name}={value!r}: expected a date like 2024-01-31") from None


def parse_window(since, until) -> tuple[date | None, date | None]:
    """`-a since` and `-a until` as days (None when not given); since may not be after until."""
    first, last = parse_day(since, "since"), parse_day(until, "until")
    if first and last and first > last:
        raise ArgumentError(f"-a since={first} is after -a until={last}")
    return first, last


def parse_limit(value) -> int | None:
    """`-a limit=N` as a whole number >= 0; None when it is not given."""
    if value in (None, ""):
        return None
    try:
        limit = int(value)
    except ValueError:
        raise ArgumentError(f"-a limit={value!r}: expected a whole number") from None
    if limit < 0:
        raise ArgumentError(f"-a limit={value!r}: expected a whole number >= 0")
    return limit


class CheckedArguments:
    """Mixin of `DispatchesSpider`: what its `-a` arguments may be."""

    name: str

    #: `-a` names Scrapy or Scrapyd pass to every spider (Scrapyd's job id)
    runner_arguments: tuple[str, ...] = ("_job",)

    @classmethod
    def arguments(cls) -> list[str]:
        """The `-a` arguments this spider takes: the named parameters of its `__init__` chain."""
        names: list[str] = []
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None or not issubclass(klass, CheckedArguments):
                continue
            for param in inspect.signature(init).parameters.values():
                if param.kind is param.POSITIONAL_OR_KEYWORD and param.name != "self":
                    if param.name not in names:
                        names.append(param.name)
        return names

    def check_names(self, unknown: dict) -> None:
        """ArgumentError naming the first `-a` this spider does not take and the closest it does.

        `unknown` holds what no `__init__` of the chain took by name; Scrapy would otherwise
        set each as an attribute and run a full, unfiltered crawl.
        """
        for name in sorted(set(unknown) - set(self.runner_arguments)):
            known = self.arguments()
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean -a {close[0]}? It" if close else "it"
            raise ArgumentError(
                f"-a {name}: {self.name} takes no such argument; {hint} takes {', '.join(known)}"
            )

    @classmethod
    def check_values(cls, args: dict) -> None:
        """An empty `-a name=` is an error: dropping the filter it names would widen the crawl."""
        for name, value in args.items():
            if isinstance(value, str) and not value.strip() and name not in cls.runner_arguments:
                raise ArgumentError(
                    f"-a {name}= is empty; give it a value or leave it out "
                    "(an empty value would not narrow the crawl)"
                )

    @classmethod
    def check_args(cls, args: dict) -> None:
        """Validate `-a` arguments without starting a crawl (raises ArgumentError)."""
        cls.check_values(args)
        cls(**args)
