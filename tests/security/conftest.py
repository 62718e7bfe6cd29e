"""What the adversarial suite shares: a second, unrelated browser and small readers."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

import anyio
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import Message, Scope

from member_app import Settings

from ..conftest import APP_URL, SANDBOX_URL, SignIn, parse_form

MAYA, MAYA_CONNECTION = 1001, 3001
JORDAN, JORDAN_CONNECTION = 1003, 3003
PENDING_EMAIL = "pending@example.com"


def session_of(client: TestClient, settings: Settings) -> dict[str, object]:
    """The app's session as anyone holding the cookie can read it (signed, not encrypted)."""
    raw = client.cookies.get(settings.session_cookie)
    if not raw:
        return {}
    payload = raw.split(".")[0]
    data: dict[str, object] = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return data


def csrf_of(client: TestClient, page: str = "/") -> str:
    """This session's CSRF token, as a page's form carries it."""
    response = client.get(page)
    assert response.status_code == 200, response.text
    token = parse_form(response.text).fields.get("csrf") or ""
    if not token:
        match = re.search(r'name="csrf" value="([^"]+)"', response.text)
        assert match, f"no CSRF token on {page}"
        token = match.group(1)
    return token


@pytest.fixture
def other_browser(app: Starlette, sandbox: Starlette) -> Iterator[SignIn]:
    """A second member's browser (its own cookie jars on the app and at Perkville)."""
    with (
        TestClient(app, base_url=APP_URL, follow_redirects=False) as client,
        TestClient(sandbox, base_url=SANDBOX_URL, follow_redirects=False) as at_perkville,
    ):
        yield SignIn(client, at_perkville)


@dataclass
class RawResponse:
    status_code: int
    headers: dict[str, str]
    body: bytes


def raw_get(client: TestClient, raw_path: bytes) -> RawResponse:
    """A GET with the path exactly as a raw HTTP client (curl --path-as-is) sends it: no
    dot-segment removal or re-encoding, which every httpx URL applies. Through the app's ASGI
    interface, in-process, on the client's running app (a `with TestClient` one)."""
    path_part, _, query = raw_path.partition(b"?")
    headers = [(b"host", b"testserver")]
    cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    if cookies:
        headers.append((b"cookie", cookies.encode()))
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": unquote_to_bytes(path_part).decode("utf-8", "replace"),
        "raw_path": path_part,
        "query_string": query,
        "headers": headers,
    }
    sent: list[Message] = []

    async def run() -> None:
        requested = False
        done = anyio.Event()

        async def receive() -> Message:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()  # the browser stays until the whole answer has arrived
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                done.set()

        await client.app(scope, receive, send)

    assert client.portal is not None, "use a TestClient inside `with`"
    client.portal.call(run)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return RawResponse(
        start["status"],
        {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start["headers"]},
        body,
    )
