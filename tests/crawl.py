"""Every page the app renders, in one mode and one language, handed to a callback: the Nu
checker (test_html_valid) and the pseudo-language check (test_languages) both walk it.

In-process: the app is built for the mode, talks to the sandbox through ASGI, and each member
of tests/pages_to_check.py signs in in turn."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import httpx2
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, create_app
from member_app.sandbox.seed.gym import FRIEND_EMAIL

from .forms import parse_form
from .helpers import APP_URL, RESUME, STEP_UP, FakeClock, SignIn, identify
from .pages_to_check import OUTSIDER_EMAIL, SIGNED_IN, SIGNED_OUT_PAGES, WEBVIEW_SIGNED_OUT_PAGES

# (who, path, the page's HTML): who is "<mode>-signed-out", "<mode>-member", ...
Visit = Callable[[str, str, str], None]


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


def _visit(client: TestClient, who: str, paths: list[str], visit: Visit) -> None:
    for path in paths:
        response = client.get(path)
        # The page itself: no redirect, no server error (400: not recognised).
        assert response.status_code in {200, 400, 404}, (who, path, response.status_code)
        assert response.headers["content-type"].startswith("text/html"), (who, path)
        visit(who, path, response.text)


def render_every_page(
    visit: Visit,
    mode: str,
    settings: Settings,
    sandbox: Starlette,
    sandbox_client: TestClient,
    clock: FakeClock,
    accept_language: str | None = None,
) -> None:
    """Every page as `mode` shows it: signed out, refused at sign-in, then as each member in
    turn (and, inside a gym's app, the step-up page that finishes Maya's action). With
    `accept_language`, the browser asks for that language."""
    # Inside a gym's app the members are recognised first (the Identify User Flow), as in
    # `member-app demo --mode webview`.
    identifies = mode == "webview"
    changed = dataclasses.replace(
        settings, mode=mode, signin_flow="identify" if identifies else "pkce"
    )
    app = create_app(changed, perkville_transport=httpx2.ASGITransport(app=sandbox), clock=clock)
    with TestClient(app, base_url=APP_URL, follow_redirects=False) as client:
        if accept_language:
            client.headers["Accept-Language"] = accept_language
        sign_in = SignIn(client, sandbox_client)
        signed_out = WEBVIEW_SIGNED_OUT_PAGES if identifies else SIGNED_OUT_PAGES
        _visit(client, f"{mode}-signed-out", signed_out, visit)

        sandbox_client.cookies.clear()
        signin = "/signin?pkce=1" if identifies else "/signin"  # not the identify flow
        # Riley has never allowed the app, so Perkville asks (Maya's answer is remembered).
        denied = sign_in.finish(
            sign_in.at_perkville(sign_in.start(signin), email=FRIEND_EMAIL, decision="deny")
        )
        assert denied.status_code == 400, denied.headers
        visit(f"{mode}-signed-out", "/auth/callback?error=access_denied", denied.text)

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
            _visit(client, f"{mode}-{who}", paths, visit)
            if identifies and who == "member":
                _visit(client, f"{mode}-{who}", [_step_up_to_resume(sign_in)], visit)
