"""Step-up: an identified (read-only) member's action waits for the PKCE sign-in, then runs.

Issue item 3: "Any action ... first asks for the PKCE sign-in, then continues the action the
member started, form input kept." `pages.checked_form` raises `StepUpRequired` for an
identified member; the handler keeps the form (without its CSRF token, size-capped, only for
the action paths below) in the session and sends the member to sign in with `next=/resume`.
The PKCE callback carries it across the session's rotation; `/resume` replays it once through
the same view, as a POST with the new session's CSRF token. A redemption keeps its attempt id,
so it is spent once whatever happens (rewards.py).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .pages import StepUpRequired
from .session import PENDING, current_member

log = logging.getLogger(__name__)

MAX_PENDING_BYTES = 2048
# The POST actions a member can start (every view that calls `checked_form`).
ACTION_PATHS = re.compile(
    r"^/(?:rewards/[0-9]{1,18}/redeem|vouchers/[0-9]{1,18}/use"
    r"|challenges/[0-9]{1,18}/(?:join|leave)|referrals|join|location)$"
)


def _parent(path: str) -> str:
    """The page an action's form was on (what to show after sign-in if it can't be kept)."""
    return path.rsplit("/", 1)[0] if path.count("/") > 1 else path


async def step_up(request: Request, exc: Exception) -> Response:
    """Keep the member's action, then ask for the PKCE sign-in."""
    assert isinstance(exc, StepUpRequired)
    body = urlencode(exc.fields)
    signin = request.url_for("signin").path
    if ACTION_PATHS.match(exc.path) and len(exc.path) + len(body) <= MAX_PENDING_BYTES:
        request.session[PENDING] = {"path": exc.path, "form": body}
        after = request.url_for("resume").path
    else:
        log.info("step-up for %s without keeping the form", exc.path)
        request.session.pop(PENDING, None)
        after = _parent(exc.path)
    return RedirectResponse(f"{signin}?{urlencode({'pkce': '1', 'next': after})}", 303)


class Resume:
    """`/resume`: run the kept action once (then it is gone), as the member now signed in."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        pending = request.session.pop(PENDING, None)
        member = current_member(request)
        csrf = request.session.get("csrf")
        if (
            request.method != "GET"
            or not isinstance(pending, dict)
            or not isinstance(path := pending.get("path"), str)
            or not isinstance(form := pending.get("form"), str)
            or not ACTION_PATHS.match(path)
            or member is None
            or member.identified
            or not isinstance(csrf, str)
        ):
            home = RedirectResponse(request.url_for("home").path, status_code=303)
            await home(scope, receive, send)
            return
        body = f"{form}&{urlencode({'csrf': csrf})}" if form else urlencode({"csrf": csrf})
        raw = body.encode()
        headers = [
            (k, v) for k, v in scope["headers"] if k not in {b"content-type", b"content-length"}
        ]
        headers += [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(raw)).encode()),
        ]
        inner: Scope = {
            **scope,
            "method": "POST",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
        }
        inner.pop("path_params", None)
        inner.pop("endpoint", None)
        inner.pop("route", None)
        sent = False

        async def receive_body() -> dict[str, object]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        log.info("member %s resumes %s after sign-in", member.user_id, path)
        await scope["app"].router(inner, receive_body, send)


routes = [Route("/resume", Resume(), name="resume")]
