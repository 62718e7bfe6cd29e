"""The member's session: a signed cookie (Starlette + itsdangerous) with the token encrypted.

Starlette's session cookie is signed, not encrypted: anyone holding it can read it. The
Perkville token therefore goes in as a Fernet token (AES + HMAC, from `cryptography`), so a
copied or logged cookie never reveals a bearer token. Idle and absolute timeouts are enforced
here because Starlette's `max_age` only counts from the last write (tech-anchors B.2, B.3).
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .perkville import AdminView, MemberToken
from .perkville.models import Freshness

Clock = Callable[[], float]

# `seen` is rewritten at most this often, so most read-only requests send no Set-Cookie (a
# cookie rewritten on every request reopens the lost-state race of tech-anchors A.6).
SEEN_RESOLUTION_SECONDS = 60


def derive_key(secret: str, purpose: str) -> bytes:
    """One configured secret, separate keys per purpose (signing, encryption)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return hkdf.derive(secret.encode())


class TokenBox:
    """Seals the upstream token for the cookie and opens it again."""

    def __init__(self, secret: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret, "member-app token")))

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode("ascii")

    def open(self, sealed: object) -> str | None:
        if not isinstance(sealed, str):
            return None
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            return None


@dataclass(frozen=True, slots=True)
class Member:
    """Who is signed in, and the upstream token to act for them. `identified` members were
    recognised by the Identify User Flow: read-only, `token` is an `AdminView`."""

    user_id: int
    first_name: str
    token: str
    identified: bool = False


IDENTIFIED = "identify"  # the session's `via` for an identified (read-only) member
PENDING = "pending"  # an identified member's action waiting for the PKCE sign-in (stepup.py)


def _rotate(request: Request, values: dict[str, Any], now: float) -> None:
    session = request.session
    session.clear()
    session.update(
        {
            "sid": secrets.token_urlsafe(16),
            "iat": int(now),
            "seen": int(now),
            **values,
            "csrf": secrets.token_urlsafe(24),
        }
    )


def start_member_session(
    request: Request, *, user_id: int, first_name: str, token: str, now: float
) -> None:
    """Replace whatever the session held (a new session id: rotation at sign-in)."""
    box: TokenBox = request.app.state.token_box
    _rotate(request, {"uid": user_id, "name": first_name, "tok": box.seal(token)}, now)


def start_identified_session(
    request: Request, *, user_id: int, first_name: str, now: float
) -> None:
    """A read-only session for a member Perkville identified: no token of theirs is kept."""
    _rotate(request, {"uid": user_id, "name": first_name, "via": IDENTIFIED}, now)


def _cache_scope(session: dict[str, Any]) -> str | None:
    """This session's per-member cache: its id and generation (see `member_acted`)."""
    sid = session.get("sid")
    return f"{sid}.{session.get('cg', 0)}" if isinstance(sid, str) else None


def member_acted(request: Request) -> None:
    """The member changed something upstream (redeemed, joined...): their cached data is out of
    date. A new generation in the cookie leaves the old entries unread until they expire, which
    works the same for every replica and needs no cache-wide delete."""
    generation = request.session.get("cg", 0)
    request.session["cg"] = generation + 1 if isinstance(generation, int) else 1


def request_freshness(request: Request) -> Freshness:
    """This request's record of cached copies standing in for Perkville (one per request)."""
    freshness = getattr(request.state, "freshness", None)
    if not isinstance(freshness, Freshness):
        freshness = Freshness()
        request.state.freshness = freshness
    return freshness


def current_member(request: Request) -> Member | None:
    session = request.session
    uid = session.get("uid")
    if not isinstance(uid, int):
        return None
    name = str(session.get("name", ""))
    scope = _cache_scope(session)
    freshness = request_freshness(request)
    if session.get("via") == IDENTIFIED:
        admin_token = request.app.state.settings.admin_token
        if not admin_token:  # identify switched off since: sign in again
            session.clear()
            return None
        return Member(uid, name, AdminView(admin_token, uid, scope, freshness), identified=True)
    token = request.app.state.token_box.open(session.get("tok"))
    if token is None:
        # Sealed with a key we no longer hold (secret rotated) or tampered: start over.
        session.clear()
        return None
    return Member(uid, name, MemberToken(token, scope, freshness))


class SessionTimeoutMiddleware:
    """Ends sessions idle too long or older than the absolute limit, whatever the cookie says.

    Sits inside `SessionMiddleware`. Sets `request.state.session_expired` when it ended one, so
    the page can say why the member is signed out.
    """

    def __init__(self, app: ASGIApp, *, idle: int, absolute: int, clock: Clock = time.time):
        self.app = app
        self.idle = idle
        self.absolute = absolute
        self.clock = clock
        # A kiosk's minute-long idle limit needs `seen` kept fresher than once a minute.
        self.resolution = min(SEEN_RESOLUTION_SECONDS, max(1, idle // 4))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            session: dict[str, Any] = scope["session"]
            iat = session.get("iat")
            if isinstance(iat, int):
                now = self.clock()
                seen = session.get("seen", iat)
                if now - iat > self.absolute or now - seen > self.idle:
                    session.clear()
                    scope.setdefault("state", {})["session_expired"] = True
                elif now - seen >= self.resolution:
                    session["seen"] = int(now)
        await self.app(scope, receive, send)
