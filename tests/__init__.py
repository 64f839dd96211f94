"""The test suite of Dispatches, a package so that its helpers import by their full names.

`tests.fixtures.web` (the loopback fixture web) is also used by `scrapy demo` and bench/;
`tests.faults` holds the fault suite and its servers.
"""
