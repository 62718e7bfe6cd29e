"""Connection Balance (reference: Connection Balance): a customer's points, for a gym's systems
to find the balances that changed (`?business=6&last_mod_dt__gte=2019-01-01`).

Read-only ("You can't create new instances of this resource", "You can't update this
resource"); PUBLIC and ADMIN_CUSTOMER_INFO; only the businesses where the token's user is ADMIN.
`last_mod_dt` is when the points last moved (an award, a redemption, a void), kept apart from
the connection's own `last_mod_dt`, which "primarily applies to the status attribute".
"""

from __future__ import annotations

from typing import Any

from .records import Connection
from .resources import (
    Context,
    Field,
    Resource,
    ScopeRule,
    iso,
    required_filters,
    resource_routes,
    uri,
)
from .store import AccessToken, Store

# Reference, Connection Balance, Restrictions: "PUBLIC" and "ADMIN_CUSTOMER_INFO".
BALANCE_SCOPES = ScopeRule(all_of=("PUBLIC", "ADMIN_CUSTOMER_INFO"))


# Bonus lines are written with the activity they multiply (rewards/awarding.py); the title
# names the activity (a choice: the reference doesn't say which line counts as the latest).
BONUS_TYPES = frozenset({"TIME_BONUS", "DATE_RANGE_BONUS", "FREQUENCY_BONUS"})


def last_perk_title(conn: Connection, store: Store) -> str:
    """`last_biz_perk_title`: "The name of the Perk for their latest transaction"."""

    def bonus(perk_id: int) -> bool:
        perk = store.perks.get(perk_id)
        return perk is not None and perk.type in BONUS_TYPES

    latest = max(
        (
            t
            for t in store.transactions.values()
            if t.user_id == conn.user_id
            and t.business_id == conn.business_id
            and not bonus(t.perk_id)
        ),
        key=lambda t: (t.transaction_dt, t.transaction_id),
        default=None,
    )
    if latest is None:
        return ""
    perk = store.perks.get(latest.perk_id)
    return perk.title if perk is not None else latest.title


def serialize_balance(conn: Connection, ctx: Context) -> dict[str, Any]:
    store = ctx.store
    spent = conn.lifetime_earned_points - conn.point_balance
    return {
        "business": uri("businesses", conn.business_id),
        "connection": uri("connections", conn.connection_id),
        "last_biz_perk_title": last_perk_title(conn, store),
        "last_mod_dt": iso(conn.balance_mod_dt),
        "last_transaction_dt": iso(conn.last_transaction_dt),
        "lifetime_earned_points": conn.lifetime_earned_points,
        "lifetime_spent_points": max(spent, 0),
        "point_balance": conn.point_balance,
        "resource_uri": uri("connection-balances", conn.connection_id),
        "user": uri("users", conn.user_id),
    }


def balance_visible(conn: Connection, token: AccessToken, store: Store) -> bool:
    """ "the only accessible records are those Connections which belong to the Business which
    the User associated with the access token is an ADMIN staff member"."""
    return store.is_admin(token.user_id, conn.business_id)


CONNECTION_BALANCES = Resource(
    "connection-balances",
    "connection balances",
    lambda s: s.connections,
    serialize_balance,
    BALANCE_SCOPES,
    {
        "connection_balance_id": Field(lambda c, s: c.connection_id),
        "business": Field(lambda c, s: c.business_id),
        "connection": Field(lambda c, s: c.connection_id),
        "user": Field(lambda c, s: c.user_id),
        "user__emails__email": Field(lambda c, s: s.email_of(c.user_id), "str"),
        "email": Field(lambda c, s: s.email_of(c.user_id), "str"),  # the reference's example
        "point_balance": Field(lambda c, s: c.point_balance),
        "last_mod_dt": Field(lambda c, s: c.balance_mod_dt, "datetime"),
        "last_transaction_dt": Field(lambda c, s: c.last_transaction_dt, "datetime"),
    },
    visible=balance_visible,
    # "required to append at least a connection filter, business filter, or user filter. Using
    # an "IN" style query with the business filter is also not allowed".
    check_filters=required_filters(
        "connection balances",
        ("connection", "business", "user", "user__emails__email", "email"),
        "business",
    ),
)

routes = resource_routes([CONNECTION_BALANCES])
