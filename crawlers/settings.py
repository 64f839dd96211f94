"""Scrapy settings for Dispatches. Only active settings, each with its reason.

Every ``DISPATCHES_*`` setting has its one default here, and its value comes from the first of
these that gives one:

1. ``-s NAME=value`` on the command line (one run);
2. the environment variable of the same name (``from_env`` below);
3. the default written here (every run).

The environment is read here, so it overrides the default at Scrapy's "project" priority and
``-s`` (the "cmdline" priority) overrides it. An environment value is kept as the text it is, the
same text ``-s`` would give, so the components parse both alike (``getint``, ``getfloat``,
``getbool``, ``crawlers.config.setting_list``). A few Scrapy settings take their environment value
from a ``DISPATCHES_*`` variable (``DOWNLOAD_DELAY`` from ``DISPATCHES_DOWNLOAD_DELAY``...); with
``-s`` they go by their Scrapy name. Settings computed from other settings (the User-Agent from
``DISPATCHES_CONTACT``, the memory warning) are set by the ``crawlers.config.DerivedSettings``
add-on, which sees the final values.
"""

import os

from scrapy.settings.default_settings import EXTENSIONS_BASE as _SCRAPY_EXTENSIONS


def from_env(name, default):
    """The environment variable ``name`` when it is set, else ``default``."""
    return os.environ.get(name, default)


BOT_NAME = "dispatches"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"
COMMANDS_MODULE = "crawlers.commands"  # scrapy demo / ingest / reprocess / export-warc / browse
# USER_AGENT and MEMUSAGE_WARNING_MB from final settings; worker mode when DISPATCHES_REDIS_URL is set
ADDONS = {"crawlers.config.DerivedSettings": 0, "crawlers.scaleout.addon.ScaleoutAddon": 10}

# --- Database and cleaning ------------------------------------------------------------------
DISPATCHES_DB = from_env("DISPATCHES_DB", "data/dispatches.db")
# Hosts whose copy is the original (comma list; `*.` matches the domain and its subdomains).
DISPATCHES_OFFICIAL_DOMAINS = from_env(
    "DISPATCHES_OFFICIAL_DOMAINS", ["state.gov", "*.state.gov", "*.usembassy.gov"]
)
# Raw bodies kept (compressed) so `reprocess` and `export-warc` work without the network.
DISPATCHES_KEEP_RAW = from_env("DISPATCHES_KEEP_RAW", True)
# A second run on the same database waits this long (seconds) for the first, then exits non-zero.
DISPATCHES_LOCK_WAIT = from_env("DISPATCHES_LOCK_WAIT", 0.0)
DISPATCHES_CLEAN_WORKERS = from_env("DISPATCHES_CLEAN_WORKERS", 2)  # extraction processes
# One pathological page costs at most this many seconds of extraction, then its worker is replaced.
DISPATCHES_CLEAN_TIMEOUT = from_env("DISPATCHES_CLEAN_TIMEOUT", 20.0)
# A cleaner process is replaced after this many pages, which bounds the memory it can accumulate.
DISPATCHES_CLEAN_MAX_TASKS = from_env("DISPATCHES_CLEAN_MAX_TASKS", 2000)

