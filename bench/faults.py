#!/usr/bin/env python3
"""Load with faults: 100 members browse, redeem and mark vouchers used while Perkville fails.

    python3 tasks.py bench-faults [--members 100] [--seconds 60] [--latency-ms 20]
                                  [--fault-rate 0.10] [--faults 500,502,503,429,drop,lost]

Starts the sandbox (`member-app sandbox --latency-ms N --members K`) and the app (`member-app
serve`, the environment speed.py gives it) as processes, signs the K bench members in through
the real PKCE pages (in concurrent batches, faults off), then turns fault injection on for
`/v2/` (`PUT /_sandbox/conditions`) and lets every member loop for `--seconds`: a random member
page, sometimes a redemption of the cheapest reward they can afford (sometimes submitted twice
at once, a double-click), sometimes marking an unused voucher used, with a pause between
actions. Then faults off, and the checks: no unexplained 5xx from the app, the sandbox's
ledger consistent with no duplicate transaction, no member with more redemptions at the
sandbox than the bench saw confirmed, and the app's memory flat. Writes `faults.json` and
`faults.md` to `--out` (bench/results), prints the markdown, and exits 1 when a check that
gates a release fails. See bench/README.md, "Load with faults".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import random
import re
import shutil
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/forms.py
sys.path.insert(0, str(Path(__file__).resolve().parent))  # for speed.py, processes.py

from processes import rss_mb, run_with_servers
from speed import (
    MEMBER_APP,
    ROOT,
    Bench,
    BenchError,
    Member,
    Options,
    latency_summary,
    machine_info,
    sandbox_options_missing,
    say,
    sign_in,
)

from member_app.sandbox.seed import DEMO_BUSINESS_ID
from tests.forms import find_form

MEMBER_PAGES = ("/", "/rewards", "/vouchers", "/history", "/challenges", "/earn")
FAULT_KINDS = ("500", "502", "503", "429", "drop", "lost")
BENCH_USER_ID = 100000  # bench member i is user 100000 + i (sandbox README, "Bench members")
FRIENDLY_5XX = "We can't reach your rewards right now"
STALE = "data-stale"
RETRY_BLOCK = "data-retry"
RSS_FACTOR, RSS_SLACK_MB = 1.2, 10.0

_REWARD_CARD = re.compile(r'<li class="card reward[^"]*">(.*?)</li>', re.S)
_COST = re.compile(r'<p class="cost">([\d,]+) points</p>')
_REDEEM_LINK = re.compile(r'href="(/rewards/(\d+)/redeem[^"]*)"')
_UNUSED_VOUCHER = re.compile(
    r'<li class="card voucher status-unused">\s*<a class="voucher-link" href="(/vouchers/\d+)"'
)
_VOUCHER_LOCATION = re.compile(r"^/vouchers/(\d+)(\?.*)?$")
_ERROR_NOTICE = re.compile(r'class="notice notice-error" role="alert">(.*?)</p>', re.S)
_TITLE = re.compile(r"<h1>(.*?)</h1>", re.S)
_AGAIN_LINK = re.compile(r'href="(/rewards/\d+/redeem[^"]*again=1)"')
_REDEEM_ACTION = re.compile(r"^/rewards/\d+/redeem")
_USE_ACTION = re.compile(r"^/vouchers/\d+/use$")


def _h1(text: str) -> str:
    found = _TITLE.search(text)
    title = found.group(1) if found else text[:80]
    return html.unescape(re.sub(r"\s+", " ", title)).strip()


# --- what the members saw ------------------------------------------------------------------


@dataclass
class Attempt:
    """One redeem confirmation (one attempt id), POSTed once or twice (a double-click)."""

    member: int
    perk_id: int
    cost: int
    attempt: str
    outcomes: list[str] = field(default_factory=list)
    vouchers: list[int] = field(default_factory=list)


@dataclass
class Tally:
    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)
    explained_5xx: Counter[tuple[str, int]] = field(default_factory=Counter)
    unexplained: list[dict[str, Any]] = field(default_factory=list)
    transport_errors: list[dict[str, Any]] = field(default_factory=list)
    stale: Counter[str] = field(default_factory=Counter)
    retry_blocks: Counter[str] = field(default_factory=Counter)
    attempts: list[Attempt] = field(default_factory=list)
    redeem_outcomes: Counter[str] = field(default_factory=Counter)
    redeem_skipped: Counter[str] = field(default_factory=Counter)
    double_clicks: Counter[str] = field(default_factory=Counter)
    use_outcomes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)


class Load:
    """The members' loops against one app, and what every response was."""

    def __init__(self, bench: Bench, members: list[Member], args: argparse.Namespace) -> None:
        self.bench = bench
        self.members = members
        self.args = args
        self.tally = Tally()
        self.t0 = time.perf_counter()

    async def fetch(
        self,
        kind: str,
        client: httpx2.AsyncClient,
        method: str,
        path: str,
        *,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        member: int = 0,
    ) -> httpx2.Response | None:
        """One request; its status counted under `kind`. None when the app's connection
        broke (the app should never do that: counted as a transport error)."""
        started = time.perf_counter()
        try:
            response = await client.request(method, path, data=data, headers=headers)
        except httpx2.HTTPError as exc:
            self.tally.statuses[(kind, "transport error")] += 1
            self.tally.transport_errors.append(
                {
                    "kind": kind,
                    "method": method,
                    "path": path,
                    "member": member,
                    "error": f"{type(exc).__name__}: {exc}",
                    "at_s": round(started - self.t0, 3),
                }
            )
            return None
        self.tally.latencies.append(time.perf_counter() - started)
        status = response.status_code
        self.tally.statuses[(kind, str(status))] += 1
        text = html.unescape(response.text)
        if status >= 500:
            if status in (502, 503) and FRIENDLY_5XX in text:
                self.tally.explained_5xx[(kind, status)] += 1
            else:
                self.tally.unexplained.append(
                    {
                        "kind": kind,
                        "method": method,
                        "path": path,
                        "member": member,
                        "status": status,
                        "page_title": _h1(text),
                        "at_s": round(started - self.t0, 3),
                        "body_start": text[:400],
                    }
                )
        if STALE in text:
            self.tally.stale[kind] += 1
        if RETRY_BLOCK in text:
            self.tally.retry_blocks[kind] += text.count(RETRY_BLOCK)
        return response

    # -- actions -------------------------------------------------------------------------

    async def browse(self, i: int, member: Member, rng: random.Random) -> None:
        path = rng.choice(MEMBER_PAGES)
        await self.fetch(f"page {path}", member.client, "GET", path, member=i)

    async def redeem(self, i: int, member: Member, rng: random.Random) -> None:
        listing = await self.fetch("page /rewards", member.client, "GET", "/rewards", member=i)
        if listing is None or listing.status_code != 200:
            self.tally.redeem_skipped["rewards list failed"] += 1
            return
        offers = []
        for card in _REWARD_CARD.finditer(listing.text):
            cost, link = _COST.search(card.group(1)), _REDEEM_LINK.search(card.group(1))
            if cost and link:
                offers.append((int(cost.group(1).replace(",", "")), link.group(1), link.group(2)))
        if not offers:
            self.tally.redeem_skipped["nothing affordable"] += 1
            return
        cost, link, perk_id = min(offers)
        confirm = await self.fetch("redeem GET", member.client, "GET", link, member=i)
        if confirm is None or confirm.status_code != 200:
            self.tally.redeem_skipped["confirmation failed"] += 1
            return
        form = find_form(confirm.text, _REDEEM_ACTION)
        again = _AGAIN_LINK.search(confirm.text)
        if form is None and again:
            # "You redeemed this a moment ago … redeem it again": a new confirmation.
            self.tally.redeem_skipped["followed 'redeem it again'"] += 1
            link = html.unescape(again.group(1))
            confirm = await self.fetch("redeem GET", member.client, "GET", link, member=i)
            if confirm is None or confirm.status_code != 200:
                self.tally.redeem_skipped["confirmation failed"] += 1
                return
            form = find_form(confirm.text, _REDEEM_ACTION)
        if form is None or "attempt" not in form.fields:
            # The balance changed since the list (a stale list, or the other connection).
            self.tally.redeem_skipped["confirmation without a form"] += 1
            return
        action, fields = form.action, form.fields
        attempt = Attempt(i, int(perk_id), cost, fields["attempt"])
        self.tally.attempts.append(attempt)
        if rng.random() < self.args.double_click:
            # A double-click: the same form twice at once, the second on another connection
            # with the same cookies (as a browser's second connection would be).
            cookie = "; ".join(f"{k}={v}" for k, v in member.client.cookies.items())
            async with httpx2.AsyncClient(
                base_url=self.bench.app_url, timeout=60.0, follow_redirects=False
            ) as twin:
                pair = await asyncio.gather(
                    self.fetch(
                        "redeem POST (double-click)",
                        member.client,
                        "POST",
                        action,
                        data=fields,
                        member=i,
                    ),
                    self.fetch(
                        "redeem POST (double-click)",
                        twin,
                        "POST",
                        action,
                        data=fields,
                        headers={"cookie": cookie},
                        member=i,
                    ),
                )
            for response in pair:
                self._redeem_outcome(attempt, response)
            self.tally.double_clicks[self._pair_resolution(attempt)] += 1
        else:
            response = await self.fetch(
                "redeem POST", member.client, "POST", action, data=fields, member=i
            )
            self._redeem_outcome(attempt, response)
        for outcome in attempt.outcomes:
            self.tally.redeem_outcomes[outcome] += 1

    def _redeem_outcome(self, attempt: Attempt, response: httpx2.Response | None) -> None:
        if response is None:
            attempt.outcomes.append("transport error")
            return
        status = response.status_code
        location = response.headers.get("location", "")
        found = _VOUCHER_LOCATION.match(location)
        if status == 303 and found:
            attempt.vouchers.append(int(found.group(1)))
            attempt.outcomes.append("voucher")
        elif status in (502, 503) and FRIENDLY_5XX in html.unescape(response.text):
            attempt.outcomes.append(f"{status} {FRIENDLY_5XX}")
        elif status == 429:
            attempt.outcomes.append("429 rate limited")
        elif status in (200, 400):
            notice = _ERROR_NOTICE.search(html.unescape(response.text))
            attempt.outcomes.append(
                f"refused: {notice.group(1).strip()}" if notice else f"{status} no error shown"
            )
        else:
            attempt.outcomes.append(f"{status} {location or _h1(response.text)}")

    @staticmethod
    def _pair_resolution(attempt: Attempt) -> str:
        vouchers = set(attempt.vouchers)
        if len(vouchers) > 1:
            return "two different vouchers (DOUBLE SPEND)"
        if len(attempt.vouchers) == 2:
            return "both clicks led to the same voucher"
        others = sorted(o for o in attempt.outcomes if o != "voucher")
        if len(attempt.vouchers) == 1:
            return f"one voucher; the other click: {others[0]}"
        return "no voucher: " + " + ".join(others)

    async def use_voucher(self, i: int, member: Member, rng: random.Random) -> None:
        listing = await self.fetch("page /vouchers", member.client, "GET", "/vouchers", member=i)
        if listing is None or listing.status_code != 200:
            self.tally.use_outcomes["vouchers list failed"] += 1
            return
        unused = _UNUSED_VOUCHER.findall(listing.text)
        if not unused:
            self.tally.use_outcomes["no unused voucher"] += 1
            return
        path = f"{rng.choice(unused)}/use"
        confirm = await self.fetch("voucher use GET", member.client, "GET", path, member=i)
        if confirm is None or confirm.status_code != 200:
            status = "transport error" if confirm is None else confirm.status_code
            self.tally.use_outcomes[f"confirmation answered {status}"] += 1
            return
        form = find_form(confirm.text, _USE_ACTION)
        if form is None:
            self.tally.use_outcomes["confirmation without a form"] += 1
            return
        response = await self.fetch(
            "voucher use POST", member.client, "POST", form.action, data=form.fields, member=i
        )
        if response is None:
            self.tally.use_outcomes["transport error"] += 1
        elif response.status_code == 303:
            used = "used=1" in response.headers.get("location", "")
            self.tally.use_outcomes["marked used" if used else "already used (303)"] += 1
        else:
            notice = _ERROR_NOTICE.search(html.unescape(response.text))
            what = notice.group(1).strip() if notice else _h1(response.text)
            self.tally.use_outcomes[f"{response.status_code} {what}"] += 1

    async def member_loop(self, i: int, member: Member, deadline: float) -> None:
        rng = random.Random(self.args.seed * 1000 + i)
        # Members start spread over the first think time rather than all at once.
        await asyncio.sleep(rng.uniform(0, self.args.think_max_ms / 1000))
        while time.perf_counter() < deadline:
            draw = rng.random()
            if draw < self.args.redeem_share:
                await self.redeem(i, member, rng)
            elif draw < self.args.redeem_share + self.args.use_share:
                await self.use_voucher(i, member, rng)
            else:
                await self.browse(i, member, rng)
            think = rng.uniform(self.args.think_min_ms, self.args.think_max_ms)
            await asyncio.sleep(think / 1000)


