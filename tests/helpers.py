"""What the test modules share besides fixtures (those are in the `conftest.py` files): the
addresses of the in-process app and sandbox, the test clock, the in-process sign-in, readers
of pages and sessions, and the real servers of the end-to-end tests.

Test modules import from here, never from one another or from a `conftest.py`.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import anyio
import httpx2
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from httpx2 import Response
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import Message, Scope

from member_app import Settings, create_app
from member_app.demo import Demo, build_demo
from member_app.i18n import DOMAIN, Languages, languages_in
from member_app.sandbox.seed import DEMO_NOW, MEMBER_EMAIL, MEMBER_PASSWORD
from member_app.serving import ServerThread, bind, url_of

from . import signin
from .forms import parse_form
from .sandbox_helpers import sign_in as sandbox_sign_in

SANDBOX_URL = "http://sandbox.test"
APP_URL = "http://testserver"

# Who is who in the demo gym (member_app/sandbox/README.md).
MAYA, MAYA_CONNECTION = 1001, 3001
JORDAN, JORDAN_CONNECTION = 1003, 3003
PENDING_EMAIL = "pending@example.com"

# A complete environment for `Settings.from_env`.
GOOD_ENV = {
    "MEMBER_APP_SECRET_KEY": "s" * 48,
    "PERKVILLE_CLIENT_ID": "my-client",
    "PERKVILLE_BUSINESS_ID": "889",
    "MEMBER_APP_PUBLIC_URL": "https://rewards.example.com/",
}


class FakeClock:
    """Wall-clock seconds that a test moves by hand. The app (session timeouts) and the
    sandbox (codes, vouchers, challenges) both read it; it starts at the seed's "today"."""

    def __init__(self, start: datetime = DEMO_NOW) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def set(self, when: datetime) -> None:
        self.now = when.timestamp()

    def utc(self) -> datetime:
        """The same instant as a datetime, as the sandbox's store reads its clock."""
        return datetime.fromtimestamp(self.now, UTC)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@dataclass
class SignIn:
    """Walks the real sign-in in-process: app → sandbox sign-in page → consent → app
    callback. Each step can also be taken alone."""

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
        callback = signin.at_perkville(
            self.sandbox_client, authorize_url, email=email, password=password, decision=decision
        )
        assert callback.startswith(f"{APP_URL}/auth/callback?"), callback
        return callback

    def finish(self, callback_url: str) -> Response:
        return self.client.get(path_of(callback_url))

    def __call__(self) -> Response:
        """The whole happy path; returns the app's answer to the callback."""
        response = self.finish(self.at_perkville(self.start()))
        assert response.status_code == 303, response.text
        return response


def make_client(
    settings: Settings, sandbox: Starlette, clock: FakeClock, **changes: object
) -> Iterator[tuple[TestClient, Settings]]:
    """A browser on an app built from `settings` with `changes`, reaching `sandbox`
    in-process; yields the client and the settings it runs with (lifespan running)."""
    changed = dataclasses.replace(settings, **changes)  # type: ignore[arg-type]
    app = create_app(changed, perkville_transport=httpx2.ASGITransport(app=sandbox), clock=clock)
    with TestClient(app, base_url=APP_URL, follow_redirects=False) as client:
        yield client, changed


# --- the Identify User Flow (a member already signed in at Perkville) ------------------------

# Where an identified member's action asks to sign in: the PKCE sign-in, carrying the ticket
# of the action kept for it.
STEP_UP = re.compile(r"/signin\?pkce=1&ticket=[A-Za-z0-9_-]{16,}")
# Where that sign-in's callback sends the member: /resume with the one-time proof.
RESUME = re.compile(r"/resume\?proof=[A-Za-z0-9_-]{16,}")


def signed_in_at_perkville(sandbox_client: TestClient, email: str = MEMBER_EMAIL) -> None:
    response = sandbox_sign_in(sandbox_client, "/login/?next=/", email, MEMBER_PASSWORD)
    assert response.status_code == 303, response.text


def identify_link(client: TestClient, path: str = "/signin/identify") -> str:
    """The app asks Perkville for an identify token and sends the browser to the business."""
    response = client.get(path)
    assert response.status_code == 302, response.text
    location = str(response.headers["location"])
    assert re.fullmatch(rf"{SANDBOX_URL}/biz/4/identify\?token=[A-Za-z0-9]+", location)
    return location


