"""The User resource (reference: User): yourself, or the customers of a business where you are
staff. Its `code` filter is the Identify User Flow's step 3 (identify.py)."""

from __future__ import annotations

from typing import Any

from .identify import user_by_code
from .records import User
from .resources import CUSTOMER_INFO, Context, Field, Resource, iso, resource_routes, uri
from .store import AccessToken, Store


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


def _user_emails(user: User, store: Store) -> list[str]:
    return [user.email]


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
    lookups={"code": user_by_code},  # the Identify User Flow, step 3
)

routes = resource_routes([USERS])
