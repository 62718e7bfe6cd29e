"""The member's session: every key it holds, and every change to it, in this one module.

The session is Starlette's signed cookie (itsdangerous). What nobody may read in it (the
Perkville token) is sealed first (`sealing.Sealer`). Idle and absolute timeouts are enforced by
`session_timeout.SessionTimeoutMiddleware`, because Starlette's `max_age` only counts from the
last write.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection, Request

from ..perkville import Caller, Freshness
from ..state import app_state

# --- the keys ---------------------------------------------------------------------------------
SID = "sid"  # this session's id: names its per-member cache and rate-limit counters
ISSUED = "iat"  # when the member signed in (the absolute limit counts from here)
SEEN = "seen"  # the member's last request (the idle limit counts from here)
USER = "uid"
NAME = "name"  # the member's first name, for greetings
TOKEN = "tok"  # noqa: S105 - the key of the member's Perkville token, sealed
VIA = "via"  # how they signed in: IDENTIFIED, or absent for PKCE
CSRF = "csrf"
CACHE_GENERATION = "cg"  # bumped when the member acts: see `mark_stale`
EMBED = "embed"  # the visit is inside a gym's app (`?embed=1` once)
PENDING = "pending"  # an identified member's action waiting for the PKCE sign-in
LOCATION = "loc"  # the location the member chose (a location id)
LOCATION_GUESS = "lg"  # the location pages were last shown for (pages.place)
TRACKED = "cct"  # challenge connections whose progress pages show (pages.challenges)
REDEEM_ATTEMPTS = "redeem"  # per reward: the confirmation's attempt id and its voucher
REFERRAL_SENT = "referral_sent"  # one-shot "invitation sent" flag
AFTER_SIGNIN = "after_signin"  # the local path to land on once signed in
SIGNIN_RETRIED = "signin_retried"  # the callback restarted a sign-in once already
IDENTIFY_STATE = "identify_state"  # the Identify User Flow's state, single use

IDENTIFIED = "identify"  # VIA for a member recognised by the Identify User Flow (read-only)

# --- who is signed in -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    """Who is signed in, and the caller to make Perkville calls as. `identified` members were
    recognised by the Identify User Flow: read-only, their caller is the staff token acting
    for them."""

    user_id: int
    first_name: str
    caller: Caller
    identified: bool = False


def signed_in(connection: HTTPConnection) -> bool:
    """Whether the session belongs to a member (without opening their token)."""
    return isinstance(connection.scope.get("session", {}).get(USER), int)


def current_member(request: Request) -> Member | None:
    session = request.session
    uid = session.get(USER)
    if not isinstance(uid, int):
        return None
    state = app_state(request)
    name = str(session.get(NAME, ""))
    scope = _cache_scope(session)
    freshness = request_freshness(request)
    if session.get(VIA) == IDENTIFIED:
        admin_token = state.settings.admin_token
        if not admin_token:  # identify switched off since: sign in again
            session.clear()
            return None
        caller = Caller(admin_token, acting_for=uid, cache_scope=scope, freshness=freshness)
        return Member(uid, name, caller, identified=True)
    token = state.sealer.open(session.get(TOKEN))
    if token is None:
        # Sealed with a key we no longer hold (secret rotated) or tampered: start over.
        session.clear()
        return None
    # The member's own id filters their records (the reference's `user=me` is only for
    # `/v2/users/me/` and transactions).
    caller = Caller(token, cache_scope=scope, freshness=freshness, user_id=uid)
    return Member(uid, name, caller)


def request_freshness(request: Request) -> Freshness:
    """This request's record of cached copies standing in for Perkville (one per request)."""
    freshness = getattr(request.state, "freshness", None)
    if not isinstance(freshness, Freshness):
        freshness = Freshness()
        request.state.freshness = freshness
    return freshness


# --- starting and ending ----------------------------------------------------------------------


async def start_member_session(
    request: Request, *, user_id: int, first_name: str, token: str, now: float
) -> None:
    """Replace whatever the session held (a new session id: rotation at sign-in)."""
    sealed = app_state(request).sealer.seal(token)
    await _rotate(request, {USER: user_id, NAME: first_name, TOKEN: sealed}, now)


async def start_identified_session(
    request: Request, *, user_id: int, first_name: str, now: float
) -> None:
    """A read-only session for a member Perkville identified: no token of theirs is kept."""
    await _rotate(request, {USER: user_id, NAME: first_name, VIA: IDENTIFIED}, now)


async def end_session(request: Request) -> None:
    """Sign the member out of this app: nothing of theirs is kept, and the server records the
    session as ended, so no copy of its cookie works again."""
    sid = request.session.get(SID)
    if isinstance(sid, str):
        await app_state(request).sessions.end(sid)
    carried = _carried(request.session, None)
    request.session.clear()
    request.session.update(carried)


def _carried(session: dict[str, Any], user_id: int | None) -> dict[str, Any]:
    """What outlives a rotation: being inside a gym's app, and the action an identified
    member started, for that same member only (`user_id`; None on sign-out)."""
    carried: dict[str, Any] = {}
    if session.get(EMBED):
        carried[EMBED] = True
    pending = session.get(PENDING)
    if pending is not None and user_id is not None and session.get(USER) == user_id:
        carried[PENDING] = pending
    return carried


