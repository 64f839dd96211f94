"""Scrapy settings for Dispatches. Only active settings, each with its reason.

Every DISPATCHES_* setting is also read from the environment variable of the same name;
one run overrides any of them with `-s NAME=value`.
"""

import os

BOT_NAME = "dispatches"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"
COMMANDS_MODULE = "crawlers.commands"  # scrapy demo / ingest / reprocess / export-warc / browse

# --- Dispatches' own settings (DESIGN.md) -------------------------------------------------
DISPATCHES_DB = os.environ.get("DISPATCHES_DB", "data/dispatches.db")
DISPATCHES_OFFICIAL_DOMAINS = os.environ.get(
    "DISPATCHES_OFFICIAL_DOMAINS", "state.gov,*.state.gov,*.usembassy.gov"
).split(",")
DISPATCHES_KEEP_RAW = os.environ.get("DISPATCHES_KEEP_RAW", "1").lower() not in ("0", "false", "no", "off")
# Who to tell when the crawler misbehaves; goes into the User-Agent.
DISPATCHES_CONTACT = os.environ.get("DISPATCHES_CONTACT", "https://github.com/dispatches/dispatches")

# --- Identification and politeness (issue 5) ----------------------------------------------
USER_AGENT = f"Dispatches/0.1 (+{DISPATCHES_CONTACT}; statement archive for researchers)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2  # government sites: never more than two at once per host
DOWNLOAD_DELAY = 1  # floor between requests to one host; robots Crawl-delay raises it
AUTOTHROTTLE_ENABLED = True  # back off when a host slows down
AUTOTHROTTLE_START_DELAY = 1
AUTOTHROTTLE_MAX_DELAY = 60
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
COOKIES_ENABLED = False  # statements need no session; cookies only leak across hosts

# --- Limits and hardening (issue 8) -------------------------------------------------------
TELNETCONSOLE_ENABLED = False  # a local code-execution surface; never needed for cron runs
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # a statement page is < 1 MiB; bounds decompression too
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = 2
# Only http and https: a crawled link or redirect must never read a local file.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}

# --- Output ---------------------------------------------------------------------------------
ITEM_PIPELINES = {}
LOG_LEVEL = os.environ.get("DISPATCHES_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"