# --- Identification and politeness ----------------------------------------------------------
# Who to tell when the crawler misbehaves; DerivedSettings puts it into the User-Agent.
DISPATCHES_CONTACT = from_env("DISPATCHES_CONTACT", "https://github.com/dispatches/dispatches")
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2  # government sites: never more than two at once per host
DOWNLOADER = "crawlers.downloader.SlotLimitDownloader"  # holds that limit at any DOWNLOAD_DELAY
DOWNLOAD_DELAY = from_env("DISPATCHES_DOWNLOAD_DELAY", 1.0)  # floor per host; robots Crawl-delay raises it
AUTOTHROTTLE_ENABLED = True  # back off when a host slows down
AUTOTHROTTLE_START_DELAY = 1
AUTOTHROTTLE_MAX_DELAY = 60
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
COOKIES_ENABLED = False  # statements need no session; cookies only leak across hosts
# Scrapy ignores robots Crawl-delay; PolitenessMiddleware applies it, capped here (state.gov asks 5 s).
DISPATCHES_MAX_CRAWL_DELAY = from_env("DISPATCHES_MAX_CRAWL_DELAY", 30.0)
# Retry-After above this defers the host to the next run instead of waiting (RFC 9110; seconds).
DISPATCHES_MAX_RETRY_AFTER = from_env("DISPATCHES_MAX_RETRY_AFTER", 600.0)
# Pause (seconds) after a 429/503 without a usable Retry-After, doubled per retry.
DISPATCHES_RETRY_BACKOFF = from_env("DISPATCHES_RETRY_BACKOFF", 2.0)
# A 200 error page (captcha, "Technical Difficulties", HTML where JSON was due) is retried this
# many times, then counted and never stored; the check itself can be switched off.
DISPATCHES_SOFTBLOCK_ENABLED = from_env("DISPATCHES_SOFTBLOCK_ENABLED", True)
DISPATCHES_SOFTBLOCK_RETRY_TIMES = from_env("DISPATCHES_SOFTBLOCK_RETRY_TIMES", 1)
DOWNLOADER_MIDDLEWARES = {
    **globals().get("DOWNLOADER_MIDDLEWARES", {}),
    # robots.txt the RFC 9309 way: 5xx/unreachable = host not crawled this run
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.middlewares.robots.RFCRobotsTxtMiddleware": 100,
    # Crawl-delay floors and Retry-After pauses; sees 429/503 before RetryMiddleware (550)
    "crawlers.middlewares.politeness.PolitenessMiddleware": 560,
    # soft blocks (200 error pages, HTML where JSON was due), after decompression (590)
    "crawlers.middlewares.softblock.SoftBlockMiddleware": 585,
    # a gzip body cut short or corrupt is not the page: trailer read before decompression (590),
    # checked after it
    "crawlers.middlewares.integrity.GzipTrailerMiddleware": 595,
    "crawlers.middlewares.integrity.GzipCheckMiddleware": 588,
    # a proxy's "name does not resolve" answer is the DNSLookupError a direct fetch would raise
    "crawlers.middlewares.proxydns.ProxyDnsFailureMiddleware": 800,
}

# --- Discovery ------------------------------------------------------------------------------
# Caps read by the spiders: nested sitemap indexes followed, URLs taken from one feed or sitemap
# (the protocol allows 50,000), sitemaps fetched per host per run.
DISPATCHES_MAX_SITEMAP_DEPTH = from_env("DISPATCHES_MAX_SITEMAP_DEPTH", 3)
DISPATCHES_MAX_ITEMS_PER_SOURCE = from_env("DISPATCHES_MAX_ITEMS_PER_SOURCE", 50000)
DISPATCHES_MAX_SITEMAPS_PER_HOST = from_env("DISPATCHES_MAX_SITEMAPS_PER_HOST", 500)
# A feed whose newest item is this many days older than the host's stored pages is stale.
DISPATCHES_STALE_FEED_DAYS = from_env("DISPATCHES_STALE_FEED_DAYS", 30)
# Rediscover everything: ignore the stored validators and watermarks that make a run incremental.
DISPATCHES_FULL_DISCOVERY = from_env("DISPATCHES_FULL_DISCOVERY", False)

