"""Fixtures that build real parts: the sandbox, the app wired to it, and clients for both."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx2
import pytest
from httpx2 import Response
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app
from member_app.demo import mint_admin_token
from member_app.sandbox import create_sandbox
from member_app.sandbox.seed import (
    DEMO_BUSINESS_ID,
    DEMO_CLIENT_ID,
    DEMO_NOW,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
)

SANDBOX_URL = "http://sandbox.test"
APP_URL = "http://testserver"


@pytest.fixture
def sandbox(clock: FakeClock) -> Starlette:
    """A freshly seeded sandbox; the demo client may redirect to the in-process app. Its
    clock is the test's clock, so app and sandbox agree on what day it is."""
    app = create_sandbox(redirect_uris=[f"{APP_URL}/auth/callback"])
    app.state.store.clock = lambda: datetime.fromtimestamp(clock.now, UTC)
    return app


@pytest.fixture
def sandbox_client(sandbox: Starlette) -> Iterator[TestClient]:
    """A browser (or server) talking to the sandbox: its own cookie jar, like its own origin."""
    with TestClient(sandbox, base_url=SANDBOX_URL, follow_redirects=False) as client:
        yield client


class FakeClock:
    """Wall-clock seconds that a test moves forward by hand (session timeouts)."""

    def __init__(self, start: float = DEMO_NOW.timestamp()) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(sandbox: Starlette) -> Settings:
    return Settings(
        secret_key="test-secret-" + "s" * 40,
        client_id=DEMO_CLIENT_ID,
        business_id=DEMO_BUSINESS_ID,
        public_url=APP_URL,
        api_url=SANDBOX_URL,
        signin_url=SANDBOX_URL,
        admin_token=mint_admin_token(sandbox.state.store),
    )


@pytest.fixture
def app(settings: Settings, sandbox: Starlette, clock: FakeClock) -> Starlette:
    """The member app, reaching the sandbox in-process (server to server)."""
    return create_app(settings, perkville_transport=httpx2.ASGITransport(app=sandbox), clock=clock)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """The member's browser on the app's origin (lifespan running)."""
    with TestClient(app, base_url=APP_URL, follow_redirects=False) as test_client:
        yield test_client


class _Form(HTMLParser):
    """Collects the first form's action and inputs (name → value) from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = attributes.get("action", "")
        elif tag == "input" and "name" in attributes:
            self.fields.setdefault(attributes["name"], attributes.get("value", ""))


def parse_form(html: str) -> _Form:
    form = _Form()
    form.feed(html)
    return form


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@dataclass
class SignIn:
    """Walks the real sign-in: app → sandbox sign-in page → consent → app callback."""

    client: TestClient
    sandbox_client: TestClient

    def start(self, path: str = "/signin") -> str:
        """Start at the app; return the sandbox authorize URL it sends the browser to."""
        response = self.client.get(path)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(f"{SANDBOX_URL}/api/authorize/")
        return location

    def at_perkville(
        self,
        authorize_url: str,
        *,
        email: str = MEMBER_EMAIL,
        password: str = MEMBER_PASSWORD,
        decision: str = "allow",
    ) -> str:
        """Sign in at the sandbox and answer the consent page; return the callback URL."""
        response = self.sandbox_client.get(path_of(authorize_url))
        if response.status_code == 303:  # not signed in at Perkville yet
            login = self.sandbox_client.get(response.headers["location"])
            form = parse_form(login.text)
            response = self.sandbox_client.post(
                form.action or "",
                data={"csrf": form.fields["csrf"], "email": email, "password": password},
            )
            assert response.status_code == 303, response.text
            response = self.sandbox_client.get(response.headers["location"])
        if response.status_code == 200:  # the consent page
            form = parse_form(response.text)
            response = self.sandbox_client.post(
                form.action or "", data={**form.fields, "decision": decision}
            )
        assert response.status_code == 302, response.text
        callback: str = response.headers["location"]
        assert callback.startswith(f"{APP_URL}/auth/callback?")
        return callback

    def finish(self, callback_url: str) -> Response:
        return self.client.get(path_of(callback_url))

    def __call__(self) -> Response:
        """The whole happy path; returns the app's answer to the callback."""
        response = self.finish(self.at_perkville(self.start()))
        assert response.status_code == 303, response.text
        return response


@pytest.fixture
def sign_in(client: TestClient, sandbox_client: TestClient) -> SignIn:
    return SignIn(client, sandbox_client)


def visible_text(html: str) -> str:
    """The words a member sees (tags dropped, whitespace folded)."""

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self._skip = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in {"script", "style", "title"}:
                self._skip += 1

        def handle_endtag(self, tag: str) -> None:
            if tag in {"script", "style", "title"}:
                self._skip -= 1

        def handle_data(self, data: str) -> None:
            if not self._skip:
                self.parts.append(data)

    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis on a Unix socket of its own (Debian's redis-server, which tasks.py
    installs), for the tests of a cache shared by replicas."""
    import shutil
    import subprocess
    import time

    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is missing: run the tests with `python3 tasks.py test`")
    folder = tmp_path_factory.mktemp("redis")
    socket = folder / "redis.sock"
    process = subprocess.Popen(
        [server, "--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not socket.exists():
            assert process.poll() is None, "redis-server stopped at start"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)
        yield f"unix://{socket}"
    finally:
        process.terminate()
        process.wait(timeout=10)
