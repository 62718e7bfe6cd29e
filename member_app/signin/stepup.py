"""Step-up: an identified (read-only) member's action waits for the PKCE sign-in, then runs.

An identified member browses with the staff token, read-only. Any action they start
(`pages.common.checked_form`) raises `StepUpRequired`; its handler keeps the action in the
session (sealed, for minutes) with a ticket, and sends the member to the PKCE sign-in carrying
that ticket. Only that sign-in can lead back to the action:

1. `/signin?pkce=1&ticket=…` binds the action to the OAuth state it starts; any other sign-in
   started meanwhile drops the action (`session.bind_pending`).
2. The callback of that very sign-in gives a one-time proof and sends the member to
   `/resume?proof=…` (`session.prove_pending`); a refused consent, another account or another
   sign-in drops the action.
3. `/resume` shows what is about to happen; its POST (which the page's script sends at once)
   must carry the proof and this session's CSRF token, and replays the action once through its
   own view. A redemption keeps its attempt id, so it is spent once whatever happens.

So no navigation from elsewhere can run a kept action, and no GET changes anything.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from ..i18n import N_, _
from ..state import app_state
from ..web.csrf import csrf_valid
from ..web.exceptions import FormExpired
from ..web.session import CSRF, PendingAction, current_member, drop_pending, pending_action
from ..web.templating import render

log = logging.getLogger(__name__)

_ACTIONS = (
    (re.compile(r"^/rewards/"), N_("Redeem the reward you chose")),
    (re.compile(r"^/vouchers/"), N_("Mark your voucher as used")),
    (re.compile(r"^/challenges/.*/join$"), N_("Join the challenge")),
    (re.compile(r"^/challenges/.*/leave$"), N_("Leave the challenge")),
    (re.compile(r"^/referrals$"), N_("Send your invitation")),
    (re.compile(r"^/join$"), N_("Join the rewards program")),
    (re.compile(r"^/location$"), N_("Change your location")),
)


class Resume:
    """`/resume`: GET shows what is about to happen (a form the page's script submits at once,
    a "Continue" button without it); POST, with the proof and this session's CSRF token, runs
    the kept action once through its own view."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        member = current_member(request)
        form = await request.form() if request.method == "POST" else None
        proof = (form or request.query_params).get("proof")
        now = app_state(request).clock()
        kept = member is not None and not member.identified
        action = pending_action(request, proof, now) if kept else None
        response: Response
        if action is None:
            response = RedirectResponse(request.url_for("home").path, status_code=303)
        elif form is None:
            found = next((text for rx, text in _ACTIONS if rx.search(action.path)), None)
            label = _(found) if found else _("Continue")
            response = render(request, "auth/resume.html", {"action": label, "proof": proof})
        else:
            if not csrf_valid(request, form.get("csrf")):
                raise FormExpired
            drop_pending(request)
            log.info("member %s resumes %s after sign-in", member and member.user_id, action.path)
            await _replay(scope, action, request, send)
            return
        await response(scope, receive, send)


async def _replay(scope: Scope, action: PendingAction, request: Request, send: Send) -> None:
    """Run the kept action through the app's router as a POST of its own form."""
    csrf = urlencode({"csrf": request.session.get(CSRF, "")})
    raw = (f"{action.form}&{csrf}" if action.form else csrf).encode()
    headers = [(k, v) for k, v in scope["headers"] if k not in {b"content-type", b"content-length"}]
    headers += [
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", str(len(raw)).encode()),
    ]
    inner: Scope = {
        **scope,
        "method": "POST",
        "path": action.path,
        "raw_path": action.path.encode(),
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

    await scope["app"].router(inner, receive_body, send)


routes = [Route("/resume", Resume(), methods=["GET", "POST"], name="resume")]
