"""A customer's membership of a business's rewards program (reference: Connection), and joining.

The Connection says whether the customer has joined (`status` PENDING, ACTIVE, INACTIVE), their
points and level, and the membership details the business keeps. `PATCH /v2/connections/{id}/`
(202) is how a member joins or leaves (`status`; joining needs every active REQUIRED-OPT-IN
agreement version accepted, agreements.py) and how an ADMIN updates the membership details.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request

from . import bodies
from .agreements import missing_agreements
from .errors import AUTHORIZATION_ERROR, ApiError, invalid_request
from .records import Connection, Transaction
from .resources import (
    CUSTOMER_INFO,
    Context,
    Field,
    Filter,
    Resource,
    Written,
    customer_visible,
    iso,
    resource_routes,
    uri,
)
from .store import AccessToken, Store

USER_CONNECTION_FIELDS = ("status",)
ADMIN_CONNECTION_FIELDS = (
    "external_cancel_dt",
    "external_join_dt",
    "external_home_location_id",
    "external_membership_status",
    "external_membership_type",
    "home_location",
)


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
        # "The list of vouchers for this business connection": the member's, at this business.
        "vouchers": [
            uri("vouchers", k)
            for k, v in sorted(ctx.store.vouchers.items())
            if v.user_id == conn.user_id and v.business_id == conn.business_id
        ],
    }


def connection_visible(conn: Connection, token: AccessToken, store: Store) -> bool:
    """Reference, Connection: own connections with USER_CUSTOMER_INFO; with
    ADMIN_CUSTOMER_INFO, every connection of a business where the token owner is ADMIN."""
    return customer_visible(conn.business_id, conn.user_id, token, store)


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


# --- joining: PATCH /v2/connections/{id}/ --------------------------------------------------------


def _status_updates(store: Store, conn: Connection, value: object) -> dict[str, Any]:
    if value not in ("ACTIVE", "INACTIVE"):
        raise invalid_request("invalid", 'status must be "ACTIVE" or "INACTIVE".', "status")
    if value == conn.status:
        return {}
    if value == "INACTIVE":
        return {"status": "INACTIVE"}
    rules = store.join_rules.get(conn.business_id)
    if rules and rules.require_active_membership and conn.external_membership_status != "ACTIVE":
        raise invalid_request(
            "pv_connection_membership_not_active",
            "This business requires an active membership to join its rewards program.",
        )
    missing = missing_agreements(store, conn.user_id, conn.business_id)
    if missing:
        versions = ", ".join(
            uri("agreement-versions", av.agreement_version_id) or "" for av in missing
        )
        raise invalid_request(
            "pv_connection_agreement_required",
            f"Accept the business's required agreements before joining: {versions}.",
        )
    updates: dict[str, Any] = {"status": "ACTIVE"}
    if conn.rewards_program_join_dt is None:  # the first join; a re-join keeps the first date
        updates["rewards_program_join_dt"] = store.now()
    return updates


def _location_updates(store: Store, conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    if "home_location" in body and "external_home_location_id" in body:
        raise invalid_request(
            "invalid", "Include home_location or external_home_location_id, not both."
        )
    if "home_location" in body:
        key = bodies.ref(body["home_location"], "locations", "home_location")
        loc = store.locations.get(key)
        if loc is None or loc.business_id != conn.business_id:
            raise invalid_request("invalid", "No such location at this business.", "home_location")
        return {"home_location_id": key}
    if "external_home_location_id" in body:
        wanted = body["external_home_location_id"]
        found = next(
            (
                k
                for k, loc in sorted(store.locations.items())
                if loc.business_id == conn.business_id
                and isinstance(wanted, str)
                and loc.external_location_id
                and loc.external_location_id.lower() == wanted.strip().lower()
            ),
            None,
        )
        if found is None:
            raise invalid_request(
                "invalid",
                "No location of this business has that external_location_id.",
                "external_home_location_id",
            )
        return {"home_location_id": found}
    return {}


def _admin_updates(store: Store, conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    updates = _location_updates(store, conn, body)
    for key in ("external_cancel_dt", "external_join_dt"):
        if key in body:
            updates[key] = bodies.moment(body[key], key)
    if "external_membership_status" in body:
        if body["external_membership_status"] not in ("ACTIVE", "INACTIVE"):
            raise invalid_request(
                "invalid",
                'external_membership_status must be "ACTIVE" or "INACTIVE".',
                "external_membership_status",
            )
        updates["external_membership_status"] = body["external_membership_status"]
    if "external_membership_type" in body:
        updates["external_membership_type"] = bodies.text(body, "external_membership_type", 100)
    return updates


async def update_connection(request: Request, ctx: Context, conn: Connection) -> Written:
    """PATCH /v2/connections/{id}/ → 202 (reference, Connection PATCH).

    USER_CUSTOMER_INFO: only `status` (ACTIVE joins the program, INACTIVE leaves it) of your own
    connection. ADMIN_CUSTOMER_INFO: only the external_* fields and home_location, at a business
    where you are ADMIN staff. Validation is complete before anything changes.
    """
    store, token = ctx.store, ctx.token
    CUSTOMER_INFO.check(token)
    allowed: list[str] = []
    if "USER_CUSTOMER_INFO" in token.scopes and conn.user_id == token.user_id:
        allowed += USER_CONNECTION_FIELDS
    if "ADMIN_CUSTOMER_INFO" in token.scopes and store.is_admin(token.user_id, conn.business_id):
        allowed += ADMIN_CONNECTION_FIELDS
    body = await bodies.read_json(request)
    for key in sorted(body):
        if key not in allowed:
            raise ApiError(
                403,
                AUTHORIZATION_ERROR,
                "field_not_allowed",
                f"You may not PATCH {key} on this connection; you may PATCH only "
                f"{', '.join(allowed) or 'nothing'}.",
                key,
            )
    if not body:
        raise invalid_request("required", f"Send the fields to update: {', '.join(allowed)}.")
    updates = _admin_updates(store, conn, body)
    if "status" in body:
        updates.update(_status_updates(store, conn, body["status"]))
    changed = {k: v for k, v in updates.items() if getattr(conn, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(conn, key, value)
        conn.last_mod_dt = store.now()
    if "rewards_program_join_dt" in changed:  # the first join only
        award_join_bonus(store, conn)
    return 202, serialize_connection(conn, ctx)


def award_join_bonus(store: Store, conn: Connection) -> None:
    """Joining earns the business's REGISTRATION perk, once, like any earned transaction."""
    perk = next(
        (
            p
            for p in store.perks.values()
            if p.business_id == conn.business_id
            and p.classification == "EARN"
            and p.type == "REGISTRATION"
            and p.status == "ACTIVE"
        ),
        None,
    )
    if perk is None or perk.points <= 0:
        return
    now = store.now()
    txn = Transaction(
        transaction_id=max(store.transactions, default=0) + 1,
        business_id=conn.business_id,
        user_id=conn.user_id,
        perk_id=perk.perk_id,
        location_id=conn.home_location_id,
        title=perk.display_name or perk.title,
        classification="EARN",
        points=perk.points,
        quantity=1,
        transaction_dt=now,
    )
    store.transactions[txn.transaction_id] = txn
    conn.point_balance += perk.points
    conn.lifetime_earned_points += perk.points
    conn.last_transaction_dt = now


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
        "user__emails__email": Field(lambda c, s: s.email_of(c.user_id), "str"),
        "status": Field(lambda c, s: c.status, "str"),
        "point_balance": Field(lambda c, s: c.point_balance),
        "last_mod_dt": Field(lambda c, s: c.last_mod_dt, "datetime"),
        "last_transaction_dt": Field(lambda c, s: c.last_transaction_dt, "datetime"),
    },
    visible=connection_visible,
    check_filters=connection_filters,
    update=update_connection,
)

routes = resource_routes([CONNECTIONS])
