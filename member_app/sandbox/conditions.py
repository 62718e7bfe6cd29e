"""Sandbox "conditions": latency, a request counter, injected faults, token revocation and a
ledger check, so the app can be exercised against a slow, flaky or hostile Perkville.

`ConditionsMiddleware` (outermost in `create_sandbox`) reads the mutable `Conditions` on
`app.state.conditions` on every request, so `PUT /_sandbox/conditions` takes effect at once.
The `/_sandbox/` control endpoints have no authentication on purpose: the sandbox is a
loopback simulator with published credentials, never a real service.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import INVALID_REQUEST_ERROR, UNKNOWN_ERROR, ApiError, invalid_request
from .seed.gym import DEMO_BUSINESS_ID
from .store import Store

CONTROL_PREFIX = "/_sandbox/"
FAULT_KINDS = ("timeout", "500", "502", "503", "429", "drop", "lost")
DEFAULT_FAULTS = ("500", "502", "503", "429")
DEFAULT_FAULT_PATHS = ("/v2/",)
MAX_LATENCY_MS = 60_000.0
MAX_HANG_SECONDS = 3600.0
MAX_RETRY_AFTER = 86_400

# (status, code, message) of the faults that answer with the sandbox's server_error body.
_ERROR_FAULTS: dict[str, tuple[int, str, str]] = {
    "500": (500, "server_error", "Something went wrong."),
    "502": (502, "bad_gateway", "Perkville is unreachable right now (bad gateway)."),
    "503": (503, "service_unavailable", "Perkville is temporarily unavailable."),
    "timeout": (504, "gateway_timeout", "Perkville took too long to answer."),
}


class ConnectionDropped(httpx2.RemoteProtocolError):
    """Raised by the `drop` fault after a partial response.

    Under uvicorn the exception makes the server close the socket, so a client sees a protocol
    error. It subclasses httpx2's RemoteProtocolError because in-process (httpx2's
    ASGITransport re-raises app exceptions) the client then gets the same exception class it
    would get over the network."""


def coarse_label(path: str) -> str:
    """The first path segment ("/v2/perks/" -> "v2"); "/" is "root"."""
    first = path.strip("/").split("/", 1)[0]
    return first or "root"


def _number(name: str, value: Any, low: float, high: float) -> float:
    # bool is an int subclass; `true` is never a sensible latency.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid_request("invalid", f"{name} must be a number.", name)
    if not low <= value <= high:
        raise invalid_request("invalid", f"{name} must be from {low:g} to {high:g}.", name)
    return float(value)


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_request("invalid", f"{name} must be a whole number.", name)
    if not low <= value <= high:
        raise invalid_request("invalid", f"{name} must be from {low} to {high}.", name)
    return value


def _strings(name: str, value: Any) -> list[str]:
    """A JSON list of strings, or one comma-separated string (as the CLI takes it)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_request("invalid", f"{name} must be a list of strings.", name)
    return [v.strip() for v in value]


def parse_faults(value: Any, name: str = "faults") -> tuple[str, ...]:
    kinds = _strings(name, value)
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown:
        raise invalid_request(
            "invalid",
            f"Unknown fault kind {', '.join(unknown)}; choose from {', '.join(FAULT_KINDS)}.",
            name,
        )
    return tuple(dict.fromkeys(kinds))  # de-duplicated: a repeat would skew the draw


