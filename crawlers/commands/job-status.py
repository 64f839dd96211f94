"""`scrapy job-status`: Scrapy names commands after their module; this one carries the dash.

The command itself is `JobStatusCommand` in `job_status.py`.
"""

from scrapy.commands import ScrapyCommand

from crawlers.commands.job_status import JobStatusCommand


class Command(JobStatusCommand, ScrapyCommand):
    pass
