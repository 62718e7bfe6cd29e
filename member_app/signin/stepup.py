"""Step-up: an identified (read-only) member's action waits for the PKCE sign-in, then runs.

Issue item 3: "Any action ... first asks for the PKCE sign-in, then continues the action the
member started, form input kept." `pages.checked_form` raises `StepUpRequired` for an
identified member; the handler keeps the form (without its CSRF token, size-capped, only for
the action paths below) in the session and sends the member to sign in with `next=/resume`.
The PKCE callback carries it across the session's rotation; `/resume` shows what is about to
happen and, on its POST (which the page's script sends at once), replays it once through the
same view with the new session's CSRF token. A redemption keeps its attempt id,
so it is spent once whatever happens (rewards.py).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from .pages import FormExpired, StepUpRequired
from .security import csrf_valid
from .session import PENDING, current_member
from .templating import render

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


_ACTIONS = (
    (re.compile(r"^/rewards/"), "Redeem the reward you chose"),
    (re.compile(r"^/vouchers/"), "Mark your voucher as used"),
    (re.compile(r"^/challenges/.*/join$"), "Join the challenge"),
    (re.compile(r"^/challenges/.*/leave$"), "Leave the challenge"),
    (re.compile(r"^/referrals$"), "Send your invitation"),
    (re.compile(r"^/join$"), "Join the rewards program"),
    (re.compile(r"^/location$"), "Change your location"),
)


def _pending_action(request: Request) -> tuple[str, str] | None:
    """The kept action (path, form) if a member signed in with PKCE may run it now."""
    pending = request.session.get(PENDING)
    member = current_member(request)
    if (
        not isinstance(pending, dict)
        or not isinstance(path := pending.get("path"), str)
        or not isinstance(form := pending.get("form"), str)
        or not ACTION_PATHS.match(path)
        or member is None
        or member.identified
    ):
        return None
    return path, form


class Resume:
    """`/resume`: GET shows what is about to happen (a form the page's script submits at once,
    a "Continue" button without it); POST, with this session's CSRF token, runs the kept
    action once through its own view. No state changes on a GET (issue 7)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        action = _pending_action(request)
        response: Response
        if action is None:
            request.session.pop(PENDING, None)
            response = RedirectResponse(request.url_for("home").path, status_code=303)
        elif request.method == "GET":
            label = next((text for rx, text in _ACTIONS if rx.search(action[0])), "Continue")
            response = render(request, "auth/resume.html", {"action": label})
        else:
            form = await request.form()
            if not csrf_valid(request, form.get("csrf")):
                raise FormExpired
            request.session.pop(PENDING, None)
            await self._replay(scope, action, request, send)
            return
        await response(scope, receive, send)

    async def _replay(
        self, scope: Scope, action: tuple[str, str], request: Request, send: Send
    ) -> None:
        path, form = action
        csrf = urlencode({"csrf": request.session.get("csrf", "")})
        raw = (f"{form}&{csrf}" if form else csrf).encode()
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
        for key in ("path_params", "endpoint", "route"):
            inner.pop(key, None)
        sent = False

        async def receive_body() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        member = current_member(request)
        log.info("member %s resumes %s after sign-in", member and member.user_id, path)
        await scope["app"].router(inner, receive_body, send)


routes = [Route("/resume", Resume(), methods=["GET", "POST"], name="resume")]