# --- the run --------------------------------------------------------------------------------


async def sample_rss(pid: int, out: list[tuple[float, float]], stop: asyncio.Event) -> None:
    started = time.perf_counter()
    while not stop.is_set():
        out.append((round(time.perf_counter() - started, 1), rss_mb(pid)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


async def sign_in_batches(bench: Bench, count: int, batch: int) -> list[Member]:
    members: list[Member] = []
    for first in range(1, count + 1, batch):
        numbers = range(first, min(first + batch, count + 1))
        clients = await asyncio.gather(
            *(
                sign_in(
                    bench.app_url, bench.sandbox_url, f"bench-{i}@example.com", "perkville-demo"
                )
                for i in numbers
            )
        )
        members += [
            Member(f"bench-{i}@example.com", c) for i, c in zip(numbers, clients, strict=True)
        ]
    return members


async def redemptions_at_sandbox(
    control: httpx2.AsyncClient, token: str | None, members: int
) -> dict[int, dict[str, int]] | None:
    """Per bench member: the app's REDEEM transactions at the sandbox (trans_source_id
    member-app:…), by trans_source_id. Read with the staff token; None without one."""
    if not token:
        return None
    headers = {"authorization": f"Bearer {token}"}
    result: dict[int, dict[str, int]] = {}

    async def one(i: int) -> None:
        sources: Counter[str] = Counter()
        offset = 0
        while True:
            response = await control.get(
                "/v2/transactions/",
                params={
                    "business": DEMO_BUSINESS_ID,
                    "user": BENCH_USER_ID + i,
                    "limit": 100,
                    "offset": offset,
                },
                headers=headers,
            )
            response.raise_for_status()
            objects = response.json().get("objects", [])
            for txn in objects:
                source = txn.get("trans_source_id") or ""
                if txn.get("classification") == "REDEEM" and source.startswith("member-app:"):
                    sources[source] += 1
            if len(objects) < 100:
                break
            offset += 100
        result[i] = dict(sources)

    for first in range(1, members + 1, 20):
        await asyncio.gather(*(one(i) for i in range(first, min(first + 20, members + 1))))
    return result


def cross_check(
    attempts: list[Attempt], at_sandbox: dict[int, dict[str, int]] | None, members: int
) -> dict[str, Any]:
    """Sandbox redemptions vs the bench's distinct confirmed attempts, per member."""
    if at_sandbox is None:
        return {"checked": False}
    by_member: dict[int, list[Attempt]] = defaultdict(list)
    for a in attempts:
        by_member[a.member].append(a)
    rows = []
    double_spend_members = []
    unconfirmed_spends = 0
    for i in range(1, members + 1):
        sources = at_sandbox.get(i, {})
        mine = by_member.get(i, [])
        confirmed = {a.attempt for a in mine if a.vouchers}
        known = {a.attempt: a for a in mine}
        sandbox_count = sum(sources.values())
        # trans_source_id is member-app:<user>:<perk>:<attempt>
        sandbox_attempts = {s.rsplit(":", 1)[-1] for s in sources}
        unknown = sorted(sandbox_attempts - set(known))
        unconfirmed = sorted(sandbox_attempts & set(known) - confirmed)
        unconfirmed_spends += len(unconfirmed)
        row = {
            "member": i,
            "sandbox_redemptions": sandbox_count,
            "bench_confirmed": len(confirmed),
            "bench_attempts": len(mine),
            "spent_unconfirmed": [
                {"attempt": a, "outcomes": known[a].outcomes} for a in unconfirmed
            ],
            "unknown_attempts": unknown,
        }
        if sandbox_count > len(confirmed):
            rows.append(row)
        # More redemptions than attempts it could come from: a double spend. (An attempt the
        # bench saw fail — the app answered its friendly 503 after a `lost` —
        # may have spent: that is reported, not a double spend.)
        if unknown or sandbox_count > len(sandbox_attempts):
            double_spend_members.append(i)
    return {
        "checked": True,
        "sandbox_redemptions_total": sum(sum(v.values()) for v in at_sandbox.values()),
        # Distinct attempt ids: a confirmation shown again with the same id (its outcome lost
        # from the session by a concurrent cookie write) and posted again is one redemption.
        "bench_confirmed_total": len({(a.member, a.attempt) for a in attempts if a.vouchers}),
        "members_with_more_at_sandbox": rows,
        "spent_but_unconfirmed": unconfirmed_spends,
        "double_spend_members": double_spend_members,
    }


async def run(args: argparse.Namespace, logdir: Path) -> dict[str, Any]:
    opts = Options(
        latency_ms=args.latency_ms,
        members=args.members,
        seconds=args.seconds,
        warmup=0,
        pages=list(MEMBER_PAGES),
        member_cache_seconds=None,
        demo_member=False,
    )
    app_env = {} if args.rate_limits else {"MEMBER_APP_RATE_LIMITS": "0"}
    bench = Bench("faults", opts, app_env, logdir)
    members: list[Member] = []
    report: dict[str, Any] = {}
    try:
        await asyncio.to_thread(bench.start)
        token = await asyncio.to_thread(bench._admin_token)  # to read transactions at the end
        async with httpx2.AsyncClient(base_url=bench.sandbox_url, timeout=60.0) as control:
            say(f"signing in {args.members} members, {args.batch} at a time (faults off)")
            started = time.perf_counter()
            members = await sign_in_batches(bench, args.members, args.batch)
            signin_seconds = time.perf_counter() - started
            say(f"signed in in {signin_seconds:.1f} s; faults on: {args.fault_rate} of /v2/")
            (await control.post("/_sandbox/stats/reset")).raise_for_status()
            conditions = {
                "fault_rate": args.fault_rate,
                "faults": args.faults,
                "fault_paths": ["/v2/"],
                "fault_methods": None,
                "seed": args.seed,
            }
            (await control.put("/_sandbox/conditions", json=conditions)).raise_for_status()
            load = Load(bench, members, args)
            rss: list[tuple[float, float]] = []
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_rss(bench.app.proc.pid, rss, stop))
            cpu_before, wall_before = bench.app.cpu_seconds(), time.perf_counter()
            deadline = time.perf_counter() + args.seconds
            await asyncio.gather(
                *(load.member_loop(i + 1, m, deadline) for i, m in enumerate(members))
            )
            wall = time.perf_counter() - wall_before
            app_cpu = bench.app.cpu_seconds() - cpu_before
            stop.set()
            await sampler
            (await control.put("/_sandbox/conditions", json={"fault_rate": 0})).raise_for_status()
            say(f"load done ({wall:.1f} s); faults off; checking the ledger")
            stats = (await control.get("/_sandbox/stats")).json()
            ledger = (await control.get("/_sandbox/ledger")).json()
            at_sandbox = await redemptions_at_sandbox(control, token, args.members)
        report = summarize(args, load.tally, rss, stats, ledger, at_sandbox, wall, app_cpu)
        report["signin_seconds"] = signin_seconds
        # The app's own warnings and errors (httpx2 logs every upstream call at INFO).
        lines = bench.app.log_path.read_text(errors="replace").splitlines()
        notable = [line for line in lines if not line.startswith("INFO ")]
        report["app_log_lines"] = len(lines)
        report["app_log_notable"] = len(notable)
        report["app_log_tail"] = "\n".join(f"    {line}" for line in notable[-40:])
        return report
    finally:
        for member in members:
            await member.client.aclose()
        await asyncio.to_thread(bench.stop)


def summarize(
    args: argparse.Namespace,
    tally: Tally,
    rss: list[tuple[float, float]],
    stats: dict[str, Any],
    ledger: dict[str, Any],
    at_sandbox: dict[int, dict[str, int]] | None,
    wall: float,
    app_cpu: float,
) -> dict[str, Any]:
    by_kind: dict[str, dict[str, int]] = defaultdict(dict)
    for (kind, status), count in sorted(tally.statuses.items()):
        by_kind[kind][status] = count
    requests = sum(tally.statuses.values())
    rss_values = [v for _, v in rss]
    start, end = (rss_values[0], rss_values[-1]) if rss_values else (float("nan"),) * 2
    flat_limit = start * RSS_FACTOR + RSS_SLACK_MB
    attempts = tally.attempts
    users = ledger.get("users", [])
    bench_rows = [u for u in users if str(u.get("email", "")).startswith("bench-")]
    check = cross_check(attempts, at_sandbox, args.members)
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
        "settings": {
            k: getattr(args, k)
            for k in (
                "members",
                "seconds",
                "latency_ms",
                "fault_rate",
                "faults",
                "seed",
                "batch",
                "redeem_share",
                "use_share",
                "double_click",
                "think_min_ms",
                "think_max_ms",
                "rate_limits",
            )
        },
        "load_seconds": wall,
        "requests": requests,
        "requests_per_s": requests / wall if wall else None,
        "latency": latency_summary(tally.latencies, args.latency_ms),
        "by_kind": by_kind,
        "unexplained_5xx": tally.unexplained,
        "app_transport_errors": tally.transport_errors,
        "explained_5xx": {f"{k} {s}": n for (k, s), n in sorted(tally.explained_5xx.items())},
        "explained_5xx_total": sum(tally.explained_5xx.values()),
        "stale_pages": dict(tally.stale),
        "retry_blocks": dict(tally.retry_blocks),
        "redeem": {
            "attempted": len(attempts),
            "posts": sum(len(a.outcomes) for a in attempts),
            "succeeded": sum(1 for a in attempts if a.vouchers),
            "refused_or_failed": sum(1 for a in attempts if not a.vouchers),
            "outcomes": dict(tally.redeem_outcomes.most_common()),
            "skipped": dict(tally.redeem_skipped.most_common()),
            "double_clicks": dict(tally.double_clicks.most_common()),
            "points_confirmed": sum(a.cost for a in attempts if a.vouchers),
        },
        "voucher_use": dict(tally.use_outcomes.most_common()),
        "ledger": {
            "all_consistent": ledger.get("all_consistent"),
            "duplicates": ledger.get("duplicates"),
            "inconsistent_users": [u for u in users if not u.get("consistent")],
            "bench_members": len(bench_rows),
        },
        "cross_check": check,
        "rss_mb": {
            "start": start,
            "end": end,
            "max": max(rss_values, default=float("nan")),
            "flat_limit": flat_limit,
            "flat": end <= flat_limit,
            "samples": rss,
        },
        "faults_injected": stats.get("faults_injected", {}),
        "sandbox_requests": stats.get("requests"),
        "app_cpu": {
            "seconds": app_cpu,
            "cores": app_cpu / wall if wall else None,
            "ms_per_request": app_cpu * 1000 / max(requests, 1),
        },
    }
    gates = {
        "no unexplained 5xx": not tally.unexplained,
        "no broken connection from the app": not tally.transport_errors,
        "ledger consistent": ledger.get("all_consistent") is True,
        "no duplicate transaction": ledger.get("duplicates") == 0,
        "no double spend": not check.get("double_spend_members")
        and "two different vouchers (DOUBLE SPEND)" not in tally.double_clicks,
    }
    report["gates"] = gates
    report["passed"] = all(gates.values())
    return report


