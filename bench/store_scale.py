"""Stores at scale: the store table of 100k sessions, pruning 10k expired ones, and 16
concurrent clients x 100 cycles against 2 worker processes.

    .venv/bin/python bench/store_scale.py      # or: ./dev.sh bench

Targets (issue 3): store_frame of 100k sessions under 1 s on every store; removing 10k expired
under 0.5 s without touching a live record; zero lost or crossed sessions on SQLite and Redis.
The baseline for store_frame is pandas building the same table from records already in memory
(frames.records_frame); all() is the store's own part.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import requests

import sessionlab as sl
from sessionlab.server.redis_server import shared_redis_server
from sessionlab.server.stores import MemoryStore, Record, RedisStore, SQLiteStore
from sessionlab.server.stores.redis import encode
from sessionlab.tables import records_frame

LIVE = 100_000
EXPIRED = 10_000
CLIENTS, CYCLES = 16, 100


def fill(store, live: int, expired: int) -> float:
    """``live`` sessions for an hour and ``expired`` ones that expire soon; return when."""
    now = time.time()
    records = [Record(f"live{i:06d}", {"name": f"user{i}"}, now, now + 3600) for i in range(live)]
    records += [Record(f"dead{i:06d}", {"n": i}, now, now + 8) for i in range(expired)]
    if store.kind == "redis":  # one pipelined round trip per 10k, not one per record
        for start in range(0, len(records), 10_000):
            pipe = store.redis.pipeline(transaction=False)
            for record in records[start : start + 10_000]:
                value = encode(record)
                pipe.set(store.key(record.sid), value, pxat=int(record.expires * 1000))
            pipe.execute()
    elif store.kind == "sqlite":
        rows = [(r.sid, json.dumps(r.data), r.created, r.expires) for r in records]
        with contextlib.closing(sqlite3.connect(store.path)) as db, db:  # one transaction
            db.executemany("INSERT INTO sessions VALUES (?, ?, ?, ?)", rows)
    else:
        for record in records:
            store.set(record)
    return now + 8


def digest(store) -> str:
    """A fingerprint of every live record, to prove a prune left them alone.

    Expiry is left out: Redis reports a TTL, and now + TTL moves by a millisecond or so.
    """
    rows = sorted((r.sid, json.dumps(r.data), r.created) for r in store.all())
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:12]


def timed(function):
    began = time.perf_counter()
    result = function()
    return time.perf_counter() - began, result


def store_tables_and_pruning() -> None:
    stores = {
        "memory": MemoryStore(),
        "sqlite": SQLiteStore(),
        "redis": RedisStore(shared_redis_server().url, prefix="bench-scale:"),
    }
    print(f"store_frame of {LIVE:,} live sessions (+{EXPIRED:,} about to expire); then prune")
    print(
        "| store | all() s | store_frame s | x pandas baseline | prune s | removed | untouched |"
    )
    print("|---|--:|--:|--:|--:|--:|---|")
    for kind, store in stores.items():
        store.clear()
        expiry = fill(store, LIVE, EXPIRED)
        listing, records = timed(store.all)
        baseline, _ = timed(lambda records=records: records_frame(records, time.time()))
        seconds, frame = timed(lambda store=store: sl.store_frame(store))
        assert len(frame) == LIVE + EXPIRED
        time.sleep(max(0.0, expiry - time.time()) + 0.05)  # the 10k expire
        before = digest(store)
        prune_seconds, removed = timed(store.prune)
        if kind == "redis":  # nothing for prune to do: each key's TTL already ended it
            removed = f"0 (TTL: {EXPIRED:,} gone)"
        untouched = digest(store) == before and store.length() == LIVE
        print(
            f"| {kind} | {listing:.2f} | {seconds:.2f} | {seconds / baseline:.1f} "
            f"| {prune_seconds:.3f} | {removed} | {untouched} |",
            flush=True,
        )
        store.clear()
        store.close()


def cycles_against_workers() -> None:
    print(f"\n{CLIENTS} concurrent clients x {CYCLES} cycles against 2 worker processes (granian)")
    print("| store | cycles | lost or crossed | seconds | cycles/s |")
    print("|---|--:|--:|--:|--:|")
    for kind in ["sqlite", "redis"]:
        with sl.start(store=kind, name="bench-cycles", workers=2) as lab:
            seconds, problems = timed(lambda url=lab.url: run_clients(url, CLIENTS, CYCLES))
        total = CLIENTS * CYCLES
        print(f"| {kind} | {total:,} | {problems} | {seconds:.1f} | {total / seconds:,.0f} |")


def run_clients(url: str, clients: int, cycles: int) -> int:
    def one_client(number: int) -> int:
        problems = 0
        with requests.Session() as client:
            for cycle in range(cycles):
                name = f"c{number}-{cycle}"
                client.get(f"{url}/user/{name}", timeout=10)
                problems += not client.get(f"{url}/user", timeout=10).text.startswith(name + "<")
                client.get(f"{url}/logout", timeout=10)
                problems += client.get(f"{url}/user", timeout=10).text != "user logged out!"
        return problems

    with ThreadPoolExecutor(clients) as pool:
        return sum(pool.map(one_client, range(clients)))


if __name__ == "__main__":
    store_tables_and_pruning()
    cycles_against_workers()
