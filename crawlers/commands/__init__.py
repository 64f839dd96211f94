"""Dispatches' project commands (Scrapy `COMMANDS_MODULE`): one module per command.

`crawl` (Scrapy's, with the run lock, one-line argument errors and an exit status taken from
the run's `crawls` row), `demo`, `ingest`, `reprocess`, `export-warc`, `browse`, and for
distributed crawls `store-writer` and `job-status`.
"""
