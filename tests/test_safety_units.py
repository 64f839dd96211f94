"""Unit tests of how the request guard and the circuit breaker hear of the resolver's refusals.

The resolver refuses a name whose address is blocked when the connection is made; the request
guard then refuses that name's later requests with the resolver's reason, and the circuit breaker
does not count our own refusal as the host failing. Real middlewares on a Scrapy test crawler.
"""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.test import get_crawler
from twisted.internet import reactor
from twisted.internet.error import DNSLookupError

from crawlers.middlewares.resolver import SafeResolver, refused_reason
from crawlers.middlewares.safety import CircuitBreakerMiddleware, SafetyMiddleware

SETTINGS = {"DNSCACHE_ENABLED": False, "DNS_TIMEOUT": 5, "DISPATCHES_CIRCUIT_BREAKER": 2}


@pytest.fixture
def crawler():
    crawler = get_crawler(settings_dict=SETTINGS)
    crawler.stats.open_spider()
    return crawler


def test_a_name_refused_by_the_resolver_is_blocked_by_the_guard(crawler):
    resolver = SafeResolver.from_crawler(crawler, reactor)
    assert refused_reason("rebinds.safety-units.example") is None
    with pytest.raises(DNSLookupError, match="blocked address"):
        resolver._check("192.168.7.7", "Rebinds.Safety-Units.example")
    assert refused_reason("rebinds.safety-units.example") == "private"

    guard = SafetyMiddleware.from_crawler(crawler)
    with pytest.raises(IgnoreRequest, match="^blocked private: "):
        guard.process_request(Request("https://rebinds.safety-units.example/news/"))
    assert crawler.stats.get_value("safety/blocked/private") == 1
    assert guard.process_request(Request("https://public.safety-units.example/news/")) is None


def test_the_breaker_does_not_count_our_own_refusal(crawler):
    resolver = SafeResolver.from_crawler(crawler, reactor)
    with pytest.raises(DNSLookupError) as refusal:
        resolver._check("127.0.0.1", "loops.safety-units.example")
    breaker = CircuitBreakerMiddleware.from_crawler(crawler)
    breaker.process_exception(Request("https://loops.safety-units.example/"), refusal.value)
    breaker.process_exception(Request("https://down.safety-units.example/"), DNSLookupError("no such name"))
    assert breaker.failures == {"down.safety-units.example": 1} and breaker.open_hosts == set()
