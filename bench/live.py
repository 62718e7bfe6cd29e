#!/usr/bin/env python3
"""The live-updates benchmark: many open home pages, check-ins at the front desk, and what it
costs.

    .venv/bin/python bench/live.py [--watchers 1000] [--seconds 120] [--rate 5] [--few 10]
                                   [--interval 3] [--latency-ms 20] [--out bench/results]

Starts the sandbox (`member-app sandbox --members N --latency-ms L`) and the app (`member-app
serve`, with a staff token from the password grant, `MEMBER_APP_LIVE_INTERVAL`) as processes on
free loopback ports, signs the N bench members in through the real PKCE pages, then runs two
phases, each with check-ins at `--rate` a second through the sandbox's admin API
(`POST /v2/transactions/`, a gym check-in for a random watching member):

1. **few**: `--few` members have their home page's stream (`GET /live`) open;
2. **all**: all N members have it open, for `--seconds`.

A "page" here is the stream a home page holds (static/live.js opens exactly this); the balance
changes on the page when its `event: points` arrives (the script sets it in the same task).
For each phase: upstream calls per minute (the app's own `/metrics`, by endpoint: with a staff
token the poller's calls must be the same for few and all), the app's CPU (cores, from
/proc), its RSS per 1,000 watchers (VmRSS with the streams open minus before they opened,
scaled), and the time from each check-in (its 201) to its balance arriving on the member's
stream (p50, p95; after each check-in the bench reads the member's balance with the staff
token, and the check-in counts as arrived when an event shows at least that). Writes
`live.json` and `live.md` to `--out` and prints the markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import resource
import secrets
import shutil
import ssl
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/signin.py
sys.path.insert(0, str(Path(__file__).resolve().parent))  # for speed.py, processes.py

from processes import rss_mb, run_with_servers
from speed import (
    MEMBER_APP,
    ROOT,
    Bench,
    BenchError,
    Options,
    machine_info,
    percentile,
    say,
)

from member_app.admin_token import AdminTokenError, request_admin_token
from member_app.sandbox.seed import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    DEMO_BUSINESS_ID,
)
from member_app.sandbox.seed.bench import MAX_MEMBERS, bench_email, bench_ids
from tests.signin import SignInError, at_perkville

CHECK_IN = 101
DOWNTOWN = 11
PASSWORD = "perkville-demo"
# Targets (bench/README.md, "Live updates").
P95_SLACK_SECONDS = 1.0
RSS_MB_PER_1000 = 50.0
CPU_CORES_AT_1000 = 0.3
SAME_CALLS_TOLERANCE = 0.15
_METRIC = re.compile(
    r"^member_app_upstream_requests_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$", re.M
)
SSL = ssl.create_default_context()  # one for every client: making one costs ~80 ms


# --- signing in -----------------------------------------------------------------------------


def _at_perkville(authorize_url: str, email: str) -> str:
    with httpx2.Client(timeout=60.0, follow_redirects=False, verify=SSL) as perkville:
        try:
            return at_perkville(perkville, authorize_url, email=email, password=PASSWORD)
        except SignInError as exc:
            raise BenchError(f"sign-in as {email}: {exc}") from exc


async def sign_in(app_url: str, sandbox_url: str, email: str) -> str:
    """The real PKCE walk (app /signin → sandbox pages → app callback); the member's session
    as a Cookie header."""
    async with httpx2.AsyncClient(
        base_url=app_url, timeout=60.0, follow_redirects=False, verify=SSL
    ) as client:
        response = await client.get("/signin")
        authorize = response.headers.get("location", "")
        if response.status_code != 302 or not authorize.startswith(sandbox_url):
            raise BenchError(f"/signin answered {response.status_code} {authorize}")
        callback = await asyncio.to_thread(_at_perkville, authorize, email)
        response = await client.get(callback)
        if response.status_code != 303:
            raise BenchError(f"the callback answered {response.status_code} for {email}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


async def sign_in_all(bench: Bench, count: int, at_once: int = 8) -> list[str]:
    gate = asyncio.Semaphore(at_once)

    async def one(i: int) -> str:
        async with gate:
            return await sign_in(bench.app_url, bench.sandbox_url, bench_email(i))

    return await asyncio.gather(*(one(i) for i in range(1, count + 1)))


def desk_token(sandbox_url: str) -> str:
    """The front desk's staff token, allowed to award points (ADMIN_CUSTOMER_GRANT_POINTS):
    the password grant, as a gym's check-in system gets one."""
    try:
        with httpx2.Client(timeout=30.0, verify=SSL) as http:
            return request_admin_token(
                http,
                sandbox_url,
                client_id=ADMIN_CLIENT_ID,
                client_secret=ADMIN_CLIENT_SECRET,
                username=ADMIN_EMAIL,
                password=ADMIN_PASSWORD,
                scopes=("PUBLIC", "ADMIN_CUSTOMER_INFO", "ADMIN_CUSTOMER_GRANT_POINTS"),
            ).access_token
    except AdminTokenError as exc:
        raise BenchError(f"no staff token for the front desk: {exc}") from exc


