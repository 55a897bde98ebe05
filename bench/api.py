"""API latency at scale: p50/p99 of the incident list, incident detail and search.

Generates N posts / M incidents straight into a fresh SQLite store (default 100,000 / 10,000),
builds the full-text index, starts the real server on 127.0.0.1 in a child process, and drives it
with C concurrent clients (default 20). /healthz under the same load is the in-run baseline: on a
shared machine absolute req/s move with the load, the ratio to healthz and the server's own CPU
time per request (read from /proc, the server's processes only, not the clients') much less. Each
endpoint's CPU per request is also printed in requests of the same server's /healthz (median CPU
per request of the endpoint ÷ median CPU per request of /healthz, same run): the cost measure
issue 17 item 5's "relative to healthz" is read by; and so for each round (that round's endpoint
÷ that round's healthz). The CPU time comes in clock ticks (10 ms): at ~1 ms a request, 100
requests per endpoint measure to ±0.1 ms, 600 to ±0.02 ms.

``--compare DIR`` starts a second server from another checkout's code (e.g. ``/work/main``) over
the same database and runs every endpoint on both, alternating, ``--rounds`` times: before and
after in one session, under the same load. Each checkout is served by its own virtual
environment's Python (``DIR/.venv``, when it has one), so a dependency added since (``httptools``)
counts on one side only. ``--workers N`` serves with N uvicorn worker
processes (``ecowatch serve --workers N --no-scheduler``) instead of one (with ``--compare``, the
other checkout needs that option too).

    .venv/bin/python bench/api.py [--posts 100000] [--incidents 10000] [--clients 20] [--requests 400]
                                  [--compare /work/main] [--rounds 3] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.jurisdiction import load_jurisdiction  # noqa: E402
from core.passwords import hash_password  # noqa: E402
from core.timeutil import utcnow  # noqa: E402
from dashboard_api.security import create_token  # noqa: E402
from indexing.search_index import SearchIndexer  # noqa: E402
from storage.schema import analyses, audit_log, incident_posts, incidents, raw_posts  # noqa: E402
from storage.sql import open_store  # noqa: E402

SECRET = "bench-secret-0123456789-0123456789-abcdef"
TOPIC_WORDS = {"water": ["黑臭", "污水直排", "河水发绿", "死鱼", "排污口"], "air": ["油烟", "异味", "烧垃圾", "粉尘"],
               "noise": ["夜间施工", "噪声扰民", "广场舞", "装修噪音"], "waste": ["建筑垃圾", "乱倒渣土", "垃圾堆积"],
               "soil": ["土壤污染", "化工厂旧址"], "ecology": ["砍树", "填湖", "非法捕鱼"], "other": ["投诉"]}
GRADES = ["blue"] * 7 + ["yellow"] * 2 + ["orange"]
STATES = ["assigned", "signed", "responded", "resolved", "closed", "new"]


def generate(url: str, n_posts: int, n_incidents: int, seed: int = 7) -> tuple[list[str], float]:
    """Fill the store; returns the search words used and the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(seed)
    jurisdiction = load_jurisdiction("jiangbei")
    units = list(jurisdiction.units.values())
    places = [p for p in jurisdiction.places if len(p.unit_codes) == 1][:2000]
    store = open_store(url)
    now = utcnow()
    per = max(1, n_posts // n_incidents)
    post_rows, analysis_rows, incident_rows, link_rows, audit_rows = [], [], [], [], []
    post_id = 0
    for iid in range(1, n_incidents + 1):
        topic = rng.choice(list(TOPIC_WORDS))
        place = rng.choice(places)
        unit = jurisdiction.units[place.unit_codes[0]] if rng.random() > 0.05 else None
        opened = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        grade, state = rng.choice(GRADES), ("new" if unit is None else rng.choice(STATES[:-1]))
        title = f"{place.name}{rng.choice(TOPIC_WORDS[topic])}"
        incident_rows.append(dict(id=iid, title=title, unit=unit.name if unit else None,
                                  unit_code=unit.code if unit else None, department="区生态环境局", topic=topic,
                                  place=place.name, grade=grade, grade_reasons=["相关负面舆情"], state=state,
                                  opened_at=opened, updated_at=opened, post_count=per,
                                  deadlines={"sign_off": (opened + dt.timedelta(hours=2)).isoformat(),
                                             "response": (opened + dt.timedelta(hours=24)).isoformat()}))
        audit_rows.append(dict(incident_id=iid, at=opened, actor="system", action="open", from_state=None,
                               to_state=state, detail={}))
        for k in range(per):
            post_id += 1
            words = rng.sample(TOPIC_WORDS[topic], min(2, len(TOPIC_WORDS[topic])))
            text = (f"{rng.choice(units).name if rng.random() < 0.1 else ''}{place.name}附近{words[0]}，"
                    f"已经持续{rng.randint(2, 30)}天了，{words[-1]}严重，居民多次反映没人管。希望有关部门尽快处理。"
                    f"第{k + 1}条跟帖，编号{post_id}。")
            at = opened + dt.timedelta(minutes=k)
            post_rows.append(dict(id=post_id, fingerprint=f"bench:{post_id}", content_hash=f"{post_id:064x}",
                                  source=rng.choice(["weibo", "rss-cq", "news-jb", "forum"]), url=None,
                                  title=title if k == 0 else "", text=text, author=f"user{rng.randint(1, 5000)}",
                                  published_at=at, fetched_at=at, engagement={}, processed_at=at))
            analysis_rows.append(dict(post_id=post_id, relevant=True, unit=unit.name if unit else None,
                                      unit_code=unit.code if unit else None, confidence=0.9, topics=[topic],
                                      topic=topic, polarity="neg", sentiment=0.1,
                                      evidence=[{"kind": "place", "text": place.name, "start": 0,
                                                 "end": len(place.name), "detail": ""}],
                                      signals=[], place=place.name, analysed_at=at))
            link_rows.append(dict(incident_id=iid, post_id=post_id, added_at=at))
    with store.begin() as tx:
        for table, rows in ((raw_posts, post_rows), (analyses, analysis_rows), (incidents, incident_rows),
                            (incident_posts, link_rows), (audit_log, audit_rows)):
            for i in range(0, len(rows), 5000):
                tx.conn.execute(table.insert(), rows[i:i + 5000])
        tx.add_user("duty", "duty", None, hash_password("bench-password"), now)
    gen_s = time.perf_counter() - started
    t0 = time.perf_counter()
    indexer = SearchIndexer(jurisdiction)
    indexed = indexer.catch_up(store, max_posts=n_posts + 1)
    index_s = time.perf_counter() - t0
    with store.read() as tx:
        assert tx.count_unindexed() == 0
    store.dispose()
    print(f"generated {len(post_rows)} posts / {len(incident_rows)} incidents in {gen_s:.1f} s; "
          f"indexed {indexed} posts in {index_s:.1f} s ({indexed / index_s:.0f} posts/s)")
    return [w for ws in TOPIC_WORDS.values() for w in ws] + [p.name for p in places[:50]], gen_s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER = """
import sys, uvicorn
sys.path.insert(0, {root!r})
from core.jurisdiction import load_jurisdiction
from storage.sql import SqlStore
from dashboard_api import create_app
# SqlStore, not open_store: generate() made the schema, and the --compare checkout may not know
# this one's newest migration.
app = create_app(SqlStore({url!r}), load_jurisdiction("jiangbei"), secret_key={secret!r})
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning")
"""


def python_of(root: Path) -> str:
    """The Python of checkout ``root``'s own virtual environment, or this one's when it has none."""
    own = root / ".venv" / "bin" / "python"
    return str(own) if root != ROOT and own.exists() else sys.executable


def start_server(url: str, secret: str, root: Path = ROOT, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """The real app over ``url`` in a child uvicorn process (the code and the virtual environment
    of checkout ``root``), or ``ecowatch serve --workers`` when ``workers`` > 1; returns it and its
    base URL once it answers."""
    port = free_port()
    python = python_of(root)
    if workers > 1:
        env = dict(os.environ, ECOWATCH_DATABASE_URL=url, ECOWATCH_SECRET_KEY=secret,
                   ECOWATCH_DATA_DIR=str(Path(url.removeprefix("sqlite:///")).parent), PYTHONPATH=str(root))
        cmd = [python, "-m", "ecowatch", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--no-scheduler"]
    else:
        env = os.environ.copy()
        cmd = [python, "-c", SERVER.format(root=str(root), url=url, secret=secret, port=port)]
    proc = subprocess.Popen(cmd, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(base + "/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return proc, base


async def drive(base: str, paths: list[str], clients: int, headers: dict[str, str]) -> list[float]:
    """Send every path once, ``clients`` at a time, each client on one kept-alive connection;
    returns latencies in ms. A bare HTTP/1.1 client (a request line, headers, a body read to its
    Content-Length): httpx cost more CPU per request than /healthz does on the server, so on a
    2-core machine the baseline measured the client."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for p in paths:
        queue.put_nowait(p)
    out: list[float] = []
    host, port = base.removeprefix("http://").split(":")
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while not queue.empty():
                path = queue.get_nowait()
                t = time.perf_counter()
                writer.write(f"GET {quote(path, safe='/?=&%')} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
                body = await reader.readexactly(length)
                out.append((time.perf_counter() - t) * 1000)
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"{path}: {head[:12]!r} {body[:200]!r}")
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid`` and its live children (uvicorn's
    workers), from /proc (Linux): the server's own cost, whatever else the machine runs."""
    tick = os.sysconf("SC_CLK_TCK")
    total, parents = 0.0, {pid}
    for stat in sorted(Path("/proc").glob("[0-9]*/stat"), key=lambda p: int(p.parent.name)):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        me, ppid = int(stat.parent.name), int(fields[1])
        if me in parents or ppid in parents:
            parents.add(me)
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(proc: subprocess.Popen[bytes], base: str, paths: list[str], clients: int,
            headers: dict[str, str]) -> tuple[list[float], float, float]:
    """Drive ``paths``; returns the latencies (ms), req/s and the server's CPU ms per request."""
    cpu = cpu_seconds(proc.pid)
    t = time.perf_counter()
    lat = asyncio.run(drive(base, paths, clients, headers))
    rate = len(lat) / (time.perf_counter() - t)
    return lat, rate, (cpu_seconds(proc.pid) - cpu) * 1000 / len(lat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="requests per endpoint")
    parser.add_argument("--compare", type=Path, help="also serve this checkout's code (before), alternating")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the endpoints (medians reported)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (ecowatch serve)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        words, _ = generate(url, args.posts, args.incidents)
        servers = {"after": start_server(url, SECRET, workers=args.workers)}
        if args.compare:
            servers = {"before": start_server(url, SECRET, args.compare.resolve(), args.workers), **servers}
        try:
            headers = {"Authorization": "Bearer " + create_token(SECRET, "duty", "duty", None, utcnow(), 60)[0]}
            rng = random.Random(1)
            n = args.requests
            unit_codes = list(load_jurisdiction("jiangbei").units)
            workloads = {
                "healthz (baseline)": ["/healthz"] * n,
                "incident list (50, newest)": ["/api/incidents?limit=50"] * n,
                "incident list (unit+state filter)": [f"/api/incidents?limit=50&unit_code={rng.choice(unit_codes)}"
                                                      f"&state=assigned&state=signed" for _ in range(n)],
                "incident detail": [f"/api/incidents/{rng.randint(1, args.incidents)}" for _ in range(n)],
                "search (1 word, 20 hits + facets)": [f"/api/search?q={rng.choice(words)}" for _ in range(n)],
                "search (2 words)": [f"/api/search?q={rng.choice(words)}%20{rng.choice(words)}" for _ in range(n)],
            }
            for _proc, base in servers.values():  # warm up
                asyncio.run(drive(base, ["/api/incidents?limit=5", "/api/search?q=黑臭"] * 5, 2, headers))
            results: dict[tuple[str, str], list[tuple[list[float], float, float]]] = {}
            for _ in range(args.rounds):
                for name, paths in workloads.items():
                    for label, (proc, base) in servers.items():
                        results.setdefault((label, name), []).append(measure(proc, base, paths, args.clients, headers))
            print(f"{args.clients} concurrent clients, {n} requests per endpoint, {args.rounds} round(s), server: "
                  f"{args.workers} uvicorn process(es)" + (f"; before = {args.compare}" if args.compare else ""))
            ratios: dict[tuple[str, str], float] = {}
            cpu: dict[tuple[str, str], float] = {}
            for label in servers:
                print(f"\n{label}: {'endpoint':<36} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'/ healthz':>10} "
                      f"{'server CPU ms/req':>18} {'in healthz reqs':>16}")
                base_rate = statistics.median(r for _, r, _ in results[(label, "healthz (baseline)")])
                own = statistics.median(c for _, _, c in results[(label, "healthz (baseline)")])
                for name in workloads:
                    runs = results[(label, name)]
                    lat = [v for run, _, _ in runs for v in run]
                    rate = statistics.median(r for _, r, _ in runs)
                    ratios[(label, name)] = rate / base_rate
                    cpu[(label, name)] = statistics.median(c for _, _, c in runs)
                    print(f"{'':<{len(label) + 2}}{name:<36} {statistics.median(lat):>8.1f} {pct(lat, 0.99):>8.1f} "
                          f"{rate:>8.1f} {rate / base_rate:>10.2f} {cpu[(label, name)]:>18.2f} "
                          f"{cpu[(label, name)] / own:>16.2f}")
            print("\nper round, CPU per request in requests of the same server's /healthz of that round"
                  + ("; before -> after" if args.compare else "") + ":")
            for name in workloads:
                rounds = []
                for r in range(args.rounds):
                    own_round = {label: results[(label, name)][r][2] / results[(label, "healthz (baseline)")][r][2]
                                 for label in servers}
                    rounds.append(" -> ".join(f"{v:.2f}" for v in own_round.values()))
                print(f"  {name:<36} " + "; ".join(rounds))
            if args.compare:
                # Relative to each side's own healthz, a cost both sides pay (HTTP parsing) made
                # cheaper on one side counts against it; in units of the before side's healthz (the
                # same machine, the code the figures started from), it counts for it.
                unit = cpu[("before", "healthz (baseline)")]
                print(f"\nafter / before, of req/s relative to healthz; server CPU per request, before -> after, "
                      f"and in requests of before's healthz ({unit:.2f} ms):")
                for name in workloads:
                    rel = ratios[("after", name)] / ratios[("before", name)]
                    before, after = cpu[("before", name)], cpu[("after", name)]
                    print(f"  {name:<36} {rel:>6.2f}x   {before:>6.2f} -> {after:>6.2f} ms"
                          f"   {before / unit:>5.2f} -> {after / unit:>5.2f}")
        finally:
            for proc, _base in servers.values():
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