def recognised_at_perkville(sandbox_client: TestClient, link: str) -> str:
    """The sandbox recognises its signed-in member; returns the app callback URL."""
    response = sandbox_client.get(path_of(link))
    assert response.status_code == 302, response.text
    callback = str(response.headers["location"])
    assert callback.startswith(f"{APP_URL}/auth/identify/callback?code=")
    return callback


def identify(client: TestClient, sandbox_client: TestClient, email: str = MEMBER_EMAIL) -> None:
    """Signed in at Perkville, the member opens the app and is recognised with no prompt."""
    signed_in_at_perkville(sandbox_client, email)
    link = identify_link(client)
    response = client.get(path_of(recognised_at_perkville(sandbox_client, link)))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"


# --- reading pages and sessions --------------------------------------------------------------


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


def redeem_links(html: str) -> list[str]:
    """The redeem confirmations linked from the rewards page, in order."""
    return re.findall(r'href="(/rewards/\d+/redeem)"', html)


def listed(html: str, list_id: str) -> list[int]:
    """The challenges linked from one list of the challenges page, in order."""
    match = re.search(rf'<ul[^>]*id="{list_id}"[^>]*>(.*?)</ul>', html, re.S)
    if match is None:
        return []
    return [int(i) for i in re.findall(r'href="/challenges/(\d+)"', match.group(1))]


def balance(sandbox: Starlette) -> int:
    """Maya's points, as the sandbox has them."""
    return int(sandbox.state.store.connections[MAYA_CONNECTION].point_balance)


def session_of(client: TestClient, settings: Settings) -> dict[str, object]:
    """The app's session as anyone holding the cookie can read it (signed, not encrypted);
    empty when there is no session cookie."""
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


# --- real servers, for the browser tests -------------------------------------------------------


@dataclass(frozen=True)
class Servers:
    """The two running servers, and the objects behind them (for checks the browser can't do)."""

    app_url: str
    sandbox_url: str
    settings: Settings
    sandbox: Starlette
    demo: Demo

    def reseed_sandbox(self) -> None:
        """A fresh demo gym: no consents, codes or tokens from earlier tests."""
        self.demo.reseed()


@contextlib.contextmanager
def demo_servers(**options: Any) -> Iterator[Servers]:
    """The demo wiring (`member_app.demo`, as `member-app demo`; `options` as its mode
    options) with the sandbox and the app each under uvicorn on a loopback port."""
    with contextlib.ExitStack() as stack:
        # Bound before either app exists: the sandbox must know the app's callback, the app
        # must know the sandbox. The close callbacks cover a failure before a ServerThread
        # owns its socket (closing twice is harmless).
        app_sock = bind("127.0.0.1", 0)
        stack.callback(app_sock.close)
        sandbox_sock = bind("127.0.0.1", 0)
        stack.callback(sandbox_sock.close)
        demo = build_demo(url_of(app_sock), url_of(sandbox_sock), **options)
        stack.enter_context(ServerThread(demo.sandbox, sandbox_sock))
        stack.enter_context(ServerThread(demo.app, app_sock))
        settings = demo.settings
        yield Servers(settings.public_url, settings.api_url, settings, demo.sandbox, demo)


def perkvilles_words(sandbox: Starlette) -> list[str]:
    """Every text the sandbox holds (titles, names, descriptions, instructions, addresses):
    shown as Perkville gives it, so not ours to translate."""
    found: set[str] = set()

    def walk(value: object, depth: int = 0) -> None:
        if depth > 6:
            return
        if isinstance(value, str):
            if len(value) > 1:
                found.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item, depth + 1)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                walk(item, depth + 1)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name), depth + 1)

    walk(sandbox.state.store)
    # Texts with Markdown links ("the [program rules](https://…)") are shown as links.
    for text in list(found):
        found.update(part for part in re.split(r"\[|\]\([^)]*\)", text) if len(part) > 1)
    # The language picker names each language in its own words ("English", "Español").
    found.update(language.name for language in languages_in())
    return sorted(found, key=len, reverse=True)


def write_catalog(folder: Path, catalog: Catalog) -> Path:
    """`catalog` compiled where the app looks for languages (`<folder>/<code>/LC_MESSAGES/`);
    returns `folder`, for `Settings(locale_dir=...)`."""
    target = folder / str(catalog.locale) / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with (target / f"{DOMAIN}.mo").open("wb") as file:
        write_mo(file, catalog)
    return folder


def catalog_words(tag: str, message: str, context: str | None = None) -> str:
    """`message` as the shipped catalog of `tag` says it."""
    language = Languages.load("en").exact(tag)
    assert language is not None, tag
    if context is None:
        return language.translations.gettext(message)
    return str(language.translations.pgettext(context, message))