# --- the watchers and the front desk -----------------------------------------------------------


@dataclass
class Tally:
    """Check-ins waiting to show, and how long each took."""

    waiting: dict[int, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))
    seconds: list[float] = field(default_factory=list)
    events: int = 0
    check_ins: int = 0
    failed_check_ins: int = 0
    streams_broken: int = 0

    shown: dict[int, tuple[int, float]] = field(default_factory=dict)

    def arrived(self, member: int, balance: int) -> None:
        self.events += 1
        now = time.perf_counter()
        self.shown[member] = (balance, now)
        still = []
        for expected, sent in self.waiting.get(member, []):
            if balance >= expected:
                self.seconds.append(now - sent)
            else:
                still.append((expected, sent))
        self.waiting[member] = still

    def wait_for(self, member: int, balance: int, sent: float) -> None:
        """A check-in done at `sent` leaves the member at `balance` (or more)."""
        self.check_ins += 1
        shown, when = self.shown.get(member, (-1, 0.0))
        if shown >= balance and when >= sent:  # its event came while we read the balance
            self.seconds.append(when - sent)
        else:
            self.waiting[member].append((balance, sent))

    @property
    def missing(self) -> int:
        return sum(len(w) for w in self.waiting.values())


async def watch(
    http: httpx2.AsyncClient, member: int, cookie: str, tally: Tally, opened: asyncio.Event
) -> None:
    """One open home page: its EventSource, read line by line."""
    headers = {"Cookie": cookie, "Accept": "text/event-stream"}
    try:
        async with http.stream("GET", "/live", headers=headers) as response:
            if response.status_code != 200:
                tally.streams_broken += 1
                opened.set()
                return
            opened.set()
            kind = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "points":
                    tally.arrived(member, int(json.loads(line[6:])["balance"]))
                elif not line:
                    kind = ""
    except httpx2.HTTPError:
        tally.streams_broken += 1
        opened.set()


async def front_desk(
    sandbox: httpx2.AsyncClient,
    token: str,
    members: list[int],
    rate: float,
    until: float,
    tally: Tally,
    rng: random.Random,
) -> None:
    """Check-ins at `rate` a second for random watching members, until `until`."""
    headers = {"Authorization": f"Bearer {token}"}
    running: set[asyncio.Task[None]] = set()

    async def check_in(member: int) -> None:
        user = bench_ids(member).user_id
        response = await sandbox.post(
            "/v2/transactions/",
            headers=headers,
            json={
                "business": f"/v2/businesses/{DEMO_BUSINESS_ID}/",
                "location": f"/v2/locations/{DOWNTOWN}/",
                "perk": f"/v2/perks/{CHECK_IN}/",
                "quantity": 1,
                "user": f"/v2/users/{user}/",
                "trans_source_id": f"bench-live-{secrets.token_hex(8)}",
            },
        )
        if response.status_code != 201:
            if not tally.failed_check_ins:
                say(f"a check-in failed: {response.status_code} {response.text[:200]}")
            tally.failed_check_ins += 1
            return
        sent = time.perf_counter()
        found = await sandbox.get(
            "/v2/connection-balances/", params={"user": user}, headers=headers
        )
        tally.wait_for(member, int(found.json()["objects"][0]["point_balance"]), sent)

    step = 1 / rate
    next_at = time.perf_counter()
    while next_at < until:
        task = asyncio.create_task(check_in(rng.choice(members)))
        running.add(task)
        task.add_done_callback(running.discard)
        next_at += step
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    if running:
        await asyncio.gather(*running, return_exceptions=True)


