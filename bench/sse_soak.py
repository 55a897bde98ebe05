"""SSE soak: many live-feed clients held open for a long time, server memory printed over time.

Starts the real server (uvicorn, one process) on 127.0.0.1 over a fresh SQLite store, opens C
clients on ``/api/feed/stream`` (half the duty desk, half unit users, so unit scoping runs too),
and writes a new incident every few seconds, so every stream has frames to send. Streams end after
``--stream-seconds`` and the clients reconnect with ``Last-Event-ID`` (what EventSource does), so
connections are opened and released all through the run. Every ``--report`` seconds it prints the
server's resident memory, threads and open files, and the frames written and received. Not in CI
(30 minutes by default):

    .venv/bin/python bench/sse_soak.py [--minutes 30] [--clients 50] [--every 2] [--report 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import start_server  # noqa: E402
from core.models import Grade, Incident, State  # noqa: E402
from core.passwords import hash_password  # noqa: E402
from core.timeutil import utcnow  # noqa: E402
from storage.sql import open_store  # noqa: E402

SECRET = "bench-secret-0123456789-0123456789-abcdef"
PASSWORD = "soak-password-0123"
UNITS = {"500105003000": "石马河街道", "500105006000": "观音桥街道"}
def process_figures(pid: int) -> tuple[float, int, int]:
    """Resident memory (MiB), threads and open file descriptors of a process (Linux /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss_kib = int(fields["VmRSS"].split()[0])
    return rss_kib / 1024, int(fields["Threads"]), len(os.listdir(f"/proc/{pid}/fd"))


class Tally:
    """What the clients saw (updated from the event loop only)."""

    def __init__(self) -> None:
        self.frames = 0
        self.reconnects = 0
        self.errors = 0


def writer(url: str, every: float, stop: threading.Event, written: list[int]) -> None:
    """A new incident every ``every`` seconds, alternating units: one live-feed frame each."""
    store = open_store(url)
    codes = list(UNITS)
    while not stop.wait(every):
        code = codes[written[0] % 2]
        now = utcnow()
        with store.begin() as tx:
            tx.insert_incident(Incident(title=f"浸泡测试事件{written[0]}", unit=UNITS[code], unit_code=code,
                                        topic="water", grade=Grade.BLUE, state=State.ASSIGNED, opened_at=now,
                                        updated_at=now))
        written[0] += 1
    store.dispose()


async def client(base: str, headers: dict[str, str], stream_seconds: float, deadline: float, tally: Tally) -> None:
    last: str | None = None
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=httpx.Timeout(30, read=60)) as http:
        while time.monotonic() < deadline:
            extra = {"Last-Event-ID": last} if last else {}
            try:
                async with http.stream("GET", "/api/feed/stream", params={"max_seconds": stream_seconds},
                                       headers=extra) as resp:
                    resp.raise_for_status()
                    async for line in resp.aiter_lines():
                        if line.startswith("id:"):
                            last = line[3:].strip()
                            tally.frames += 1
                        if time.monotonic() >= deadline:
                            return
            except httpx.HTTPError:
                tally.errors += 1
                await asyncio.sleep(1)
            tally.reconnects += 1


async def soak(base: str, pid: int, args: argparse.Namespace, written: list[int]) -> list[tuple[float, float]]:
    tally = Tally()
    headers = []
    for name in ["duty", *(f"unit{code}" for code in UNITS)]:  # logged in as a console does (tokens last 8 h)
        resp = httpx.post(f"{base}/api/auth/token", data={"username": name, "password": PASSWORD}, timeout=60)
        resp.raise_for_status()
        headers.append({"Authorization": f"Bearer {resp.json()['access_token']}"})
    started = time.monotonic()
    deadline = started + args.minutes * 60
    tasks = [asyncio.create_task(client(base, headers[0] if i % 2 == 0 else headers[1 + (i // 2) % 2],
                                        args.stream_seconds, deadline, tally)) for i in range(args.clients)]
    memory: list[tuple[float, float]] = []
    print(f"{'minutes':>8} {'rss MiB':>8} {'threads':>8} {'fds':>6} {'written':>8} {'frames':>8} "
          f"{'reconn':>7} {'errors':>7}", flush=True)
    while time.monotonic() < deadline:
        await asyncio.sleep(min(args.report, max(0.0, deadline - time.monotonic())))
        rss, threads, fds = process_figures(pid)
        elapsed = (time.monotonic() - started) / 60
        memory.append((elapsed, rss))
        print(f"{elapsed:8.1f} {rss:8.1f} {threads:8d} {fds:6d} {written[0]:8d} {tally.frames:8d} "
              f"{tally.reconnects:7d} {tally.errors:7d}", flush=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    return memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between new incidents")
    parser.add_argument("--stream-seconds", type=float, default=120, help="each stream's max_seconds")
    parser.add_argument("--report", type=float, default=30, help="seconds between lines")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/soak.db"
        store = open_store(url)
        with store.begin() as tx:
            password = hash_password(PASSWORD)
            tx.add_user("duty", "duty", None, password, utcnow())
            for code in UNITS:
                tx.add_user(f"unit{code}", "unit", code, password, utcnow())
        store.dispose()
        proc, base = start_server(url, SECRET)
        stop = threading.Event()
        written = [0]
        feeder = threading.Thread(target=writer, args=(url, args.every, stop, written), daemon=True)
        try:
            print(f"{args.clients} SSE clients for {args.minutes:g} min, a new incident every {args.every:g} s, "
                  f"streams of {args.stream_seconds:g} s, server: 1 uvicorn process (pid {proc.pid})\n", flush=True)
            feeder.start()
            memory = asyncio.run(soak(base, proc.pid, args, written))
        finally:
            stop.set()
            proc.terminate()
            proc.wait(timeout=30)
    if len(memory) >= 2:
        half = len(memory) // 2
        first_half, second_half = [m for _, m in memory[:half]], [m for _, m in memory[half:]]
        print(f"\nresident memory: first {memory[0][1]:.1f} MiB, last {memory[-1][1]:.1f} MiB, "
              f"max {max(m for _, m in memory):.1f} MiB; mean of the first half {sum(first_half) / len(first_half):.1f}"
              f" MiB, of the second half {sum(second_half) / len(second_half):.1f} MiB")


if __name__ == "__main__":
    main()