# --- Limits and hardening -------------------------------------------------------------------
TELNETCONSOLE_ENABLED = False  # a local code-execution surface; never needed for cron runs
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # a statement page is < 1 MiB; bounds decompression too
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = 2
# Only http and https: a crawled link or redirect must never read a local file.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.18+ control server runs code; never for cron runs
DNS_TIMEOUT = 10  # a dead resolver costs 10 s per host, not 60
URLLENGTH_LIMIT = 2083  # longer URLs are traps, not statements
MEMUSAGE_ENABLED = True
# Last resort: close the run. DerivedSettings sets the warning at half of it.
MEMUSAGE_LIMIT_MB = from_env("DISPATCHES_MEMORY_LIMIT_MB", 1024)
MEMUSAGE_CHECK_INTERVAL_SECONDS = 15
# End a run cleanly (reason closespider_timeout) before the next cron run; keep it below the
# cron interval. 0 turns it off.
CLOSESPIDER_TIMEOUT = from_env("DISPATCHES_MAX_RUN_SECONDS", 21600.0)
# SSRF guard: names are checked on the address they resolve to, at connect time.
TWISTED_DNS_RESOLVER = "crawlers.middlewares.resolver.SafeResolver"
# Hosts (host, host:port, *.suffix) allowed to be loopback/private addresses: test rigs only.
DISPATCHES_ALLOW_HOSTS = from_env("DISPATCHES_ALLOW_HOSTS", [])
DISPATCHES_ALLOW_PRIVATE = from_env("DISPATCHES_ALLOW_PRIVATE", False)  # no address check at all
# Query parameters stripped from every URL besides the built-in list (token, api_key, ...).
DISPATCHES_SECRET_PARAMS = from_env("DISPATCHES_SECRET_PARAMS", [])
# A host failing this many attempts in a row (5xx, 429, timeouts, resets; retries count) is
# left alone for the rest of the run; 0 = off.
DISPATCHES_CIRCUIT_BREAKER = from_env("DISPATCHES_CIRCUIT_BREAKER", 10)
# On SIGTERM / CLOSESPIDER_TIMEOUT drop requests still queued behind download delays, so a
# stop takes at most DOWNLOAD_TIMEOUT (the next run fetches them).
DISPATCHES_BOUNDED_STOP = from_env("DISPATCHES_BOUNDED_STOP", True)
# --- Older statements: the Internet Archive ---------------------------------------------------
# Look gone originals up in the Wayback Machine (`originals`); off means no request to it at all.
DISPATCHES_WAYBACK = from_env("DISPATCHES_WAYBACK", True)
# The archive's base URL: CDX at BASE/cdx/search/cdx, captures at BASE/web/TIMESTAMPid_/URL.
DISPATCHES_WAYBACK_URL = from_env("DISPATCHES_WAYBACK_URL", "https://web.archive.org")
# Requests to the archive per run (CDX look-ups and captures together), kind to a shared service.
DISPATCHES_WAYBACK_MAX_PER_RUN = from_env("DISPATCHES_WAYBACK_MAX_PER_RUN", 500)
# Scrapy's own extensions, less its remote control (off above, REMOTE_CONTROL_ENABLED): left in,
# it is loaded only to switch itself off, and its module imports aiohttp, about 0.4 s of every
# crawl's start. Dropped from the base, not set to None in EXTENSIONS, because Scrapy imports
# every EXTENSIONS key to compare it with the base's.
EXTENSIONS_BASE = {
    k: v for k, v in _SCRAPY_EXTENSIONS.items() if k != "scrapy.extensions.remote_control.RemoteControl"
}
EXTENSIONS = {
    **globals().get("EXTENSIONS", {}),
    "crawlers.middlewares.slots.BoundedStop": 100,
    "crawlers.state.CrawlState": 500,  # what the database knows about URLs, for the spiders
}
# Merged with entries other sections register, whichever section comes first.
DOWNLOADER_MIDDLEWARES = {
    **globals().get("DOWNLOADER_MIDDLEWARES", {}),
    "crawlers.middlewares.safety.SafetyMiddleware": 40,  # before offsite (50) and robots (100)
    "crawlers.middlewares.safety.CircuitBreakerMiddleware": 555,  # sees every attempt before retry (550)
    "crawlers.middlewares.safety.RedirectGuardMiddleware": 610,  # sees Location before redirect (600)
}

# --- Distributed crawls (optional) ---------------------------------------------------------
# redis://[:password@]host:port/db makes `scrapy crawl` a worker of a shared job and is the queue
# `scrapy store-writer` saves from; unset, a crawl is one process with its own database.
DISPATCHES_REDIS_URL = from_env("DISPATCHES_REDIS_URL", "")
# Name of the shared job; unset, the spider and its arguments name it.
DISPATCHES_JOB = from_env("DISPATCHES_JOB", "")
# A page (body and cleaned document) larger than this many MiB is refused by the queue and counted.
DISPATCHES_REDIS_MAX_DOC_MB = from_env("DISPATCHES_REDIS_MAX_DOC_MB", 16)

# --- Output ---------------------------------------------------------------------------------
ITEM_PIPELINES = {"crawlers.pipelines.StorePipeline": 300}  # clean (process pool) -> junction -> store
LOG_FORMATTER = "crawlers.pipelines.QuietLogFormatter"  # item lines without page bodies
LOG_LEVEL = from_env("DISPATCHES_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"
