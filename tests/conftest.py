"""Fixtures that build real parts: the sandbox, the app wired to it, and clients for both."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app
from member_app.demo import mint_admin_token
from member_app.sandbox import create_sandbox
from member_app.sandbox.seed import DEMO_BUSINESS_ID, DEMO_CLIENT_ID

from .helpers import APP_URL, SANDBOX_URL, FakeClock, SignIn


@pytest.fixture
def sandbox(clock: FakeClock) -> Starlette:
    """A freshly seeded sandbox; the demo client may redirect to the in-process app. Its
    clock is the test's clock, so app and sandbox agree on what day it is."""
    app = create_sandbox(redirect_uris=[f"{APP_URL}/auth/callback"])
    app.state.store.clock = clock.utc
    return app


@pytest.fixture
def sandbox_client(sandbox: Starlette) -> Iterator[TestClient]:
    """A browser (or server) talking to the sandbox: its own cookie jar, like its own origin."""
    with TestClient(sandbox, base_url=SANDBOX_URL, follow_redirects=False) as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    """The one clock of a test: the app's and the sandbox's, at the seed's "today" until the
    test moves it (`advance`, `set`)."""
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


@pytest.fixture
def sign_in(client: TestClient, sandbox_client: TestClient) -> SignIn:
    return SignIn(client, sandbox_client)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis on a Unix socket of its own (Debian's redis-server, which tasks.py
    installs), for the tests of a cache shared by replicas."""
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
