"""Users, and the Identify User Flow (reference: User; Using the Identify User Flow, Identify
Token)."""

from __future__ import annotations

from ..caller import Caller
from ..errors import (
    PerkvilleForbidden,
    PerkvilleNotFound,
    PerkvilleRequestError,
    PerkvilleUnavailable,
)
from ..models import User, whole
from ..parsing import objects
from ..upstream import Upstream


class UserEndpoints(Upstream):
    async def me(self, caller: Caller) -> User:
        """The member the caller is for: the token's owner (GET /v2/users/me/), or the
        identified member the staff token acts for (GET /v2/users/{id}/)."""
        if caller.acting_for is None:
            return User.from_api(await self._get(caller, "/v2/users/me/"))
        return User.from_api(await self._get(caller, f"/v2/users/{caller.acting_for}/"))

    async def readable_user(self, caller: Caller, user_id: int) -> User | None:
        """Another user, when this token may read them, else None (reference, User: a member's
        token reads only themselves; the staff token, the business's customers)."""
        try:
            data = await self._get_member(caller, f"/v2/users/{user_id}/")
        except (PerkvilleForbidden, PerkvilleNotFound, PerkvilleRequestError):
            return None
        return User.from_api(data) if whole(data.get("user_id"), -1) == user_id else None

    async def identify_token(
        self, caller: Caller, *, identify_url: str, redirect_uri: str, state: str
    ) -> str:
        """Step 1: a single-use identify token, asked for with the staff token
        (ADMIN_IDENTIFY_USER). The body is form-encoded: "Do NOT JSON-encode the POST body"."""
        data = await self._request(
            caller,
            "POST",
            identify_url,
            data={"redirect_uri": redirect_uri, "state": state},
        )
        token = data.get("identify_token")
        if not isinstance(token, str) or not token:
            raise PerkvilleUnavailable("Perkville sent no identify token")
        return token

    async def user_by_code(self, caller: Caller, code: str) -> User | None:
        """Step 3: the one member an identification code names, or None (unknown, expired,
        used: Perkville answers an empty list). Asked with the staff token."""
        found = objects(await self._get(caller, "/v2/users/", {"code": code}))
        return User.from_api(found[0]) if len(found) == 1 else None
