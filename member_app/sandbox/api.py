"""The v2 resources of the walking skeleton, declared field by field from the API reference."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .community import update_connection
from .errors import invalid_request
from .identify import user_by_code
from .resources import (
    READ_METHODS,
    Context,
    Field,
    Filter,
    Resource,
    ScopeRule,
    authenticate,
    iso,
    list_response,
    matches,
    not_implemented,
    parse_filters,
    resource_routes,
    uri,
)
from .store import AccessToken, Business, Connection, Level, Location, Store, User

CUSTOMER_INFO = ScopeRule(any_of=("ADMIN_CUSTOMER_INFO", "USER_CUSTOMER_INFO"))


def _admin_of(token: AccessToken, store: Store, business_id: int) -> bool:
    return business_id in store.staff_businesses(token.user_id, roles=("ADMIN",))


def connection_visible(conn: Connection, token: AccessToken, store: Store) -> bool:
    """Reference, Connection: own connections with USER_CUSTOMER_INFO; with
    ADMIN_CUSTOMER_INFO, every connection of a business where the token owner is ADMIN."""
    if "USER_CUSTOMER_INFO" in token.scopes and conn.user_id == token.user_id:
        return True
    return "ADMIN_CUSTOMER_INFO" in token.scopes and _admin_of(token, store, conn.business_id)


def user_visible(user: User, token: AccessToken, store: Store) -> bool:
    """Reference, User: yourself with USER_CUSTOMER_INFO; with ADMIN_CUSTOMER_INFO, the
    customers of a business where the token owner is staff."""
    if "USER_CUSTOMER_INFO" in token.scopes and user.user_id == token.user_id:
        return True
    if "ADMIN_CUSTOMER_INFO" not in token.scopes:
        return False
    staff_at = store.staff_businesses(token.user_id)
    return any(
        c.user_id == user.user_id and c.business_id in staff_at for c in store.connections.values()
    )


def connection_filters(filters: Sequence[Filter]) -> None:
    """Reference, Connection, Required Filters: a business or user filter, and never
    business__in."""
    if any(f.field == "business" and f.op == "in" for f in filters):
        raise invalid_request(
            "invalid_filter",
            "An IN query on business is not allowed for connections.",
            "business__in",
        )
    if not any(f.field in {"business", "user", "user__emails__email"} for f in filters):
        raise invalid_request(
            "required",
            "Connections must be filtered by business, user, or both.",
        )


def serialize_user(user: User, ctx: Context) -> dict[str, Any]:
    connections = [c for _, c in sorted(ctx.store.connections.items()) if c.user_id == user.user_id]
    return {
        "birthday": user.birthday,
        "connections": [uri("connections", c.connection_id) for c in connections],
        "emails": [{"email": user.email, "primary": True}],
        "first_name": user.first_name,
        "last_mod_dt": iso(user.last_mod_dt),
        "last_name": user.last_name,
        "phone_number": user.phone_number,
        "resource_uri": uri("users", user.user_id),
        "user_id": user.user_id,
    }


def serialize_business(biz: Business, ctx: Context) -> dict[str, Any]:
    locations = [
        k for k, loc in sorted(ctx.store.locations.items()) if loc.business_id == biz.business_id
    ]
    return {
        "app_connection_message": biz.app_connection_message,
        "brand_color": biz.brand_color,
        "brand_secondary_color": biz.brand_secondary_color,
        "business_id": biz.business_id,
        "categories": biz.categories,
        "fine_print": biz.fine_print,
        "homepage_url": biz.homepage_url,
        "locations": [uri("locations", k) for k in locations],
        "logo_url": f"{ctx.base_url}/media/businesses/{biz.business_id}/logo.svg"
        if biz.has_logo
        else None,
        "name": biz.name,
        "perkville_url": f"{ctx.base_url}/biz/{biz.business_id}/",
        "perks": [],
        "promotions": [],
        "resource_uri": uri("businesses", biz.business_id),
        "rewards_program_name": biz.rewards_program_name,
    }


def serialize_location(loc: Location, ctx: Context) -> dict[str, Any]:
    return {
        "address_1": loc.address_1,
        "address_2": loc.address_2,
        "business": uri("businesses", loc.business_id),
        "city": loc.city,
        "country_code": loc.country_code,
        "external_location_id": loc.external_location_id,
        "latitude": loc.latitude,
        "location_id": loc.location_id,
        "longitude": loc.longitude,
        "name": loc.name,
        "postal_code": loc.postal_code,
        "resource_uri": uri("locations", loc.location_id),
        "state": loc.state,
    }


def serialize_level(level: Level, ctx: Context) -> dict[str, Any]:
    return {
        "badge_url": f"{ctx.base_url}/media/levels/{level.level_id}/badge.svg",
        "business": uri("businesses", level.business_id),
        "level_id": level.level_id,
        "name": level.name,
        "point_floor": level.point_floor,
        "resource_uri": uri("levels", level.level_id),
    }


def serialize_connection(conn: Connection, ctx: Context) -> dict[str, Any]:
    return {
        "business": uri("businesses", conn.business_id),
        "connection_id": conn.connection_id,
        "external_cancel_dt": iso(conn.external_cancel_dt),
        "external_join_dt": iso(conn.external_join_dt),
        "external_membership_status": conn.external_membership_status,
        "external_membership_type": conn.external_membership_type,
        "rewards_program_join_dt": iso(conn.rewards_program_join_dt),
        "home_location": uri("locations", conn.home_location_id),
        "last_mod_dt": iso(conn.last_mod_dt),
        "last_transaction_dt": iso(conn.last_transaction_dt),
        "last_visited_location": uri("locations", conn.last_visited_location_id),
        "level": uri("levels", conn.level_id),
        "lifetime_earned_points": conn.lifetime_earned_points,
        "point_balance": conn.point_balance,
        "resource_uri": uri("connections", conn.connection_id),
        "referral_offer_url": (f"{ctx.base_url}/biz/{conn.business_id}/referral/{conn.user_id}/"),
        "status": conn.status,
        "user": uri("users", conn.user_id),
        "vouchers": [],
    }


def _user_emails(user: User, store: Store) -> list[str]:
    return [user.email]


def _connection_user_emails(conn: Connection, store: Store) -> str | None:
    user = store.users.get(conn.user_id)
    return user.email if user else None


USERS = Resource(
    "users",
    "users",
    lambda s: s.users,
    serialize_user,
    CUSTOMER_INFO,
    {
        "user_id": Field(lambda u, s: u.user_id, "user"),
        "emails__email": Field(_user_emails, "str"),
        "last_mod_dt": Field(lambda u, s: u.last_mod_dt, "datetime"),
    },
    visible=user_visible,
    me_alias=True,
    lookups={"code": user_by_code},  # the Identify User Flow, step 3 (identify.py)
)
BUSINESSES = Resource(
    "businesses",
    "businesses",
    lambda s: s.businesses,
    serialize_business,
    fields={"business_id": Field(lambda b, s: b.business_id)},
)
LOCATIONS = Resource(
    "locations",
    "locations",
    lambda s: s.locations,
    serialize_location,
    fields={
        "location_id": Field(lambda loc, s: loc.location_id),
        "business": Field(lambda loc, s: loc.business_id),
        "external_location_id": Field(lambda loc, s: loc.external_location_id, "str"),
    },
)
LEVELS = Resource(
    "levels",
    "levels",
    lambda s: s.levels,
    serialize_level,
    fields={
        "level_id": Field(lambda lv, s: lv.level_id),
        "business": Field(lambda lv, s: lv.business_id),
        "point_floor": Field(lambda lv, s: lv.point_floor),
    },
)
CONNECTIONS = Resource(
    "connections",
    "connections",
    lambda s: s.connections,
    serialize_connection,
    CUSTOMER_INFO,
    {
        "connection_id": Field(lambda c, s: c.connection_id),
        "business": Field(lambda c, s: c.business_id),
        "user": Field(lambda c, s: c.user_id, "user"),
        "user__emails__email": Field(_connection_user_emails, "str"),
        "status": Field(lambda c, s: c.status, "str"),
        "point_balance": Field(lambda c, s: c.point_balance),
        "last_mod_dt": Field(lambda c, s: c.last_mod_dt, "datetime"),
        "last_transaction_dt": Field(lambda c, s: c.last_transaction_dt, "datetime"),
    },
    visible=connection_visible,
    check_filters=connection_filters,
    update=update_connection,  # joining: community.py
)

RESOURCES = [USERS, BUSINESSES, LOCATIONS, LEVELS, CONNECTIONS]


async def scopes(request: Request) -> Response:
    """GET /v2/scopes/: the scopes of the bearer token (no scope needed, per the reference)."""
    token = authenticate(request, request.app.state.store)
    if request.method not in READ_METHODS:
        raise not_implemented(request)
    # Filters are parsed as on every other list, so an unknown parameter is a 400 here too.
    filters = parse_filters(_SCOPE_LIST, request, token)
    store: Store = request.app.state.store
    rows = [
        name
        for name in sorted(token.scopes)
        if all(matches(_SCOPE_LIST.fields[f.field].get(name, store), f) for f in filters)
    ]
    ctx = Context(store, token, str(request.base_url).rstrip("/"))
    return list_response(_SCOPE_LIST, request, ctx, rows)


# The reference's scope objects carry only "scope" (no id, so no resource_uri).
_SCOPE_LIST = Resource(
    "scopes",
    "scopes",
    lambda s: {},
    lambda name, ctx: {"scope": name},
    fields={"scope": Field(lambda name, s: name, "str")},
)

routes = [
    *resource_routes(RESOURCES),
    Route("/v2/scopes/", scopes, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
]
