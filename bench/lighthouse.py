#!/usr/bin/env python3
"""Lighthouse (mobile) on every page of the demo app; prints a markdown table of the scores.

    .venv/bin/python bench/lighthouse.py [--pages / /rewards ...] [--runs 3] [--out bench/results]

Starts the demo wiring (sandbox + app on free loopback ports, as `member-app demo`), launches
Debian's Chromium with a fixed --remote-debugging-port and a throw-away profile, and signs in
through the real pages in that browser (Playwright over CDP). Lighthouse then drives the same
browser (`--port`), so it sees the signed-in pages. Each run has a browser of its own (one
used run after run grows slower); Lighthouse clears the HTTP cache and the origin's service
workers and caches, but not cookies: every page is a cold load by a signed-in member.

Pages: those of tests/pages_to_check.py (signed out, then as Maya, then as the member whose
membership is pending). Lighthouse is `bench/node_modules/.bin/lighthouse` if there (`npm
install --no-save lighthouse@12` in bench/), else `npx --yes lighthouse@12`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests/pages_to_check.py and tests/browser.py

from playwright.sync_api import BrowserContext, Playwright, sync_playwright  # noqa: E402

from member_app.demo import Demo, build_demo  # noqa: E402
from member_app.sandbox.seed import MEMBER_EMAIL, PENDING_EMAIL  # noqa: E402
from member_app.serving import ServerThread, bind, url_of  # noqa: E402
from tests.browser import CHROMIUM_ARGS, sign_in  # noqa: E402
from tests.pages_to_check import MEMBER_PAGES, PENDING_PAGES, SIGNED_OUT_PAGES  # noqa: E402

CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
TARGET = 98
BENCH = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def chromium(port: int) -> Iterator[None]:
    """Headless Chromium with its DevTools endpoint on `port` and a temporary profile."""
    with tempfile.TemporaryDirectory(prefix="lh-profile-") as profile:
        proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless=new",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={profile}",
                *CHROMIUM_ARGS,
                "--no-first-run",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=1)
                    break
                time.sleep(0.1)
            else:
                raise RuntimeError(f"Chromium did not open its DevTools port {port}")
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def sign_in_as(context: BrowserContext, app_url: str, email: str) -> None:
    """A fresh sign-in through the real pages (tests/browser.py), in a page of its own."""
    context.clear_cookies()
    page = context.new_page()
    sign_in(page, app_url, email=email)
    page.close()


def fresh_run(playwright: Playwright, demo: Demo, email: str | None, path: str) -> dict[str, Any]:
    """One Lighthouse run in a browser of its own, signed in first when `email` is given.
    A browser used for run after run grows slower (measured: the same page scored 100, then
    86, then 82 in one long-lived Chromium), so each run starts from a new one."""
    port = free_port()
    app_url = demo.settings.public_url
    demo.reseed()  # a fresh gym: the sign-in asks for consent again, as on a first visit
    with chromium(port):
        browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        try:
            if email is not None:
                sign_in_as(browser.contexts[0], app_url, email)
            return run_lighthouse(f"{app_url}{path}", port)
        finally:
            browser.close()


def lighthouse_command() -> list[str]:
    local = BENCH / "node_modules" / ".bin" / "lighthouse"
    if local.exists():
        return [str(local)]
    npx = shutil.which("npx")
    if npx is None:
        raise SystemExit("neither bench/node_modules/.bin/lighthouse nor npx is available")
    return [npx, "--yes", "lighthouse@12"]


def run_lighthouse(url: str, port: int) -> dict[str, Any]:
    """One Lighthouse run (mobile form factor and screen) against the browser on `port`."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [
                *lighthouse_command(),
                url,
                f"--port={port}",
                "--output=json",
                f"--output-path={out.name}",
                "--quiet",
                f"--only-categories={','.join(CATEGORIES)}",
                "--form-factor=mobile",
                "--screenEmulation.mobile",
            ],
            check=True,
            env={**os.environ, "CHROME_PATH": CHROMIUM},
            timeout=300,
        )
        report: dict[str, Any] = json.loads(Path(out.name).read_text())
    return report


def summarise(who: str, path: str, report: dict[str, Any]) -> dict[str, Any]:
    scores = {
        name: (None if cat["score"] is None else round(cat["score"] * 100))
        for name, cat in report["categories"].items()
    }
    failing = [
        f"{audit['id']} ({audit['score']})"
        for audit in report["audits"].values()
        if audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
        and audit.get("score") is not None
        and audit["score"] < 0.9
    ]
    metrics = {
        key: report["audits"][key].get("displayValue")
        for key in (
            "first-contentful-paint",
            "largest-contentful-paint",
            "total-blocking-time",
            "cumulative-layout-shift",
            "total-byte-weight",
        )
        if key in report["audits"]
    }
    return {
        "who": who,
        "path": path,
        "scores": scores,
        "metrics": metrics,
        "below_0_9": failing,
        "warnings": report.get("runWarnings", []),
    }


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row for several runs of a page: each category's median score; the metrics and
    failing audits of the run whose performance score is the median."""
    if len(runs) == 1:
        return runs[0]
    ordered = sorted(runs, key=lambda r: r["scores"].get("performance") or 0)
    middle = dict(ordered[len(ordered) // 2])
    middle["scores"] = {
        name: statistics.median_low([r["scores"].get(name) or 0 for r in runs])
        for name in runs[0]["scores"]
    }
    middle["runs"] = [r["scores"] for r in runs]
    return middle


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| Page | As | Performance | Accessibility | Best practices | SEO |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        if row.get("error"):
            lines.append(f"| `{row['path']}` | {row['who']} | not run (Lighthouse error) | | | |")
            continue
        cells = []
        for name in CATEGORIES:
            score = row["scores"].get(name)
            mark = "" if score is not None and score >= TARGET else " ⚠"
            cells.append(f"{score}{mark}")
        lines.append(f"| `{row['path']}` | {row['who']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--pages", nargs="*", help="only these paths (default: every page)")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="runs per page; the table shows each category's median (Lighthouse's own advice "
        "for variable scores: several runs, the median)",
    )
    args = parser.parse_args()
    plan = [
        ("signed out", None, SIGNED_OUT_PAGES),
        ("Maya", MEMBER_EMAIL, MEMBER_PAGES),
        ("pending", PENDING_EMAIL, PENDING_PAGES),
    ]
    app_sock, sandbox_sock = bind(), bind()
    demo = build_demo(url_of(app_sock), url_of(sandbox_sock))
    rows: list[dict[str, Any]] = []
    with (
        ServerThread(demo.sandbox, sandbox_sock),
        ServerThread(demo.app, app_sock),
        sync_playwright() as playwright,
    ):
        for who, email, paths in plan:
            for path in [p for p in paths if not args.pages or p in args.pages]:
                print(f"lighthouse {who} {path} ...", file=sys.stderr, flush=True)
                try:
                    runs = [
                        summarise(who, path, fresh_run(playwright, demo, email, path))
                        for _ in range(args.runs)
                    ]
                except subprocess.CalledProcessError:
                    # Lighthouse will not audit a page answered with 4xx/5xx (the error pages).
                    rows.append({"who": who, "path": path, "scores": {}, "error": True})
                    continue
                rows.append(median_of(runs))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = args.out / f"lighthouse-{stamp}.json"
    result.write_text(json.dumps({"target": TARGET, "pages": rows}, indent=2) + "\n")
    print(table(rows))
    print(f"\nDetails (metrics, audits under 0.9): {result}")


if __name__ == "__main__":
    main()
