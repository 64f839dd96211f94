"""The Redis keys of a shared crawl job and of the document queue, and the rules read from them.

A job is named by its spider and arguments (or `DISPATCHES_JOB`); its keys start with
`dispatches:job:NAME:`. The document queue, the published crawl state and the worker registry
belong to the Redis database as a whole (one store writer per database), under `dispatches:`.

Keys of a job:
  discovery        the worker that runs discovery (SET NX with a time to live, renewed)
  discovery:done   set once the discovery worker has nothing of its own left to fetch
  hosts            hosts that have had shared requests
  q:HOST           shared article requests of HOST (a scrapy-redis FIFO queue)
  lease:HOST       the worker fetching HOST (one at a time: politeness holds per host)
  seen             the shared duplicate filter (scrapy-redis' request fingerprints)
  inflight:WORKER  requests WORKER has taken and not finished (moved back when it dies)
  workers          WORKER -> heartbeat JSON of the job's live workers

Global keys:
  workers            WORKER -> heartbeat JSON of every worker (the writer's `--idle-exit`)
  docs, docs:busy    the document queue and the writer's processing list (reliable queue)
  known:HOST         url_key -> JSON state the writer publishes for incremental crawling
  crawls             WORKER -> crawls row id, kept by the writer
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Mapping
from typing import Any

import redis

from store.urls import strip_secrets

__all__ = [
    "HEARTBEAT_TTL",
    "PREFIX",
    "Job",
    "as_text",
    "connect",
    "job_name",
    "redact",
    "worker_id",
]

PREFIX = "dispatches:"
#: a worker whose heartbeat is older than this many seconds is dead: its requests go back to the
#: queue and its hosts to other workers
HEARTBEAT_TTL = 10.0


def redact(url: str) -> str:
    """The Redis URL for logs and the database: no password, no user."""
    return strip_secrets(url)


def connect(url: str, *, timeout: float = 5.0) -> redis.Redis:
    """A client for `url` (redis://[:password@]host:port/db) that fails fast when Redis is gone."""
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=max(timeout, 10.0))


def check(url: str) -> str | None:
    """None when Redis at `url` answers, else one line saying why (credentials left out)."""
    try:
        connect(url, timeout=3.0).ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        return f"Redis at {redact(url)} is unreachable: {type(exc).__name__}: {redact(str(exc))}"
    return None


def job_name(spider: str, args: Mapping[str, Any], given: str | None = None) -> str:
    """The job's name: `given`, or the spider with its arguments in a stable order."""
    if given:
        return given
    kept = sorted((str(k), str(v)) for k, v in args.items() if v not in (None, ""))
    return f"{spider}?" + "&".join(f"{k}={v}" for k, v in kept) if kept else spider


