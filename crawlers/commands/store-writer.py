"""`scrapy store-writer`: Scrapy names commands after their module; this one carries the dash.

The command itself is `StoreWriterCommand` in `store_writer.py`.
"""

from scrapy.commands import ScrapyCommand

from crawlers.commands.store_writer import StoreWriterCommand


class Command(StoreWriterCommand, ScrapyCommand):
    pass
