"""What the reference's two Rewards Program Rules views (Earning Rules, Redeeming Rules) share:
their scopes, their query string (`business`, `loc_id`, `view_as_user`) and their list body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import invalid_request
from ..resources import (
    READ_METHODS,
    Context,
    Resource,
    ScopeRule,
    authenticate,
    list_response,
    not_implemented,
    request_context,
)
from ..store import AccessToken, Store

VIEW_SCOPES = ScopeRule(all_of=(), any_of=("PUBLIC", "USER_CUSTOMER_INFO"))
VIEW_PARAMS = frozenset({"business", "loc_id", "view_as_user", "limit", "offset", "format"})


@dataclass(frozen=True, slots=True)
class View:
    business_id: int
    loc_id: int
    user_id: int | None  # viewing as this member (view_as_user=true with USER_CUSTOMER_INFO)


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise invalid_request("invalid", f"{raw!r} is not a valid {name}.", name) from None


def _read_view(request: Request, store: Store, token: AccessToken) -> View:
    """The view's query string: `business` (required), `loc_id`, `view_as_user`."""
    for key in request.query_params:
        if key not in VIEW_PARAMS:
            raise invalid_request("invalid_filter", f"{key!r} is not a parameter here.", key)
    business_id = _int_param(request, "business")
    if business_id is None:
        raise invalid_request("required", "The business parameter is required.", "business")
    if business_id not in store.businesses:
        raise invalid_request("invalid", f"There is no business {business_id}.", "business")
    raw_view = request.query_params.get("view_as_user", "false").lower()
    if raw_view not in {"true", "false", "1", "0"}:
        raise invalid_request("invalid", "view_as_user must be true or false.", "view_as_user")
    customer = "USER_CUSTOMER_INFO" in token.scopes
    conn = store.connection_of(token.user_id, business_id) if customer else None
    locations = sorted(k for k, loc in store.locations.items() if loc.business_id == business_id)
    loc_id = _int_param(request, "loc_id")
    if loc_id is None:
        # Reference: the user's primary (home) location with USER_CUSTOMER_INFO, otherwise
        # the business's primary location (the sandbox: its first location).
        home = conn.home_location_id if conn else None
        loc_id = home if home is not None else (locations[0] if locations else 0)
    elif loc_id not in locations:
        raise invalid_request("invalid", f"Location {loc_id} is not at this business.", "loc_id")
    as_user = customer and raw_view in {"true", "1"}
    return View(business_id, loc_id, token.user_id if as_user else None)


def open_view(request: Request) -> tuple[View, Context]:
    """The view this request asks for, after the checks every list makes in the same order:
    token, method, scopes, then the query string."""
    store: Store = request.app.state.store
    token = authenticate(request, store)
    if request.method not in READ_METHODS:
        raise not_implemented(request)
    VIEW_SCOPES.check(token)
    return _read_view(request, store, token), request_context(request, token)


def view_list(name: str, rows: list[dict[str, Any]], request: Request, ctx: Context) -> Response:
    """A page of the view's rows, in the usual list body (meta + objects)."""
    listing = Resource(name, name, lambda s: {}, lambda row, c: row)
    return list_response(listing, request, ctx, rows)
