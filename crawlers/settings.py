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
DOWNLOADER = "crawlers.downloader.SlotLimitDownloader"  # holds that limit at any DOWNLOAD_DELAY
DOWNLOAD_DELAY = float(
    os.environ.get("DISPATCHES_DOWNLOAD_DELAY", "1")
)  # floor per host; robots Crawl-delay raises it
AUTOTHROTTLE_ENABLED = True  # back off when a host slows down
AUTOTHROTTLE_START_DELAY = 1
AUTOTHROTTLE_MAX_DELAY = 60
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
COOKIES_ENABLED = False  # statements need no session; cookies only leak across hosts
# Scrapy ignores robots Crawl-delay; PolitenessMiddleware applies it, capped here (state.gov asks 5 s).
DISPATCHES_MAX_CRAWL_DELAY = float(os.environ.get("DISPATCHES_MAX_CRAWL_DELAY", "30"))
# Retry-After above this defers the host to the next run instead of waiting (RFC 9110; seconds).
DISPATCHES_MAX_RETRY_AFTER = float(os.environ.get("DISPATCHES_MAX_RETRY_AFTER", "600"))
DISPATCHES_RETRY_BACKOFF = 2.0  # pause after a 429/503 without a usable Retry-After, doubled per retry
# A second run on the same database waits this long for the first, then exits non-zero.
DISPATCHES_LOCK_WAIT = float(os.environ.get("DISPATCHES_LOCK_WAIT", "0"))
DISPATCHES_CLEAN_WORKERS = int(os.environ.get("DISPATCHES_CLEAN_WORKERS", "2"))  # extraction processes
# One pathological page costs at most this many seconds of extraction, then its worker is replaced.
DISPATCHES_CLEAN_TIMEOUT = float(os.environ.get("DISPATCHES_CLEAN_TIMEOUT", "20"))
DOWNLOADER_MIDDLEWARES = {
    **globals().get("DOWNLOADER_MIDDLEWARES", {}),
    # robots.txt the RFC 9309 way: 5xx/unreachable = host not crawled this run
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.middlewares.robots.RFCRobotsTxtMiddleware": 100,
    # Crawl-delay floors and Retry-After pauses; sees 429/503 before RetryMiddleware (550)
    "crawlers.middlewares.politeness.PolitenessMiddleware": 560,
    # soft blocks (200 error pages, HTML where JSON was due), after decompression (590)
    "crawlers.middlewares.softblock.SoftBlockMiddleware": 585,
}

# --- Limits and hardening (issue 8) -------------------------------------------------------
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
MEMUSAGE_LIMIT_MB = int(os.environ.get("DISPATCHES_MEMORY_LIMIT_MB", "1024"))  # last resort: close the run
MEMUSAGE_WARNING_MB = MEMUSAGE_LIMIT_MB // 2
MEMUSAGE_CHECK_INTERVAL_SECONDS = 15
# End a run cleanly (reason closespider_timeout) before the next cron run; keep it below the
# cron interval. 0 turns it off; `-s CLOSESPIDER_TIMEOUT=...` for one run.
CLOSESPIDER_TIMEOUT = float(os.environ.get("DISPATCHES_MAX_RUN_SECONDS", str(6 * 3600)))
# SSRF guard: names are checked on the address they resolve to, at connect time.
TWISTED_DNS_RESOLVER = "crawlers.middlewares.safety.SafeResolver"
# Hosts (host, host:port, *.suffix) allowed to be loopback/private addresses: test rigs only.
DISPATCHES_ALLOW_HOSTS = [
    h.strip() for h in os.environ.get("DISPATCHES_ALLOW_HOSTS", "").split(",") if h.strip()
]
DISPATCHES_ALLOW_PRIVATE = os.environ.get("DISPATCHES_ALLOW_PRIVATE", "0").lower() in (
    "1",
    "true",
    "yes",
    "on",
)
# Query parameters stripped from every URL besides the built-in list (token, api_key, ...).
DISPATCHES_SECRET_PARAMS = [
    p.strip() for p in os.environ.get("DISPATCHES_SECRET_PARAMS", "").split(",") if p.strip()
]
# A host failing this many attempts in a row (5xx, 429, timeouts, resets; retries count) is
# left alone for the rest of the run; 0 = off.
DISPATCHES_CIRCUIT_BREAKER = int(os.environ.get("DISPATCHES_CIRCUIT_BREAKER", "10"))
# Discovery caps read by the spiders: nested sitemap indexes followed, URLs taken from one
# feed or sitemap (the protocol allows 50,000), sitemaps fetched per host per run.
DISPATCHES_MAX_SITEMAP_DEPTH = int(os.environ.get("DISPATCHES_MAX_SITEMAP_DEPTH", "3"))
DISPATCHES_MAX_ITEMS_PER_SOURCE = int(os.environ.get("DISPATCHES_MAX_ITEMS_PER_SOURCE", "50000"))
DISPATCHES_MAX_SITEMAPS_PER_HOST = int(os.environ.get("DISPATCHES_MAX_SITEMAPS_PER_HOST", "500"))
# On SIGTERM / CLOSESPIDER_TIMEOUT drop requests still queued behind download delays, so a
# stop takes at most DOWNLOAD_TIMEOUT (the next run fetches them).
DISPATCHES_BOUNDED_STOP = True
EXTENSIONS = {**globals().get("EXTENSIONS", {}), "crawlers.middlewares.safety.BoundedStop": 100}
# Merged with entries other sections register, whichever section comes first.
DOWNLOADER_MIDDLEWARES = {
    **globals().get("DOWNLOADER_MIDDLEWARES", {}),
    "crawlers.middlewares.safety.SafetyMiddleware": 40,  # before offsite (50) and robots (100)
    "crawlers.middlewares.safety.CircuitBreakerMiddleware": 555,  # sees every attempt before retry (550)
    "crawlers.middlewares.safety.RedirectGuardMiddleware": 610,  # sees Location before redirect (600)
}

# --- Output ---------------------------------------------------------------------------------
ITEM_PIPELINES = {"crawlers.pipelines.StorePipeline": 300}  # clean (process pool) -> store.save
LOG_FORMATTER = "crawlers.pipelines.QuietLogFormatter"  # item lines without page bodies
LOG_LEVEL = os.environ.get("DISPATCHES_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"
