"""Referring friends, and the offer they get (reference: Referral, Promotion)."""

from __future__ import annotations

from typing import Any

from ..caller import Caller
from ..community import Promotion, Referral
from ..parsing import objects
from ..upstream import PAGE_SIZE, Upstream


class ReferralEndpoints(Upstream):
    async def referrals(self, caller: Caller, business_id: int, user_id: int) -> list[Referral]:
        """The friends this member referred (USER_REFERRAL also lists referrals *to* the
        member, hence the referrer filter)."""
        params = {"business": business_id, "referral_from_user": user_id, "limit": PAGE_SIZE}
        data = await self._get_member(caller, "/v2/referrals/", params)
        return [Referral.from_api(obj) for obj in objects(data)]

    async def refer(
        self,
        caller: Caller,
        *,
        business_id: int,
        email: str,
        first_name: str = "",
        last_name: str = "",
        note: str = "",
        location_id: int | None = None,
    ) -> Referral:
        """Refer a friend as the member (USER_REFERRAL): Perkville sends them the offer."""
        body: dict[str, Any] = {
            "business": f"/v2/businesses/{business_id}/",
            "referral_to_email": email,
        }
        optional = {
            "referral_to_first_name": first_name,
            "referral_to_last_name": last_name,
            "referral_content": note,
            "location": f"/v2/locations/{location_id}/" if location_id else "",
        }
        body.update({key: value for key, value in optional.items() if value})
        return Referral.from_api(await self._send(caller, "POST", "/v2/referrals/", body))

    async def promotions(
        self, caller: Caller, business_id: int, location_id: int | None
    ) -> list[Promotion]:
        """The referral offers at a location (the all-locations one when it has none of its
        own: reference, Promotion)."""
        params: dict[str, Any] = {"business": business_id, "limit": PAGE_SIZE}
        if location_id is not None:
            params["location"] = location_id
        data = await self._get_public(caller, "/v2/promotions/", params)
        return [Promotion.from_api(obj) for obj in objects(data)]
