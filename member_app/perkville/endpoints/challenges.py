"""Challenges and the member's part in them (reference: Challenge, Challenge Perk Requirement,
Challenge Connection, Challenge Connection Requirement Summary)."""

from __future__ import annotations

from ..caller import Caller
from ..challenges import Challenge, ChallengeConnection, ChallengeRequirement, RequirementSummary
from ..upstream import Upstream


class ChallengeEndpoints(Upstream):
    async def challenges(self, caller: Caller, business_id: int) -> list[Challenge]:
        """The business's challenges, whatever their dates (public, so cached like levels)."""
        params = {"business": business_id}
        found = await self._every(caller, "/v2/challenges/", params, public=True)
        return [Challenge.from_api(obj) for obj in found]

    async def challenge_requirements(
        self, caller: Caller, business_id: int
    ) -> list[ChallengeRequirement]:
        """What each of the business's challenges asks for (public, cached)."""
        params = {"business": business_id}
        found = await self._every(caller, "/v2/challenge-requirements/", params, public=True)
        return [ChallengeRequirement.from_api(obj) for obj in found]

    async def challenge_connections(
        self, caller: Caller, business_id: int
    ) -> list[ChallengeConnection]:
        """The member's challenge connections at the business: joined, left or invited. The
        member's id keeps the staff token to their records (reference, Challenge Connection:
        ADMIN_CUSTOMER_INFO sees the whole business), filtered as its Required Filters example
        does (`?business=6&connection__user=1125`): `user=me` is not documented here."""
        params = {"business": business_id, "connection__user": caller.user}
        found = await self._every(caller, "/v2/challenge-connections/", params, member=True)
        return [ChallengeConnection.from_api(obj) for obj in found]

    async def challenge_summaries(
        self, caller: Caller, challenge_connection_ids: list[int]
    ) -> list[RequirementSummary]:
        """Progress on each requirement of these challenge connections."""
        if not challenge_connection_ids:
            return []
        params = {"challenge_connection__in": ",".join(map(str, challenge_connection_ids))}
        path = "/v2/challenge-connection-requirement-summaries/"
        found = await self._every(caller, path, params, member=True)
        return [RequirementSummary.from_api(obj) for obj in found]

    async def set_challenge_join_status(
        self, caller: Caller, challenge_id: int, join_status: str
    ) -> ChallengeConnection:
        """Join (ACTIVE) or leave (INACTIVE) a challenge as the token's member; the POST
        creates or updates their challenge connection (reference, Challenge Connection POST)."""
        body = {"challenge": f"/v2/challenges/{challenge_id}/", "join_status": join_status}
        data = await self._send(caller, "POST", "/v2/challenge-connections/", body)
        return ChallengeConnection.from_api(data)