# --- measuring ------------------------------------------------------------------------------------


def upstream_calls(metrics_text: str) -> dict[str, float]:
    """Calls to Perkville so far, by `METHOD endpoint`, from the app's /metrics."""
    calls: dict[str, float] = defaultdict(float)
    for match in _METRIC.finditer(metrics_text):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group("labels")))
        calls[f"{labels.get('method')} {labels.get('endpoint')}"] += float(match.group("value"))
    return dict(calls)


async def phase(
    bench: Bench,
    app: httpx2.AsyncClient,
    sandbox: httpx2.AsyncClient,
    token: str,
    cookies: list[str],
    *,
    seconds: float,
    rate: float,
    interval: float,
    rng: random.Random,
) -> dict[str, Any]:
    """`len(cookies)` home pages open for `seconds`, check-ins at `rate` a second."""
    tally = Tally()
    rss_before = rss_mb(bench.app.proc.pid)
    members = list(range(1, len(cookies) + 1))
    opened = [asyncio.Event() for _ in members]
    streams = [
        asyncio.create_task(watch(app, m, c, tally, o))
        for m, c, o in zip(members, cookies, opened, strict=True)
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*(o.wait() for o in opened)), timeout=120)
        await asyncio.sleep(2 * interval)  # polling has begun; the first poll has passed
        tally.events = 0
        calls_before = upstream_calls((await app.get("/metrics")).text)
        cpu_before, wall_before = bench.app.cpu_seconds(), time.perf_counter()
        await front_desk(sandbox, token, members, rate, time.perf_counter() + seconds, tally, rng)
        await asyncio.sleep(interval + 2)  # the last check-ins' poll
        wall = time.perf_counter() - wall_before
        cpu = bench.app.cpu_seconds() - cpu_before
        calls_after = upstream_calls((await app.get("/metrics")).text)
        rss_open = rss_mb(bench.app.proc.pid)
    finally:
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    calls = {
        key: calls_after.get(key, 0) - calls_before.get(key, 0)
        for key in calls_after
        if calls_after.get(key, 0) != calls_before.get(key, 0)
    }
    seconds_sorted = sorted(tally.seconds)
    poll_key = "GET /v2/connection-balances/"
    return {
        "watchers": len(cookies),
        "seconds": wall,
        "check_ins": tally.check_ins,
        "check_ins_failed": tally.failed_check_ins,
        "arrived": len(seconds_sorted),
        "missing": tally.missing,
        "events": tally.events,
        "streams_broken": tally.streams_broken,
        "p50_s": percentile(seconds_sorted, 0.5),
        "p95_s": percentile(seconds_sorted, 0.95),
        "max_s": seconds_sorted[-1] if seconds_sorted else float("nan"),
        "upstream_per_min": sum(calls.values()) * 60 / wall,
        "poller_per_min": calls.get(poll_key, 0) * 60 / wall,
        "upstream_by_endpoint_per_min": {k: round(v * 60 / wall, 1) for k, v in calls.items()},
        "app_cpu_cores": cpu / wall,
        "rss_before_mb": rss_before,
        "rss_open_mb": rss_open,
        "rss_mb_per_1000": (rss_open - rss_before) * 1000 / max(len(cookies), 1),
    }


# --- the run --------------------------------------------------------------------------------------


