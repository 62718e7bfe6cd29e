"""Two replicas of the app behind one (pretend) load balancer: real processes, one Redis.

The module starts the sandbox and two `member-app serve` processes with the same secret key, the
same public URL (replica A's: the redirect URI the sandbox knows) and the same Redis. The test
plays the load balancer: it sends each request to A or B, from one cookie jar, as a browser
would (cookies for 127.0.0.1 are not separated by port). No sticky sessions anywhere.

Each test signs in a member of its own (the demo member, or a sandbox bench member), since the
processes, and so the sandbox's data, live for the whole module.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import redis

from member_app.sandbox.seed import DEMO_BUSINESS_ID, DEMO_CLIENT_ID, MEMBER_EMAIL, MEMBER_PASSWORD

from .. import signin
from ..forms import find_form, forms
from ..helpers import visible_text

# `member-app` as installed for the interpreter running the tests, whichever environment it is.
MEMBER_APP = [sys.executable, "-m", "member_app.cli"]
MEMBER_PAGES = ("/", "/rewards", "/vouchers", "/history")
# One Redis database for this module alone: other tests share the session's redis-server, and
# their entries (fetched under a fake clock) must not be read as this module's.
REDIS_DB = 7
START_SECONDS = 20


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Replicas:
    sandbox: str
    a: str
    b: str

    def ledger_of(self, email: str) -> dict[str, Any]:
        ledger = httpx2.get(f"{self.sandbox}/_sandbox/ledger").json()
        assert ledger["duplicates"] == 0, ledger
        user: dict[str, Any] = next(u for u in ledger["users"] if u["email"] == email)
        assert user["consistent"], user
        return user

    def upstream_requests(self) -> int:
        count: int = httpx2.get(f"{self.sandbox}/_sandbox/stats").json()["requests"]
        return count

    def reset_stats(self) -> None:
        httpx2.post(f"{self.sandbox}/_sandbox/stats/reset").raise_for_status()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(f"{url} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx2.get(url, timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer in {START_SECONDS} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def replicas(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    folder = tmp_path_factory.mktemp("replicas")
    cache_url = f"{redis_url}?db={REDIS_DB}"
    with redis.Redis.from_url(cache_url) as shared:
        shared.flushdb()
    sandbox_port, port_a, port_b = _free_port(), _free_port(), _free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    url_a, url_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("MEMBER_APP_", "PERKVILLE_"))
    }
    env = {
        **inherited,
        "MEMBER_APP_SECRET_KEY": secrets.token_urlsafe(48),
        "PERKVILLE_CLIENT_ID": DEMO_CLIENT_ID,
        "PERKVILLE_BUSINESS_ID": str(DEMO_BUSINESS_ID),
        # Both replicas sit behind one public URL; A's address stands in for it.
        "MEMBER_APP_PUBLIC_URL": url_a,
        "PERKVILLE_API_URL": sandbox_url,
        "PERKVILLE_SIGNIN_URL": sandbox_url,
        "MEMBER_APP_SECURE_COOKIES": "0",
        "MEMBER_APP_CACHE_URL": cache_url,
        "MEMBER_APP_LOG_LEVEL": "WARNING",
    }
    commands = {
        "sandbox": [
            *("sandbox", "--host", "127.0.0.1", "--port", str(sandbox_port), "--members", "3"),
            *("--redirect-uri", f"{url_a}/auth/callback"),
            *("--redirect-uri", f"{url_b}/auth/callback"),
        ],
        "a": ["serve", "--host", "127.0.0.1", "--port", str(port_a)],
        "b": ["serve", "--host", "127.0.0.1", "--port", str(port_b)],
    }
    ready = {"sandbox": f"{sandbox_url}/", "a": f"{url_a}/healthz", "b": f"{url_b}/healthz"}
    processes: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    try:
        for name, args in commands.items():
            log = folder / f"{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [*MEMBER_APP, *args], env=env, stdout=out, stderr=subprocess.STDOUT
                )
            processes.append((name, process, log))
        for name, process, log in processes:
            _wait_ready(ready[name], process, log)
        yield Replicas(sandbox_url, url_a, url_b)
    finally:
        for _, process, _ in processes:
            process.terminate()
        for _, process, _ in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def form_fields(html: str, action: str) -> dict[str, str]:
    form = find_form(html, action)
    assert form is not None, f"no form posting to {action}: {[f.action for f in forms(html)]}"
    return form.fields


@pytest.fixture
def browser() -> Iterator[httpx2.Client]:
    """One browser: one cookie jar for the sandbox and both replicas (all on 127.0.0.1)."""
    with httpx2.Client(follow_redirects=False, timeout=10) as client:
        yield client


def sign_in(browser: httpx2.Client, replicas: Replicas, email: str) -> None:
    """The real PKCE walk through replica A: app → sandbox sign-in and consent → A's callback."""
    signin.sign_in(browser, browser, replicas.a, email=email, password=MEMBER_PASSWORD)


def balance_on(browser: httpx2.Client, replica: str) -> int:
    response = browser.get(f"{replica}/")
    assert response.status_code == 200, response.text
    match = re.search(r'data-testid="point-balance">([\d,]+)<', response.text)
    assert match, "no balance on the home page"
    return int(match.group(1).replace(",", ""))


def first_redeem_link(browser: httpx2.Client, replica: str) -> str:
    page = browser.get(f"{replica}/rewards")
    assert page.status_code == 200
    links = re.findall(r'href="(/rewards/\d+/redeem)"', page.text)
    assert links, "no reward to redeem"
    return str(links[0])


def cost_on(confirmation: str) -> int:
    match = re.search(r"Cost ([\d,]+) points", visible_text(confirmation))
    assert match, "no cost on the confirmation page"
    return int(match.group(1).replace(",", ""))


