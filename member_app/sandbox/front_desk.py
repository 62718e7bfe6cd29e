"""A gym's front desk, for the demo: staff sign in with their Perkville account, find a member
by email, check them in, log a class or a purchase, refund one, undo a mistake, take a voucher.

Not part of Perkville: it plays the gym's own systems ("Automating your program"), so that
every action goes through the admin API exactly as such a system's would, with a staff token
(PUBLIC, ADMIN_CUSTOMER_INFO, ADMIN_CUSTOMER_GRANT_POINTS, ADMIN_CUSTOMER_REDEEM), over HTTP to
this same sandbox: connection look-up by email, `POST /v2/transactions/` (a `trans_source_id`
per form, so a double submit never awards twice; check-ins `limit_to_once_per_calendar_day`),
`GET /v2/connection-balances/`, `PATCH /v2/vouchers/{id}/`. An award made by mistake is
undone with a negative quantity, as the reference allows.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

import httpx2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .pages import csrf_token, csrf_valid, page, signed_in_user
from .records import Perk
from .store import Store

PATH = "/front-desk/"
DESK_CLIENT_ID = "sandbox-front-desk"
DESK_SCOPES = frozenset(
    {"PUBLIC", "ADMIN_CUSTOMER_INFO", "ADMIN_CUSTOMER_GRANT_POINTS", "ADMIN_CUSTOMER_REDEEM"}
)
# What the desk logs, by the perk's title: a visit, a class, a purchase (one point a dollar).
KINDS = ("checkin", "class", "purchase", "refund")
MAX_DOLLARS = 10_000


def _business_of(request: Request) -> tuple[int, int] | None:
    """(staff user id, the business where they are ADMIN), or None."""
    user = signed_in_user(request)
    if user is None:
        return None
    store: Store = request.app.state.store
    businesses = sorted(store.staff_businesses(user.user_id, roles=("ADMIN",)))
    return (user.user_id, businesses[0]) if businesses else None


def desk_perks(store: Store, business_id: int) -> dict[str, Perk]:
    """The business's perks for each kind of desk action: its check-in, a class, a per-dollar
    purchase (the first active, visible STANDARD earn perk whose title says so)."""
    perks = [
        p
        for p in sorted(store.perks.values(), key=lambda p: p.perk_id)
        if p.business_id == business_id
        and p.classification == "EARN"
        and p.status == "ACTIVE"
        and p.type in ("STANDARD", "CHECKIN")
        and not p.admin_flagged_as_invisible_to_customers
    ]
    found: dict[str, Perk] = {}
    for p in perks:
        title = p.title.lower()
        if "check" in title or p.type == "CHECKIN":
            found.setdefault("checkin", p)
        elif "dollar" in title:
            found.setdefault("purchase", p)
        elif "class" in title:
            found.setdefault("class", p)
    if "purchase" in found:
        found["refund"] = found["purchase"]
    return found


async def _api(
    request: Request, token: str, method: str, path: str, **kwargs: Any
) -> tuple[int, Any]:
    """One call to this sandbox's API, over HTTP in process, as the gym's system makes it."""
    transport = httpx2.ASGITransport(app=request.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox.local") as client:
        response = await client.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    return response.status_code, body


def _desk_token(request: Request, user_id: int) -> str:
    store: Store = request.app.state.store
    known = request.session.get("desk_token")
    if isinstance(known, str) and known in store.tokens:
        return known
    token = store.issue_token(DESK_CLIENT_ID, user_id, DESK_SCOPES).token
    request.session["desk_token"] = token
    return token


def _problem(body: Any) -> str:
    """The API's error messages, for the desk (reference, Handling Errors)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, dict):
        return "The API refused that."
    messages = [
        str(item.get("message", ""))
        for items in errors.values()
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict)
    ]
    return " ".join(m for m in messages if m) or "The API refused that."


async def _member(request: Request, token: str, business_id: int, email: str) -> dict[str, Any]:
    """What the desk shows of a member: their balance, latest lines, vouchers to void."""
    status, data = await _api(
        request,
        token,
        "GET",
        "/v2/connection-balances/",
        params={"business": business_id, "user__emails__email": email},
    )
    balances = data.get("objects", []) if status == 200 and isinstance(data, dict) else []
    if not balances:
        return {"email": email, "found": False}
    balance = balances[0]
    user_uri = str(balance.get("user", ""))
    user_id = user_uri.rstrip("/").rsplit("/", 1)[-1]
    _, txns = await _api(
        request,
        token,
        "GET",
        "/v2/transactions/",
        params={"business": business_id, "user": user_id, "limit": 6},
    )
    _, vouchers = await _api(
        request,
        token,
        "GET",
        "/v2/vouchers/",
        params={"business": business_id, "user": user_id, "status__in": "UNUSED,ISSUED"},
    )
    return {
        "email": email,
        "found": True,
        "balance": balance,
        "transactions": txns.get("objects", []) if isinstance(txns, dict) else [],
        "vouchers": vouchers.get("objects", []) if isinstance(vouchers, dict) else [],
    }