# --- report ---------------------------------------------------------------------------------


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} ×{v}" for k, v in counts.items()) or "none"


def markdown(r: dict[str, Any]) -> str:
    s, m = r["settings"], r["machine"]
    statuses = sorted(
        {st for row in r["by_kind"].values() for st in row}, key=lambda x: (len(x), x)
    )
    out = [
        "# Load with faults",
        "",
        f"{r['date']} · {m['nproc']} CPUs ({m['cpu']}) · Python {m['python']} · commit "
        f"{m['commit']}",
        f"{s['members']} members for {s['seconds']:.0f} s · sandbox latency {s['latency_ms']:.0f} "
        f"ms · faults {s['fault_rate']:.0%} of `/v2/` requests ({', '.join(s['faults'])}), "
        f"seed {s['seed']} · each action: redeem {s['redeem_share']:.0%}, mark a voucher used "
        f"{s['use_share']:.0%}, else a page; {s['double_click']:.0%} of redeems double-clicked "
        f"· think {s['think_min_ms']:.0f} to {s['think_max_ms']:.0f} ms · app rate limits "
        f"{'on' if s['rate_limits'] else 'off'}",
        "",
        "## Verdict: " + ("**passed**" if r["passed"] else "**FAILED**"),
        "",
        "| check | |",
        "|---|---|",
    ]
    out += [f"| {name} | {'yes' if ok else '**no**'} |" for name, ok in r["gates"].items()]
    rss = r["rss_mb"]
    out += [
        f"| memory flat (end ≤ start × {RSS_FACTOR} + {RSS_SLACK_MB:.0f} MB; not gating) "
        f"| {'yes' if rss['flat'] else '**no**'} |",
        "",
        f"## Requests by kind and status ({r['requests']} in {r['load_seconds']:.1f} s, "
        f"{r['requests_per_s']:.0f}/s; p50 {r['latency']['p50_ms']:.0f} ms, p95 "
        f"{r['latency']['p95_ms']:.0f} ms)",
        "",
        "| kind | " + " | ".join(statuses) + " |",
        "|---|" + "---:|" * len(statuses),
    ]
    for kind, row in sorted(r["by_kind"].items()):
        out.append(f"| {kind} | " + " | ".join(str(row.get(st, "")) for st in statuses) + " |")
    red = r["redeem"]
    led = r["ledger"]
    cc = r["cross_check"]
    out += [
        "",
        "## Errors and degraded pages",
        "",
        f'- unexplained 5xx (a 500, or a 5xx that is not the "{FRIENDLY_5XX}" page): '
        f"**{len(r['unexplained_5xx'])}**",
    ]
    for e in r["unexplained_5xx"][:10]:
        out.append(
            f"  - {e['status']} `{e['method']} {e['path']}` ({e['kind']}, member {e['member']}, "
            f'at {e["at_s"]} s): "{e["page_title"]}"'
        )
    out += [
        f"- the app's connection broken (transport error at the bench): "
        f"{len(r['app_transport_errors'])}",
        f'- explained 502/503 ("{FRIENDLY_5XX}"): {r["explained_5xx_total"]} — '
        + _counts(r["explained_5xx"]),
        f'- pages showing the stale notice ("…so this shows what we had at…"): '
        f"{sum(r['stale_pages'].values())} — {_counts(r['stale_pages'])}",
        f'- home-page retry blocks ("We couldn\'t load … just now"): '
        f"{sum(r['retry_blocks'].values())} — {_counts(r['retry_blocks'])}",
        "",
        "## Redeems",
        "",
        f"- confirmations posted (attempt ids): {red['attempted']} ({red['posts']} POSTs); "
        f"succeeded {red['succeeded']} ({red['points_confirmed']:,} points), refused or failed "
        f"{red['refused_or_failed']}",
        f"- outcome of each POST: {_counts(red['outcomes'])}",
        f"- on the way to a confirmation form: {_counts(red['skipped'])}",
        f"- double-click pairs: {sum(red['double_clicks'].values())} — "
        f"{_counts(red['double_clicks'])}",
        f"- mark a voucher used: {_counts(r['voucher_use'])}",
        "",
        "## Ledger (faults off)",
        "",
        f"- `all_consistent`: {led['all_consistent']}; `duplicates`: {led['duplicates']}; "
        f"inconsistent users: {len(led['inconsistent_users'])}",
    ]
    if cc.get("checked"):
        more = cc["members_with_more_at_sandbox"]
        out += [
            f"- redemptions by the app at the sandbox (REDEEM transactions with a `member-app:` "
            f"trans_source_id): {cc['sandbox_redemptions_total']}; the bench's distinct "
            f"confirmations (a double-click pair counts once): {cc['bench_confirmed_total']}",
            f"- per member, sandbox vs bench: {len(more)} member(s) "
            f"with more at the sandbox; {cc['spent_but_unconfirmed']} attempt(s) spent at the "
            "sandbox whose POST the member saw fail (an error page, not a double spend); "
            f"double spends: **{len(cc['double_spend_members'])}**"
            + (f" (members {cc['double_spend_members']})" if cc["double_spend_members"] else ""),
        ]
        for row in more[:10]:
            outcomes = "; ".join(" + ".join(x["outcomes"]) for x in row["spent_unconfirmed"])
            out.append(
                f"  - member {row['member']}: sandbox {row['sandbox_redemptions']}, confirmed "
                f"{row['bench_confirmed']}; unconfirmed attempts' outcomes: {outcomes or '-'}"
                + (
                    f"; UNKNOWN attempts {row['unknown_attempts']}"
                    if row["unknown_attempts"]
                    else ""
                )
            )
    else:
        out.append("- per-member cross-check skipped: no staff token to read transactions")
    cpu = r["app_cpu"]
    out += [
        "",
        "## App process",
        "",
        f"- RSS (VmRSS, every second): start {rss['start']:.1f} MB (after sign-ins), end "
        f"{rss['end']:.1f} MB, max {rss['max']:.1f} MB; flat limit {rss['flat_limit']:.1f} MB: "
        + ("flat" if rss["flat"] else "**grew**"),
        f"- CPU: {cpu['seconds']:.1f} s over the load ({cpu['cores']:.2f} cores), "
        f"{cpu['ms_per_request']:.2f} ms per request",
        f"- faults injected by the sandbox: {_counts(r['faults_injected'])} "
        f"(of {r['sandbox_requests']} requests to the sandbox during the load)",
        f"- app log: {r['app_log_lines']} lines, {r['app_log_notable']} of them not INFO "
        "(httpx2 logs each upstream call at INFO)",
        "",
        f"Sign-ins {r['signin_seconds']:.1f} s · whole run {r['seconds']:.0f} s.",
    ]
    return "\n".join(out) + "\n"