def test_pages_load_on_either_replica_in_turn(replicas: Replicas, browser: httpx2.Client) -> None:
    sign_in(browser, replicas, MEMBER_EMAIL)
    shown: dict[str, str] = {}
    for round_ in range(2):
        for path in MEMBER_PAGES:
            for replica in (replicas.a, replicas.b):
                response = browser.get(f"{replica}{path}")
                assert response.status_code == 200, (round_, replica, path, response.text)
                text = visible_text(response.text)
                assert "Sign out" in text, (replica, path)  # the member's page, not a guest's
                # The same page whichever replica serves it.
                assert shown.setdefault(path, text) == text, (round_, replica, path)
    assert "1,250 points" in shown["/"]
    assert "You have 1,250 points." in shown["/rewards"]
    assert balance_on(browser, replicas.a) == balance_on(browser, replicas.b) == 1250


def test_an_action_on_one_replica_shows_at_once_on_the_other(
    replicas: Replicas, browser: httpx2.Client
) -> None:
    email = "bench-1@example.com"
    sign_in(browser, replicas, email)
    before = balance_on(browser, replicas.a)
    assert balance_on(browser, replicas.b) == before  # both warm: cached for this session

    link = first_redeem_link(browser, replicas.b)
    confirmation = browser.get(f"{replicas.b}{link}")
    assert confirmation.status_code == 200
    cost = cost_on(confirmation.text)
    answer = browser.post(f"{replicas.b}{link}", data=form_fields(confirmation.text, link))
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/vouchers/")
    assert balance_on(browser, replicas.a) == before - cost  # A's cached balance was not used
    assert replicas.ledger_of(email)["balance"] == before - cost

    listing = browser.get(f"{replicas.a}/vouchers").text
    vouchers = re.findall(r'href="(/vouchers/\d+)"', listing)
    target = next(v for v in vouchers if "Mark as used" in browser.get(f"{replicas.a}{v}").text)
    assert f'href="{target}"' in browser.get(f"{replicas.b}/").text  # B has it as unused
    use = browser.get(f"{replicas.a}{target}/use")
    answer = browser.post(f"{replicas.a}{target}/use", data=form_fields(use.text, f"{target}/use"))
    assert answer.status_code == 303, answer.text
    assert "Mark as used" not in browser.get(f"{replicas.b}{target}").text
    assert f'href="{target}"' not in browser.get(f"{replicas.b}/").text


def test_a_redeem_double_submitted_to_both_replicas_spends_once(
    replicas: Replicas, browser: httpx2.Client
) -> None:
    email = "bench-2@example.com"
    sign_in(browser, replicas, email)
    before = replicas.ledger_of(email)
    link = first_redeem_link(browser, replicas.a)
    confirmation = browser.get(f"{replicas.a}{link}")
    cost = cost_on(confirmation.text)
    fields = form_fields(confirmation.text, link)

    # Two clicks (or a click and a retry) that the load balancer sends to different replicas,
    # both carrying the same cookie and the same confirmation.
    start = threading.Barrier(2)
    answers: dict[str, httpx2.Response] = {}

    def submit(replica: str) -> None:
        with httpx2.Client(cookies=browser.cookies, timeout=10) as tab:
            start.wait()
            answers[replica] = tab.post(f"{replica}{link}", data=fields)

    threads = [threading.Thread(target=submit, args=(r,)) for r in (replicas.a, replicas.b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert len(answers) == 2
    locations = {a.headers.get("location", "").split("?")[0] for a in answers.values()}
    assert [a.status_code for a in answers.values()] == [303, 303], answers
    assert len(locations) == 1, locations  # both lead to the one voucher made

    after = replicas.ledger_of(email)
    assert before["balance"] - after["balance"] == cost
    assert after["spent"] - before["spent"] == cost
    browser.cookies.update(answers[replicas.b].cookies)
    assert balance_on(browser, replicas.a) == after["balance"]


def test_what_one_replica_fetched_the_other_reads_from_redis(
    replicas: Replicas, browser: httpx2.Client, redis_url: str
) -> None:
    email = "bench-3@example.com"
    sign_in(browser, replicas, email)
    with redis.Redis.from_url(f"{redis_url}?db={REDIS_DB}") as shared:
        shared.flushdb()  # cold: the business's public data must be fetched again
    replicas.reset_stats()
    assert browser.get(f"{replicas.a}/rewards").status_code == 200
    assert replicas.upstream_requests() > 0  # A asked Perkville (public and member data)
    replicas.reset_stats()
    page = browser.get(f"{replicas.b}/rewards")
    assert page.status_code == 200
    assert "You have " in visible_text(page.text)
    # B has never served this member, yet asks Perkville nothing: the business, levels and
    # locations, and the member's own data (kept 20 s for this session) all come from Redis.
    assert replicas.upstream_requests() == 0, httpx2.get(f"{replicas.sandbox}/_sandbox/stats")


def test_signing_out_on_one_replica_signs_out_on_both(
    replicas: Replicas, browser: httpx2.Client
) -> None:
    sign_in(browser, replicas, MEMBER_EMAIL)
    assert "1,250" in visible_text(browser.get(f"{replicas.a}/").text)
    page = browser.get(f"{replicas.b}/rewards")
    answer = browser.post(f"{replicas.b}/signout", data=form_fields(page.text, "/signout"))
    assert answer.status_code == 303, answer.text
    assert not browser.cookies.get("member_session")  # the browser dropped the session cookie
    for replica in (replicas.a, replicas.b):
        for path in MEMBER_PAGES[1:]:
            response = browser.get(f"{replica}{path}")
            assert response.status_code == 303, (replica, path)
            assert response.headers["location"].startswith("/signin?next=")
        assert "1,250" not in visible_text(browser.get(f"{replica}/").text)
