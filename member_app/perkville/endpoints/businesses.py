"""The business and the member's place in it (reference: Business, Location, Level,
Connection)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from ..caller import Caller
from ..models import Business, Connection, Level, whole
from ..parsing import objects
from ..program import Location
from ..upstream import PAGE_SIZE, Upstream


class BusinessEndpoints(Upstream):
    @cached_property
    def _businesses(self) -> dict[int, dict[str, Any]]:
        """The business as last seen, for pages that must not wait for Perkville (brand.css,
        the manifest, the landing page): kept in-process whatever the cache backend."""
        return {}

    async def business(self, caller: Caller, business_id: int) -> Business:
        """The business's public record (at start-up, with `Caller(admin_token)`)."""
        data = await self._get_public(caller, f"/v2/businesses/{business_id}/")
        business = Business.from_api(data, business_id)
        self._businesses[business_id] = data
        return business

    def cached_business(self, business_id: int) -> Business | None:
        """The business as last fetched by anyone, without a call (for signed-out pages)."""
        data = self._businesses.get(business_id)
        return Business.from_api(data, business_id) if data is not None else None

    async def levels(self, caller: Caller, business_id: int) -> list[Level]:
        """The program's levels, lowest first; a level without an id is left out."""
        params = {"business": business_id, "limit": PAGE_SIZE}
        data = await self._get_public(caller, "/v2/levels/", params)
        found = [obj for obj in objects(data) if whole(obj.get("level_id"), -1) >= 0]
        levels = [Level.from_api(obj) for obj in found]
        return sorted(levels, key=lambda level: level.point_floor)

    async def locations(self, caller: Caller, business_id: int) -> list[Location]:
        params = {"business": business_id, "limit": PAGE_SIZE}
        data = await self._get_public(caller, "/v2/locations/", params)
        return [Location.from_api(obj) for obj in objects(data)]

    async def connection(
        self, caller: Caller, *, business_id: int, user_id: int
    ) -> Connection | None:
        """The member's connection to the business, or None when they have none."""
        params = {"business": business_id, "user": user_id}
        found = objects(await self._get_member(caller, "/v2/connections/", params))
        return Connection.from_api(found[0]) if found else None

    async def join(self, caller: Caller, connection_id: int) -> None:
        """Join the rewards program: the member's connection becomes ACTIVE (reference,
        Connection PATCH: a member's token may change only `status`). Its answer (the
        connection, or no body) is not needed: the pages read the connection again."""
        await self._send(caller, "PATCH", f"/v2/connections/{connection_id}/", {"status": "ACTIVE"})