def worker_id() -> str:
    """host:pid:random, unique to this process (a restarted worker is a new worker)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def parse_worker(worker: str) -> dict[str, Any]:
    host, pid, _ = (worker.rsplit(":", 2) + ["", ""])[:3]
    return {"host": host, "pid": int(pid) if pid.isdigit() else None}


class Job:
    """The keys and rules of one shared job on one Redis client."""

    def __init__(self, client: redis.Redis, name: str):
        self.r = client
        self.name = name
        self.base = f"{PREFIX}job:{name}:"

    # --- keys ------------------------------------------------------------------------------
    def key(self, *parts: str) -> str:
        return self.base + ":".join(parts)

    def queue_key(self, host: str) -> str:
        return self.key("q", host)

    def inflight_key(self, worker: str) -> str:
        return self.key("inflight", worker)

    # --- discovery -------------------------------------------------------------------------
    def claim_discovery(self, worker: str) -> bool:
        """True for the one worker that runs discovery (the first to ask, or the next one
        after the discoverer died before finishing)."""
        if self.r.exists(self.key("discovery", "done")):
            return False
        if self.r.set(self.key("discovery"), worker, nx=True, px=int(HEARTBEAT_TTL * 1000)):
            return True
        return as_text(self.r.get(self.key("discovery"))) == worker

    def renew_discovery(self, worker: str) -> None:
        if as_text(self.r.get(self.key("discovery"))) == worker:
            self.r.pexpire(self.key("discovery"), int(HEARTBEAT_TTL * 1000))

    def discovery_done(self) -> None:
        self.r.set(self.key("discovery", "done"), "1")
        self.r.delete(self.key("discovery"))

    def discovery_state(self) -> str:
        if self.r.exists(self.key("discovery", "done")):
            return "done"
        return "running" if self.r.exists(self.key("discovery")) else "waiting"

    # --- workers ---------------------------------------------------------------------------
    def beat(self, worker: str, **info: Any) -> None:
        """Record that `worker` is alive, with what it is doing (local work, pages done)."""
        entry = json.dumps({"ts": time.time(), "job": self.name, **info})
        pipe = self.r.pipeline()
        pipe.hset(self.key("workers"), worker, entry)
        pipe.hset(PREFIX + "workers", worker, entry)
        pipe.execute()

    def leave(self, worker: str, *, finished: bool) -> None:
        """`worker` ends: its heartbeat and leases go (its in-flight list must be empty).

        The last worker of a finished job clears the job's keys, so the next run of the same
        job (tomorrow's cron run) discovers again and fetches what changed.
        """
        pipe = self.r.pipeline()
        pipe.hdel(self.key("workers"), worker)
        pipe.hdel(PREFIX + "workers", worker)
        pipe.execute()
        for host in self.hosts():
            self.release(host, worker)
        if finished and not self.r.hlen(self.key("workers")) and not self.queued():
            keys = list(self.r.scan_iter(match=_glob_escape(self.base) + "*"))
            if keys:
                self.r.delete(*keys)

    def workers(self) -> dict[str, dict]:
        return _heartbeats(self.r, self.key("workers"))

    def reap(self) -> list[str]:
        """Hand the requests and hosts of dead workers back to the job; returns who died."""
        now = time.time()
        dead = [w for w, hb in self.workers().items() if now - float(hb.get("ts", 0)) > HEARTBEAT_TTL]
        for worker in dead:
            self.requeue(worker)
            self.r.hdel(self.key("workers"), worker)
            self.r.hdel(PREFIX + "workers", worker)
        return dead

    def requeue(self, worker: str) -> int:
        """Move `worker`'s in-flight requests back to their hosts' queues."""
        moved = 0
        key = self.inflight_key(worker)
        for field, data in self.r.hgetall(key).items():
            host = as_text(field).split(" ", 1)[0]
            pipe = self.r.pipeline()
            pipe.rpush(self.queue_key(host), data)  # the FIFO pops from the right: taken next
            pipe.hdel(key, field)
            pipe.execute()
            moved += 1
        for host in self.hosts():
            self.release(host, worker)
        return moved

    # --- hosts -----------------------------------------------------------------------------
    def hosts(self) -> list[str]:
        return sorted(as_text(h) for h in self.r.smembers(self.key("hosts")))

    def lease(self, host: str, worker: str) -> bool:
        """Take or renew the lease of `host` for `worker`; False when another worker has it."""
        key = self.key("lease", host)
        ttl = int(HEARTBEAT_TTL * 1000)
        if self.r.set(key, worker, nx=True, px=ttl):
            return True
        if as_text(self.r.get(key)) == worker:
            self.r.pexpire(key, ttl)
            return True
        return False

    def release(self, host: str, worker: str) -> None:
        key = self.key("lease", host)
        if as_text(self.r.get(key)) == worker:
            self.r.delete(key)

    def leases(self) -> dict[str, str]:
        out = {}
        for host in self.hosts():
            owner = self.r.get(self.key("lease", host))
            if owner:
                out[host] = as_text(owner)
        return out

    # --- progress --------------------------------------------------------------------------
    def queued(self) -> int:
        return sum(int(self.r.llen(self.queue_key(h))) for h in self.hosts())

    def in_flight(self) -> int:
        return sum(int(self.r.hlen(self.inflight_key(w))) for w in self.workers())

    def done(self) -> bool:
        """Discovery finished, nothing queued, nothing in flight, no worker with work of its own."""
        if self.discovery_state() != "done" or self.queued() or self.in_flight():
            return False
        return not any(int(hb.get("local", 0)) for hb in self.workers().values())

    def status(self) -> dict[str, Any]:
        """What `scrapy job-status` shows of this job."""
        workers = self.workers()
        now = time.time()
        return {
            "job": self.name,
            "discovery": self.discovery_state(),
            "queued": self.queued(),
            "in_flight": self.in_flight(),
            "hosts": {h: int(self.r.llen(self.queue_key(h))) for h in self.hosts()},
            "leases": self.leases(),
            "workers": {
                w: {
                    **parse_worker(w),
                    "seen_s_ago": round(now - float(hb.get("ts", 0)), 1),
                    "pages": hb.get("pages", 0),
                }
                for w, hb in workers.items()
            },
            "pages_done": sum(int(hb.get("pages", 0)) for hb in workers.values()),
            "duplicates_filtered": int(self.r.scard(self.key("seen"))),
        }


def jobs(client: redis.Redis) -> list[str]:
    """Names of the jobs that have keys in this Redis database."""
    names = set()
    for key in client.scan_iter(match=f"{PREFIX}job:*:seen"):
        names.add(as_text(key)[len(PREFIX) + 4 : -len(":seen")])
    for key in client.scan_iter(match=f"{PREFIX}job:*:workers"):
        names.add(as_text(key)[len(PREFIX) + 4 : -len(":workers")])
    return sorted(names)


def _heartbeats(client: redis.Redis, key: str) -> dict[str, dict]:
    out = {}
    for worker, entry in client.hgetall(key).items():
        try:
            out[as_text(worker)] = json.loads(entry)
        except ValueError:
            continue
    return out


def live_workers(client: redis.Redis) -> dict[str, dict]:
    """Every worker of every job whose heartbeat is recent."""
    now = time.time()
    return {
        w: hb
        for w, hb in _heartbeats(client, PREFIX + "workers").items()
        if now - hb.get("ts", 0) <= HEARTBEAT_TTL
    }


def _glob_escape(text: str) -> str:
    """`text` as a literal in a Redis SCAN pattern (job names carry `?`, maybe `*` or `[`)."""
    return "".join("\\" + c if c in "\\*?[]" else c for c in text)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)
