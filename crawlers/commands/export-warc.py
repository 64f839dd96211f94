"""`scrapy export-warc`: Scrapy names commands after their module; this one carries the dash.

The command itself is `ExportWarc` in `export_warc.py`.
"""

from scrapy.commands import ScrapyCommand

from crawlers.commands.export_warc import ExportWarc


class Command(ExportWarc, ScrapyCommand):
    pass
