"""The store writer of a distributed crawl ends a job as a single-process crawl ends its run:
pages saved before their site's chrome was known are cleaned again (a real redis-server and a
real SQLite file; the pages are the relay site of `tests/test_sitechrome.py`)."""

from __future__ import annotations

import pytest
import redis

from cleaners import clean
from cleaners.model import RawPage
from crawlers.scaleout.worker import DOCS, encode
from crawlers.scaleout.writer import QueueWriter
from store import Store
from tests.test_sitechrome import RELAY, RULE, _site


def _queue_relay_pages(client: redis.Redis) -> list[str]:
    urls = []
    for path, body in _site()[RELAY].items():
        url = f"http://{RELAY}{path}"
        raw = RawPage(url, url, 200, {"content-type": "text/html"}, body, "2024-03-20T00:00:00Z")
        client.lpush(DOCS, encode("page", "w1", (raw, clean(raw))))  # as a worker queues a page
        urls.append(url)
    return urls


def _removed(store: Store, url: str) -> str:
    return store.db.execute("SELECT removed FROM copies WHERE url = ?", (url,)).fetchone()[0] or ""


@pytest.fixture
def queued(redis_server, tmp_path):
    """(client, store, urls): the relay's pages queued as workers queue them, and an empty database."""
    redis_server.flush()
    client = redis.Redis.from_url(redis_server.url)
    urls = _queue_relay_pages(client)
    store = Store(tmp_path / "d.db")
    yield client, store, urls
    store.close()


def test_the_writer_cleans_again_at_the_end_of_the_job(queued):
    client, store, urls = queued
    writer = QueueWriter(client, store, idle_exit=0.2, clean=clean)
    assert writer.run() == len(urls)
    assert RULE in _removed(store, urls[0])
    assert store.chrome_stale_sites() == []
    assert writer.counts["site_chrome/sites"] == 1  # the end pass ran
    assert writer.counts["site_chrome/recleaned"] == len(urls)


def test_a_writer_stopped_by_a_signal_leaves_the_pass_to_the_next_run(queued):
    client, store, urls = queued
    writer = QueueWriter(client, store, idle_exit=0.2, clean=clean)
    for _ in urls:  # saved one batch per page, as when pages come in one by one
        writer.handle([client.rpop(DOCS)])
    writer.stop()  # SIGTERM: the loop ends without the pass
    writer.run()
    assert RULE not in _removed(store, urls[0])
    assert store.chrome_stale_sites() == [RELAY]
    # the next job's writer finishes it
    assert QueueWriter(client, store, idle_exit=0.2, clean=clean).run() == 0
    assert RULE in _removed(store, urls[0])