async def _rotate(request: Request, values: dict[str, Any], now: float) -> None:
    """A new session id for a new sign-in; the old one ends, so a copy of its cookie is dead."""
    session = request.session
    old = session.get(SID)
    if isinstance(old, str):
        await app_state(request).sessions.end(old)
    carried = _carried(session, values[USER])
    session.clear()
    session.update(
        {
            SID: secrets.token_urlsafe(16),
            ISSUED: int(now),
            SEEN: int(now),
            **carried,
            **values,
            CSRF: secrets.token_urlsafe(24),
        }
    )


# --- the member's cached data -----------------------------------------------------------------


def _cache_scope(session: dict[str, Any]) -> str | None:
    """This session's per-member cache: its id and generation (see `mark_stale`)."""
    sid = session.get(SID)
    return f"{sid}.{session.get(CACHE_GENERATION, 0)}" if isinstance(sid, str) else None


def mark_stale(request: Request) -> None:
    """The member is changing something upstream (redeeming, joining...): their cached data is
    out of date. A new generation in the cookie leaves the old entries unread until they
    expire, which works the same for every replica and needs no cache-wide delete."""
    generation = request.session.get(CACHE_GENERATION, 0)
    request.session[CACHE_GENERATION] = generation + 1 if isinstance(generation, int) else 1


# --- small remembered things ------------------------------------------------------------------


def int_value(request: Request, key: str) -> int | None:
    value = request.session.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def int_list(request: Request, key: str) -> list[int]:
    value = request.session.get(key)
    return [i for i in value if isinstance(i, int)] if isinstance(value, list) else []


def take_flag(request: Request, key: str) -> bool:
    """A one-shot flag: whether it was set, and it is gone afterwards."""
    return request.session.pop(key, False) is True


# --- an identified member's action, waiting for the PKCE sign-in ------------------------------

# The POST actions a member can start (every view that calls `checked_form`): the only paths a
# kept action may replay.
ACTION_PATHS = re.compile(
    r"^/(?:rewards/[0-9]{1,18}/redeem|vouchers/[A-Za-z0-9_-]{1,64}/use"
    r"|challenges/[0-9]{1,18}/(?:join|leave)|referrals|join|location)$"
)
MAX_PENDING_BYTES = 2048
PENDING_SECONDS = 300  # a kept action older than this is forgotten


@dataclass(frozen=True, slots=True)
class PendingAction:
    path: str
    form: str  # the form, urlencoded, without its CSRF token


def keep_pending(request: Request, path: str, form: str, now: float) -> str | None:
    """Keep an identified member's action for the PKCE sign-in started for it. Returns the
    ticket that sign-in must carry (`signin.pkce`), or None when the action can't be kept.
    The form is sealed: it may hold a friend's email."""
    request.session.pop(PENDING, None)
    if not ACTION_PATHS.match(path) or len(path) + len(form) > MAX_PENDING_BYTES:
        return None
    ticket = secrets.token_urlsafe(16)
    sealed = app_state(request).sealer.seal_json({"path": path, "form": form})
    request.session[PENDING] = {
        "action": sealed,
        "until": int(now) + PENDING_SECONDS,
        "ticket": ticket,
    }
    return ticket


def _pending_entry(request: Request, now: float) -> dict[str, Any] | None:
    entry = request.session.get(PENDING)
    if not isinstance(entry, dict):
        return None
    until = entry.get("until")
    if not isinstance(until, int) or now > until:
        request.session.pop(PENDING, None)
        return None
    return entry


def bind_pending(request: Request, ticket: object, state: str, now: float) -> None:
    """A sign-in starts. If it carries the kept action's ticket, that action waits for this
    sign-in (its OAuth `state`); any other sign-in drops the action."""
    entry = _pending_entry(request, now)
    if entry is None:
        return
    wanted = entry.get("ticket")
    if isinstance(ticket, str) and isinstance(wanted, str) and _same(ticket, wanted):
        request.session[PENDING] = {**entry, "ticket": None, "state": state}
    else:
        request.session.pop(PENDING, None)


def prove_pending(request: Request, state: object, now: float) -> str | None:
    """The sign-in with OAuth `state` has finished. If the kept action was waiting for it,
    return a one-time proof for `/resume`; any other sign-in drops the action."""
    entry = _pending_entry(request, now)
    if entry is None:
        return None
    bound = entry.get("state")
    if not (isinstance(state, str) and isinstance(bound, str) and _same(state, bound)):
        request.session.pop(PENDING, None)
        return None
    proof = secrets.token_urlsafe(16)
    request.session[PENDING] = {**entry, "state": None, "proof": proof}
    return proof


def pending_action(request: Request, proof: object, now: float) -> PendingAction | None:
    """The kept action, if `proof` is the one its sign-in was given."""
    entry = _pending_entry(request, now)
    expected = entry.get("proof") if entry else None
    if not (isinstance(proof, str) and isinstance(expected, str) and _same(proof, expected)):
        return None
    assert entry is not None
    action = app_state(request).sealer.open_json(entry.get("action"))
    if not isinstance(action, dict):
        return None
    path, form = action.get("path"), action.get("form")
    if not isinstance(path, str) or not isinstance(form, str) or not ACTION_PATHS.match(path):
        return None
    return PendingAction(path, form)


def drop_pending(request: Request) -> None:
    request.session.pop(PENDING, None)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
