"""Bodies that arrived broken: a gzip stream cut short or with a wrong checksum.

Scrapy's decompression keeps what it inflated before a gzip error, so a transfer cut short
(or a corrupt one) would reach the spider as a shorter page that looks whole, and be stored as
the statement. The gzip trailer says what the whole body is: its CRC-32 and its length. This
module reads the trailer before Scrapy decompresses (``GzipTrailerMiddleware``, seeing the
response before ``HttpCompressionMiddleware`` at 590) and checks the decompressed body against
it afterwards (``GzipCheckMiddleware``). A body that does not match is retried (a broken
transfer is usually transient); after the retries it is dropped with one log line and counted
per host in ``dispatches/broken_body/<host>``, so nothing of it is stored.
"""

from __future__ import annotations

import logging
import struct
import zlib

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)

__all__ = ["GzipCheckMiddleware", "GzipTrailerMiddleware", "gzip_is_whole"]

_META = "dispatches_gzip_trailer"
_GZIP = b"\x1f\x8b"


def gzip_is_whole(compressed: bytes) -> bool:
    """Whether a gzip body decompresses to its end with every member's checksum right.

    The slow path, for bodies whose last trailer does not describe the whole body (several
    gzip members, which some servers send).
    """
    data = compressed
    try:
        while data:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while True:  # inflate in bounded steps: no more memory than a page needs
                d.decompress(data, 1 << 20)
                data = d.unconsumed_tail
                if d.eof or not data:
                    break
            if not d.eof:
                return False
            data = d.unused_data.lstrip(b"\x00")
    except zlib.error:
        return False
    return True


class GzipTrailerMiddleware:
    """Remembers the gzip trailer (CRC-32, length) of a response before Scrapy inflates it."""

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        encoding = (response.headers.get(b"Content-Encoding") or b"").strip().lower()
        body = response.body
        if encoding in (b"gzip", b"x-gzip") and body[:2] == _GZIP:
            if len(body) < 18:  # a header and a trailer at least
                request.meta[_META] = (None, None, body)
            else:
                crc, size = struct.unpack("<II", body[-8:])
                request.meta[_META] = (crc, size, body)
        return response


class GzipCheckMiddleware:
    """Refuses a decompressed body that its gzip trailer says is not the whole page."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider=None) -> Response | Request:
        trailer = request.meta.pop(_META, None)
        if trailer is None:
            return response
        crc, size, compressed = trailer
        body = response.body
        if crc is not None and (
            (size == len(body) & 0xFFFFFFFF and crc == zlib.crc32(body) & 0xFFFFFFFF)
            or gzip_is_whole(compressed)
        ):
            return response
        host = urlparse_cached(request).hostname or ""
        retry = get_retry_request(
            request, spider=self.crawler.spider, reason="broken_gzip_body", max_retry_times=1
        )
        if retry is not None:
            return retry
        self.crawler.stats.inc_value(f"dispatches/broken_body/{host}")
        logger.warning("Dropped %s: its gzip body is cut short or corrupt (%d bytes)", request.url, len(body))
        raise IgnoreRequest(f"broken gzip body: {request.url}")