async def front_desk(request: Request) -> Response:
    """GET /front-desk/: find a member; what the desk can do for them."""
    staff = _business_of(request)
    if staff is None:
        if signed_in_user(request) is None:
            return RedirectResponse(f"/login/?{urlencode({'next': PATH})}", status_code=303)
        return page(request, "front_desk.html", {"not_staff": True}, status=403)
    user_id, business_id = staff
    store: Store = request.app.state.store
    token = _desk_token(request, user_id)
    email = request.query_params.get("email", "").strip()[:254]
    member = await _member(request, token, business_id, email) if email else None
    context = {
        "business": store.businesses[business_id],
        "locations": [
            loc for _, loc in sorted(store.locations.items()) if loc.business_id == business_id
        ],
        "perks": desk_perks(store, business_id),
        "email": email,
        "member": member,
        "note": request.session.pop("desk_note", None),
        "csrf": csrf_token(request),
        # A fresh id per page: the same form sent twice is one award (reference, Transaction:
        # "This will ensure that the same event will never be awarded twice").
        "source": f"desk-{secrets.token_hex(8)}",
    }
    return page(request, "front_desk.html", context)


def _back(email: str, note: tuple[str, str], request: Request) -> Response:
    request.session["desk_note"] = list(note)
    return RedirectResponse(f"{PATH}?{urlencode({'email': email})}", status_code=303)


async def award(request: Request) -> Response:
    """POST /front-desk/award: one desk action, as one admin transaction."""
    staff = _business_of(request)
    if staff is None:
        return RedirectResponse(PATH, status_code=303)
    user_id, business_id = staff
    store: Store = request.app.state.store
    form = await request.form()
    email = str(form.get("email", "")).strip()[:254]
    if not csrf_valid(request, form.get("csrf")):
        return _back(email, ("error", "This form expired. Please try again."), request)
    kind = str(form.get("kind", ""))
    perk = desk_perks(store, business_id).get(kind)
    location = str(form.get("location", ""))
    dollars = str(form.get("dollars", "1")).strip() or "1"
    if perk is None or not location.isdigit() or not email:
        return _back(email, ("error", "Choose a member, an action and a location."), request)
    if not dollars.isdigit() or not 1 <= int(dollars) <= MAX_DOLLARS:
        return _back(email, ("error", f"Enter whole dollars from 1 to {MAX_DOLLARS}."), request)
    quantity = int(dollars) if kind in ("purchase", "refund") else 1
    body: dict[str, Any] = {
        "business": f"/v2/businesses/{business_id}/",
        "location": f"/v2/locations/{location}/",
        "perk": f"/v2/perks/{perk.perk_id}/",
        "quantity": -quantity if kind == "refund" else quantity,
        "user_email": email,
        "trans_source_id": str(form.get("source", ""))[:128],
    }
    if kind == "checkin":
        body["limit_to_once_per_calendar_day"] = True
    status, data = await _api(
        request, _desk_token(request, user_id), "POST", "/v2/transactions/", json=body
    )
    if status != 201 or not isinstance(data, dict):
        return _back(email, ("error", _problem(data)), request)
    points = int(data.get("points", 0)) * int(data.get("quantity", 1))
    sign = "+" if points >= 0 else "−"
    return _back(email, ("ok", f"{sign}{abs(points)} points · {perk.title}"), request)


async def undo(request: Request) -> Response:
    """POST /front-desk/undo: take back an award made by mistake: the same perk with a negative
    quantity (reference, Transaction POST: "you may post a negative quantity"), its
    trans_source_id named after the line it undoes, so a line is undone once at most."""
    staff = _business_of(request)
    if staff is None:
        return RedirectResponse(PATH, status_code=303)
    user_id, business_id = staff
    form = await request.form()
    email = str(form.get("email", "")).strip()[:254]
    line = str(form.get("transaction", ""))
    if not csrf_valid(request, form.get("csrf")) or not line.isdigit() or not email:
        return _back(email, ("error", "This form expired. Please try again."), request)
    token = _desk_token(request, user_id)
    status, txn = await _api(request, token, "GET", f"/v2/transactions/{line}/")
    if status != 200 or not isinstance(txn, dict) or txn.get("classification") != "EARN":
        return _back(email, ("error", "Only points earned can be undone."), request)
    quantity = int(txn.get("quantity") or 1)
    body = {
        "business": f"/v2/businesses/{business_id}/",
        "location": txn.get("location"),
        "perk": txn.get("perk"),
        "quantity": -quantity,
        "user": txn.get("user"),
        "trans_source_id": f"undo-{line}",
    }
    status, data = await _api(request, token, "POST", "/v2/transactions/", json=body)
    if status != 201:
        return _back(email, ("error", _problem(data)), request)
    return _back(email, ("ok", f"Undone: {txn.get('title', 'the award')}."), request)


async def use_voucher(request: Request) -> Response:
    """POST /front-desk/use: mark a member's voucher used at the desk (staff Voucher PATCH:
    "Valid values are 'USED', 'UNUSED', 'EXPIRED'")."""
    staff = _business_of(request)
    if staff is None:
        return RedirectResponse(PATH, status_code=303)
    user_id, _ = staff
    form = await request.form()
    email = str(form.get("email", "")).strip()[:254]
    voucher = str(form.get("voucher", ""))
    if not csrf_valid(request, form.get("csrf")) or not voucher.isdigit():
        return _back(email, ("error", "This form expired. Please try again."), request)
    status, data = await _api(
        request,
        _desk_token(request, user_id),
        "PATCH",
        f"/v2/vouchers/{voucher}/",
        json={"status": "USED"},
    )
    if status != 202:
        return _back(email, ("error", _problem(data)), request)
    return _back(email, ("ok", f"Voucher {voucher} marked used."), request)


routes = [
    Route(PATH, front_desk, methods=["GET"]),
    Route(f"{PATH}award", award, methods=["POST"]),
    Route(f"{PATH}undo", undo, methods=["POST"]),
    Route(f"{PATH}use", use_voucher, methods=["POST"]),
]