# --- main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=100, help="bench members (100)")
    parser.add_argument("--seconds", type=float, default=60, help="length of the load (60)")
    parser.add_argument("--latency-ms", type=float, default=20, help="sandbox latency (20)")
    parser.add_argument("--fault-rate", type=float, default=0.10, help="share faulted (0.10)")
    parser.add_argument(
        "--faults",
        type=lambda v: [k.strip() for k in v.split(",") if k.strip()],
        default=list(FAULT_KINDS),
        help="fault kinds, a comma list (500,502,503,429,drop,lost)",
    )
    parser.add_argument("--seed", type=int, default=7, help="fault and member draws (7)")
    parser.add_argument("--batch", type=int, default=10, help="sign-ins at once (10)")
    parser.add_argument("--redeem-share", type=float, default=0.20, help="actions (0.20)")
    parser.add_argument("--use-share", type=float, default=0.10, help="actions (0.10)")
    parser.add_argument("--double-click", type=float, default=0.25, help="of redeems (0.25)")
    parser.add_argument("--think-min-ms", type=float, default=100)
    parser.add_argument("--think-max-ms", type=float, default=300)
    parser.add_argument(
        "--rate-limits",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="keep the app's rate limits on (default: off, MEMBER_APP_RATE_LIMITS=0: all "
        "members share one loopback address, so its per-address redeem limit would turn "
        "most redeems into 429s that never reach Perkville)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    if args.members < 1 or args.seconds <= 0 or not 0 <= args.fault_rate <= 1:
        parser.error("--members ≥ 1, --seconds > 0, --fault-rate between 0 and 1")
    if not MEMBER_APP.exists():
        parser.error(f"{MEMBER_APP} not found: run through `python3 tasks.py bench-faults`")
    missing = sandbox_options_missing()
    if missing:
        print(f"`member-app sandbox` has no {' or '.join(missing)}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    ran = run_with_servers("faults", partial(run, args), (BenchError, httpx2.HTTPError))
    if isinstance(ran, int):
        return ran
    report, logdir = ran
    report["seconds"] = time.perf_counter() - started
    if report["passed"]:  # a failed run's logs stay, for reading
        shutil.rmtree(logdir, ignore_errors=True)
    text = markdown(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "faults.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (args.out / "faults.md").write_text(text)
    print(text)
    if not report["passed"]:
        print(
            f"FAILED. Logs kept in {logdir}; the app log's tail:\n{report['app_log_tail']}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
