"""Load against a running node, for the load test and the benchmark (``scripts/bench api``).

* :func:`write_and_tail`: writers registering at a fixed rate while readers tail new registrations; returns
  what was written, what each reader saw, and the latencies.
* :func:`hammer`: keep-alive GETs from a few connections as fast as the server answers (plain asyncio sockets:
  an HTTP client library would cost more than the server under test); requests per second and latencies.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx


def percentile(values: list[float], q: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass
class LoadResult:
    planned: int
    seconds: float
    written: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    write_latency: list[float] = field(default_factory=list)
    read_latency: list[float] = field(default_factory=list)
    seen: list[list[str]] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        return {"writes": self.planned, "seconds": round(self.seconds, 1),
                "writes_per_second": round(self.planned / self.seconds, 1), "failed": len(self.failures),
                "p95_write_ms": round(percentile(self.write_latency, 95) * 1000, 1),
                "max_write_ms": round(max(self.write_latency, default=0) * 1000, 1),
                "reads": len(self.read_latency), "p95_read_ms": round(percentile(self.read_latency, 95) * 1000, 1),
                "p99_read_ms": round(percentile(self.read_latency, 99) * 1000, 1)}


def write_and_tail(api: str, *, writer_token: str, reader_token: str, owner: int, seconds: float,
                   writes_per_second: float = 50, readers: int = 10, start_after: int = -1,
                   content_base: int = 0xA000_0000) -> LoadResult:
    """Register ``seconds * writes_per_second`` records at a fixed rate while ``readers`` tail the index."""
    total = int(seconds * writes_per_second)
    res = LoadResult(planned=total, seconds=0.0, seen=[[] for _ in range(readers)])
    lock = threading.Lock()
    wclient = httpx.Client(base_url=api, headers={"Authorization": f"Bearer {writer_token}"}, timeout=60,
                           limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))

    def write(i: int) -> None:
        body = {"kind": "resource", "owner": owner, "contentHash": "0x" + f"{content_base + i:064x}"}
        t0 = time.perf_counter()
        try:
            r = wclient.post("/registrations", json=body)
        except httpx.HTTPError as exc:
            with lock:
                res.failures.append(f"write {i}: {exc!r}")
            return
        dt = time.perf_counter() - t0
        with lock:
            res.write_latency.append(dt)
            if r.status_code == 201:
                res.written.append(r.json()["id"])
            else:
                res.failures.append(f"write {i}: {r.status_code} {r.text[:200]}")

    # The readers run in a process of their own, so that the writers' client threads do not hold up the readers'
    # clocks (one interpreter lock per process): the latencies measured are the server's.
    ctx = multiprocessing.get_context("spawn")
    manager = ctx.Manager()
    stop_flag = manager.Event()
    pool_r = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
    readers_done = pool_r.submit(_tail, api, reader_token, start_after, readers, stop_flag)
    time.sleep(0.5)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i in range(total):
            delay = began + i / writes_per_second - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(write, i)
    res.seconds = time.perf_counter() - began
    time.sleep(1.0)  # past the follower's next poll: the readers drain what is left, then stop
    stop_flag.set()
    seen, per_reader, reader_failures = readers_done.result(timeout=120)
    pool_r.shutdown()
    manager.shutdown()
    wclient.close()
    res.seen = seen
    res.failures.extend(reader_failures)
    res.read_latency = [x for lat in per_reader for x in lat]
    return res


def _tail(api: str, token: str, start_after: int, readers: int,
          stop: Any) -> tuple[list[list[str]], list[list[float]], list[str]]:
    """``readers`` threads, each tailing every new registration from ``start_after`` until ``stop`` is set."""
    seen: list[list[str]] = [[] for _ in range(readers)]
    latency: list[list[float]] = [[] for _ in range(readers)]
    failures: list[str] = []

    def read(k: int) -> None:
        with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            cursor = start_after
            while True:
                t0 = time.perf_counter()
                r = client.get("/registrations", params={"after": cursor, "limit": 1000})
                latency[k].append(time.perf_counter() - t0)
                if r.status_code != 200:
                    failures.append(f"reader {k}: {r.status_code} {r.text[:200]}")
                    time.sleep(0.1)
                    continue
                page = r.json()
                seen[k].extend(x["id"] for x in page["results"])
                cursor = page["next"]
                if stop.is_set() and not page["results"]:
                    return
                time.sleep(0.1)

    threads = [threading.Thread(target=read, args=(k,)) for k in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return seen, latency, failures


async def _hammer(host: str, port: int, path: str, headers: dict[str, str], connections: int,
                  seconds: float) -> tuple[int, list[float], int]:
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def one() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(connections)))
    return len(latencies), latencies, errors


def hammer(url: str, *, headers: dict[str, str] | None = None, connections: int = 8,
           seconds: float = 5.0) -> dict[str, float]:
    """GET ``url`` over ``connections`` keep-alive connections for ``seconds``: rate and latency percentiles."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    t0 = time.perf_counter()
    n, lat, errors = asyncio.run(_hammer(parts.hostname or "127.0.0.1", parts.port or 80, path, headers or {},
                                         connections, seconds))
    elapsed = time.perf_counter() - t0
    return {"requests": n, "errors": errors, "rps": round(n / elapsed, 1),
            "p50_ms": round(percentile(lat, 50) * 1000, 2), "p99_ms": round(percentile(lat, 99) * 1000, 2)}
