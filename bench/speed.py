#!/usr/bin/env python3
"""The speed benchmark: latency, upstream calls, round trips, CPU and memory per page.

    python3 tasks.py bench [--latency-ms 50] [--members 20] [--seconds 4] [--no-baseline]
                           [--pages / /rewards ...] [--member-cache-seconds N] [--out DIR]

Starts the Perkville sandbox (`member-app sandbox --latency-ms N --members K`) and the app
(`member-app serve`) as separate processes on free loopback ports, signs K bench members in
through the real PKCE pages, then, page after page, has the K members load that page in a loop
for `--seconds` seconds, each with its own cookies. Then a throughput phase with the
sandbox's latency set to 0 at run time. With `--fresh` (the default) everything runs again with
the member cache off (MEMBER_APP_MEMBER_CACHE_SECONDS=0), and with `--baseline` (the default)
once more against bench/baseline_app.py: the same app with the member cache off and each
member's upstream calls one after another. Writes `speed.json` and `speed.md` to `--out`
(bench/results) and prints the markdown. See bench/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from member_app.admin_token import AdminTokenError, request_admin_token  # noqa: E402
from member_app.sandbox.seed import (  # noqa: E402
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    DEMO_BUSINESS_ID,
    DEMO_CLIENT_ID,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
)
from tests.signin import SignInError, at_perkville  # noqa: E402

HOST = "127.0.0.1"
MEMBER_APP = Path(sys.executable).parent / "member-app"
# How each configuration's app is started (both take --host and --port): the product's own
# command, or the bench's baseline runner around the same app.
SERVE = (str(MEMBER_APP), "serve")
BASELINE_APP = (sys.executable, str(ROOT / "bench" / "baseline_app.py"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The pages a member visits, in the order they are measured. `{id}` pages are found by
# following the first matching link on the list page before them.
PAGES = (
    "/",
    "/earn",
    "/rewards",
    "/rewards/{id}/redeem",
    "/vouchers",
    "/vouchers/{id}",
    "/history",
    "/challenges",
    "/challenges/{id}",
    "/referrals",
    "/more",
)
DETAIL_LINKS = {
    "/rewards/{id}/redeem": ("/rewards", re.compile(r'href="(/rewards/\d+/redeem)"')),
    "/vouchers/{id}": ("/vouchers", re.compile(r'href="(/vouchers/\d+)"')),
    "/challenges/{id}": ("/challenges", re.compile(r'href="(/challenges/\d+)"')),
}
# The speed targets (bench/README.md, "Targets"), checked for the optimized app.
PAGE_P95_FACTOR, PAGE_P95_SLACK_MS = 1.3, 15.0
FIRST_PAGE_ROUND_TRIPS = 2
CPU_MS_PER_PAGE = 3.0
PAGES_PER_SECOND = 300.0
RSS_MB = 150.0
# A phase during which other processes used more CPU than this is flagged as noisy.
NOISY_CORES = 0.5


def say(message: str) -> None:
    print(f"--> {message}", file=sys.stderr, flush=True)


# --- child processes --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Child:
    """A server process of ours: its log in a temp file, its CPU time and peak memory from
    /proc, and a stop that terminates and then kills."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logdir: Path) -> None:
        self.name = name
        self.log_path = logdir / f"{name}.log"
        self._log = self.log_path.open("wb")
        # A session of its own: Ctrl-C reaches only us, and we stop the child in order.
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_tail(self, lines: int = 25) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(f"    {line}" for line in text[-lines:])

    def cpu_seconds(self) -> float:
        """User + system CPU time so far (fields 14 and 15 of /proc/<pid>/stat)."""
        stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def wait_ready(self, url: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with httpx2.Client(timeout=2.0) as http:
            while True:
                if self.proc.poll() is not None:
                    raise BenchError(
                        f"{self.name} exited with {self.proc.returncode} before it was ready; "
                        f"its log ({self.log_path}):\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx2.TransportError):
                    if http.get(url).status_code < 500:
                        return
                if time.monotonic() > deadline:
                    raise BenchError(f"{self.name} did not answer {url} within {timeout:.0f} s")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class BenchError(Exception):
    """Something the person running the bench must see, in plain words."""


def sandbox_options_missing() -> list[str]:
    """The sandbox options the bench needs that this checkout's `member-app sandbox` lacks."""
    helptext = subprocess.run(
        [str(MEMBER_APP), "sandbox", "--help"], capture_output=True, text=True, check=False
    ).stdout
    return [opt for opt in ("--latency-ms", "--members") if opt not in helptext]


# --- numbers ------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(seconds: list[float], latency_ms: float) -> dict[str, Any]:
    ms = sorted(s * 1000 for s in seconds)
    p50, p95, p99 = (percentile(ms, q) for q in (0.5, 0.95, 0.99))
    return {
        "count": len(ms),
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "max_ms": ms[-1] if ms else float("nan"),
        "round_trips_p50": p50 / latency_ms if latency_ms > 0 else None,
        "round_trips_p95": p95 / latency_ms if latency_ms > 0 else None,
    }


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs spent not idle since boot (/proc/stat, idle and iowait left out)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


@dataclass
class Meters:
    """CPU of the app, the sandbox and this process, and the sandbox's request count, read
    before and after a phase."""

    bench: Bench
    wall: float = 0.0
    app_cpu: float = 0.0
    sandbox_cpu: float = 0.0
    own_cpu: float = 0.0
    machine_cpu: float = 0.0
    upstream: dict[str, Any] | None = None

    async def read(self) -> Meters:
        return Meters(
            self.bench,
            time.perf_counter(),
            self.bench.app.cpu_seconds(),
            self.bench.sandbox.cpu_seconds(),
            time.process_time(),
            machine_busy_seconds(),
            await self.bench.sandbox_stats(),
        )

    def delta(self, after: Meters, pages: int) -> dict[str, Any]:
        wall = after.wall - self.wall
        per_page = max(pages, 1)
        result: dict[str, Any] = {
            "seconds": wall,
            "pages": pages,
            "pages_per_s": pages / wall if wall > 0 else float("nan"),
            "app_cpu_ms_per_page": (after.app_cpu - self.app_cpu) * 1000 / per_page,
            "app_cpu_cores": (after.app_cpu - self.app_cpu) / wall if wall > 0 else None,
            "sandbox_cpu_ms_per_page": (after.sandbox_cpu - self.sandbox_cpu) * 1000 / per_page,
            "bench_cpu_cores": (after.own_cpu - self.own_cpu) / wall if wall > 0 else None,
            # Everything else the machine ran meanwhile (other people's jobs): noise.
            "other_cpu_cores": (
                (
                    (after.machine_cpu - self.machine_cpu)
                    - (after.app_cpu - self.app_cpu)
                    - (after.sandbox_cpu - self.sandbox_cpu)
                    - (after.own_cpu - self.own_cpu)
                )
                / wall
                if wall > 0
                else None
            ),
            "upstream_calls_per_page": None,
            "upstream_by_label": None,
        }
        if self.upstream is not None and after.upstream is not None:
            calls = int(after.upstream.get("requests", 0)) - int(self.upstream.get("requests", 0))
            result["upstream_calls_per_page"] = calls / per_page
            before_labels = self.upstream.get("by_label") or {}
            after_labels = after.upstream.get("by_label") or {}
            if isinstance(before_labels, dict) and isinstance(after_labels, dict):
                result["upstream_by_label"] = {
                    label: round((count - before_labels.get(label, 0)) / per_page, 3)
                    for label, count in sorted(after_labels.items())
                    if isinstance(count, int) and count != before_labels.get(label, 0)
                }
        return result


# --- one member ---------------------------------------------------------------------------


@dataclass
class Member:
    email: str
    client: httpx2.AsyncClient
    paths: dict[str, str] = field(default_factory=dict)


def _expect(response: httpx2.Response, status: int, step: str) -> None:
    if response.status_code != status:
        where = response.headers.get("location", "")
        raise BenchError(
            f"sign-in step '{step}' answered {response.status_code} (expected {status}) "
            f"{where}\n    {response.text[:300]!r}"
        )


def _at_perkville(authorize_url: str, email: str, password: str) -> str:
    """Perkville's sign-in and consent pages, in a browser of their own (the sandbox's
    cookies kept apart from the app's); returns the app's callback URL."""
    with httpx2.Client(timeout=60.0, follow_redirects=False) as perkville:
        try:
            return at_perkville(perkville, authorize_url, email=email, password=password)
        except SignInError as exc:
            raise BenchError(f"sign-in as {email}: {exc}") from exc


async def sign_in(app_url: str, sandbox_url: str, email: str, password: str) -> httpx2.AsyncClient:
    """The real PKCE walk: app /signin -> sandbox sign-in form -> consent -> app
    /auth/callback (Perkville's part is tests/signin.py's, in a thread). Returns the member's
    app client, with cookies."""
    client = httpx2.AsyncClient(
        base_url=app_url,
        timeout=60.0,
        follow_redirects=False,
        limits=httpx2.Limits(max_connections=1, max_keepalive_connections=1),
        headers={"accept-encoding": "gzip"},
    )
    try:
        response = await client.get("/signin")
        _expect(response, 302, "app /signin")
        authorize = response.headers["location"]
        if not authorize.startswith(f"{sandbox_url}/api/authorize/"):
            raise BenchError(f"/signin sent the browser to {authorize}, not the sandbox")
        callback = await asyncio.to_thread(_at_perkville, authorize, email, password)
        if not callback.startswith(f"{app_url}/auth/callback?"):
            raise BenchError(f"the sandbox sent the browser to {callback}, not the app")
        response = await client.get(callback)
        _expect(response, 303, "app /auth/callback")
    except BaseException:
        await client.aclose()
        raise
    return client


# --- one configuration --------------------------------------------------------------------


@dataclass
class Options:
    latency_ms: float
    members: int
    seconds: float
    warmup: int
    pages: list[str]
    member_cache_seconds: float | None
    demo_member: bool
    think_ms: float = 200.0


class Bench:
    """The sandbox and one app process, and the K signed-in members that load its pages."""

    def __init__(
        self,
        name: str,
        opts: Options,
        app_env: dict[str, str],
        logdir: Path,
        app_command: tuple[str, ...] = SERVE,
    ) -> None:
        self.name = name
        self.opts = opts
        sandbox_port, app_port = free_port(), free_port()
        self.sandbox_url = f"http://{HOST}:{sandbox_port}"
        self.app_url = f"http://{HOST}:{app_port}"
        self.has_stats = False
        self.has_conditions = False
        self.members: list[Member] = []
        self.non_200: Counter[str] = Counter()
        self.children: list[Child] = []
        self.app_env = app_env
        self.app_command = app_command
        self.logdir = logdir
        self.sandbox_port, self.app_port = sandbox_port, app_port

    def start(self) -> None:
        """The sandbox, then the app pointed at it; each waited for."""
        opts, sandbox_port, app_port = self.opts, self.sandbox_port, self.app_port
        argv = [
            str(MEMBER_APP),
            "sandbox",
            "--host",
            HOST,
            "--port",
            str(sandbox_port),
            "--redirect-uri",
            f"{self.app_url}/auth/callback",
        ]
        if not opts.demo_member:
            argv += ["--latency-ms", str(opts.latency_ms), "--members", str(opts.members)]
        self.sandbox = Child(f"{self.name}-sandbox", argv, dict(os.environ), self.logdir)
        self.children.append(self.sandbox)
        self.sandbox.wait_ready(f"{self.sandbox_url}/")
        env = {
            **os.environ,
            "MEMBER_APP_SECRET_KEY": secrets.token_urlsafe(48),
            "PERKVILLE_CLIENT_ID": DEMO_CLIENT_ID,
            "PERKVILLE_BUSINESS_ID": str(DEMO_BUSINESS_ID),
            "MEMBER_APP_PUBLIC_URL": self.app_url,
            "PERKVILLE_API_URL": self.sandbox_url,
            "PERKVILLE_SIGNIN_URL": self.sandbox_url,
            "MEMBER_APP_LOG_LEVEL": "WARNING",  # no access log either
            "MEMBER_APP_SECURE_COOKIES": "0",
        }
        if opts.member_cache_seconds is not None:
            env["MEMBER_APP_MEMBER_CACHE_SECONDS"] = str(opts.member_cache_seconds)
        env.update(self.app_env)  # the configuration's own settings win (the cache off)
        token = self._admin_token()
        if token:
            env["PERKVILLE_ADMIN_TOKEN"] = token
        self.app = Child(
            f"{self.name}-app",
            [*self.app_command, "--host", HOST, "--port", str(app_port)],
            env,
            self.logdir,
        )
        self.children.append(self.app)
        self.app.wait_ready(f"{self.app_url}/")

    def _admin_token(self) -> str | None:
        """A staff token from the password grant, as `member-app demo` gives its app."""
        try:
            with httpx2.Client(timeout=30.0) as http:
                return request_admin_token(
                    http,
                    self.sandbox_url,
                    client_id=ADMIN_CLIENT_ID,
                    client_secret=ADMIN_CLIENT_SECRET,
                    username=ADMIN_EMAIL,
                    password=ADMIN_PASSWORD,
                ).access_token
        except AdminTokenError as exc:
            say(f"no staff token for the app ({exc}); running without one")
            return None

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()

    async def sandbox_stats(self) -> dict[str, Any] | None:
        if not self.has_stats:
            return None
        response = await self.control.get("/_sandbox/stats")
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats

    async def set_latency(self, latency_ms: float) -> bool:
        if not self.has_conditions:
            return False
        response = await self.control.put("/_sandbox/conditions", json={"latency_ms": latency_ms})
        return response.status_code < 300

    async def probe_controls(self) -> None:
        self.has_stats = (await self.control.get("/_sandbox/stats")).status_code == 200
        self.has_conditions = (await self.control.get("/_sandbox/conditions")).status_code == 200
        if not self.has_stats:
            say("the sandbox has no /_sandbox/stats: upstream calls are not counted")

    def _credentials(self, i: int) -> tuple[str, str]:
        if self.opts.demo_member:
            return MEMBER_EMAIL, MEMBER_PASSWORD
        return f"bench-{i}@example.com", "perkville-demo"

    async def sign_in_all(self) -> dict[str, Any]:
        """Each member in turn: sign in, then time the first `/` of the new session."""
        firsts: list[float] = []
        started = time.perf_counter()
        for i in range(1, self.opts.members + 1):
            email, password = self._credentials(i)
            client = await sign_in(self.app_url, self.sandbox_url, email, password)
            self.members.append(Member(email, client))
            t0 = time.perf_counter()
            response = await client.get("/")
            firsts.append(time.perf_counter() - t0)
            self._check(response, "/ (first page)")
        summary = latency_summary(firsts, self.opts.latency_ms)
        summary["signin_seconds"] = time.perf_counter() - started
        return summary

    def _check(self, response: httpx2.Response, label: str) -> None:
        if response.status_code != 200:
            where = response.headers.get("location", "")
            self.non_200[f"{response.status_code} {label} {where}".strip()] += 1

    async def discover(self) -> dict[str, int]:
        """Each member's own detail pages, by following the first link on the list page."""
        missing: Counter[str] = Counter()

        async def one(member: Member) -> None:
            lists: dict[str, str] = {}
            for label in self.opts.pages:
                if label in DETAIL_LINKS:
                    list_page, pattern = DETAIL_LINKS[label]
                    if list_page not in lists:
                        response = await member.client.get(list_page)
                        self._check(response, list_page)
                        lists[list_page] = response.text
                    found = pattern.search(lists[list_page])
                    if found:
                        member.paths[label] = found.group(1)
                    else:
                        missing[label] += 1
                else:
                    member.paths[label] = label

        await asyncio.gather(*(one(m) for m in self.members))
        return dict(missing)

    async def _loop(
        self,
        member: Member,
        paths: list[str],
        start: int,
        deadline: float,
        out: list[float],
        think_ms: float = 0.0,
    ) -> None:
        """Load `paths` in turn until the deadline. With `think_ms`, a member reads each page
        for a while (0.5 to 1.5 times it) before the next, as people do: the latency phases
        then measure round trips, not the queue of a saturated machine (that is the
        throughput phase's job, which has no think time)."""
        client, i = member.client, start
        rng = random.Random(start)
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            response = await client.get(path)
            out.append(time.perf_counter() - t0)
            self._check(response, path)
            if think_ms > 0:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think_ms / 1000)

    async def _warm(self, label: str) -> None:
        async def one(member: Member) -> None:
            for _ in range(self.opts.warmup):
                self._check(await member.client.get(member.paths[label]), label)

        await asyncio.gather(*(one(m) for m in self.members if label in m.paths))

    async def page_phase(self, label: str) -> dict[str, Any]:
        await self._warm(label)
        members = [m for m in self.members if label in m.paths]
        latencies: list[float] = []
        bad_before = sum(self.non_200.values())
        before = await Meters(self).read()
        deadline = time.perf_counter() + self.opts.seconds
        await asyncio.gather(
            *(
                self._loop(m, [m.paths[label]], i, deadline, latencies, self.opts.think_ms)
                for i, m in enumerate(members)
            )
        )
        after = await Meters(self).read()
        result = latency_summary(latencies, self.opts.latency_ms)
        result.update(before.delta(after, len(latencies)))
        result["members"] = len(members)
        result["non_200"] = sum(self.non_200.values()) - bad_before
        result["peak_rss_mb"] = self.app.peak_rss_mb()
        return result

    async def throughput_phase(self) -> dict[str, Any]:
        """Latency 0 at the sandbox; every member loads all pages round-robin."""
        zeroed = await self.set_latency(0)
        if not zeroed:
            say("could not set the sandbox's latency to 0 (no /_sandbox/conditions)")
        latencies: list[float] = []
        bad_before = sum(self.non_200.values())
        before = await Meters(self).read()
        deadline = time.perf_counter() + self.opts.seconds
        await asyncio.gather(
            *(
                self._loop(
                    m, [m.paths[p] for p in self.opts.pages if p in m.paths], i, deadline, latencies
                )
                for i, m in enumerate(self.members)
            )
        )
        after = await Meters(self).read()
        result = latency_summary(latencies, 0)
        result.update(before.delta(after, len(latencies)))
        result["sandbox_latency_ms"] = 0 if zeroed else self.opts.latency_ms
        result["non_200"] = sum(self.non_200.values()) - bad_before
        result["peak_rss_mb"] = self.app.peak_rss_mb()
        if zeroed:
            await self.set_latency(self.opts.latency_ms)
        return result

    async def run(self) -> dict[str, Any]:
        self.control = httpx2.AsyncClient(base_url=self.sandbox_url, timeout=30.0)
        try:
            await self.probe_controls()
            say(f"{self.name}: signing in {self.opts.members} members")
            first = await self.sign_in_all()
            missing = await self.discover()
            for label, count in missing.items():
                say(f"{self.name}: {count} member(s) have no link to {label}")
            pages: dict[str, Any] = {}
            for label in self.opts.pages:
                if not any(label in m.paths for m in self.members):
                    continue
                pages[label] = await self.page_phase(label)
                row = pages[label]
                say(
                    f"{self.name}: {label:22} p50 {row['p50_ms']:7.1f} ms  "
                    f"p95 {row['p95_ms']:7.1f} ms  {row['pages_per_s']:6.0f}/s  "
                    f"cpu {row['app_cpu_ms_per_page']:5.2f} ms/page"
                )
            throughput = await self.throughput_phase()
            say(
                f"{self.name}: throughput {throughput['pages_per_s']:.0f} pages/s, "
                f"cpu {throughput['app_cpu_ms_per_page']:.2f} ms/page"
            )
            return {
                "name": self.name,
                "first_page": first,
                "pages": pages,
                "throughput": throughput,
                "peak_rss_mb": self.app.peak_rss_mb(),
                "non_200": dict(self.non_200),
                "members_missing_link": missing,
                "upstream_counted": self.has_stats,
            }
        finally:
            for member in self.members:
                await member.client.aclose()
            await self.control.aclose()


@dataclass(frozen=True)
class Config:
    """One way of running the app: its name in the report, the environment it adds, and the
    command that serves it (given --host and --port)."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = SERVE


def run_config(config: Config, opts: Options, logdir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    bench = Bench(config.name, opts, config.env, logdir, config.command)
    try:
        bench.start()
        result = asyncio.run(bench.run())
    finally:
        bench.stop()
    result["env"] = config.env
    result["command"] = " ".join(Path(part).name for part in config.command)
    result["seconds"] = time.perf_counter() - started
    return result


# --- report -------------------------------------------------------------------------------


def _f(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def page_threshold(latency_ms: float) -> float:
    return PAGE_P95_FACTOR * latency_ms + PAGE_P95_SLACK_MS


def targets(opt: dict[str, Any], latency_ms: float) -> list[tuple[str, str, bool]]:
    checks: list[tuple[str, str, bool]] = []
    limit = page_threshold(latency_ms)
    slow = [f"`{p}` {r['p95_ms']:.0f} ms" for p, r in opt["pages"].items() if r["p95_ms"] > limit]
    worst = max((r["p95_ms"] for r in opt["pages"].values()), default=float("nan"))
    checks.append(
        (
            f"every page p95 ≤ {PAGE_P95_FACTOR} × latency + {PAGE_P95_SLACK_MS:.0f} ms "
            f"(= {limit:.0f} ms)",
            f"worst {worst:.0f} ms" + (f"; over: {', '.join(slow)}" if slow else ""),
            not slow,
        )
    )
    first = opt["first_page"]
    first_limit = FIRST_PAGE_ROUND_TRIPS * latency_ms + PAGE_P95_SLACK_MS
    checks.append(
        (
            f"first page of a new session ≤ {FIRST_PAGE_ROUND_TRIPS} round trips "
            f"(p50 ≤ {first_limit:.0f} ms)",
            f"p50 {first['p50_ms']:.0f} ms = {_f(first['round_trips_p50'])} round trips",
            first["p50_ms"] <= first_limit,
        )
    )
    cpu_rows = {p: r["app_cpu_ms_per_page"] for p, r in opt["pages"].items()}
    cpu_rows["throughput mix"] = opt["throughput"]["app_cpu_ms_per_page"]
    over = [f"`{p}` {v:.2f}" for p, v in cpu_rows.items() if v > CPU_MS_PER_PAGE]
    checks.append(
        (
            f"app CPU ≤ {CPU_MS_PER_PAGE:.0f} ms/page",
            f"worst {max(cpu_rows.values()):.2f} ms"
            + (f"; over: {', '.join(over)}" if over else ""),
            not over,
        )
    )
    tput = opt["throughput"]
    checks.append(
        (
            f"≥ {PAGES_PER_SECOND:.0f} pages/s at 0 ms sandbox latency",
            f"{tput['pages_per_s']:.0f} pages/s (sandbox at {tput['sandbox_latency_ms']} ms)",
            tput["pages_per_s"] >= PAGES_PER_SECOND and tput["sandbox_latency_ms"] == 0,
        )
    )
    checks.append(
        (
            f"peak RSS ≤ {RSS_MB:.0f} MB",
            f"{opt['peak_rss_mb']:.0f} MB",
            opt["peak_rss_mb"] <= RSS_MB,
        )
    )
    no_errors = not opt["non_200"]
    checks.append(("every response 200", "yes" if no_errors else str(opt["non_200"]), no_errors))
    return checks


def markdown(report: dict[str, Any]) -> str:
    settings = report["settings"]
    machine = report["machine"]
    latency = settings["latency_ms"]
    configs: list[dict[str, Any]] = report["configs"]
    names = [c["name"] for c in configs]
    out = [
        "# Speed benchmark",
        "",
        f"{report['date']} · {machine['nproc']} CPUs ({machine['cpu']}) · Python "
        f"{machine['python']} · commit {machine['commit']} · load average at start "
        f"{machine['loadavg_at_start'][0]:.2f}",
        f"Sandbox latency {latency} ms per call · {settings['members']} members · "
        f"{settings['seconds']} s per page · {settings['warmup']} warm-up loads per member · "
        f"members pause {settings.get('think_ms', 0):.0f} ms (±50%) between pages"
        + (" · demo member only (no bench members)" if settings["demo_member"] else ""),
        "",
        "Each cell: " + " / ".join(names) + ".",
        "",
        "| page | p50 ms | p95 ms | p99 ms | pages/s | upstream calls/page "
        "| round trips p50 (p95) | app CPU ms/page |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    labels = [p for p in settings["pages"] if any(p in c["pages"] for c in configs)]
    for label in labels:
        rows = [c["pages"].get(label) for c in configs]

        def cell(key: str, digits: int = 1, rows: list[Any] = rows) -> str:
            return " / ".join(_f(r[key] if r else None, digits) for r in rows)

        trips = " / ".join(
            f"{_f(r['round_trips_p50'])} ({_f(r['round_trips_p95'])})" if r else "n/a" for r in rows
        )
        noisy = any(r and (r["other_cpu_cores"] or 0) > NOISY_CORES for r in rows)
        out.append(
            f"| `{label}`{' ⚠' if noisy else ''} | {cell('p50_ms')} | {cell('p95_ms')} "
            f"| {cell('p99_ms')} "
            f"| {cell('pages_per_s', 0)} | {cell('upstream_calls_per_page', 2)} | {trips} "
            f"| {cell('app_cpu_ms_per_page', 2)} |"
        )
    out += [
        "",
        f"⚠: other processes on the machine used more than {NOISY_CORES} cores during this "
        "page's phase (in either configuration); its numbers are pessimistic.",
        "",
    ]
    for c in configs:
        f, t = c["first_page"], c["throughput"]
        how = [f"`{c.get('command', 'member-app serve')}`"]
        how += [f"{k}={v}" for k, v in c.get("env", {}).items()]
        out += [
            f"**{c['name']}** ({', '.join(how)})",
            f"- first page of a new session (`/` right after sign-in): p50 {_f(f['p50_ms'])} ms, "
            f"max {_f(f['max_ms'])} ms = {_f(f['round_trips_p50'])} round trips at p50",
            f"- throughput (sandbox at {t['sandbox_latency_ms']} ms, all pages round-robin): "
            f"{_f(t['pages_per_s'], 0)} pages/s, p50 {_f(t['p50_ms'])} ms, p95 "
            f"{_f(t['p95_ms'])} ms, app CPU {_f(t['app_cpu_ms_per_page'], 2)} ms/page "
            f"({_f(t['app_cpu_cores'], 2)} cores), upstream {_f(t['upstream_calls_per_page'], 2)} "
            f"calls/page; the load generator used {_f(t['bench_cpu_cores'], 2)} cores",
            f"- app peak RSS (VmHWM): {_f(c['peak_rss_mb'], 0)} MB",
            "- other processes on the machine (noise) used "
            f"{_f(max(r['other_cpu_cores'] or 0 for r in (*c['pages'].values(), t)), 2)} "
            f"cores at most during a phase ({_f(t['other_cpu_cores'], 2)} during throughput)",
            "- non-200 responses: "
            + (", ".join(f"{k} ×{v}" for k, v in c["non_200"].items()) or "none"),
            f"- run time {c['seconds']:.0f} s (sign-ins {c['first_page']['signin_seconds']:.1f} s)",
            "",
        ]
    for opt in configs:
        if opt["name"] == "baseline":
            continue
        out += [f"## Targets ({opt['name']})", "", "| target | measured | |", "|---|---|---|"]
        for name, measured, met in targets(opt, latency):
            out.append(f"| {name} | {measured} | {'met' if met else '**not met**'} |")
        out.append("")
    out.append(f"Whole run: {report['seconds']:.0f} s.")
    return "\n".join(out) + "\n"


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit or "unknown",
    }


# --- main ---------------------------------------------------------------------------------


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def logs_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="member-app-speed-") as tmp:
        yield Path(tmp)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=float, default=50, help="sandbox latency (50)")
    parser.add_argument("--members", type=int, default=20, help="concurrent members (20)")
    parser.add_argument("--seconds", type=float, default=3, help="seconds per phase (3)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up loads per member (3)")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=200,
        help="per-page phases: each member pauses 0.5-1.5x this between pages (200)",
    )
    parser.add_argument(
        "--fresh",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the app with the member cache off (MEMBER_APP_MEMBER_CACHE_SECONDS=0): "
        "every page then fetches the member's data, which shows the round trips it costs "
        "(default: on)",
    )
    parser.add_argument(
        "--baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run bench/baseline_app.py (member cache off, each member's upstream calls "
        "one after another) and compare (default: on)",
    )
    parser.add_argument("--pages", nargs="+", choices=PAGES, metavar="PAGE", help=" ".join(PAGES))
    parser.add_argument(
        "--member-cache-seconds",
        type=float,
        help="passed to the optimized app as MEMBER_APP_MEMBER_CACHE_SECONDS (0 = off; the "
        "other configurations run with 0)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--demo-member",
        action="store_true",
        help="for a sandbox without --latency-ms/--members: every session is the demo "
        "member, with no injected latency",
    )
    args = parser.parse_args()
    if args.members < 1 or args.seconds <= 0 or args.latency_ms < 0 or args.warmup < 0:
        parser.error("--members must be ≥ 1, --seconds > 0, --latency-ms and --warmup ≥ 0")
    if not MEMBER_APP.exists():
        parser.error(f"{MEMBER_APP} not found: run through `python3 tasks.py bench`")
    if args.demo_member:
        args.latency_ms = 0
    else:
        missing = sandbox_options_missing()
        if missing:
            print(
                f"`member-app sandbox` in this checkout has no {' or '.join(missing)}: the "
                "bench needs a sandbox that injects latency and seeds bench members "
                "(bench-{i}@example.com).\nUpdate the checkout, or run with --demo-member to "
                "measure against today's sandbox (demo member only, no injected latency).",
                file=sys.stderr,
            )
            return 2
    opts = Options(
        latency_ms=args.latency_ms,
        members=args.members,
        seconds=args.seconds,
        warmup=args.warmup,
        pages=list(args.pages or PAGES),
        member_cache_seconds=args.member_cache_seconds,
        demo_member=args.demo_member,
        think_ms=max(args.think_ms, 0.0),
    )
    signal.signal(signal.SIGTERM, _terminate)
    machine = machine_info()
    started = time.perf_counter()
    member_cache_off = {"MEMBER_APP_MEMBER_CACHE_SECONDS": "0"}
    configs = [Config("optimized")]
    if args.fresh:
        configs.append(Config("fresh member data", member_cache_off))
    if args.baseline:
        configs.append(Config("baseline", member_cache_off, BASELINE_APP))
    results = []
    try:
        with logs_dir() as logdir:
            for config in configs:
                try:
                    results.append(run_config(config, opts, logdir))
                except (BenchError, httpx2.HTTPError) as exc:
                    print(f"speed bench ({config.name}) failed: {exc}", file=sys.stderr)
                    for log in sorted(logdir.glob(f"{config.name}-*.log")):
                        print(f"  {log.name}:\n{log.read_text(errors='replace')[-3000:]}")
                    return 1
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "settings": {
            "latency_ms": opts.latency_ms,
            "members": opts.members,
            "seconds": opts.seconds,
            "warmup": opts.warmup,
            "pages": opts.pages,
            "member_cache_seconds": opts.member_cache_seconds,
            "demo_member": opts.demo_member,
            "think_ms": opts.think_ms,
        },
        "configs": results,
        "seconds": time.perf_counter() - started,
    }
    report["targets"] = {
        c["name"]: [
            {"target": t, "measured": m, "met": ok} for t, m, ok in targets(c, opts.latency_ms)
        ]
        for c in results
        if c["name"] != "baseline"
    }
    text = markdown(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "speed.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "speed.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