@dataclass
class Conditions:
    """What the middleware does to each request; mutate it (or PUT it) at any time."""

    latency_ms: float = 0.0
    fault_rate: float = 0.0
    faults: tuple[str, ...] = DEFAULT_FAULTS
    fault_paths: tuple[str, ...] = DEFAULT_FAULT_PATHS
    fault_methods: tuple[str, ...] | None = None  # None: every method
    retry_after: int = 1
    hang_seconds: float = 30.0
    seed: int | None = None
    requests: int = 0
    by_label: Counter[str] = field(default_factory=Counter)
    faults_injected: Counter[str] = field(default_factory=Counter)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self.faults = parse_faults(list(self.faults))
        if self.seed is not None:
            self.rng.seed(self.seed)

    def settings(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "fault_rate": self.fault_rate,
            "faults": list(self.faults),
            "fault_paths": list(self.fault_paths),
            "fault_methods": None if self.fault_methods is None else list(self.fault_methods),
            "retry_after": self.retry_after,
            "hang_seconds": self.hang_seconds,
            "seed": self.seed,
        }

    def update(self, changes: Mapping[str, Any]) -> None:
        """Validate every change first, then apply them all (nothing half-applied); raises
        `ApiError` (400) naming the bad field."""
        parsed: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "latency_ms":
                parsed[name] = _number(name, value, 0, MAX_LATENCY_MS)
            elif name == "fault_rate":
                parsed[name] = _number(name, value, 0, 1)
            elif name == "faults":
                parsed[name] = parse_faults(value)
            elif name == "fault_paths":
                paths = _strings(name, value)
                if not all(p.startswith("/") for p in paths):
                    raise invalid_request("invalid", "fault_paths must start with '/'.", name)
                parsed[name] = tuple(paths)
            elif name == "fault_methods":
                if value is None:
                    parsed[name] = None
                    continue
                methods = [m.upper() for m in _strings(name, value)]
                if not all(m.isalpha() for m in methods):
                    raise invalid_request("invalid", "fault_methods are HTTP methods.", name)
                parsed[name] = tuple(methods)
            elif name == "retry_after":
                parsed[name] = _integer(name, value, 0, MAX_RETRY_AFTER)
            elif name == "hang_seconds":
                parsed[name] = _number(name, value, 0, MAX_HANG_SECONDS)
            elif name == "seed":
                parsed[name] = None if value is None else _integer(name, value, 0, 2**63 - 1)
            else:
                raise invalid_request("unknown_field", f"{name!r} is not a condition.", name)
        for name, value in parsed.items():
            setattr(self, name, value)
        if parsed.get("seed") is not None:
            self.rng.seed(self.seed)

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_label": dict(sorted(self.by_label.items())),
            "faults_injected": dict(sorted(self.faults_injected.items())),
        }

    def reset_stats(self) -> None:
        self.requests = 0
        self.by_label.clear()
        self.faults_injected.clear()

    def count(self, path: str) -> None:
        self.requests += 1
        self.by_label[coarse_label(path)] += 1

    def draw_fault(self, method: str, path: str) -> str | None:
        """The fault for this request, or None. The generator is consulted only for requests
        in scope, so a seeded run gives the same faults to the same sequence of API calls
        whatever else (pages, media) is requested in between."""
        if self.fault_rate <= 0 or not self.faults:
            return None
        if not any(path.startswith(prefix) for prefix in self.fault_paths):
            return None
        if self.fault_methods is not None and method.upper() not in self.fault_methods:
            return None
        if self.rng.random() >= self.fault_rate:
            return None
        return self.rng.choice(self.faults)


def _error_body(status: int, error_type: str, code: str, message: str) -> dict[str, object]:
    return ApiError(status, error_type, code, f"{message} (sandbox fault)").body()