def raise_open_files() -> None:
    """Each open page is a socket on both ends: lift the soft limit to the hard one (the app
    inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def run(args: argparse.Namespace, logdir: Path) -> dict[str, Any]:
    opts = Options(
        latency_ms=args.latency_ms,
        members=args.watchers,
        seconds=args.seconds,
        warmup=0,
        pages=["/"],
        member_cache_seconds=None,
        demo_member=False,
    )
    env = {
        "MEMBER_APP_RATE_LIMITS": "0",  # every member signs in from one loopback address
        "MEMBER_APP_LIVE_INTERVAL": str(args.interval),
    }
    bench = Bench("live", opts, env, logdir)
    rng = random.Random(args.seed)
    try:
        await asyncio.to_thread(bench.start)
        token = await asyncio.to_thread(desk_token, bench.sandbox_url)
        say(f"signing in {args.watchers} members")
        started = time.perf_counter()
        cookies = await sign_in_all(bench, args.watchers)
        signin_seconds = time.perf_counter() - started
        say(f"signed in in {signin_seconds:.0f} s")
        limits = httpx2.Limits(max_connections=args.watchers + 20, max_keepalive_connections=20)
        timeout = httpx2.Timeout(30.0, read=None)  # a stream may be quiet between heartbeats
        async with (
            httpx2.AsyncClient(
                base_url=bench.app_url, timeout=timeout, limits=limits, verify=SSL
            ) as app,
            httpx2.AsyncClient(base_url=bench.sandbox_url, timeout=30.0, verify=SSL) as sandbox,
        ):
            phases = {}
            for name, count, seconds in (
                ("few", min(args.few, args.watchers), min(args.seconds, args.few_seconds)),
                ("all", args.watchers, args.seconds),
            ):
                say(f"{name}: {count} pages open, {args.rate} check-ins/s for {seconds:.0f} s")
                phases[name] = await phase(
                    bench,
                    app,
                    sandbox,
                    token,
                    cookies[:count],
                    seconds=seconds,
                    rate=args.rate,
                    interval=args.interval,
                    rng=rng,
                )
                row = phases[name]
                say(
                    f"{name}: p50 {row['p50_s']:.2f} s, p95 {row['p95_s']:.2f} s, "
                    f"{row['upstream_per_min']:.0f} upstream calls/min "
                    f"({row['poller_per_min']:.0f} polls), cpu {row['app_cpu_cores']:.3f} cores, "
                    f"+{row['rss_open_mb'] - row['rss_before_mb']:.1f} MB"
                )
        peak = bench.app.peak_rss_mb()
    finally:
        bench.stop()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "options": {
            "watchers": args.watchers,
            "seconds": args.seconds,
            "rate": args.rate,
            "few": args.few,
            "interval": args.interval,
            "latency_ms": args.latency_ms,
            "seed": args.seed,
        },
        "signin_seconds": signin_seconds,
        "phases": phases,
        "app_peak_rss_mb": peak,
        "targets": targets(phases, args),
    }


def targets(phases: dict[str, Any], args: argparse.Namespace) -> list[dict[str, Any]]:
    few, every = phases["few"], phases["all"]
    scale = 1000 / max(every["watchers"], 1)
    same = abs(every["poller_per_min"] - few["poller_per_min"]) <= SAME_CALLS_TOLERANCE * max(
        few["poller_per_min"], 1
    )
    return [
        {
            "target": f"p95 check-in → page ≤ interval + {P95_SLACK_SECONDS:g} s",
            "measured": f"{every['p95_s']:.2f} s (limit {args.interval + P95_SLACK_SECONDS:g} s)",
            "met": every["p95_s"] <= args.interval + P95_SLACK_SECONDS and every["missing"] == 0,
        },
        {
            "target": f"polls the same for {few['watchers']} and {every['watchers']} watchers",
            "measured": f"{few['poller_per_min']:.1f} vs {every['poller_per_min']:.1f} a minute",
            "met": same,
        },
        {
            "target": f"RSS ≤ {RSS_MB_PER_1000:g} MB per 1,000 watchers",
            "measured": f"{every['rss_mb_per_1000']:.1f} MB",
            "met": every["rss_mb_per_1000"] <= RSS_MB_PER_1000,
        },
        {
            "target": f"app CPU ≤ {CPU_CORES_AT_1000:g} cores at 1,000 watchers",
            "measured": f"{every['app_cpu_cores']:.3f} cores at {every['watchers']}"
            + (f" (×{scale:.1f} ≈ {every['app_cpu_cores'] * scale:.3f})" if scale != 1 else ""),
            "met": every["app_cpu_cores"] * max(scale, 1) <= CPU_CORES_AT_1000,
        },
    ]


def markdown(report: dict[str, Any]) -> str:
    o = report["options"]
    out = [
        "# Live updates",
        "",
        f"{report['date']} · {report['machine']['cpu']} ({report['machine']['nproc']} CPUs) · "
        f"commit {report['machine']['commit']}",
        "",
        f"Interval {o['interval']} s, check-ins {o['rate']}/s, sandbox latency "
        f"{o['latency_ms']} ms; {o['watchers']} members signed in in "
        f"{report['signin_seconds']:.0f} s.",
        "",
        "| phase | watchers | check-ins | arrived | missing | p50 s | p95 s | max s "
        "| upstream calls/min | of which polls | app CPU cores | RSS +MB (per 1,000) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, p in report["phases"].items():
        grown = p["rss_open_mb"] - p["rss_before_mb"]
        out.append(
            f"| {name} | {p['watchers']} | {p['check_ins']} | {p['arrived']} | {p['missing']} "
            f"| {p['p50_s']:.2f} | {p['p95_s']:.2f} | {p['max_s']:.2f} "
            f"| {p['upstream_per_min']:.1f} | {p['poller_per_min']:.1f} "
            f"| {p['app_cpu_cores']:.3f} | {grown:.1f} ({p['rss_mb_per_1000']:.1f}) |"
        )
    out += ["", "Upstream calls a minute by endpoint:", ""]
    for name, p in report["phases"].items():
        calls = ", ".join(
            f"`{k}` {v}" for k, v in sorted(p["upstream_by_endpoint_per_min"].items())
        )
        out.append(f"- {name}: {calls or 'none'}")
    out += ["", f"App peak RSS: {report['app_peak_rss_mb']:.0f} MB.", ""]
    out += ["| target | measured | |", "| --- | --- | --- |"]
    for t in report["targets"]:
        out.append(f"| {t['target']} | {t['measured']} | {'met' if t['met'] else '**not met**'} |")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--watchers", type=int, default=1000, help="open home pages (1000)")
    parser.add_argument("--seconds", type=float, default=120, help="length of phase all (120)")
    parser.add_argument("--rate", type=float, default=5, help="check-ins a second (5)")
    parser.add_argument("--few", type=int, default=10, help="open pages in phase few (10)")
    parser.add_argument(
        "--few-seconds", type=float, default=60, help="length of phase few, at most (60)"
    )
    parser.add_argument("--interval", type=float, default=3, help="MEMBER_APP_LIVE_INTERVAL (3)")
    parser.add_argument("--latency-ms", type=float, default=20, help="sandbox latency (20)")
    parser.add_argument("--seed", type=int, default=7, help="who checks in (7)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    if not 1 <= args.watchers <= MAX_MEMBERS or args.seconds <= 0 or args.rate <= 0:
        parser.error(f"--watchers from 1 to {MAX_MEMBERS}, --seconds and --rate above 0")
    if not MEMBER_APP.exists():
        parser.error(f"{MEMBER_APP} not found: create the venv first (python3 tasks.py demo)")
    raise_open_files()
    failures = (BenchError, httpx2.HTTPError, TimeoutError)
    ran = run_with_servers("live", partial(run, args), failures)
    if isinstance(ran, int):
        return ran
    report, logdir = ran
    shutil.rmtree(logdir, ignore_errors=True)
    text = markdown(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "live.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (args.out / "live.md").write_text(text)
    print(text)
    return 0 if all(t["met"] for t in report["targets"]) else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