async def _hang(seconds: float, receive: Receive) -> bool:
    """Sleep, but stop early if the client goes away. True if the client is still there."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({watcher}, timeout=seconds)
        return not watcher.done()
    finally:
        watcher.cancel()


async def _inject(
    fault: str, conditions: Conditions, app: ASGIApp, scope: Scope, receive: Receive, send: Send
) -> None:
    marker = {"X-Sandbox-Fault": fault}
    if fault == "lost":
        # The worst case for a client: Perkville did the work (a redeem spent the points), then
        # the answer never arrived. Only a replay-safe client gets this right.
        async def discard(message: Message) -> None:
            return None

        await app(scope, receive, discard)
        raise ConnectionDropped("sandbox fault: answer lost after the request was carried out")
    if fault == "drop":
        # A Content-Length the body never reaches: under uvicorn, the raise below makes the
        # server abort the connection mid-body, so the client sees a truncated response.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"4096"),
                    (b"x-sandbox-fault", b"drop"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b'{"objects": [', "more_body": True})
        raise ConnectionDropped("sandbox fault: connection dropped mid-response")
    if fault == "timeout" and not await _hang(conditions.hang_seconds, receive):
        return  # the client gave up; there is nobody to answer
    response: Response
    if fault == "429":
        response = JSONResponse(
            _error_body(
                429, UNKNOWN_ERROR, "rate_limited", "Too many requests; retry after a while."
            ),
            status_code=429,
            headers={"Retry-After": str(conditions.retry_after), **marker},
        )
    else:
        status, code, message = _ERROR_FAULTS[fault]
        response = JSONResponse(
            _error_body(status, UNKNOWN_ERROR, code, message), status_code=status, headers=marker
        )
    await response(scope, receive, send)


class ConditionsMiddleware:
    """Pure ASGI: count, delay, maybe fault, else pass through untouched (streaming intact)."""

    def __init__(self, app: ASGIApp, conditions: Conditions | None = None) -> None:
        self.app = app
        self.fallback = conditions if conditions is not None else Conditions()

    def conditions_of(self, scope: Scope) -> Conditions:
        # app.state wins, so replacing `app.state.conditions` is honoured as well as mutating it.
        state = getattr(scope.get("app"), "state", None)
        found = getattr(state, "conditions", None)
        return found if isinstance(found, Conditions) else self.fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        conditions = self.conditions_of(scope)
        conditions.count(scope["path"])
        if conditions.latency_ms > 0:
            await asyncio.sleep(conditions.latency_ms / 1000)
        fault = conditions.draw_fault(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        conditions.faults_injected[fault] += 1
        await _inject(fault, conditions, self.app, scope, receive, send)


# --- revocation and the ledger --------------------------------------------------------------


def revoke_tokens(store: Store, email: str) -> int:
    """Revoke every access token of the user with this email; the number revoked.

    Deleting them is exactly what the sandbox's bearer check treats as invalid or revoked
    (`resources.authenticate`: 401 `oauth_error` / `invalid_token`). Consents stay, as at
    Perkville: signing in again gets a new token without the consent page."""
    user = store.user_by_email(email)
    if user is None:
        raise KeyError(email)
    doomed = [key for key, token in store.tokens.items() if token.user_id == user.user_id]
    for key in doomed:
        del store.tokens[key]
    return len(doomed)


def ledger(store: Store, business_id: int = DEMO_BUSINESS_ID) -> dict[str, Any]:
    """Each connected user's balance against their transactions at the business.

    Summed exactly as the sandbox moves balances: every EARN line adds points x quantity,
    every REDEEM line subtracts it. A voided line stays and its VOID_REF carries the negative
    amount under the same classification, so the pair nets to zero (`Ledger.void` in
    seed/rewards.py); a redemption through the API subtracts its cost and writes one REDEEM
    line; joining adds one EARN line. `earned`/`spent` are therefore net of voids."""
    sources: dict[str, int] = Counter(
        t.trans_source_id
        for t in store.transactions.values()
        if t.business_id == business_id and t.trans_source_id
    )
    repeated = {source for source, n in sources.items() if n > 1}
    users: list[dict[str, Any]] = []
    for conn in sorted(store.connections.values(), key=lambda c: c.user_id):
        if conn.business_id != business_id:
            continue
        earned = spent = 0
        own_sources: set[str] = set()
        for txn in store.transactions.values():
            if txn.user_id != conn.user_id or txn.business_id != business_id:
                continue
            amount = txn.points * txn.quantity
            if txn.classification == "EARN":
                earned += amount
            else:
                spent += amount
            if txn.trans_source_id in repeated:
                own_sources.add(txn.trans_source_id)
        user = store.users.get(conn.user_id)
        users.append(
            {
                "user_id": conn.user_id,
                "email": user.email if user else None,
                "connection_id": conn.connection_id,
                "status": conn.status,
                "balance": conn.point_balance,
                "earned": earned,
                "spent": spent,
                "consistent": conn.point_balance == earned - spent,
                "duplicate_trans_source_ids": sorted(own_sources),
            }
        )
    return {
        "business_id": business_id,
        "users": users,
        "all_consistent": all(u["consistent"] for u in users),
        "duplicates": len(repeated),
    }


# --- control endpoints ----------------------------------------------------------------------


def _conditions(request: Request) -> Conditions:
    found = getattr(request.app.state, "conditions", None)
    if not isinstance(found, Conditions):
        found = request.app.state.conditions = Conditions()
    return found


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise invalid_request("invalid_json", "Send a JSON object.") from None
    if not isinstance(body, dict):
        raise invalid_request("invalid_json", "Send a JSON object.")
    return body


async def stats(request: Request) -> Response:
    return JSONResponse(_conditions(request).stats())


async def reset_stats(request: Request) -> Response:
    conditions = _conditions(request)
    conditions.reset_stats()
    return JSONResponse(conditions.stats())


async def conditions_endpoint(request: Request) -> Response:
    conditions = _conditions(request)
    if request.method == "PUT":
        conditions.update(await _json_object(request))
    return JSONResponse(conditions.settings())


async def revoke(request: Request) -> Response:
    body = await _json_object(request)
    email = body.get("email")
    if not isinstance(email, str) or not email.strip():
        raise invalid_request("required", "Send the user's email.", "email")
    try:
        count = revoke_tokens(request.app.state.store, email)
    except KeyError:
        raise ApiError(404, INVALID_REQUEST_ERROR, "not_found", "No such user.", "email") from None
    return JSONResponse({"email": email.strip().lower(), "revoked": count})


async def ledger_endpoint(request: Request) -> Response:
    return JSONResponse(ledger(request.app.state.store))


routes = [
    Route("/_sandbox/stats", stats, methods=["GET"]),
    Route("/_sandbox/stats/reset", reset_stats, methods=["POST"]),
    Route("/_sandbox/conditions", conditions_endpoint, methods=["GET", "PUT"]),
    Route("/_sandbox/revoke", revoke, methods=["POST"]),
    Route("/_sandbox/ledger", ledger_endpoint, methods=["GET"]),
]


def conditions_from(
    *,
    latency_ms: float = 0.0,
    fault_rate: float = 0.0,
    faults: Iterable[str] = DEFAULT_FAULTS,
    seed: int | None = None,
) -> Conditions:
    """The CLI's options as a `Conditions`, validated like a PUT (ValueError if not valid)."""
    conditions = Conditions()
    try:
        conditions.update(
            {
                "latency_ms": latency_ms,
                "fault_rate": fault_rate,
                "faults": list(faults),
                "seed": seed,
            }
        )
    except ApiError as exc:
        raise ValueError(exc.message) from None
    return conditions
